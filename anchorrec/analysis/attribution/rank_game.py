"""What ranks an item: each input's Shapley value of the item's standing in the shopper's list.

The *rank game* of a (shopper, item) pair has the input players and ``v(S)`` = the item's
standing in the shopper's ranking when the model keeps only the inputs in ``S`` (the rest
removed by the coalition cache's rule; ranked among the same candidates as the list, the
shopper's unseen items). Two standings:

- ``top-k`` (the default): whether the item is in the top ``k``. Items that tie (with every
  input removed the mean rule gives every item the same score) share the places they tie
  for, so ``v(S)`` is the chance of a top-``k`` place when ties are broken at random. For a
  recommended item ``v(all) = 1`` and ``v(none) = k / candidates``: the values split
  "what put this item in your top-``k``" among the inputs.
- ``rank-discount``: the expected ``1 / log2(1 + rank)`` (the NDCG discount), a smooth
  utility that also credits an input for lifting an item from rank 40 to rank 15.

Both are exact (``2^n`` coalitions from the coalition cache, no further forward pass),
efficient (per pair the values add up to ``v(all) − v(none)``) and need no held-out
purchases. Unlike the score game they are blind to how much of the score mass an input
carries: an input that moves the score of every candidate alike ranks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution.cache import as_cache
from anchorrec.analysis.attribution.game import CoalitionCache, _check_user
from anchorrec.analysis.shapley import abs_shares
from anchorrec.errors import ConfigError

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

TOP_K = "top-k"
RANK_DISCOUNT = "rank-discount"
STANDINGS: tuple[str, ...] = (TOP_K, RANK_DISCOUNT)
#: Prefixes of the rank game's columns in a table.
VALUE_PREFIX = "rphi_"
SHARE_PREFIX = "rshare_"


def check_standing(standing: str) -> str:
    if standing not in STANDINGS:
        raise ConfigError(f"unknown standing {standing!r}: use one of {', '.join(STANDINGS)}.")
    return standing


@dataclass(frozen=True)
class RankAttribution:
    """The rank game's exact values of ``n`` (shopper, item) pairs.

    ``values`` (``n_players × n``) are signed Shapley values; per pair
    ``empty + values.sum(0) == full`` (``empty`` = ``v(none)``, ``full`` = ``v(all)``).
    ``ranks`` is each item's rank in the full model's list of its shopper.
    """

    standing: str
    k: int
    players: tuple[str, ...]
    users: np.ndarray
    items: np.ndarray
    ranks: np.ndarray
    empty: np.ndarray
    full: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.items)

    @property
    def shares(self) -> np.ndarray:
        """``|φ_m| / Σ|φ|`` per pair (0 where every value is 0)."""
        return abs_shares(self.values, axis=0)

    def value(self, player: str) -> np.ndarray:
        return self.values[self.players.index(player)]

    def efficiency_error(self) -> float:
        if not len(self):
            return 0.0
        return float(np.abs(self.empty + self.values.sum(axis=0) - self.full).max())

    def to_frame(self, *, user_column: bool = True) -> pd.DataFrame:
        """One row per pair: ``user``, ``item``, ``rank``, ``standing_all``,
        ``standing_none``, ``rphi_<player>``, ``rshare_<player>``."""
        table: dict[str, np.ndarray] = {}
        if user_column:
            table["user"] = self.users
        table["item"] = self.items
        table["rank"] = self.ranks
        table["standing_all"] = self.full
        table["standing_none"] = self.empty
        shares = self.shares
        for m, p in enumerate(self.players):
            table[f"{VALUE_PREFIX}{p}"] = self.values[m]
        for m, p in enumerate(self.players):
            table[f"{SHARE_PREFIX}{p}"] = shares[m]
        return pd.DataFrame(table)


def _discount_table(n: int) -> np.ndarray:
    """``C[r] = Σ_{q ≤ r} 1 / log2(1 + q)``, ``C[0] = 0``."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, n + 2)))])


#: Up to this many items a rank is counted by comparing the item's score with the
#: candidates' (``items × I``); beyond it it comes from the full ranking.
COUNT_MAX_ITEMS = 64


