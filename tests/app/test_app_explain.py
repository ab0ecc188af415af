"""Explanations in the app: the reliance table on Positional collapse and the attribution game
switch (Recommendations, the "Why this recommendation?" dialog, the Audit)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.app.app_support import table_with, tables_with


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _expected_rows(players: tuple[str, ...]) -> list[str]:
    """The reliance table's rows for a model with these inputs, as the library defines them."""
    from anchorrec.analysis.reliance import readable_coalitions
    from anchorrec.ui.reliance_views import ALL_INPUTS, coalition_words

    coalitions = readable_coalitions(players)
    return [ALL_INPUTS, *(coalition_words([p for p in players if p in c]) for c in coalitions[1:])]


def _copy_without_reliance(source, target):
    shutil.copytree(source, target)
    for stored in target.glob("models/*/reliance-*.json"):
        stored.unlink()
    return target


def _collapse_page(dataset, variants, timeout=180):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params["dataset"] = str(dataset)
    at.query_params["variant"] = ",".join(variants)
    at.switch_page("pages/collapse.py").run()  # a link to the page: the Overview never runs
    _no_exception(at)
    return at


def test_reliance_is_measured_on_request_and_shown_for_the_variants_side_by_side(
    shop, app_home, tmp_path
):
    from anchorrec.analysis.reliance import read_reliance
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model

    copy = _copy_without_reliance(shop, tmp_path / "shop")
    at = _collapse_page(copy, ["anchor", "lightgcn"])
    notices = " ".join(i.value for i in at.info)
    assert "python -m anchorrec prepare" in notices and "mean reference" in notices
    assert not tables_with(at, "inputs kept")  # nothing is measured on a page load
    at.button(key="reliance_compute").click().run()
    _no_exception(at)
    table = table_with(at, "inputs kept")
    assert list(table.columns) == ["inputs kept", "anchor", "lightgcn"]
    ds = load_mmrec(copy)
    players = load_model(copy / "models" / "anchor", ds).model.players
    assert len(players) > 1
    assert list(table["inputs kept"]) == _expected_rows(players)
    assert "purchase history" in set(table["inputs kept"])
    stored = read_reliance(copy / "models" / "anchor", "mean")  # stored: measured once
    first = stored.rows[0]
    assert (
        table["anchor"].iloc[0]
        == f"{first.recall:.3f} [{first.recall_low:.3f}, {first.recall_high:.3f}]"
    )
    assert (table["anchor"] != "").all()
    ids_only = table.set_index("inputs kept")["lightgcn"]
    assert (ids_only != "").sum() == 2 and ids_only.iloc[0] and ids_only.iloc[-1]
    captions = " ".join(c.value for c in at.caption)
    assert "a removed input takes the catalogue mean" in captions and "'train' items" in captions
    assert any(m.value.startswith("**Reading:**") for m in at.markdown)
    # the other game has its own table, not measured yet: said so, never shown as the mean's
    at.radio(key="collapse_game").set_value("background").run()
    _no_exception(at)
    assert "background sample" in " ".join(i.value for i in at.info)
    assert not tables_with(at, "inputs kept")


def _stored_reliance(model_dir, players: tuple[str, ...], scale: float) -> dict[str, str]:
    """Store a reliance document for the model in ``model_dir`` (values ``scale`` × a
    coalition's size, so every model's column differs) and return its cells by row label."""
    from anchorrec.analysis.reliance import (
        RELIANCE_FORMAT,
        CoalitionAccuracy,
        Reliance,
        readable_coalitions,
        reliance_file,
    )
    from anchorrec.models.model_dir import ModelDir

    rows = []
    for c in readable_coalitions(players):
        v = scale * (1 + len(c))
        inputs = tuple(p for p in players if p in c)
        rows.append(CoalitionAccuracy(inputs, v, v / 2, v * 1.5, v / 3, v / 4, v / 2))
    result = Reliance(model_dir.name, "mean", "test", 20, 99, players, tuple(rows))
    ModelDir(model_dir).store().write_json(reliance_file("mean"), RELIANCE_FORMAT, result.to_json())
    labels = _expected_rows(players)
    return {
        lab: f"{r.recall:.3f} [{r.recall_low:.3f}, {r.recall_high:.3f}]"
        for lab, r in zip(labels, rows, strict=True)
    }


