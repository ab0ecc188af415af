"""Fixtures of the data-layer tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

BABY_USERS, BABY_ITEMS, BABY_INTERACTIONS = 19_445, 7_050, 160_792


@pytest.fixture
def baby_dir(shared_dir: Path, tmp_path: Path) -> Path:
    """The real Amazon Baby 5-core interactions in MMRec layout, with small random features
    of the right row count (the real 4096-d/384-d files are not available offline)."""
    src = shared_dir / "data" / "amazon_baby_5core" / "baby.inter"
    if not src.is_file():
        pytest.skip("../shared/data/amazon_baby_5core/baby.inter is absent")
    d = tmp_path / "baby"
    d.mkdir()
    shutil.copyfile(src, d / "baby.inter")
    rng = np.random.default_rng(0)
    np.save(d / "image_feat.npy", rng.normal(size=(BABY_ITEMS, 16)).astype(np.float32))
    np.save(d / "text_feat.npy", rng.normal(size=(BABY_ITEMS, 8)).astype(np.float32))
    return d
