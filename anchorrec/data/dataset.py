"""The :class:`Dataset` type every other part of AnchorRec Studio reads.

A dataset is a user–item interaction matrix split into train / valid / test, item features
by modality, optional item and user metadata, and a content fingerprint that trained models
record so that a model is never silently applied to other data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

#: Modality names at the library boundary (docs/models.md#notation calls them v, t and mm).
IMAGE = "image"
TEXT = "text"
FUSED = "fused"
MODALITIES: tuple[str, ...] = (IMAGE, TEXT, FUSED)

#: x_label values of the MMRec ``.inter`` file.
TRAIN, VALID, TEST = 0, 1, 2
SPLIT_NAMES: dict[int, str] = {TRAIN: "train", VALID: "valid", TEST: "test"}


@dataclass(frozen=True)
class Dataset:
    """An MMRec dataset in memory.

    ``train``, ``valid`` and ``test`` are binary ``float32`` CSR matrices of shape
    ``(n_users, n_items)``. ``features`` maps a modality name to a ``float32`` matrix with one
    row per item. ``items`` (if any) is indexed by item id ``0..n_items-1``; ``users`` likewise.
    """

    name: str
    n_users: int
    n_items: int
    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    features: dict[str, np.ndarray] = field(default_factory=dict)
    items: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    path: Path | None = None
    dropped_users: int = 0
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""
    #: where the data came from when it was not an MMRec directory, and how it was split
    #: (e.g. "RecBole atomic files …; split: …"); empty for an MMRec directory
    source: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", compute_fingerprint(self))

    # ------------------------------------------------------------------ summary helpers
    @property
    def n_interactions(self) -> int:
        return int(self.train.nnz + self.valid.nnz + self.test.nnz)

    @property
    def sparsity(self) -> float:
        """Fraction of the user × item matrix that is empty."""
        cells = self.n_users * self.n_items
        return 1.0 - self.n_interactions / cells if cells else 1.0

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m in MODALITIES if m in self.features)

    def split(self, name: str) -> sp.csr_matrix:
        """The interaction matrix of ``"train"``, ``"valid"`` or ``"test"``."""
        try:
            return {"train": self.train, "valid": self.valid, "test": self.test}[name]
        except KeyError:
            raise ValueError(f"unknown split {name!r}; use train, valid or test") from None

    def user_items(self, user: int, split: str = "train") -> np.ndarray:
        """The item ids ``user`` interacted with in ``split`` (ascending, int64)."""
        m = self.split(split)
        return m.indices[m.indptr[user] : m.indptr[user + 1]].astype(np.int64)

    def held_out_items(self, user: int) -> dict[int, str]:
        """``user``'s purchases outside train: item id → ``"valid"`` or ``"test"``."""
        out: dict[int, str] = {}
        for name in ("valid", "test"):
            m = self.split(name)
            for item in m.indices[m.indptr[user] : m.indptr[user + 1]]:
                out[int(item)] = name
        return out

    def item_popularity(self) -> np.ndarray:
        """Number of train interactions of every item (int64, length ``n_items``)."""
        return np.asarray(self.train.sum(axis=0)).ravel().astype(np.int64)

    def image_path(self, item_id: int) -> Path | None:
        """The image file of ``item_id`` (``items.csv`` column ``image``, relative to the
        dataset directory), or None when there is none, it is missing, or it points outside
        the dataset directory."""
        if self.items is None or self.path is None or "image" not in self.items.columns:
            return None
        rel = self.items["image"].iat[int(item_id)]
        if not isinstance(rel, str) or not rel.strip():
            return None
        root = Path(self.path).resolve()
        p = (root / rel.strip()).resolve()
        return p if p.is_relative_to(root) and p.is_file() else None

    def summary(self) -> dict[str, object]:
        """A plain dict for the CLI, the README and the dashboard's dataset card."""
        return {
            "name": self.name,
            "path": str(self.path) if self.path else None,
            "users": self.n_users,
            "items": self.n_items,
            "interactions": self.n_interactions,
            "sparsity": self.sparsity,
            "train": int(self.train.nnz),
            "valid": int(self.valid.nnz),
            "test": int(self.test.nnz),
            "modalities": {m: int(self.features[m].shape[1]) for m in self.modalities},
            "dropped_users": self.dropped_users,
            "has_item_metadata": self.items is not None,
            "has_user_metadata": self.users is not None,
            "fingerprint": self.fingerprint,
            "source": self.source or "MMRec directory",
        }


