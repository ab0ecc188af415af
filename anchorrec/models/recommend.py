"""Top-K recommendations of a loaded model, the library side of ``recommend``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from anchorrec.data.items import item_title
from anchorrec.errors import ConfigError
from anchorrec.models.base import Embeddings
from anchorrec.models.checkpoint import LoadedModel
from anchorrec.models.cold_start import ranking_embeddings, routed_mask
from anchorrec.models.ranking import top_k_items


@dataclass(frozen=True)
class Recommendation:
    """One recommended item: ``rank`` 1 is the best; ``score`` = h_u · h_i (for an item
    ranked by the cold-start path, its calibrated content score: ``new_arrival`` True)."""

    user: int
    rank: int
    item: int
    score: float
    title: str | None = None
    new_arrival: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _title(loaded: LoadedModel, item: int) -> str | None:
    return item_title(loaded.dataset.items, item)


def recommend(
    loaded: LoadedModel,
    users: Sequence[int],
    k: int = 10,
    *,
    exclude_train: bool = True,
    embeddings: Embeddings | None = None,
    routed: np.ndarray | None = None,
) -> list[Recommendation]:
    """Top-``k`` items for each of ``users`` (train items excluded), user by user, best first.

    ``embeddings`` lets a caller reuse (or ablate, via ``compute_embeddings(drop)``) the
    embeddings instead of recomputing them; ``routed`` then says which items those embeddings
    rank through the cold-start path (none when not given).
    """
    ds = loaded.dataset
    users_arr = np.asarray(list(users), dtype=np.int64)
    bad = users_arr[(users_arr < 0) | (users_arr >= ds.n_users)]
    if len(bad):
        raise ConfigError(
            f"user {int(bad[0])} does not exist; user ids run from 0 to {ds.n_users - 1}."
        )
    if k < 1:
        raise ConfigError(f"k must be >= 1 (got {k}).")
    emb = embeddings if embeddings is not None else ranking_embeddings(loaded)
    mask = ds.train if exclude_train else None
    top, scores = top_k_items(emb, users_arr, k, mask)
    if embeddings is None:
        routed = routed_mask(loaded)
    elif routed is None:  # with the caller's embeddings nothing is known to be routed
        routed = np.zeros(ds.n_items, dtype=bool)
    out = []
    for row, user in enumerate(users_arr):
        for rank, (item, score) in enumerate(zip(top[row], scores[row], strict=True), start=1):
            if not np.isfinite(score):
                break  # fewer than k unseen items
            out.append(
                Recommendation(
                    int(user),
                    rank,
                    int(item),
                    float(score),
                    _title(loaded, int(item)),
                    bool(routed[int(item)]),
                )
            )
    return out
