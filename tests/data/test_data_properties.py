"""Property-based tests: the MMRec round trip and MMRec's per-user split rule."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from anchorrec.data.dataset import (
    IMAGE,
    TEST,
    TEXT,
    TRAIN,
    VALID,
    Dataset,
    mmrec_split,
    split_matrices,
)
from anchorrec.data.mmrec import load_mmrec, save_mmrec

# Any printable text a title could hold (commas, quotes, newlines, non-Latin scripts), but
# no NUL (binary) and no lone surrogates (not encodable).
titles = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@st.composite
def datasets(draw) -> Dataset:
    n_users = draw(st.integers(1, 12))
    n_items = draw(st.integers(1, 15))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        k = int(rng.integers(3, min(n_items, 14) + 1)) if n_items >= 3 else 0
        chosen = rng.choice(n_items, size=k, replace=False) if k else []
        users += [u] * len(chosen)
        items += list(chosen)
    # every user and item id appears (ids contiguous from 0)
    for j in range(max(n_users, n_items)):
        users.append(j % n_users)
        items.append(j % n_items)
    users_a, items_a = np.asarray(users), np.asarray(items)
    pairs = np.unique(np.stack([users_a, items_a], 1), axis=0)
    users_a, items_a = pairs[:, 0], pairs[:, 1]
    labels = mmrec_split(users_a, items_a, seed=seed)
    # load_mmrec needs non-empty splits and train for every user who has valid/test
    for s in (VALID, TEST):
        train_rows = np.flatnonzero(labels == TRAIN)
        if not (labels == s).any() and train_rows.size:
            labels[train_rows[-1]] = s
    has_train = np.zeros(n_users, bool)
    has_train[users_a[labels == TRAIN]] = True
    labels[~has_train[users_a]] = TRAIN
    train, valid, test = split_matrices(users_a, items_a, labels, n_users, n_items)
    features = {}
    if draw(st.booleans()):
        features[IMAGE] = rng.normal(size=(n_items, int(rng.integers(1, 6)))).astype(np.float32)
        features[TEXT] = (rng.normal(size=(n_items, 3)) * 1e6).astype(np.float32)
    item_titles = draw(st.lists(titles, min_size=n_items, max_size=n_items))
    meta = pd.DataFrame({"item_id": np.arange(n_items), "title": item_titles})
    return Dataset(
        name="prop",
        n_users=n_users,
        n_items=n_items,
        train=train,
        valid=valid,
        test=test,
        features=features,
        items=meta,
    )


@settings(max_examples=40, deadline=None)
@given(ds=datasets())
def test_save_then_load_gives_the_same_dataset(ds: Dataset) -> None:
    if not all(m.nnz for m in (ds.train, ds.valid, ds.test)):
        return  # too small to hold all three splits; load_mmrec rightly refuses it
    with tempfile.TemporaryDirectory() as tmp:
        out = save_mmrec(ds, Path(tmp) / "prop")
        back = load_mmrec(out)
    assert (back.n_users, back.n_items) == (ds.n_users, ds.n_items)
    for name in ("train", "valid", "test"):
        assert (back.split(name) != ds.split(name)).nnz == 0
    assert back.features.keys() == ds.features.keys()
    for mod, arr in ds.features.items():
        np.testing.assert_array_equal(back.features[mod], arr)
    assert back.fingerprint == ds.fingerprint
    assert list(back.items["title"]) == list(ds.items["title"])
    assert back.warnings == () and back.dropped_users == 0


interaction_lists = st.lists(st.integers(0, 7), min_size=0, max_size=120)


def _expected_counts(k: int) -> tuple[int, int, int]:
    if k < 3:
        return k, 0, 0
    if k < 10:
        return k - 2, 1, 1
    held = int(0.2 * k)
    return k - held, held // 2, held - held // 2


@settings(max_examples=80, deadline=None)
@given(users=interaction_lists, seed=st.integers(0, 2**32 - 1), chrono=st.booleans())
def test_mmrec_split_counts_determinism_and_no_loss(users, seed, chrono) -> None:
    users = np.asarray(users, dtype=np.int64)
    items = np.arange(len(users))
    ts = np.random.default_rng(seed).permutation(len(users)) if chrono else None
    labels = mmrec_split(users, items, seed=seed, timestamps=ts)
    assert labels.shape == users.shape  # no interaction lost or added
    assert set(np.unique(labels)) <= {TRAIN, VALID, TEST}
    np.testing.assert_array_equal(labels, mmrec_split(users, items, seed=seed, timestamps=ts))
    for u in np.unique(users):
        mine = labels[users == u]
        counts = tuple(int((mine == s).sum()) for s in (TRAIN, VALID, TEST))
        assert counts == _expected_counts(len(mine))
        if chrono and len(mine) >= 3:
            t = ts[users == u]
            assert t[mine == TRAIN].max() < t[mine == VALID].min()
            assert t[mine == VALID].max() < t[mine == TEST].min()


def test_mmrec_split_depends_on_the_seed() -> None:
    users = np.repeat(np.arange(20), 12)
    items = np.arange(users.size)
    a = mmrec_split(users, items, seed=1)
    b = mmrec_split(users, items, seed=2)
    assert (a != b).any()
