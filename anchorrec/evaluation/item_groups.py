"""Accuracy on warm items and on new arrivals, side by side, in the same mixed top-K lists.

A shop's question about a cold-start path is two numbers: how often the new arrivals a
shopper went on to buy were in their top-K (new-arrival Recall@K), and what that cost the
rest of the catalogue (warm Recall@K). Both are read from one ranking of the whole
catalogue: for a group G of items, a shopper with at least one held-out purchase in G counts,
with ``recall_u = |top-K(u) ∩ truth(u) ∩ G| / |truth(u) ∩ G|`` (the per-user values are kept
for paired intervals).

New arrivals are the items of ``items.csv``'s ``new_arrival`` column when the dataset has
one, else the items with at most :data:`NEW_ITEM_PURCHASES` train purchases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from anchorrec.data.dataset import Dataset
from anchorrec.models.config import DEFAULT_MASK

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

#: Without a ``new_arrival`` column, an item with at most this many train purchases is new.
NEW_ITEM_PURCHASES = 2
NEW_ARRIVAL_COLUMN = "new_arrival"
#: The item groups, in display order.
GROUPS = ("warm", "new", "all")


def new_arrival_mask(ds: Dataset) -> np.ndarray:
    """Boolean mask of the dataset's new arrivals (see the module docstring)."""
    if ds.items is not None and NEW_ARRIVAL_COLUMN in ds.items.columns:
        col = ds.items[NEW_ARRIVAL_COLUMN].astype(str).str.strip().str.lower()
        mask = col.isin(["true", "1", "yes"]).to_numpy()
        out = np.zeros(ds.n_items, dtype=bool)
        n = min(len(mask), ds.n_items)
        out[:n] = mask[:n]
        return out
    counts = np.asarray(ds.train.sum(axis=0)).ravel()
    return counts <= NEW_ITEM_PURCHASES


def group_masks(ds: Dataset) -> dict[str, np.ndarray]:
    """``warm`` / ``new`` / ``all`` item masks."""
    new = new_arrival_mask(ds)
    return {"warm": ~new, "new": new, "all": np.ones(ds.n_items, dtype=bool)}


def group_recall(
    top: np.ndarray, truth: sp.csr_matrix, users: np.ndarray, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(users counted, their Recall@K) on the item group ``items`` (a boolean mask):
    ``top`` is the users' top-K lists (len(users) × K), ``truth`` the held-out split."""
    sub = sp.csr_matrix(truth[users] @ sp.diags(items.astype(np.float32)))
    sub.eliminate_zeros()
    sizes = np.diff(sub.indptr)
    keep = sizes > 0
    hits = np.zeros(len(users), dtype=np.float64)
    for row in np.flatnonzero(keep):
        cols = sub.indices[sub.indptr[row] : sub.indptr[row + 1]]
        hits[row] = np.isin(top[row], cols).sum()
    return users[keep], hits[keep] / sizes[keep]


def group_metrics(
    top: np.ndarray, ds: Dataset, split: str, users: np.ndarray, k: int = 20
) -> dict[str, dict[str, float]]:
    """``{group: {"recall@k": mean, "users": n}}`` for warm, new and all items."""
    truth = ds.split(split)
    out: dict[str, dict[str, float]] = {}
    for name, mask in group_masks(ds).items():
        counted, recall = group_recall(top[:, :k], truth, users, mask)
        out[name] = {
            f"recall@{k}": float(recall.mean()) if len(recall) else float("nan"),
            "users": float(len(counted)),
        }
    return out


def ranked_top(
    loaded: LoadedModel, split: str, k: int = 20, mask: str = DEFAULT_MASK
) -> tuple[np.ndarray, np.ndarray]:
    """(evaluated users, their top-``k``) of ``split`` as ``loaded`` ranks (cold start
    included when attached)."""
    from anchorrec.evaluation.metrics import evaluated_users, seen_items
    from anchorrec.models.cold_start import ranking_embeddings
    from anchorrec.models.ranking import top_k_items

    users = evaluated_users(loaded.dataset, split)
    top, _ = top_k_items(
        ranking_embeddings(loaded), users, k, seen_items(loaded.dataset, split, mask)
    )
    return users, top


def warm_new_report(
    loaded: LoadedModel, split: str = "test", k: int = 20, mask: str = DEFAULT_MASK
) -> dict[str, dict[str, dict[str, float]]]:
    """``{"cold start": groups, "published": groups}`` (:func:`group_metrics`) of ``loaded``
    with its cold-start path and without it (only ``published`` when none is attached)."""
    from anchorrec.models.cold_start import with_cold_start

    out = {}
    runs = [("cold start", loaded)] if loaded.cold_start is not None else []
    runs.append(("published", with_cold_start(loaded, False)))
    for name, model in runs:
        users, top = ranked_top(model, split, k, mask)
        out[name] = group_metrics(top, model.dataset, split, users, k)
    return out
