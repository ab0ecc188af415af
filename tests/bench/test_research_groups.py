"""The pure parts of the research reports (bench/research/tuned_runs.py, photo_groups.py) on
tiny synthetic inputs: metrics from top-k lists, paired intervals, group splits, share
aggregation and the must-show checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from bench.research import photo_groups as pg
from bench.research import tuned_runs as tr


def _csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [u for u, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    return sp.csr_matrix((np.ones(len(c), np.float32), (r, c)), shape=(len(rows), n_items))


def test_recall_and_ndcg_from_top_lists_by_hand() -> None:
    truth = _csr([[0, 3], [1], [2, 4, 5]], 6)
    top = np.array([[3, 1, 0], [2, 4, 5], [5, 0, 2]])
    recall, ndcg = tr.recall_ndcg(top, truth, np.array([0, 1, 2]), k=3)
    assert recall.tolist() == pytest.approx([1.0, 0.0, 2 / 3])
    d = 1 / np.log2(np.arange(2, 5))
    assert ndcg.tolist() == pytest.approx([(d[0] + d[2]) / (d[0] + d[1]), 0.0, (d[0] + d[2]) / d.sum()])  # fmt: skip
    # a subset of users, in their own order, and a shorter cut-off
    recall, _ = tr.recall_ndcg(top[[2]], truth, np.array([2]), k=1)
    assert recall.tolist() == pytest.approx([1 / 3])
    with pytest.raises(ValueError, match="relevant"):
        tr.recall_ndcg(top, _csr([[0], [], [1]], 6), np.array([0, 1, 2]), k=3)


def test_restricting_the_truth_to_new_arrivals_keeps_only_their_columns() -> None:
    truth = _csr([[0, 3], [1], [2, 4]], 5)
    kept = tr.restrict_columns(truth, np.array([False, True, False, True, False]))
    assert kept.toarray().astype(int).tolist() == [[0, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0] * 5]
    assert kept.nnz == 2


def test_per_user_seed_metrics_selects_users_and_keeps_each_seed() -> None:
    truth = _csr([[0], [1], [2]], 4)
    lists = {"users": np.array([0, 1, 2]), "top": [np.array([[0], [0], [2]]), np.array([[1], [1], [2]])]}  # fmt: skip
    m = tr.per_user_seed_metrics(lists, truth, np.array([1, 2]), k=1)
    assert m["users"].tolist() == [1, 2]
    assert [r.tolist() for r in m["recall"]] == [[0.0, 1.0], [1.0, 1.0]]
    assert tr.seed_mean(m["recall"]).tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="outside"):
        tr.per_user_seed_metrics(lists, truth, np.array([3]), k=1)


def test_paired_difference_of_a_constant_shift_is_that_shift_and_ties_are_ties() -> None:
    rng = np.random.default_rng(1)
    b = rng.random(200)
    d = tr.paired_difference(b + 0.1, b)
    assert d["diff"] == pytest.approx(0.1) and d["low"] == pytest.approx(0.1)
    assert d["high"] == pytest.approx(0.1) and tr.verdict(d) == "above"
    assert tr.verdict(tr.paired_difference(b - 0.1, b)) == "below"
    noisy = tr.paired_difference(b + rng.normal(0, 0.3, 200), b)
    assert noisy["low"] < noisy["diff"] < noisy["high"]
    assert tr.verdict({"diff": 0.0, "low": -0.1, "high": 0.2}) == "tie"
    assert tr.fmt_diff({"diff": 0.01, "low": -0.02, "high": 0.03}) == "+0.0100 [-0.0200, +0.0300]"


def test_mean_sd_over_seeds() -> None:
    s = tr.mean_sd([1.0, 2.0, 3.0])
    assert s == {"mean": 2.0, "sd": 1.0, "min": 1.0, "max": 3.0, "n": 3}
    assert tr.mean_sd([0.5])["sd"] == 0.0
    with pytest.raises(ValueError):
        tr.mean_sd([])


def _summary(variant: str, seeds: list[int], closed: bool = False) -> dict:
    return {
        "variant": variant,
        "mask": "train",
        "closed_form": closed,
        "runs": [
            {"seed": s, "model_dir": "model" if closed or n == 0 else f"seed-{s}"}
            for n, s in enumerate(seeds)
        ],  # fmt: skip
    }


def test_tuned_variants_lists_finished_directories_in_table_order(tmp_path: Path) -> None:
    for name, closed in (("ease", True), ("anchor", False), ("zeta", False), ("lightgcn", False)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_summary(name, [0, 1], closed)))
    (tmp_path / "direct").mkdir()  # still tuning: no summary yet
    found = tr.tuned_variants(tmp_path)
    assert list(found) == ["anchor", "lightgcn", "ease", "zeta"]
    assert found["ease"].closed_form and found["ease"].mask == "train"
    assert [p.name for _, p in found["anchor"].seeds] == ["model", "seed-1"]
    assert [p.name for _, p in found["ease"].seeds] == ["model", "model"]


def test_new_arrival_column_is_read_as_booleans_or_refused() -> None:
    items = pd.DataFrame({"new_arrival": ["True", "False", "true", "0", "1"]})
    assert pg.new_arrival_mask(items, 5).tolist() == [True, False, True, False, True]
    assert pg.new_arrival_mask(pd.DataFrame({"new_arrival": [True, False]}), 2).tolist() == [True, False]  # fmt: skip
    with pytest.raises(ValueError, match="unreadable"):
        pg.new_arrival_mask(pd.DataFrame({"new_arrival": ["maybe"]}), 1)
    with pytest.raises(ValueError, match="no new_arrival"):
        pg.new_arrival_mask(pd.DataFrame({"x": [1]}), 1)
    with pytest.raises(ValueError, match="rows"):
        pg.new_arrival_mask(items, 4)


def test_group_slices_put_everyone_first_then_the_known_groups() -> None:
    groups = np.array(["textual", "visual", "other", "visual", "collaborative"])
    slices = pg.group_slices(groups, np.array([0, 1, 2, 3]))
    assert list(slices) == ["all", "visual", "textual", "other"]
    assert slices["visual"].tolist() == [1, 3] and slices["all"].tolist() == [0, 1, 2, 3]


def test_share_slices_average_the_recommendations_of_each_slice() -> None:
    players = ("id", "image", "text")
    groups = np.array(["visual", "textual"])
    new = np.array([False, True, False])
    users = np.array([0, 0, 1, 1])
    items = np.array([0, 1, 1, 2])
    shares = np.array([[0.5, 0.2, 0.4, 1.0], [0.4, 0.7, 0.1, 0.0], [0.1, 0.1, 0.5, 0.0]])
    out = pg.share_slices(shares, players, users, items, groups, new)
    assert out["all"]["n"] == 4 and out["all"]["id"] == pytest.approx(0.525)
    assert out["visual"] == pytest.approx({"n": 2, "id": 0.35, "image": 0.55, "text": 0.1})
    assert out["textual"]["text"] == pytest.approx(0.25)
    assert out["new arrivals"] == pytest.approx({"n": 2, "id": 0.3, "image": 0.4, "text": 0.3})
    assert out["new arrivals, visual"]["image"] == pytest.approx(0.7)
    assert "new arrivals, collaborative" not in out and "collaborative" not in out
    assert pg.content_share(out["visual"]) == pytest.approx(0.65)


def test_margin_check_needs_every_seed_positive_and_the_mean_beyond_twice_the_sd() -> None:
    assert pg.margin_check([0.10, 0.12, 0.11, 0.09, 0.10])["holds"]
    assert not pg.margin_check([0.10, 0.12, -0.01, 0.09, 0.10])["holds"]  # one seed the other way
    assert not pg.margin_check([0.01, 0.20, 0.02, 0.15, 0.01])["holds"]  # within the spread
    m = pg.margin_check([0.2, 0.4])
    assert m["mean"] == pytest.approx(0.3) and m["min"] == pytest.approx(0.2)


def test_differing_cells_find_intervals_that_exclude_zero_and_sign_flips() -> None:
    up, down, tie = (
        {"diff": 0.05, "low": 0.01, "high": 0.09},
        {"diff": -0.05, "low": -0.09, "high": -0.01},
        {"diff": 0.0, "low": -0.02, "high": 0.02},
    )
    diffs = {
        "all": {"lightgcn": {"anchor": tie}},
        "visual": {"lightgcn": {"anchor": up, "mf": tie}, "ease": {"anchor": up}},
        "collaborative": {"lightgcn": {"anchor": down, "mf": down}},
        "new arrivals": {"lightgcn": {"mf": up}},
    }
    out = pg.differing_cells(diffs)
    cells = {(c["slice"], c["reference"], c["variant"]): c["verdict"] for c in out["excluding_zero"]}  # fmt: skip
    assert cells == {
        ("visual", "lightgcn", "anchor"): "above",
        ("visual", "ease", "anchor"): "above",
        ("collaborative", "lightgcn", "anchor"): "below",
        ("collaborative", "lightgcn", "mf"): "below",
        ("new arrivals", "lightgcn", "mf"): "above",
    }
    # only groups of shoppers count for a flip (new arrivals are not a group)
    assert out["flips"] == [
        {
            "reference": "lightgcn",
            "variant": "anchor",
            "verdicts": {"visual": "above", "collaborative": "below"},
        }  # fmt: skip
    ]


def test_a_slice_without_pairs_has_no_shares_and_is_summarised_over_the_other_seeds() -> None:
    players = ("id", "image", "text")
    groups = np.array(["visual"])
    no_new = pg.share_slices(np.array([[1.0], [0.0], [0.0]]), players, np.array([0]), np.array([0]), groups, np.array([False]))  # fmt: skip
    assert no_new["new arrivals"] == {"n": 0, "id": None, "image": None, "text": None}
    some_new = pg.share_slices(np.array([[0.2], [0.5], [0.3]]), players, np.array([0]), np.array([0]), groups, np.array([True]))  # fmt: skip
    summary = pg.summarise_seeds([no_new, some_new], players)
    assert summary["new arrivals"]["seeds_with_pairs"] == 1
    assert summary["new arrivals"]["content"]["mean"] == pytest.approx(0.8)
    assert summary["new arrivals"]["n"]["mean"] == pytest.approx(0.5)
    assert summary["all"]["seeds_with_pairs"] == 2
    assert summary["all"]["id"]["mean"] == pytest.approx(0.6)
    m = pg.margin_check([0.5, None, 0.6])
    assert m["missing"] == 1 and not m["holds"] and m["mean"] == pytest.approx(0.55)
    assert pg.margin_check([None])["mean"] is None


def test_replace_block_rewrites_only_between_its_markers() -> None:
    doc = "intro\n<!-- T -->\nold\n<!-- /T -->\nafter\n"
    assert (
        tr.replace_block(doc, "T", "| new |\n")
        == "intro\n<!-- T -->\n| new |\n<!-- /T -->\nafter\n"
    )
    with pytest.raises(ValueError, match="markers"):
        tr.replace_block("no markers", "T", "x")
    with pytest.raises(ValueError, match="markers"):
        tr.replace_block("<!-- /T -->\n<!-- T -->", "T", "x")


def test_lists_are_ranked_as_deep_as_evaluate_ranks_so_ties_break_the_same_way() -> None:
    from anchorrec.evaluation.metrics import DEFAULT_KS

    assert max(DEFAULT_KS) == tr.DEPTH and tr.K in DEFAULT_KS


def test_stored_per_user_metrics_are_read_seed_by_seed(tmp_path: Path) -> None:
    assert tr.stored_per_user(tmp_path) is None
    np.savez(
        tmp_path / tr.PER_USER_FILE,
        users=np.array([3, 5]),
        **{"recall@20/seed-1": np.array([0.5, 1.0]), "recall@20/seed-0": np.array([0.0, 1.0])},
        **{"ndcg@20/seed-1": np.array([0.3, 1.0]), "ndcg@20/seed-0": np.array([0.0, 0.9])},
    )
    got = tr.stored_per_user(tmp_path)
    assert got["seeds"] == [0, 1] and got["users"].tolist() == [3, 5]
    assert [r.tolist() for r in got["recall"]] == [[0.0, 1.0], [0.5, 1.0]]
    assert got["ndcg"][0].tolist() == [0.0, 0.9]


def test_the_markdown_report_has_one_row_per_model_and_says_what_cannot_be_measured() -> None:
    ms = {"mean": 0.1, "sd": 0.01, "min": 0.09, "max": 0.11, "n": 2}
    figures = {s: {v: {"users": 4, "recall@20": ms} for v in ("anchor", "lightgcn", "ease")} for s in ("all", "visual", "new arrivals")}  # fmt: skip
    d = {"diff": 0.01, "low": -0.01, "high": 0.03}
    diffs = {s: {"lightgcn": {"anchor": d, "ease": d}, "ease": {"anchor": d, "lightgcn": d}} for s in figures}  # fmt: skip
    row = {"n": ms, "seeds_with_pairs": 2, "id": ms, "image": ms, "text": ms, "content": ms}
    shares = {"anchor": {"seeds": [{}, {}], "summary": {"all": row, "new arrivals": {"n": ms, "seeds_with_pairs": 0}}}}  # fmt: skip
    unmeasured = pg.margin_check([None, None])
    checks = {
        "rule": "r",
        "image_vs_text_by_group": {
            "anchor": {"visual: image − text": pg.margin_check([0.1, 0.11])}
        },
        "new_arrivals_content_vs_id": {"anchor": unmeasured},
        "recall_differences": pg.differing_cells(diffs),
    }
    text = pg.markdown(figures, diffs, {"mean": (shares, checks)}, "caption", k=10)
    assert text.count("| anchor | 0.1000 ± 0.0100 |") == 1
    assert "| anchor | all (4) | +0.0100 [-0.0100, +0.0300] |" not in text  # columns are slices
    assert "| anchor | +0.0100 [-0.0100, +0.0300] |" in text
    assert "| anchor | new arrivals (0) | — | — | — | — | 0/2 |" in text
    assert "not measurable (no pairs) | no |" in text and "| yes |" in text
    assert "**Game `mean`.**" in text and "Checks, game `mean` (r)" in text
    assert "excludes 0 within a shopper group: 0" in text and text.rstrip().endswith("caption")


def test_a_results_row_reproduces_the_summary_and_compares_with_each_reference(
    tmp_path: Path,
) -> None:
    from bench.research import comparisons

    recall = [np.array([0.0, 1.0, 0.5, 0.5]), np.array([0.5, 1.0, 0.5, 0.0])]
    summary = {
        "variant": "anchor", "mask": "train", "closed_form": False, "chosen": {"learning_rate": 0.001},
        "grid_points": 4, "grid_truncated_to": None, "seeds": [0, 1], "budget": {"epochs": 200, "patience": 20},
        "runs": [{"seed": 0, "model_dir": "model", "best_epoch": 12, "valid": {"recall@20": 0.3}},
                 {"seed": 1, "model_dir": "seed-1", "best_epoch": 30, "valid": {"recall@20": 0.2}}],
        "test": {"recall@20": {"mean": 0.5, "sd": 0.0}, "ndcg@20": {"mean": 0.25, "sd": 0.01}},
    }  # fmt: skip
    v = tr.TunedVariant("anchor", tmp_path, summary, {})
    refs = {"lightgcn": np.array([0.25, 1.0, 0.5, 0.25]), "anchor": np.zeros(4)}
    cells, row = comparisons._row_cells("anchor", v, {"recall": recall, "source": "ranked"}, refs)
    assert cells[:5] == ["anchor", "learning_rate=0.001 (4 pts)", "0.3000", "2", "12, 30"]
    assert cells[5] == "0.5000 ± 0.0000" and cells[-1] == "—"
    assert row["recall@20_minus_lightgcn"]["diff"] == pytest.approx(0.0)
    assert row["best_epochs"] == [12, 30] and row["per_user_source"] == "ranked"
    summary["test"]["recall@20"]["mean"] = 0.6  # rankings that do not reproduce the summary
    with pytest.raises(AssertionError):
        comparisons._row_cells("anchor", v, {"recall": recall, "source": "ranked"}, refs)
