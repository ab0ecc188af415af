"""The tuning protocol: the grid is judged on valid only, the chosen point is retrained with
every seed, test metrics are computed once per seed, and everything is written down."""

from __future__ import annotations

import json

import pytest

from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.models.checkpoint import load_model
from anchorrec.training import trainer, tuning


@pytest.fixture
def splits_evaluated(monkeypatch):
    """Every (split, mask) the trainer evaluates, in order."""
    from anchorrec.evaluation import metrics

    calls: list[str] = []
    real = metrics.evaluate

    def spy(model, dataset, split="test", *args, **kwargs):
        calls.append(split)
        return real(model, dataset, split, *args, **kwargs)

    monkeypatch.setattr(trainer, "evaluate", spy)
    monkeypatch.setattr(metrics, "evaluate", spy)
    return calls


def test_closed_form_grid_selects_on_valid_and_tests_once(tiny_dataset, tmp_path, splits_evaluated):
    result = tuning.tune(tiny_dataset, "ease", tmp_path / "ease", seeds=(0, 1, 2), max_points=3)
    grid = json.loads((tmp_path / "ease" / "grid.json").read_text())
    summary = json.loads((tmp_path / "ease" / "summary.json").read_text())
    assert [r["point"] for r in grid["runs"]] == tuning.grid_points("ease")[:3]
    best = max(grid["runs"], key=lambda r: r["valid"]["recall@20"])
    assert summary["chosen"] == best["point"] == result.chosen
    # the three grid fits read valid only; the chosen fit is the one test evaluation
    assert splits_evaluated.count("test") == 1
    assert summary["closed_form"] and summary["test"]["recall@20"]["sd"] == 0.0
    assert summary["mask"] == "train" and summary["grid_truncated_to"] == 3
    loaded = load_model(tmp_path / "ease" / "model", tiny_dataset)
    assert loaded.config.ease_lambda == best["point"]["ease_lambda"]
    assert loaded.metrics["mask"] == "train"
    # closed form: one fit for every seed; the grid's runs are kept beside the chosen one
    assert sorted(p.name for p in (tmp_path / "ease").iterdir()) == [
        "grid",
        "grid.json",
        "model",
        "summary.json",
    ]
    assert [r["model_dir"] for r in summary["runs"]] == ["model"] * 3
    assert len(list((tmp_path / "ease" / "grid").iterdir())) == 3


def test_neural_grid_runs_under_one_budget_and_each_seed_is_trained(
    tiny_dataset, tmp_path, splits_evaluated
):
    result = tuning.tune(
        tiny_dataset,
        "mf",
        tmp_path / "mf",
        seeds=(0, 1),
        budget=3,
        patience=2,
        max_points=2,
        mask="train+valid",
    )
    assert all(r["epochs_run"] <= 3 for r in result.grid)
    assert splits_evaluated.count("test") == 2  # once per seed of the chosen point
    # the chosen point's grid run is the first seed: only seed 1 was trained afresh
    assert sorted(p.name for p in (tmp_path / "mf").iterdir()) == [
        "grid",
        "grid.json",
        "model",
        "seed-1",
        "summary.json",
    ]
    chosen = load_model(tmp_path / "mf" / "model", tiny_dataset).config
    assert chosen.train.epochs == 3 and chosen.train.patience == 2
    assert chosen.train.learning_rate == result.chosen["learning_rate"]
    runs = result.summary["runs"]
    assert [r["seed"] for r in runs] == [0, 1]
    assert result.summary["mask"] == "train+valid"
    assert result.summary["test"]["recall@20"]["mean"] == pytest.approx(
        sum(r["test"]["recall@20"] for r in runs) / 2
    )


def test_every_variant_has_a_documented_grid():
    from anchorrec.models import VARIANTS

    assert set(tuning.GRIDS) == set(VARIANTS)
    assert tuning.grid_points("popularity") == [{}]  # one point: the preset itself
    assert len(tuning.grid_points("itemknn")) == 12


def test_bad_requests_are_refused(tiny_dataset, tmp_path):
    with pytest.raises(ConfigError):
        tuning.tune(tiny_dataset, "nope", tmp_path / "x")
    with pytest.raises(ValueError, match="mask"):
        tuning.tune(tiny_dataset, "ease", tmp_path / "x", mask="valid")
    (tmp_path / "taken").mkdir()
    with pytest.raises(CheckpointError, match="overwrite"):
        tuning.tune(tiny_dataset, "ease", tmp_path / "taken")


def test_resume_reuses_what_separate_processes_trained(tiny_dataset, tmp_path, splits_evaluated):
    out = tmp_path / "mf"
    row = tuning.run_grid_point(tiny_dataset, "mf", out, 1, budget=2, patience=1)
    assert row["point"] == tuning.grid_points("mf")[1]
    before = len(splits_evaluated)
    again = tuning.run_grid_point(tiny_dataset, "mf", out, 1, budget=2, patience=1)
    assert again == row and len(splits_evaluated) == before  # reused, not retrained
    result = tuning.tune(
        tiny_dataset, "mf", out, seeds=(0,), budget=2, patience=1, max_points=2, resume=True
    )
    assert [r["point"] for r in result.grid] == tuning.grid_points("mf")[:2]
    assert result.grid[1] == row
