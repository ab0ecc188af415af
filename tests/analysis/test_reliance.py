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


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import load_model, save_model
    from anchorrec.models.registry import build_model
    from tests.conftest import make_tiny_dataset

    root = tmp_path_factory.mktemp("reliance")
    ds = load_mmrec(save_mmrec(make_tiny_dataset(n_users=40, n_items=30), root / "tiny"))
    return load_model(save_model(build_model("anchor", ds, seed=0), ds, root / "model"), ds)


def test_stored_reliance_reads_back_per_game_and_only_for_this_model(
    saved_model, tmp_path, monkeypatch
):
    import json

    from anchorrec.analysis.reliance import read_reliance, reliance_file, store_reliance

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    model_dir = saved_model.model_dir
    assert read_reliance(model_dir, "mean") is None  # nothing measured yet
    stored = store_reliance(saved_model, "mean")
    back = read_reliance(model_dir, "mean")
    assert back == stored and back.game == "mean" and back.mask == stored.mask
    assert read_reliance(model_dir, "background") is None  # one document per game
    assert read_reliance(model_dir, "mean", k=10) is None  # measured at another cut-off
    background = store_reliance(saved_model, "background")
    assert read_reliance(model_dir, "background") == background
    assert read_reliance(model_dir, "mean") == stored
    # a document written for another version of the model is ignored
    path = model_dir / reliance_file("mean")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "fingerprint": "0" * 16}))
    assert read_reliance(model_dir, "mean") is None
    path.write_text("{not json")
    assert read_reliance(model_dir, "mean") is None


def test_a_reliance_is_stored_only_under_its_own_game(saved_model, tmp_path, monkeypatch):
    from anchorrec.analysis.reliance import store_reliance

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match="background"):
        store_reliance(saved_model, "background", reliance(saved_model, game="mean"))
