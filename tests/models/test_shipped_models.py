"""The models shipped with the sample shop load and reproduce their recorded metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchorrec.evaluation import evaluate
from anchorrec.evaluation.metrics import LEGACY_MASK
from anchorrec.models.checkpoint import load_model
from anchorrec.models.model_dir import ModelDir
from tests.models.conftest import single_torch_thread  # noqa: F401

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data" / "boutique"
SHIPPED = ("anchor", "direct", "none", "anchor-noproj", "anchor-noamp", "lightgcn")
MAX_MODEL_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def sample():
    from anchorrec.data.mmrec import load_mmrec

    return load_mmrec(SAMPLE_DIR)


@pytest.mark.parametrize("variant", SHIPPED)
def test_shipped_model_loads_and_reproduces_its_metrics(sample, variant):
    model_dir = SAMPLE_DIR / "models" / variant
    assert (model_dir / "model.safetensors").stat().st_size <= MAX_MODEL_BYTES
    loaded = load_model(model_dir, sample)  # the fingerprint matches the shipped sample
    assert loaded.variant == variant
    for split in ("valid", "test"):
        # the shipped metrics predate the recorded mask rule: load_model names theirs
        assert loaded.metrics["mask"] == LEGACY_MASK
        metrics = evaluate(loaded.model, sample, split, mask=loaded.metrics["mask"])
        for key in ("recall@20", "ndcg@20"):
            assert metrics[key] == pytest.approx(loaded.metrics[split][key], abs=1e-6), (split, key)


def _recorded(variant: str) -> tuple[dict, dict]:
    """config.json and metrics.json of a shipped model, read as files (no model is built)."""
    md = ModelDir(SAMPLE_DIR / "models" / variant)
    return json.loads(md.config.read_text()), json.loads(md.metrics.read_text())


def test_shipped_models_share_one_seed_and_budget():
    recorded = [_recorded(v) for v in SHIPPED]
    keys = ("epochs", "patience", "learning_rate", "batch_size", "preset")
    budgets = {tuple(c["hyper_parameters"][k] for k in keys) for c, _ in recorded}
    assert len(budgets) == 1, budgets
    assert {m["seed"] for _, m in recorded} == {0}
    assert {c["seed"] for c, _ in recorded} == {0}


def test_shipped_models_find_their_dataset_from_config():
    loaded = load_model(SAMPLE_DIR / "models" / "anchor")
    assert loaded.dataset.path is not None
    assert Path(loaded.dataset.path).resolve() == SAMPLE_DIR.resolve()
