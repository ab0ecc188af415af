"""An imported catalogue's own ids beside ours in the app, found by either id or by title; the
top-K within chosen categories."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.app.app_support import panels_data


@pytest.fixture
def imported_app(imported_shop, app_home):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["dataset"] = str(imported_shop)
    return at


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_recommendations_show_the_shops_own_ids(imported_app):
    imported_app.query_params["variant"] = "anchor"
    at = imported_app.run()
    at.switch_page("pages/recommendations.py").run()
    at.sidebar.number_input[0].set_value(7).run()
    _no_exception(at)
    picker = at.selectbox(key="rec_user")
    assert "7 (shop =U7)" in picker.options  # the quote the map adds for spreadsheets is gone
    heads = [m.value for m in at.markdown if m.value.startswith("**Shopper")]
    assert heads and heads[0].startswith("**Shopper 7 (shop =U7)**"), heads
    top = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    assert list(top["shop id"]) == [f"SKU-{int(i):03d}" for i in top["item"]]
    assert "Shop's own ids: shopper =U7 · item SKU-000" in [c.value for c in at.sidebar.caption]


def test_the_sidebar_finds_a_shopper_or_an_item_by_the_shops_id_or_a_title(imported_app, shop):
    from anchorrec.data.mmrec import load_mmrec

    at = imported_app.run()
    at.sidebar.text_input(key="find_query").input("c0042").run()
    _no_exception(at)
    assert at.sidebar.number_input[0].value == 42  # shopper C0042, case aside
    at.sidebar.text_input(key="find_query").input("SKU-031").run()
    assert at.sidebar.number_input[1].value == 31
    title = load_mmrec(shop).items["title"].iloc[17]
    at.sidebar.text_input(key="find_query").input(title).run()
    assert at.sidebar.number_input[1].value == 17
    at.sidebar.text_input(key="find_query").input("no such thing").run()
    assert "Nothing matches “no such thing”." in [c.value for c in at.sidebar.caption]


def test_the_spaces_search_and_the_selection_csv_carry_the_shops_ids(imported_app):
    at = imported_app.run()
    at.switch_page("pages/spaces.py").run()
    at.text_input(key="spaces_search").input("sku-005").run()
    _no_exception(at)
    assert any(c.value == "1 item matches." for c in at.caption)
    at.text_input(key="spaces_search").input("number").run()  # every title: a selection
    table = next(d.value for d in at.dataframe if "train interactions" in d.value.columns)
    assert list(table.columns[:3]) == ["image", "item", "shop id"]
    assert list(table["shop id"]) == [f"SKU-{int(i):03d}" for i in table["item"]]
    # the panels' tooltips name the shop's id beside the internal one
    data = panels_data(at)
    assert [f"SKU-{i:03d}" for i in data["items"]] == data["shop_ids"]


def test_the_selection_csv_and_the_audit_exports_name_the_shops_ids(imported_shop, tmp_path):
    from anchorrec.analysis.audit import audit, history_frame
    from anchorrec.analysis.audit_report import write_history_csv, write_recommendations_csv
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.fileio import csv_bytes
    from anchorrec.models.checkpoint import load_model
    from anchorrec.ui.tables import selection_table

    ds = load_mmrec(imported_shop)
    csv = csv_bytes(selection_table(ds, [3, 7]))
    rows = pd.read_csv(io.BytesIO(csv))
    assert list(rows["shop id"]) == ["SKU-003", "SKU-007"] and "original_item_id" not in rows
    loaded = load_model(imported_shop / "models" / "anchor", ds)
    result = audit(loaded, k=5)
    out = pd.read_csv(write_recommendations_csv(tmp_path / "recs.csv", result, ds), dtype=str)
    assert list(out.columns[:5]) == ["user", "shop user id", "rank", "item", "shop item id"]
    assert set(out.loc[out["user"] == "7", "shop user id"]) == {"'=U7"}  # neutralised again
    assert (out["shop item id"] == "SKU-" + out["item"].str.zfill(3)).all()
    history = history_frame(loaded, result)
    back = pd.read_csv(write_history_csv(tmp_path / "h.csv", history, ds))
    assert {"shop user id", "shop item id"} <= set(back.columns)


def test_recommendations_within_chosen_categories(app, shop):
    from anchorrec.data.mmrec import load_mmrec

    ds = load_mmrec(shop)
    items = ds.items
    rings = set(items.index[items["category"] == "rings"]) - set(ds.user_items(3).tolist())
    app.query_params["variant"] = "anchor,lightgcn"
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    at.sidebar.number_input[0].set_value(3).run()
    at.multiselect(key="rec_categories").set_value(["rings"]).run()
    _no_exception(at)
    assert any(c.value.startswith("**Top-10 within rings**") for c in at.caption)
    tops = [d.value for d in at.dataframe if "bought later" in d.value.columns]
    assert len(tops) == 2
    for top in tops:  # only rings, as many as there are: the filter came before the top-K
        assert len(top) == min(10, len(rings)) and set(top["item"]) <= rings
    whatif = next(d.value for d in at.dataframe if "without picture" in d.value.columns)
    assert set(items["category"].iloc[whatif["item"]]) == {"rings"}
