"""The New product page's 'past launches' table reads the recorded results of its dataset."""

from __future__ import annotations

import json

import pytest

from anchorrec.ui.preview_views import past_launch_table


def _row(variant, protocol="season", **kw):
    row = {
        "data": "shop",
        "target": "valid+test",
        "seed": 0,
        "variant": variant,
        "protocol": protocol,
        "recall": 0.1,
        "top_recall": 0.3,
        "auc": 0.7,
        "arrivals": 12,
    }
    row.update(kw)
    return json.dumps(row)


def test_past_launches_pick_the_item_protocol_seed_0_of_the_open_dataset(tmp_path):
    path = tmp_path / "preview_recall.jsonl"
    lines = [
        _row("anchor", recall=0.5),
        _row("anchor", "item", recall=0.2),
        _row("anchor", "season", recall=0.9),  # newer season row: the item row still wins
        _row("anchor", seed=1, recall=0.8),
        _row("anchor", target="test", recall=0.7),
        _row("anchor", data="other", recall=0.6),
        _row("popularity", cannot_rank=True, recall=0.0),
        _row("active", audience_rule="ordering only", recall=0.0),
        _row("active@anchor"),
        "not json",
    ]
    path.write_text("\n".join(lines) + "\n")
    table = past_launch_table("shop", path).set_index("ranker")
    assert list(table.index) == ["anchor", "popularity", "active"]
    assert table.loc["anchor", "top-20 recall %"] == pytest.approx(20.0)
    assert table.loc["popularity"].isna()[["top-200 recall %", "AUC"]].all()
    assert table.isna().loc["active", "top-20 recall %"]
    assert past_launch_table("nothing recorded", path) is None
    assert past_launch_table("shop", tmp_path / "missing.jsonl") is None


def test_the_preview_thumbnail_refuses_bombs_and_junk(monkeypatch):
    import io

    from PIL import Image

    from anchorrec.ui.preview_views import thumbnail_bytes

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buf, format="PNG")
    small = thumbnail_bytes(buf.getvalue())
    assert small is not None and Image.open(io.BytesIO(small)).size == (64, 48)
    assert thumbnail_bytes(b"not a picture") is None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x48 is now over the limit
    assert thumbnail_bytes(buf.getvalue()) is None
