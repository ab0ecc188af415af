"""The builders behind the accuracy game, seed spread and collapse-table cells on the pages."""

from __future__ import annotations

import json

import pandas as pd

from anchorrec.analysis.accuracy_game import AccuracyGame, SegmentValue
from anchorrec.ui.accuracy_views import group_columns, segment_table
from anchorrec.ui.overview_views import SEEDS_COLUMN, with_seed_spread


def _game() -> AccuracyGame:
    rows = []
    for seg, (img, txt) in {"visual": (0.02, 0.0), "textual": (0.0, 0.03)}.items():
        for name, v in (("image", img), ("text", txt), ("image − text", img - txt)):
            rows.append(
                SegmentValue("planted group", seg, "recall", name, v, v - 0.01, v + 0.01, 50)
            )
    return AccuracyGame(
        "anchor", "mean", "test", 20, "train", ("id", "image", "text"), 100, tuple(rows)
    )


def test_segment_table_puts_each_input_in_words_with_its_interval():
    t = segment_table(_game(), "planted group")
    assert list(t.columns) == ["segment", "shoppers", "picture", "text", "picture − text"]
    assert t.loc[t["segment"] == "visual", "picture − text"].item() == "+0.0200 [+0.0100, +0.0300]"
    assert segment_table(_game(), "activity").empty


def test_group_columns_give_picture_minus_text_per_group():
    t = group_columns({"anchor": _game()})
    assert t.loc[0, "picture − text · textual"] == "-0.0300 [-0.0400, -0.0200]"


def test_seed_spread_sits_beside_the_shipped_figure(tmp_path):
    rec = tmp_path / "m"
    rec.mkdir()
    summary = {"seeds": [0, 1, 2], "test": {"recall@20": {"mean": 0.13, "sd": 0.004}}}
    (rec / "tuning.json").write_text(json.dumps({"summary": summary}))
    table = pd.DataFrame(
        {"variant": ["a", "b"], "test recall@20": [0.136, 0.12], "mask": ["t"] * 2}
    )
    out = with_seed_spread(table, [rec, tmp_path / "none"])
    assert list(out.columns) == ["variant", "test recall@20", SEEDS_COLUMN, "mask"]
    assert out[SEEDS_COLUMN].tolist() == ["0.1300 ± 0.0040 (3 seeds)", ""]


def test_collapse_cells_carry_their_intervals():
    from pathlib import Path

    from anchorrec.analysis.diagnostics import read_diagnostics
    from anchorrec.ui import tables
    from anchorrec.ui.collapse_views import with_intervals

    root = Path(__file__).resolve().parents[2] / "sample_data" / "wardrobe" / "models"
    reports = tables.named_reports([(v, read_diagnostics(root / v)) for v in ("anchor", "direct")])
    wide = tables.diagnostics_table(reports)
    out = with_intervals(wide, reports)
    row = out[out["key"] == "coembedding_displacement"].iloc[0]
    for v in ("anchor", "direct"):
        value = f"{wide.loc[row.name, v]:.3g}"
        assert row[v].startswith(value) and "[" in row[v] and row[v].endswith("]")
