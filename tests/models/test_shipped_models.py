"""The models shipped with the bundled sample: chosen by the tuning protocol, seed 0, small,
and they load and reproduce their recorded metrics (test under MMRec's ``train`` mask)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchorrec.evaluation import evaluate
from anchorrec.models.checkpoint import load_model
from anchorrec.models.model_dir import ModelDir
from anchorrec.training.tuning import GRIDS
from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR
from tests.models.conftest import single_torch_thread  # noqa: F401

SAMPLE_DIR = SAMPLE_DATASET_DIR
#: anchored and direct alignment (the paper's comparison), the no-alignment control, the
#: references every variant is
#: compared with (LightGCN, EASE) and the floor (popularity)
SHIPPED = ("anchor", "direct", "none", "lightgcn", "ease", "popularity")
MAX_MODEL_BYTES = 10 * 1024 * 1024
#: the whole of sample_data/: the sample, its models and everything stored beside them
MAX_SAMPLE_DATA_BYTES = 60 * 1000 * 1000


@pytest.fixture(scope="module")
def sample():
    from anchorrec.data.mmrec import load_mmrec

    return load_mmrec(SAMPLE_DIR)


def _recorded(variant: str) -> tuple[dict, dict, dict]:
    """config.json, metrics.json and tuning.json of a shipped model, read as files."""
    md = ModelDir(SAMPLE_DIR / MODELS_DIR / variant)
    return tuple(json.loads(p.read_text()) for p in (md.config, md.metrics, md.tuning))


def test_the_shipped_models_are_the_expected_variants():
    found = sorted(p.name for p in (SAMPLE_DIR / MODELS_DIR).iterdir() if p.is_dir())
    assert found == sorted(SHIPPED)


def test_sample_data_fits_the_size_budget():
    root = SAMPLE_DIR.parent
    # what ships: the attribution caches the app writes beside a model on first use are
    # derived, git-ignored files, not part of the repository
    total = sum(
        p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and "attribution" not in p.relative_to(root).parts
    )
    assert total <= MAX_SAMPLE_DATA_BYTES, f"sample_data/ holds {total / 1e6:.1f} MB"


@pytest.mark.parametrize("variant", SHIPPED)
def test_shipped_model_loads_and_reproduces_its_metrics(sample, variant):
    model_dir = SAMPLE_DIR / MODELS_DIR / variant
    assert (model_dir / "model.safetensors").stat().st_size <= MAX_MODEL_BYTES
    loaded = load_model(model_dir, sample)  # the fingerprint matches the shipped sample
    assert loaded.variant == variant
    assert loaded.metrics["mask"] == "train"  # MMRec's rule, as the Overview and docs use
    for split in ("valid", "test"):
        metrics = evaluate(loaded.model, sample, split, mask=loaded.metrics["mask"])
        for key in ("recall@20", "ndcg@20"):
            assert metrics[key] == pytest.approx(loaded.metrics[split][key], abs=1e-6), (split, key)


@pytest.mark.parametrize("variant", SHIPPED)
def test_shipped_model_is_the_tuning_protocols_choice(variant):
    config, metrics, tuning = _recorded(variant)
    grid, summary = tuning["grid"], tuning["summary"]
    assert config["tuned"] is True and summary["variant"] == grid["variant"] == variant
    assert summary["mask"] == metrics["mask"] == "train"
    # the chosen point is the grid's best on valid Recall@20, and it is what was trained
    best = max(grid["runs"], key=lambda r: r["valid"]["recall@20"])
    assert summary["chosen"] == best["point"]
    assert set(summary["chosen"]) == set(GRIDS[variant])
    for name, value in summary["chosen"].items():
        assert value in GRIDS[variant][name]
        assert config["hyper_parameters"][name] == value
    # the shipped model is the first seed's run, and its test figures are that run's
    first = summary["runs"][0]
    assert first["model_dir"] == "model" and first["seed"] == summary["seeds"][0] == 0
    assert config["seed"] == metrics["seed"] == 0
    for key, value in first["test"].items():
        assert metrics["test"][key] == pytest.approx(value, abs=1e-9), key
    assert len(summary["seeds"]) == len(summary["runs"]) == 5


def test_gradient_trained_shipped_models_share_one_budget():
    recorded = [_recorded(v) for v in SHIPPED]
    budgets = {
        (s["summary"]["budget"]["epochs"], s["summary"]["budget"]["patience"])
        for _, _, s in recorded
        if not s["summary"]["closed_form"]
    }
    assert len(budgets) == 1, budgets
    keys = ("epochs", "patience", "batch_size", "preset")
    trained = [c for c, _, s in recorded if not s["summary"]["closed_form"]]
    assert len({tuple(c["hyper_parameters"][k] for k in keys) for c in trained}) == 1


def test_shipped_models_find_their_dataset_from_config():
    loaded = load_model(SAMPLE_DIR / MODELS_DIR / "anchor")
    assert loaded.dataset.path is not None
    assert Path(loaded.dataset.path).resolve() == SAMPLE_DIR.resolve()