def test_the_reliance_table_shows_every_shipped_variant(app_home, tmp_path):
    """The page shows what is stored for every model of the shipped sample (no model is
    loaded: the page never measures on its own), under the expected coalition rows."""
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import read_model_info
    from anchorrec.workspace import SAMPLE_DATASET_DIR, find_models

    copy = _copy_without_reliance(SAMPLE_DATASET_DIR, tmp_path / SAMPLE_DATASET_DIR.name)
    entries = [e for e in find_models(copy, load_mmrec(copy).fingerprint) if e.usable]
    assert len(entries) >= 2
    cells, rows = {}, []
    for n, e in enumerate(entries, start=1):
        players = tuple(read_model_info(e.path)["players"])
        cells[e.label] = _stored_reliance(e.path, players, 0.01 * n)
        rows += [r for r in cells[e.label] if r not in rows]
    at = _collapse_page(copy, [e.name for e in entries])
    table = table_with(at, "inputs kept")
    assert list(table.columns) == ["inputs kept", *(e.label for e in entries)]
    assert sorted(table["inputs kept"]) == sorted(rows)
    assert table["inputs kept"].iloc[0] == "all inputs"
    assert table["inputs kept"].iloc[-1].startswith("none")
    by_row = table.set_index("inputs kept")
    for label, expected in cells.items():
        assert by_row[label].to_dict() == {r: expected.get(r, "") for r in by_row.index}
    assert "reliance_compute" not in [b.key for b in at.button]  # all stored: no notice


def _shares(table):
    return table[[c for c in table.columns if c.endswith(" share")]].to_numpy()


def test_switching_the_game_changes_the_shares_and_their_label(app, shop):
    from anchorrec.analysis.attribution import coalition_cache, explain_user
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model

    app.query_params["variant"] = "anchor,lightgcn"
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    before = tables_with(at, "score", "bought later")[0]
    captions = [c.value for c in at.caption]
    assert "**Share of the score** · |φ|/Σ|φ| of the score · game: mean reference" in captions
    at.radio(key="rec_game").set_value("background").run()
    _no_exception(at)
    after = tables_with(at, "score", "bought later")[0]
    captions = [c.value for c in at.caption]
    assert "**Share of the score** · |φ|/Σ|φ| of the score · game: background sample" in captions
    assert not [c for c in captions if "mean reference" in c]  # no share under the old name
    assert list(after["item"]) == list(before["item"])  # the game explains, it does not rank
    assert not np.allclose(_shares(before), _shares(after))
    # the numbers are the library's background-game shares of this shopper
    ds = load_mmrec(shop)
    loaded = load_model(shop / "models" / "anchor", ds)
    user = int(at.session_state["rec_user"])
    exp = explain_user(coalition_cache(loaded, game="background"), user, 10)
    for p in exp.players:
        np.testing.assert_allclose(after[f"{p} share"], exp.items[f"share_{p}"], atol=1e-9)
    at.button(key="rec_why").click().run()
    _no_exception(at)
    assert any(c.value.startswith("Model anchor · game: background sample") for c in at.caption)
    assert any("(background sample game)" in m.value for m in at.markdown)  # its ranks too


def test_the_game_is_one_setting_and_the_audit_uses_it(app, shop):
    from anchorrec.analysis.audit import audit
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model

    app.query_params["variant"] = "anchor,lightgcn"
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    at.radio(key="rec_game").set_value("background").run()
    at.switch_page("pages/audit.py").run()
    _no_exception(at)
    assert at.radio(key="audit_game").value == "background"  # chosen once, for every page
    assert any(
        c.value.startswith("Shares: share of the score, game: background sample")
        for c in at.caption
    )
    loaded = load_model(shop / "models" / "anchor", load_mmrec(shop))
    games = {g: audit(loaded, k=10, game=g).shares.iloc[0] for g in ("mean", "background")}

    def shown():
        summary = table_with(at, "variant", "exposure Gini").set_index("variant")
        return summary.loc["anchor", "id share"]

    assert shown() == pytest.approx(games["background"]["share_id"])
    assert shown() != pytest.approx(games["mean"]["share_id"])
    at.radio(key="audit_game").set_value("mean").run()
    _no_exception(at)
    assert shown() == pytest.approx(games["mean"]["share_id"])
    assert any(
        c.value.startswith("Shares: share of the score, game: mean reference") for c in at.caption
    )
    at.switch_page("pages/recommendations.py").run()
    assert at.radio(key="rec_game").value == "mean"
