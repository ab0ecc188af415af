"""Per-user metrics stored beside a model: computed once, read back, refused when stale."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anchorrec.evaluation import per_user_metrics
from anchorrec.evaluation.stored import read_per_user_metrics, stored_per_user_metrics
from anchorrec.models.checkpoint import load_model, save_model
from anchorrec.models.registry import build_model
from tests.conftest import make_tiny_dataset


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    from anchorrec.data.mmrec import load_mmrec, save_mmrec

    ds = load_mmrec(save_mmrec(make_tiny_dataset(), tmp_path / "data"))
    model = build_model("lightgcn", ds)
    save_model(model, ds, tmp_path / "model")
    return load_model(tmp_path / "model", ds)


def test_computed_once_then_read_back(loaded):
    assert read_per_user_metrics(str(loaded.model_dir)) is None
    first = stored_per_user_metrics(loaded)
    expected = per_user_metrics(loaded, loaded.dataset, "test", k=20)
    for key, values in expected.items():
        np.testing.assert_array_equal(first[key], values)
    again = read_per_user_metrics(str(loaded.model_dir))
    assert again is not None
    for key, values in expected.items():
        np.testing.assert_array_equal(again[key], values)


def test_a_retrained_model_does_not_read_the_old_figures(loaded):
    stored_per_user_metrics(loaded)
    config = loaded.model_dir / "config.json"
    info = json.loads(config.read_text())
    info["code_version"] = "retrained"
    config.write_text(json.dumps(info))
    assert read_per_user_metrics(str(loaded.model_dir)) is None


def test_another_split_or_k_is_another_file(loaded):
    stored_per_user_metrics(loaded, "test", k=20)
    assert read_per_user_metrics(str(loaded.model_dir), "test", k=10) is None
    assert read_per_user_metrics(str(loaded.model_dir), "valid", k=20) is None
