"""The typed result of an attribution (:class:`Attribution`) and its one builder.

:func:`attribute` turns (user, item) pairs into an :class:`Attribution`: players, signed
input-level values, shares, baseline and the branch-level values; DataFrames appear only at
the edges (:meth:`Attribution.to_frame`, the audit's tables and CSV).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution.cache import as_cache
from anchorrec.analysis.attribution.game import (
    CoalitionCache,
    Progress,
    _check_user,
    _zscore,
)
from anchorrec.analysis.shapley import abs_shares

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel


# ---------------------------------------------------------------------- the typed result
@dataclass(frozen=True)
class Attribution:
    """Exact attribution of the scores of ``n`` (user, item) pairs.

    ``values`` (``n_players × n``) are the signed input-level Shapley values of ``game``;
    per pair ``baseline + values.sum(0) == scores`` (``baseline`` is ``v(∅)``).
    ``branch_values`` (``n_branches × n``) split the score along the model's branches
    (they sum to ``scores``). ``standardised`` (``n_players × n``, optional) are the values of
    the standardised-score game. ``ranks`` is the 1-based rank of each item in its user's
    list when the pairs come from top-k lists.
    """

    game: str
    players: tuple[str, ...]
    branches: tuple[str, ...]
    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    baseline: np.ndarray
    values: np.ndarray
    branch_values: np.ndarray | None = None
    standardised: np.ndarray | None = None
    ranks: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.items)

    @property
    def shares(self) -> np.ndarray:
        """``|φ_m| / Σ|φ|`` per pair (``n_players × n``; 0 where every value is 0)."""
        return abs_shares(self.values, axis=0)

    @property
    def branch_shares(self) -> np.ndarray | None:
        return None if self.branch_values is None else abs_shares(self.branch_values, axis=0)

    @property
    def standardised_shares(self) -> np.ndarray | None:
        return None if self.standardised is None else abs_shares(self.standardised, axis=0)

    def value(self, player: str) -> np.ndarray:
        """The signed value of ``player`` for every pair."""
        return self.values[self.players.index(player)]

    def efficiency_error(self) -> float:
        """Largest ``|baseline + Σφ − score|`` over the pairs (0 up to float rounding)."""
        if not len(self):
            return 0.0
        return float(np.abs(self.baseline + self.values.sum(axis=0) - self.scores).max())

    def select(self, mask: np.ndarray) -> Attribution:
        """The pairs where ``mask`` holds (a boolean or index array)."""

        def pick(a: np.ndarray | None, cols: bool = False) -> np.ndarray | None:
            if a is None:
                return None
            return a[:, mask] if cols else a[mask]

        return Attribution(
            self.game,
            self.players,
            self.branches,
            self.users[mask],
            self.items[mask],
            self.scores[mask],
            self.baseline[mask],
            self.values[:, mask],
            pick(self.branch_values, True),
            pick(self.standardised, True),
            pick(self.ranks),
        )

    def to_frame(self, *, user_column: bool = True) -> pd.DataFrame:
        """One row per pair: ``user``, ``item``, ``rank``, ``score``, ``baseline``,
        ``phi_<player>``, ``share_<player>``, ``branch_<name>``, ``branch_share_<name>``,
        ``zphi_<player>``, ``zshare_<player>`` (the optional parts only when present)."""
        table: dict[str, np.ndarray] = {}
        if user_column:
            table["user"] = self.users
        table["item"] = self.items
        if self.ranks is not None:
            table["rank"] = self.ranks
        table["score"] = self.scores
        table["baseline"] = self.baseline
        _add(table, "phi_", self.players, self.values)
        _add(table, "share_", self.players, self.shares)
        if self.branch_values is not None:
            _add(table, "branch_", self.branches, self.branch_values)
            _add(table, "branch_share_", self.branches, self.branch_shares)
        if self.standardised is not None:
            _add(table, "zphi_", self.players, self.standardised)
            _add(table, "zshare_", self.players, self.standardised_shares)
        return pd.DataFrame(table)

    def record(self, j: int) -> dict[str, Any]:
        """Pair ``j`` as the JSON record ``recommend --explain --json`` prints."""
        out: dict[str, Any] = {"item": int(self.items[j])}
        if self.ranks is not None:
            out["rank"] = int(self.ranks[j])
        out["score"] = float(self.scores[j])
        out["baseline"] = float(self.baseline[j])
        out["attribution"] = {p: float(self.values[m, j]) for m, p in enumerate(self.players)}
        shares = self.shares
        out["share"] = {p: float(shares[m, j]) for m, p in enumerate(self.players)}
        if self.branch_values is not None:
            out["branch_attribution"] = {
                b: float(self.branch_values[n, j]) for n, b in enumerate(self.branches)
            }
        if self.standardised is not None:
            out["standardised_attribution"] = {
                p: float(self.standardised[m, j]) for m, p in enumerate(self.players)
            }
        return out


def _add(table: dict[str, np.ndarray], prefix: str, names: tuple[str, ...], rows: Any) -> None:
    for n, name in enumerate(names):
        table[f"{prefix}{name}"] = rows[n]


#: Pairs attributed at once (bounds the ``2^n × pairs × D`` block of gathered embeddings).
PAIR_CHUNK = 4096


def attribute(
    source: CoalitionCache | LoadedModel,
    users: np.ndarray | int,
    items: np.ndarray,
    *,
    ranks: np.ndarray | None = None,
    branches: bool = True,
    standardised: bool = True,
    progress: Progress | None = None,
) -> Attribution:
    """The one builder of :class:`Attribution`: exact values of (user, item) pairs.

    ``users`` and ``items`` are equal-length arrays (a scalar user is broadcast).
    ``branches`` / ``standardised`` switch the branch-level values and the
    standardised-score game (whose moments over each user's unseen items the cache keeps)
    on or off. The pairs of one user read that user's row of scores
    (:meth:`CoalitionCache.coalition_scores`), those of many a product per pair.
    """
    cache = as_cache(source)
    items = np.asarray(items, dtype=np.int64).ravel()
    users = np.broadcast_to(np.asarray(users, dtype=np.int64), items.shape).copy()
    unique, where = np.unique(users, return_inverse=True)
    for u in unique:
        _check_user(cache, int(u))
    if len(unique) == 1:  # one shopper: their row, as their ranking scored it
        values = cache.coalition_values(int(unique[0]), items)
    else:
        values = np.zeros((len(cache.subsets), len(items)))
        for start in range(0, len(items), PAIR_CHUNK):
            sl = slice(start, start + PAIR_CHUNK)
            values[:, sl] = cache.pair_values(users[sl], items[sl])
    phi = cache.shapley(values)
    branch = None
    if branches:
        branch = np.zeros((len(cache.branches), len(items)))
        for start in range(0, len(items), PAIR_CHUNK):
            sl = slice(start, start + PAIR_CHUNK)
            branch[:, sl] = cache.pair_branch_values(users[sl], items[sl])
    zphi = None
    if standardised:  # every user's moments are kept with the cache: a lookup
        mean, std = cache.coalition_moments(unique, progress=progress)
        zphi = cache.shapley(_zscore(values, mean[:, where], std[:, where]))
    return Attribution(
        game=cache.game,
        players=cache.players,
        branches=cache.branches,
        users=users,
        items=items,
        scores=values[-1],
        baseline=values[0],
        values=phi,
        branch_values=branch,
        standardised=zphi,
        ranks=None if ranks is None else np.asarray(ranks, dtype=np.int64).ravel(),
    )


def top_k_lists(
    cache: CoalitionCache,
    k: int,
    users: np.ndarray,
    batch: int = 512,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every user's top-``k`` unseen items, flattened: (users, items, ranks), best first
    (``progress(done, total)`` after each batch of users)."""
    full = len(cache.subsets) - 1
    out_u, out_i, out_r = [], [], []
    for start in range(0, len(users), batch):
        ub = users[start : start + batch]
        # ranked in the float32 the product is computed in (a float64 copy ranks the same)
        scores = cache.users[full, ub] @ cache.items[full].T
        sub = cache.train[ub]
        rows = np.repeat(np.arange(len(ub)), np.diff(sub.indptr))
        scores[rows, sub.indices] = -np.inf
        kk = min(k, cache.n_items)
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        part_scores = np.take_along_axis(scores, part, axis=1)
        order = np.lexsort((part, -part_scores), axis=1)
        top = np.take_along_axis(part, order, axis=1)
        valid = np.isfinite(np.take_along_axis(part_scores, order, axis=1)).ravel()
        out_u.append(np.repeat(ub, kk)[valid])
        out_i.append(top.ravel()[valid])
        out_r.append(np.tile(np.arange(1, kk + 1), len(ub))[valid])
        if progress is not None:
            progress(start + len(ub), len(users))
    if not out_u:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(out_u), np.concatenate(out_i), np.concatenate(out_r)


def attribute_top_k(
    source: CoalitionCache | LoadedModel,
    k: int = 10,
    users: np.ndarray | None = None,
    batch: int = 512,
    progress: Progress | None = None,
) -> Attribution:
    """Input- and branch-level attribution of every user's top-``k`` (one pair per row).

    ``progress(done, total)`` counts users twice: ranking them, then the standardised game's
    moments over their unseen items (the two passes over every user × item)."""
    cache = as_cache(source)
    users = np.arange(cache.n_users) if users is None else np.asarray(users, dtype=np.int64)
    for u in np.unique(users):
        _check_user(cache, int(u))
    n = len(users)
    ranked = None if progress is None else (lambda done, _: progress(done, 2 * n))
    pair_users, pair_items, ranks = top_k_lists(cache, k, users, batch, progress=ranked)
    moments = (
        None
        if progress is None
        else (lambda done, total: progress(n + done * n // max(total, 1), 2 * n))
    )
    return attribute(cache, pair_users, pair_items, ranks=ranks, progress=moments)


def top_k_attribution(
    source: CoalitionCache | LoadedModel,
    k: int = 10,
    users: np.ndarray | None = None,
    batch: int = 512,
) -> pd.DataFrame:
    """The table of :func:`attribute_top_k` (the audit's raw table).

    One row per (user, recommended item) with ``user``, ``item``, ``rank``, ``score``,
    ``baseline``, ``phi_*``, ``share_*``, ``branch_*``, ``branch_share_*``, and the
    standardised-score game's ``zphi_*`` / ``zshare_*`` (see
    :meth:`CoalitionCache.standardised_input_values`).
    """
    return attribute_top_k(source, k, users, batch).to_frame()
