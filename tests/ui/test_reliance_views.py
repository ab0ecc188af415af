"""The Positional collapse page's reliance table: rows, columns, cells and its reading."""

from __future__ import annotations

import pytest

from anchorrec.analysis.reliance import CoalitionAccuracy, Reliance, readable_coalitions
from anchorrec.ui.games import GAME_LABELS, GAME_RULES
from anchorrec.ui.reliance_views import (
    ALL_INPUTS,
    NO_INPUT,
    coalition_words,
    reliance_caption,
    reliance_reading,
    reliance_table,
)


def _reliance(variant: str, players: tuple[str, ...], recall: dict, game: str = "mean"):
    """A reliance whose every coalition has the Recall in ``recall`` (keyed by its label)."""
    rows = []
    for c in readable_coalitions(players):
        inputs = tuple(p for p in players if p in c)
        r = recall[" + ".join(inputs) or "none"]
        rows.append(CoalitionAccuracy(inputs, r, r - 0.01, r + 0.01, r / 2, r / 2 - 0.01, r / 2))
    return Reliance(variant, game, "test", 20, 300, players, tuple(rows))


THREE = ("id", "image", "text")
ANCHOR = {
    "id + image + text": 0.6,
    "id + image": 0.58,
    "id + text": 0.57,
    "image + text": 0.03,
    "id": 0.57,
    "image": 0.02,
    "text": 0.025,
    "none": 0.02,
}


def test_rows_are_coalitions_in_words_and_columns_the_models():
    table = reliance_table(
        {
            "anchor": _reliance("anchor", THREE, ANCHOR),
            "lightgcn": _reliance("lightgcn", ("id",), {"id": 0.55, "none": 0.02}),
        }
    )
    assert list(table.columns) == ["inputs kept", "anchor", "lightgcn"]
    assert list(table["inputs kept"]) == [
        ALL_INPUTS,
        "purchase history + picture",
        "purchase history + product text",
        "picture + product text",
        "purchase history",
        "picture",
        "product text",
        NO_INPUT,
    ]
    by_row = table.set_index("inputs kept")
    assert by_row.loc[ALL_INPUTS, "anchor"] == "0.600 [0.590, 0.610]"
    assert by_row.loc["picture + product text", "anchor"] == "0.030 [0.020, 0.040]"
    # an ID-only model: its model as trained is "all inputs", then only "none"
    assert by_row.loc[ALL_INPUTS, "lightgcn"] == "0.550 [0.540, 0.560]"
    assert by_row.loc[NO_INPUT, "lightgcn"] == "0.020 [0.010, 0.030]"
    assert (by_row["lightgcn"].drop([ALL_INPUTS, NO_INPUT]) == "").all()
    ndcg = reliance_table({"anchor": _reliance("anchor", THREE, ANCHOR)}, "ndcg")
    assert ndcg.set_index("inputs kept").loc[ALL_INPUTS, "anchor"] == "0.300 [0.290, 0.300]"
    with pytest.raises(ValueError):
        reliance_table({"anchor": _reliance("anchor", THREE, ANCHOR)}, "map")


def test_an_id_only_model_first_keeps_the_row_order():
    table = reliance_table(
        {
            "lightgcn": _reliance("lightgcn", ("id",), {"id": 0.55, "none": 0.02}),
            "anchor": _reliance("anchor", THREE, ANCHOR),
        }
    )
    labels = list(table["inputs kept"])
    assert labels[0] == ALL_INPUTS and labels[-1] == NO_INPUT and len(labels) == 8
    assert labels.index("picture + product text") < labels.index("picture")


def test_the_reading_says_how_much_each_side_keeps():
    other = {**ANCHOR, "id": 0.6, "image + text": 0.06}
    text = reliance_reading(
        {"anchor": _reliance("anchor", THREE, ANCHOR), "direct": _reliance("direct", THREE, other)}
    )
    assert "purchase history alone" in text and "Recall@20" in text
    assert "95%–100% of their Recall@20" in text  # 0.57/0.6 and 0.6/0.6
    assert "picture + product text alone 5%–10%" in text
    assert "against 3% with no input at all" in text  # 0.02/0.6 for both
    only_id = reliance_reading({"lightgcn": _reliance("lightgcn", ("id",), {"id": 1, "none": 0})})
    assert "one input" in only_id


def test_the_caption_names_the_split_the_game_rule_and_the_mask():
    text = reliance_caption({"a": _reliance("a", THREE, ANCHOR, game="background")}, "recall")
    assert text.startswith("Test Recall@20 of 300 shoppers")
    assert GAME_LABELS["background"] in text and GAME_RULES["background"] in text
    assert "'train' items" in text and "95% bootstrap interval" in text


def test_coalition_words_name_the_inputs():
    assert coalition_words(("id", "text")) == "purchase history + product text"
    assert coalition_words(()) == NO_INPUT
    assert coalition_words(("fused",)) == "fused"