def interactions_matrix(
    users: np.ndarray, items: np.ndarray, n_users: int, n_items: int
) -> sp.csr_matrix:
    """A binary float32 CSR matrix with a 1 at every (user, item) pair (duplicates collapse)."""
    data = np.ones(len(users), dtype=np.float32)
    m = sp.csr_matrix(
        (data, (np.asarray(users, np.int64), np.asarray(items, np.int64))),
        shape=(n_users, n_items),
        dtype=np.float32,
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def split_matrices(
    users: np.ndarray, items: np.ndarray, labels: np.ndarray, n_users: int, n_items: int
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """The train, valid and test matrices of interactions labelled as by :func:`mmrec_split`."""
    train, valid, test = (
        interactions_matrix(users[labels == s], items[labels == s], n_users, n_items)
        for s in (TRAIN, VALID, TEST)
    )
    return train, valid, test


@dataclass(frozen=True)
class ColdUsersDropped:
    """Interactions kept after :func:`drop_users_without_train`, and what was dropped."""

    users: np.ndarray
    items: np.ndarray
    labels: np.ndarray
    dropped_users: int
    dropped_interactions: int

    def warning(self) -> str | None:
        """The sentence a reader says about it (None: nothing was dropped)."""
        if not self.dropped_users:
            return None
        return (
            f"{self.dropped_users} user(s) have valid/test interactions but none in train; their "
            f"{self.dropped_interactions} valid/test interaction(s) were dropped (as MMRec does)."
        )


def drop_users_without_train(
    users: np.ndarray, items: np.ndarray, labels: np.ndarray, n_users: int
) -> ColdUsersDropped:
    """As MMRec does: the valid/test interactions of users without a train interaction go."""
    in_train = np.zeros(n_users, dtype=bool)
    in_train[users[labels == TRAIN]] = True
    cold = ~in_train[users]
    if not cold.any():
        return ColdUsersDropped(users, items, labels, 0, 0)
    return ColdUsersDropped(
        users[~cold],
        items[~cold],
        labels[~cold],
        int(np.unique(users[cold]).size),
        int(cold.sum()),
    )


def compute_fingerprint(ds: Dataset) -> str:
    """A stable SHA-256 over the interactions (with their split) and the feature matrices.

    Metadata (titles, images) does not enter: a model depends on interactions and features.
    """
    h = hashlib.sha256()
    h.update(f"anchorrec-dataset-v1 {ds.n_users} {ds.n_items}".encode())
    for name, m in (("train", ds.train), ("valid", ds.valid), ("test", ds.test)):
        coo = m.tocsr()
        coo.sort_indices()
        h.update(name.encode())
        h.update(np.ascontiguousarray(coo.indptr, dtype=np.int64).data)
        h.update(np.ascontiguousarray(coo.indices, dtype=np.int64).data)
    for mod in sorted(ds.features):
        arr = np.ascontiguousarray(ds.features[mod], dtype=np.float32)
        h.update(f"{mod} {arr.shape}".encode())
        h.update(arr.data)  # the buffer itself: same bytes as arr.tobytes(), without the copy
    return h.hexdigest()[:16]


def mmrec_split(
    users: np.ndarray,
    items: np.ndarray,
    *,
    seed: int = 0,
    timestamps: np.ndarray | None = None,
) -> np.ndarray:
    """Assign every interaction a split label (0 train / 1 valid / 2 test) as MMRec does.

    Per user: with ``n < 10`` interactions, ``n − 2`` train, 1 valid, 1 test; otherwise
    ``int(0.2·n)`` are held out, half valid and half test (valid gets the smaller half).
    The order within a user is a seeded shuffle, or chronological when ``timestamps`` is
    given (the latest interactions are held out, test last). Users with fewer than 3
    interactions keep everything in train.
    """
    users = np.asarray(users, dtype=np.int64)
    n = len(users)
    labels = np.zeros(n, dtype=np.int8)
    rng = np.random.default_rng(seed)
    if timestamps is None:
        # Seeded shuffle, then a stable sort by user keeps the shuffled order within a user.
        perm = rng.permutation(n)
        order = perm[np.argsort(users[perm], kind="stable")]
    else:
        ts = np.asarray(timestamps)
        order = np.lexsort((ts, users))
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    ends = np.r_[starts[1:], n]
    for s, e in zip(starts, ends, strict=True):
        k = e - s
        if k < 3:
            continue
        if k < 10:
            n_valid, n_test = 1, 1
        else:
            held = int(0.2 * k)
            n_valid = held // 2
            n_test = held - n_valid
        idx = order[s:e]
        labels[idx[k - n_valid - n_test : k - n_test]] = VALID
        labels[idx[k - n_test :]] = TEST
    return labels
