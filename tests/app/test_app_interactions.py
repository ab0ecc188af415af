"""Selections, errors a user can cause, training in the app and opening a dataset."""

from __future__ import annotations

import shutil

import pytest

from tests.app.app_support import table_with


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_a_chart_selection_opens_the_item_in_the_inspector(app):
    at = app.run()
    at.switch_page("pages/spaces.py").run()
    at.session_state["spaces_panels"] = {
        "selection": {"items": [42], "gesture": "click", "space": "final", "seq": 1}
    }
    at.run()
    _no_exception(at)
    assert "Inspector — item 42" in [s.value for s in at.subheader]
    assert any("number 42" in m.value for m in at.markdown)  # the item's title
    neighbour_tables = [d.value for d in at.dataframe if "cosine" in d.value.columns]
    assert neighbour_tables and 42 not in set(neighbour_tables[0]["item"])
    # the selection became the shared current item: the sidebar's and the URL's
    at.run()
    assert at.sidebar.number_input[1].value == 42 and at.query_params["item"] == "42"
    # one space's neighbours at a time, the final space first; another is one click away
    (control,) = [b for b in at.get("button_group") if b.key == "nb_space"]
    assert control.value == "final"
    shown = lambda: [d.value for d in at.dataframe if "cosine" in d.value.columns]  # noqa: E731
    (final,) = shown()
    control.set_value("raw_image").run()
    _no_exception(at)
    (raw,) = shown()
    assert control.value == "raw_image" and not final["cosine"].equals(raw["cosine"])


def test_a_bad_dataset_path_is_an_error_not_a_traceback(shop, app_home):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dataset"] = "/no/such/dataset"
    at.run()
    _no_exception(at)
    assert any("does not exist" in e.value for e in at.error)
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    assert any("Open a dataset" in i.value for i in at.info)


def test_a_folder_without_inter_file_is_explained(app, tmp_path):
    app.query_params["dataset"] = str(tmp_path)
    at = app.run()
    _no_exception(at)
    assert any("no .inter file" in e.value for e in at.error)


def test_an_unreadable_model_is_reported_and_the_others_still_work(shop, app_home, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    (copy / "models" / "anchor" / "model.safetensors").write_bytes(b"truncated")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dataset"] = str(copy)
    at.query_params["variant"] = "anchor,lightgcn"
    at.run()
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    assert any("checksum" in e.value for e in at.error)  # says the file is truncated or edited
    assert any("score" in d.value.columns for d in at.dataframe)  # lightgcn still shown


@pytest.mark.slow  # a real training process: ~30 s on 2 cores
def test_training_in_the_app_runs_in_the_background_and_joins_the_toggle(app, app_home):
    import time

    at = app.run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_variant").set_value("lightgcn")
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_go").click().run()
    _no_exception(at)
    (job_dir,) = list((app_home / "models").glob("*/.jobs/lightgcn-*"))
    name = job_dir.name
    assert any(name in m.value for m in at.markdown)  # listed under Runs
    at.switch_page("pages/overview.py").run()  # leave the page: the run goes on
    deadline = time.monotonic() + 300
    while name not in at.sidebar.multiselect[0].value:
        assert time.monotonic() < deadline, "the background run did not finish in 300 s"
        time.sleep(1)
        at.run()
    _no_exception(at)
    trained = job_dir.parent.parent / name
    assert (trained / "model.safetensors").is_file()
    assert name + " (trained in app)" in set(table_with(at, "variant", "kind")["variant"])
    at.switch_page("pages/train.py").run()
    assert any(f"**{name}**" in m.value and "done" in m.value for m in at.markdown)
    assert any("Saved: test Recall@20" in c.value for c in at.caption)


def test_opening_an_mmrec_directory_registers_it(app, shop, app_home):
    at = app.run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="data_open_path").input(str(shop))
    at.button(key="data_open_go").click().run()
    _no_exception(at)
    assert any("60 items" in s.value for s in at.success)
    assert (app_home / "datasets.json").is_file()


def test_the_data_page_explains_a_bad_directory(app, tmp_path):
    at = app.run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="data_open_path").input(str(tmp_path / "missing"))
    at.button(key="data_open_go").click().run()
    _no_exception(at)
    assert any("does not exist" in e.value for e in at.error)


def test_missing_diagnostics_are_computed_once_on_request(shop, app_home, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    copy = tmp_path / "shop"
    shutil.copytree(shop, copy)
    for stored in copy.glob("models/*/diagnostics.json"):
        stored.unlink()
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dataset"] = str(copy)
    at.run()
    assert any("Not measured yet" in c.value for c in at.caption)  # the overview stays fast
    at.switch_page("pages/collapse.py").run()
    _no_exception(at)
    assert not [d for d in at.dataframe if "metric" in d.value.columns]
    at.button(key="diag_compute").click().run()
    _no_exception(at)
    assert (copy / "models" / "anchor" / "diagnostics.json").is_file()
    assert any("metric" in d.value.columns for d in at.dataframe)


def test_why_this_recommendation_explains_the_chosen_item_in_words(app):
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    items = at.selectbox(key="rec_why_item").options
    assert len(items) >= 2
    at.selectbox(key="rec_why_item").select_index(1).run()
    chosen = at.selectbox(key="rec_why_item").value
    at.button(key="rec_why").click().run()
    _no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert (
        f"Item #{chosen} is ranked #2" in text and "Its largest share of the score is the" in text
    )
    assert "Rank without each input" in text
    assert any(c.value.startswith("Model anchor") for c in at.caption)
    tables = [d.value for d in at.dataframe if "share of the score" in d.value.columns]
    assert tables and abs(tables[0]["share of the score"].sum() - 1.0) < 1e-6


def test_why_dialog_shows_past_purchases_that_add_up_to_the_score(app):
    import re

    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    at.button(key="rec_why").click().run()
    _no_exception(at)
    tables = [d.value for d in at.dataframe if "past purchase" in d.value.columns]
    assert tables, "the dialog shows the past purchases behind the recommendation"
    table = tables[0]
    assert table["past purchase"].iloc[-1].startswith("no past purchase")
    assert table["image"].iloc[:-1].notna().all()  # a thumbnail per past purchase
    text = " ".join(m.value for m in at.markdown)
    score = float(re.search(r"with score (-?[0-9.]+)", text).group(1))
    assert abs(table["contribution"].sum() - score) < 1e-3  # contributions + unowned = score
    assert any(c.value.startswith("Exact split of the score") for c in at.caption)
