"""The models shipped with the sample shop load and reproduce their recorded metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchorrec.evaluation import evaluate
from anchorrec.evaluation.metrics import LEGACY_MASK
from anchorrec.models.checkpoint import load_model
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


def test_shipped_models_share_one_seed_and_budget():
    configs = [load_model(SAMPLE_DIR / "models" / v).config for v in SHIPPED]
    budgets = {(c.train, c.preset) for c in configs}
    assert len(budgets) == 1, budgets
    seeds = {load_model(SAMPLE_DIR / "models" / v).metrics["seed"] for v in SHIPPED}
    assert seeds == {0}


def test_shipped_models_find_their_dataset_from_config():
    loaded = load_model(SAMPLE_DIR / "models" / "anchor")
    assert loaded.dataset.path is not None
    assert Path(loaded.dataset.path).resolve() == SAMPLE_DIR.resolve()
