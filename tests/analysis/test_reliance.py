"""Modality reliance: which coalitions are measured, and that the full one is the model."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.analysis.reliance import readable_coalitions, reliance


def test_readable_coalitions_are_all_pairs_singles_and_none():
    three = readable_coalitions(("id", "image", "text"))
    assert len(three) == 8 and three[0] == frozenset(("id", "image", "text"))
    assert three[-1] == frozenset()
    four = readable_coalitions(("id", "image", "text", "fused"))
    sizes = sorted(len(c) for c in four)
    assert sizes == [0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 4]  # no triples: all, pairs, singles, none
    assert readable_coalitions(("id",)) == [frozenset(("id",)), frozenset()]


def test_reliance_of_the_full_coalition_is_the_models_accuracy(tiny_model):
    from anchorrec.evaluation import evaluate

    result = reliance(tiny_model, k=10)
    full = evaluate(tiny_model.model, tiny_model.dataset, "test", ks=(10,))
    assert result.rows[0].inputs == ("id", "image", "text")
    assert result.rows[0].recall == pytest.approx(full["recall@10"], abs=1e-9)
    frame = result.to_frame()
    assert list(frame["inputs"])[-1] == "none" and len(frame) == 8
    assert np.all(frame["recall@10 low"] <= frame["recall@10"] + 1e-12)
    assert result.row("id").label == "id"
    with pytest.raises(KeyError):
        result.row("fused")


def test_cli_game_choices_are_the_librarys_games():
    from anchorrec.analysis.attribution import GAMES, MEAN_GAME
    from anchorrec.cli.analysis_commands import GAME_CHOICES

    assert GAME_CHOICES == GAMES and GAME_CHOICES[0] == MEAN_GAME
