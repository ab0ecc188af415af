"""Vectorised BPR sampling: every train interaction once per epoch, one uniform negative each.

Negatives are drawn uniformly from the catalogue and redrawn (vectorised, a few rounds) when
they fall in the user's train set, so a negative is never a known positive. The order and the
negatives of epoch ``e`` depend only on ``(seed, e)``, which makes resumed training identical
to an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

#: Redraw rounds for negatives that hit a train positive (the rest stay, practically none).
MAX_REDRAWS = 50


class BprSampler:
    """Shuffled (user, positive, negative) triples of a train matrix."""

    def __init__(self, train: sp.csr_matrix, seed: int = 0) -> None:
        coo = train.tocoo()
        order = np.lexsort((coo.col, coo.row))
        self.users = coo.row[order].astype(np.int64)
        self.items = coo.col[order].astype(np.int64)
        self.n_items = int(train.shape[1])
        self._keys = self.users * self.n_items + self.items  # sorted
        self.seed = seed

    def __len__(self) -> int:
        return len(self.users)

    def n_batches(self, batch_size: int) -> int:
        return -(-len(self.users) // batch_size)

    def _is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.n_items + items
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return self._keys[pos] == keys

    def epoch(
        self, epoch: int, batch_size: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The batches of ``epoch`` (deterministic in ``(seed, epoch)``)."""
        rng = np.random.default_rng([self.seed, epoch])
        perm = rng.permutation(len(self.users))
        users, pos = self.users[perm], self.items[perm]
        neg = rng.integers(0, self.n_items, size=len(users))
        bad = self._is_positive(users, neg)
        for _ in range(MAX_REDRAWS):
            if not bad.any():
                break
            neg[bad] = rng.integers(0, self.n_items, size=int(bad.sum()))
            bad[bad] = self._is_positive(users[bad], neg[bad])
        for start in range(0, len(users), batch_size):
            sl = slice(start, start + batch_size)
            yield users[sl], pos[sl], neg[sl]