def _standing(
    scores: np.ndarray, targets: np.ndarray, excluded: np.ndarray, k: int, standing: str
) -> np.ndarray:
    """``v`` of each target item under each coalition (``S × J``) from the coalitions' scores
    (``S × I``): ``g`` candidates score above it and ``e`` tie with it (itself included).

    Only the candidates scoring at least the lowest target's score are sorted: the others
    are below every target (for a top-``k`` under the full model, a handful of items)."""
    n_sets = scores.shape[0]
    keep = ~excluded
    n = int(keep.sum())
    own = scores[:, targets]
    extra = excluded[targets].astype(np.int64)  # a target outside the candidates joins them
    above = np.empty(own.shape, dtype=np.int64)
    ties = np.empty(own.shape, dtype=np.int64)
    for s in range(n_sets):
        candidates = scores[s, keep]
        if len(targets):
            candidates = candidates[candidates >= own[s].min()]
        ordered = np.sort(candidates)
        right = np.searchsorted(ordered, own[s], side="right")
        left = np.searchsorted(ordered, own[s], side="left")
        above[s] = len(ordered) - right
        ties[s] = right - left + extra
    if standing == TOP_K:
        return np.clip((k - above) / ties, 0.0, 1.0)
    table = _discount_table(n + 1)
    return (table[above + ties] - table[above]) / ties


def _ranks(scores: np.ndarray, targets: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Rank (1 = best) of each target among the candidates as :meth:`CoalitionCache.ranks`
    orders them (by score, ties by item id; 0 for a target outside them), by counting."""
    candidates = np.flatnonzero(~excluded)
    cand = scores[candidates]
    own = scores[targets]
    before = (cand > own[:, None]) | ((cand == own[:, None]) & (candidates < targets[:, None]))
    return np.where(excluded[targets], 0, before.sum(axis=1) + 1).astype(np.int64)


def rank_values(
    source: CoalitionCache | LoadedModel,
    user: int,
    items: np.ndarray,
    *,
    k: int = 10,
    standing: str = TOP_K,
    within: np.ndarray | None = None,
) -> RankAttribution:
    """The rank game of ``user`` and each of ``items`` (ranked among ``user``'s unseen items,
    of ``within`` only when given, as :meth:`CoalitionCache.ranking` ranks them)."""
    cache = as_cache(source)
    _check_user(cache, user)
    check_standing(standing)
    if k < 1:
        raise ConfigError(f"the rank game needs k >= 1 (got {k}).")
    items = np.asarray(items, dtype=np.int64).ravel()
    # the shopper's row, as CoalitionCache.ranking scores it, so v(all) agrees with the list
    scores = cache.coalition_scores(user).astype(np.float64)
    excluded = cache.excluded(user, within)
    v = _standing(scores, items, excluded, k, standing)
    full = cache.subset_index(frozenset(cache.players))
    if len(items) <= COUNT_MAX_ITEMS:
        ranks = _ranks(scores[full], items, excluded)
    else:
        ranks = cache.ranks(user, within=within)[items]
    return RankAttribution(
        standing,
        k,
        cache.players,
        np.full(len(items), int(user), dtype=np.int64),
        items,
        ranks,
        v[0],
        v[-1],
        cache.shapley(v),
    )


def rank_top_k(
    source: CoalitionCache | LoadedModel,
    k: int = 10,
    users: np.ndarray | None = None,
    *,
    standing: str = TOP_K,
) -> RankAttribution:
    """The rank game of every shopper's top-``k`` (one pair per row, best first)."""
    cache = as_cache(source)
    users = np.arange(cache.n_users) if users is None else np.asarray(users, dtype=np.int64)
    parts = []
    for u in users:
        top, _ = cache.ranking(int(u), k)
        parts.append(rank_values(cache, int(u), top, k=k, standing=standing))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        nothing = np.zeros((len(cache.players), 0))
        return RankAttribution(
            standing, k, cache.players, empty, empty, empty, empty * 0.0, empty * 0.0, nothing
        )
    return RankAttribution(
        standing,
        k,
        cache.players,
        np.concatenate([p.users for p in parts]),
        np.concatenate([p.items for p in parts]),
        np.concatenate([p.ranks for p in parts]),
        np.concatenate([p.empty for p in parts]),
        np.concatenate([p.full for p in parts]),
        np.concatenate([p.values for p in parts], axis=1),
    )
