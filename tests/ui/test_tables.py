"""The pages' tables, built without Streamlit from hand-made library results."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from anchorrec.analysis.attribution import Attribution, UserExplanation, WhatIf
from anchorrec.analysis.audit import AuditResult
from anchorrec.analysis.diagnostics import DiagnosticsReport
from anchorrec.ui import tables
from tests.conftest import make_tiny_dataset

PLAYERS = ("id", "image", "text")
BRANCHES = ("id", "visual")


def _explanation(items=(7, 3, 9)) -> UserExplanation:
    phi = np.array([[0.6, -0.1, 0.2], [0.3, 0.3, 0.1], [0.2, 0.1, -0.4]])  # rows: items
    branch = np.array([[1.0, 0.2], [0.4, 0.8], [0.1, -0.2]])
    attribution = Attribution(
        game="mean",
        players=PLAYERS,
        branches=BRANCHES,
        users=np.full(3, 4),
        items=np.asarray(items),
        scores=0.5 + phi.sum(axis=1),
        baseline=np.full(3, 0.5),
        values=phi.T.copy(),
        branch_values=branch.T.copy(),
        ranks=np.arange(1, 4),
    )
    return UserExplanation(4, 0.5, PLAYERS, BRANCHES, attribution)


def test_level_attribution_returns_named_columns_in_rank_order():
    exp = _explanation()
    att = tables.level_attribution(exp, "input")
    assert att.names == PLAYERS and list(att.signed.columns) == list(PLAYERS)
    assert att.signed["image"].tolist() == [-0.1, 0.3, 0.1]
    np.testing.assert_allclose(att.shares.sum(axis=1), 1.0)
    branch = tables.level_attribution(exp, "branch")
    assert branch.names == BRANCHES and branch.signed["visual"].tolist() == [0.2, 0.8, -0.2]
    with pytest.raises(ValueError, match="unknown attribution level"):
        tables.level_attribution(exp, "pixel")


def test_top_k_table_puts_picture_title_and_shares_first_and_marks_later_purchases():
    exp = _explanation()
    later = {3: "test", 11: "valid"}
    t = tables.top_k_table(exp, "input", later, lambda i: f"title {i}", lambda i: f"uri {i}")
    assert list(t.columns[:6]) == [
        "image",
        "rank",
        "title",
        "id share",
        "image share",
        "text share",
    ]
    assert t["title"].tolist() == ["title 7", "title 3", "title 9"]
    assert t["bought later"].tolist() == ["", "✓ test", ""]
    assert tables.later_hits(t["item"], later) == 1
    assert t["item"].tolist() == [7, 3, 9] and t["image"].iloc[0] == "uri 7"


def test_why_table_ranks_without_and_branch_values_of_one_item():
    exp = _explanation()
    why = tables.why_table(exp, 3)
    assert why["input"].tolist() == ["purchase history (ID)", "picture", "product text"]
    assert why["score φ"].tolist() == [0.3, 0.3, 0.1]
    assert why["share of the score"].sum() == pytest.approx(1.0)
    assert "what ranks it" not in why  # no rank game in this explanation
    assert tables.branch_values(exp, 9) == {"id": 0.1, "visual": -0.2}
    with pytest.raises(KeyError):
        tables.why_table(exp, 99)
    table = pd.DataFrame(
        {"item": [7, 3], "rank": [1, 2], "rank_without_id": [5, 1], "rank_without_image": [1, 2]}
    )
    w = WhatIf(4, 2, table, {"id": 0.5, "image": 0.0})
    assert tables.ranks_without(w, 7) == {"id": 5, "image": 1}
    shown = tables.whatif_table(w, lambda i: f"t{i}")
    assert list(shown.columns) == [
        "rank",
        "item",
        "title",
        "without history",
        "without picture",
    ]


def test_removing_the_only_input_ties_everything():
    assert tables.removal_ties_everything(("id",))
    assert not tables.removal_ties_everything(("id", "image"))


def _shop():
    ds = make_tiny_dataset(n_users=10, n_items=8)
    users = pd.DataFrame(
        {
            "user_id": range(10),
            "group": ["a", "b"] * 5,
            "w_text": 0.1755,
            "w_visual": 0.8245,
            "pref_shade": "classic",
            "age": 30,
        }
    )
    items = pd.DataFrame(
        {
            "item_id": range(8),
            "title": [f"t{i}" for i in range(8)],
            "category": [f"c{i % 3}" for i in range(8)],
            "price": range(8),
        }
    )
    import dataclasses

    return dataclasses.replace(ds, users=users, items=items)


def test_planted_groups_pick_their_own_shoppers():
    ds = _shop()
    assert tables.planted_groups(ds) == ["a", "b"]
    assert tables.shoppers_of(ds, "b") == [1, 3, 5, 7, 9]
    assert tables.shoppers_of(ds, None, limit=3) == [0, 1, 2]
    assert tables.group_of(ds, 3) == "b"
    assert (
        tables.shopper_profile(ds, 3)
        == "b shopper · drivers: visual 82%, text 18% · likes: shade classic · age 30"
    )


def test_colour_options_and_values_come_from_items_csv():
    ds = _shop()
    assert tables.colour_options(ds) == ["category", "popularity", "ID share", "attribute: price"]
    values, name = tables.colour_values(ds, "category")
    assert name == "category" and list(values[:3]) == ["c0", "c1", "c2"]
    values, name = tables.colour_values(ds, "popularity")
    np.testing.assert_allclose(values, np.log1p(ds.item_popularity()))
    assert tables.item_attributes(ds, 2) == {"category": "c2", "price": 2}


def _report(variant: str, rank: float) -> DiagnosticsReport:
    r = DiagnosticsReport(variant, 8)
    r.add("effective_rank", "final", rank, 16.0, "gaussian")
    r.add("coembedding_displacement", "id_view~final", 0.3, 1.0, "unpaired items", (0.25, 0.35))
    return r


def test_named_reports_copy_instead_of_renaming_shared_reports():
    a, b = _report("lightgcn", 3.0), _report("lightgcn", 5.0)
    named = tables.named_reports([("lightgcn-b", b), ("lightgcn", a)])
    assert [r.variant for r in named] == ["lightgcn-b", "lightgcn"]
    assert [r.value("effective_rank") for r in named] == [5.0, 3.0]
    assert a.variant == b.variant == "lightgcn"  # the originals are untouched
    other = _report("anchor", 4.0)
    assert tables.named_reports([("x", other), ("y", a)]) == [other, a]  # distinct: as they are


def test_diagnostics_table_names_metrics_and_spaces_in_words_and_leaves_gaps_empty():
    full, partial = _report("anchor", 4.0), DiagnosticsReport("lightgcn", 8)
    partial.add("effective_rank", "final", 2.0, 16.0, "gaussian")
    t = tables.diagnostics_table([full, partial])
    assert t["metric"].tolist() == ["Effective rank", "ID → final displacement"]
    assert t["space"].tolist() == ["final vectors", "ID view ~ final vectors"]
    assert t["key"].tolist() == ["effective_rank", "coembedding_displacement"]
    assert math.isnan(t["lightgcn"].iloc[1]) and t["anchor"].iloc[1] == 0.3


def test_diagnostics_table_says_tie_where_intervals_overlap():
    a, b = DiagnosticsReport("anchor", 8), DiagnosticsReport("direct", 8)
    a.add("effective_rank", "final", 4.0, 16.0, "gaussian", (3.5, 4.5))
    b.add("effective_rank", "final", 4.2, 16.0, "gaussian", (3.9, 4.6))
    a.add("linear_cka", "id_view~final", 0.2, 0.0, "permutation", (0.1, 0.3))
    b.add("linear_cka", "id_view~final", 0.8, 0.0, "permutation", (0.7, 0.9))
    verdicts = tables.diagnostics_table([a, b]).set_index("key")["verdict"]
    assert verdicts["effective_rank"] == "tie"
    assert verdicts["linear_cka"] != "tie" and "direct" in verdicts["linear_cka"]


def _audit(name: str) -> AuditResult:
    recs = pd.DataFrame(
        {
            "user": [0, 0, 1, 1],
            "item": [1, 2, 1, 3],
            "share_id": [0.5, 0.7, 0.1, 0.9],
            "cold": ["warm", "cold (≤3)", "warm", "cold (≤3)"],
            "popularity_bucket": ["head", "tail", "head", "tail"],
            "item_category": ["a", "b", "a", "a"],
        }
    )
    shares = pd.DataFrame(
        {
            "kind": ["all", "user group", "user group"],
            "segment": ["all", "x", "y"],
            "n": [4, 2, 2],
            "share_id": [0.55, 0.6, 0.5],
        }
    )
    exposure = pd.DataFrame(
        {"item": range(5), "recommended": [0, 2, 1, 1, 0], "popularity": [9, 8, 2, 1, 0]}
    )
    summary = {"users": 2, "recommendations": 4, "exposure_gini": 0.4, "coverage": 0.6}
    return AuditResult(name, 2, ("id",), (), recs, shares, exposure, summary)


def test_audit_tables_summarise_shares_exposure_and_cold_items():
    results = {"anchor": _audit("anchor")}
    summary = tables.audit_summary_table(results)
    assert summary.iloc[0].to_dict() == {
        "variant": "anchor",
        "users": 2,
        "recommendations": 4,
        "id share": 0.55,
        "exposure Gini": 0.4,
        "coverage": 0.6,
    }
    assert tables.segment_kinds(results["anchor"]) == ["user group"]
    seg = tables.segment_shares(results["anchor"], "user group")
    assert seg["label"].tolist() == ["all (n=4)", "x (n=2)", "y (n=2)"]
    assert seg["id"].tolist() == [0.55, 0.6, 0.5]
    by = tables.exposure_shares(results, "category")
    assert dict(zip(by["category"], by["share of recommendations"], strict=True)) == {
        "a": 0.75,
        "b": 0.25,
    }
    cold = tables.cold_items(results["anchor"])
    assert (cold.in_catalogue, cold.recommended, cold.recommendations, cold.total) == (3, 2, 2, 4)
    assert cold.share == 0.5 and set(cold.top["item"]) == {2, 3}
    ids = tables.mean_share_by_item(results["anchor"], "id", 5)
    np.testing.assert_allclose(ids, [np.nan, 0.3, 0.7, 0.9, np.nan])
    assert tables.mean_share_by_item(results["anchor"], "image", 5) is None


def test_overview_tables():
    met = {"test": {"recall@20": 0.1, "ndcg@20": 0.05}, "best_epoch": 3}
    t = tables.variants_table([("anchor", "anchor", True, met), ("broken", None, False, {})])
    assert t["test recall@20"].tolist()[0] == 0.1 and t["kind"].tolist() == ["anchor", "?"]
    groups = {"anchor": {"x": {"recall@20": 0.2, "ndcg@20": 0.1, "users": 3}}}
    wide = tables.group_accuracy_table(groups)
    assert list(wide.columns) == ["variant", "Recall@20 · x", "NDCG@20 · x"]
    partial = DiagnosticsReport("lightgcn", 8)
    partial.add("effective_rank", "final", 2.0, 16.0, "gaussian")
    head = tables.headline_table({"anchor": _report("anchor", 4.0), "lightgcn": partial})
    assert head["effective rank (final)"].tolist() == [4.0, 2.0]
    assert head["ID→final displacement"].iloc[0] == 0.3
    assert math.isnan(head["ID→final displacement"].iloc[1])  # not measured: blank


def test_epoch_text():
    record = {
        "epoch": 3,
        "epochs": 20,
        "loss": {"total": 0.5},
        "valid": {"recall@20": 0.25},
        "best_epoch": 2,
    }
    assert tables.epoch_text(record) == (
        "epoch 3/20 · loss 0.5000 · valid Recall@20 0.2500 · best epoch 2"
    )
    assert tables.epoch_fraction(record) == 0.15
    assert tables.epoch_row(record) == {"epoch": 3, "loss": 0.5, "valid recall@20": 0.25}


def test_the_tables_module_does_not_import_streamlit():
    code = "import sys, anchorrec.ui.tables; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_search_finds_items_by_id_or_title():
    ds = _shop()
    assert tables.search_items(ds, "  ") == []
    assert tables.search_items(ds, "3") == [3]  # the id (no title contains "3" but t3)
    assert tables.search_items(ds, "T5") == [5]  # case-insensitive title match
    assert tables.search_items(ds, "t") == list(range(8))
    assert tables.search_items(ds, "t", limit=2) == [0, 1]


def test_a_selection_is_listed_and_broken_down_by_category():
    ds = _shop()
    table = tables.selection_table(ds, [0, 3, 5])
    assert list(table.columns) == ["item", "title", "category", "price", "train interactions"]
    assert table["title"].tolist() == ["t0", "t3", "t5"]
    by = tables.selection_breakdown(ds, [0, 3, 5], "category")
    assert by.to_dict("list") == {
        "category": ["c0", "c2"],
        "items": [2, 1],
        "share": [2 / 3, 1 / 3],
    }
    assert tables.breakdown_columns(ds) == ["category", "price"]
    assert tables.selection_breakdown(ds, [], "category").empty
