"""Fixtures of the model tests: tiny datasets and a fast training configuration."""

from __future__ import annotations

import pytest

from anchorrec.models.config import preset_config


def fast_config(variant: str = "anchor", preset: str = "default", **overrides):
    """A preset with a tiny batch and few epochs so every test trains in well under a second."""
    base = (
        {"epochs": 6, "batch_size": 64, "feature_dim": 8}
        if preset == "default"
        else {
            "epochs": 6,
            "batch_size": 64,
        }
    )
    base.update(overrides)
    return preset_config(preset, variant=variant, **base)


@pytest.fixture
def fast():
    return fast_config


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Tiny models run fastest on one thread; on a loaded CI box two threads spin for seconds."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
