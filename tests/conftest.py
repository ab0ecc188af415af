"""Fixtures shared by every test area.

Area-specific fixtures live in the area's own ``tests/<area>/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the project; tests that need it skip cleanly where it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is absent (a user's machine has none)")
    return SHARED_DIR


def make_tiny_dataset(
    n_users: int = 60, n_items: int = 40, seed: int = 0, *, with_features: bool = True
):
    """A small random Dataset with clustered items, image/text features and MMRec's split.

    Items fall in 4 clusters; each user prefers one cluster, so content features carry signal.
    """
    from anchorrec.data.dataset import IMAGE, TEXT, Dataset, mmrec_split, split_matrices

    rng = np.random.default_rng(seed)
    cluster = np.arange(n_items) % 4
    users, items = [], []
    for u in range(n_users):
        pref = u % 4
        pool = np.flatnonzero(cluster == pref)
        others = np.flatnonzero(cluster != pref)
        k = int(rng.integers(6, 14))
        chosen = np.concatenate(
            [
                rng.choice(pool, size=min(k - 2, len(pool)), replace=False),
                rng.choice(others, 2, replace=False),
            ]
        )
        users.extend([u] * len(chosen))
        items.extend(chosen.tolist())
    users = np.asarray(users)
    items = np.asarray(items)
    labels = mmrec_split(users, items, seed=seed)
    train, valid, test = split_matrices(users, items, labels, n_users, n_items)
    features = {}
    if with_features:
        centres_img = rng.normal(size=(4, 32))
        centres_txt = rng.normal(size=(4, 16))
        features[IMAGE] = (centres_img[cluster] + 0.3 * rng.normal(size=(n_items, 32))).astype(
            np.float32
        )
        features[TEXT] = (centres_txt[cluster] + 0.3 * rng.normal(size=(n_items, 16))).astype(
            np.float32
        )
    return Dataset(
        name="tiny",
        n_users=n_users,
        n_items=n_items,
        train=train,
        valid=valid,
        test=test,
        features=features,
    )


@pytest.fixture
def tiny_dataset():
    return make_tiny_dataset()
