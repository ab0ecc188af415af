"""The coalition game behind every attribution: :class:`CoalitionCache` and its games.

:class:`CoalitionCache` holds the user and item embeddings of a model under every
coalition of its input players, so that ``v(S)`` for any (user, item) is one dot product.
Two games remove a player differently (``game``):

- ``mean``: the removed input takes the catalogue mean (its item graph the graph mean
  features induce, every item equally similar; ID embeddings their means). It answers "how
  does this item's score differ from what an *average* item would get from this input?".
- ``background`` (interventional): the removed input of every item takes the values of an
  item drawn from the catalogue (users likewise), one seeded permutation per draw, and
  ``v(S)`` is the score averaged over :data:`BACKGROUND_DRAWS` draws. It answers "how does
  it differ from what a *typical* (randomly picked) item would get?". The average of dot
  products over draws is itself one dot product of the draws' embeddings laid side by side
  (users scaled by 1/B), so the cache holds it as an ordinary coalition embedding.

Both are exact and efficient: ``baseline + Σφ = score`` per (user, item).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from anchorrec.analysis.shapley import (
    marginal_terms,
    shapley_from_values,
    shapley_weight_matrix,
)
from anchorrec.errors import ConfigError

if TYPE_CHECKING:
    from anchorrec.models.base import Background

#: Embedding widths up to which the moments always come from the Gram matrices (built once
#: per cache, then a shopper's explanation no longer scores every item for them).
GRAM_MIN_WIDTH = 64
#: A progress callback: ``progress(done, total)``.
Progress = Callable[[int, int], None]
MEAN_GAME = "mean"
BACKGROUND_GAME = "background"
GAMES: tuple[str, ...] = (MEAN_GAME, BACKGROUND_GAME)
#: Draws averaged in the background game, and the seed of the first.
BACKGROUND_DRAWS = 8
BACKGROUND_SEED = 0
#: One line per game: the question its values answer.
GAME_QUESTIONS: dict[str, str] = {
    MEAN_GAME: "what the input adds over an average item (a removed input takes the catalogue "
    "mean)",
    BACKGROUND_GAME: "what the input adds over a typical item (a removed input takes the values "
    f"of catalogue items drawn at random, averaged over {BACKGROUND_DRAWS} seeded draws)",
}


def check_game(game: str) -> str:
    if game not in GAMES:
        raise ConfigError(f"unknown attribution game {game!r}: use one of {', '.join(GAMES)}.")
    return game


@dataclass
class CoalitionCache:
    """The user and item embeddings of the model under every coalition of its input players.

    ``users[s]`` / ``items[s]`` are the ``U×D`` / ``I×D`` embeddings with only the players in
    ``subsets[s]`` present (``subsets[0]`` is ``∅``, ``subsets[-1]`` every player), so that
    ``v(S) = users[s, u] · items[s, i]``; under the background game ``D = draws × d`` (the
    draws side by side). ``user_branches`` / ``item_branches`` are the full model's branches
    (``B×U×d`` / ``B×I×d``, zero where a side lacks a branch). ``train`` masks the items a
    user already bought.
    """

    players: tuple[str, ...]
    subsets: list[frozenset[str]]
    users: np.ndarray
    items: np.ndarray
    branches: tuple[str, ...]
    user_branches: np.ndarray
    item_branches: np.ndarray
    train: sp.csr_matrix
    game: str = MEAN_GAME
    draws: int = 1
    seed: int = BACKGROUND_SEED
    weights: np.ndarray = field(init=False)
    terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(init=False)
    #: Every user's moments (:meth:`keep_moments`; not copied by ``dataclasses.replace``,
    #: whose new embeddings they would not describe).
    _moments: tuple[np.ndarray, np.ndarray] | None = field(init=False, default=None, repr=False)
    #: The last user's row of scores (:meth:`coalition_scores`).
    _last_row: tuple[int, np.ndarray] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.weights = shapley_weight_matrix(self.players, self.subsets)
        self.terms = marginal_terms(self.players, self.subsets)

    @property
    def n_users(self) -> int:
        return int(self.users.shape[1])

    @property
    def n_items(self) -> int:
        return int(self.items.shape[1])

    def subset_index(self, subset: frozenset[str]) -> int:
        return self.subsets.index(frozenset(subset))

    def shapley(self, values: np.ndarray) -> np.ndarray:
        """Shapley values (``n_players × …``) of ``v`` over the subsets (``2^n × …``)."""
        return shapley_from_values(self.terms, values)

    # ------------------------------------------------------------------ scores and ranks
    def scores(self, user: int, drop: frozenset[str] = frozenset()) -> np.ndarray:
        """Scores of ``user`` against every item with the players in ``drop`` removed
        (read-only: a row of :meth:`coalition_scores`)."""
        s = self.subset_index(frozenset(self.players) - frozenset(drop))
        return self.coalition_scores(user)[s]

    def coalition_scores(self, user: int) -> np.ndarray:
        """``v(S)`` of ``user`` and every item under every coalition (``S × I``, read-only):
        the shopper's row, one product per coalition and the only per-user work that grows
        with the catalogue. Every single-user path (ranking, values, rank game) reads it, so
        they agree bit for bit; the last user's row is kept (an explanation reads it thrice).
        """
        user = int(user)
        last = self._last_row
        if last is not None and last[0] == user:
            return last[1]
        row = np.empty((len(self.subsets), self.n_items), dtype=self.items.dtype)
        for s, width in enumerate(self._widths):  # a coalition padded with zeros: its width
            np.matmul(self.items[s, :, :width], self.users[s, user, :width], out=row[s])
        row.flags.writeable = False
        self._last_row = (user, row)
        return row

    @functools.cached_property
    def _widths(self) -> list[int]:
        """Per coalition, the columns of its item embeddings up to the last non-zero one
        (under the background game a coalition the draws leave alone is padded with zeros)."""
        out = []
        for s in range(len(self.subsets)):
            used = np.flatnonzero(np.any(self.items[s] != 0, axis=0))
            out.append(int(used[-1]) + 1 if len(used) else 1)
        return out

    def seen(self, user: int) -> np.ndarray:
        """Item ids of ``user``'s train interactions (excluded from every ranking)."""
        return self.train.indices[self.train.indptr[user] : self.train.indptr[user + 1]]

    def ranking(
        self,
        user: int,
        k: int,
        drop: frozenset[str] = frozenset(),
        within: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` unseen items of ``user`` (ids, scores), best first; ``within`` (a boolean
        mask over the items) keeps only those items, before the top-``k`` is taken."""
        scores = self.scores(user, drop).astype(np.float64)
        scores[self.excluded(user, within)] = -np.inf
        return _top_k(scores, k)

    def excluded(self, user: int, within: np.ndarray | None = None) -> np.ndarray:
        """Boolean mask of the items no ranking of ``user`` holds: seen, or outside ``within``."""
        out = np.zeros(self.n_items, dtype=bool)
        out[self.seen(user)] = True
        if within is not None:
            out |= ~np.asarray(within, dtype=bool)
        return out

    def ranks(
        self, user: int, drop: frozenset[str] = frozenset(), within: np.ndarray | None = None
    ) -> np.ndarray:
        """Rank (1 = best) of every item among ``user``'s unseen items (of ``within``); the
        others get 0."""
        scores = self.scores(user, drop).astype(np.float64)
        seen = self.excluded(user, within)
        scores[seen] = -np.inf
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty(self.n_items, dtype=np.int64)
        ranks[order] = np.arange(1, self.n_items + 1)
        ranks[seen] = 0
        return ranks

    # ------------------------------------------------------------------ attribution
    def coalition_values(self, user: int, items: np.ndarray | None = None) -> np.ndarray:
        """``v(S)`` for every coalition (rows) and item (columns), in float64."""
        row = self.coalition_scores(user)
        return (row if items is None else row[:, np.asarray(items, dtype=np.int64)]).astype(
            np.float64
        )

    def pair_values(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``v(S)`` for every coalition (rows) and (user, item) pair (columns), float64."""
        return np.einsum("spd,spd->sp", self.users[:, users], self.items[:, items]).astype(
            np.float64
        )

    def input_values(
        self, user: int, items: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Input-level Shapley values (``n_players × n_items``) and ``v(∅)`` per item.

        ``baseline + φ.sum(0)`` equals the score ``v(N)`` to float precision.
        """
        values = self.coalition_values(user, items)
        return self.shapley(values), values[0]

    def coalition_moments(
        self, users: np.ndarray, chunk: int = 128, progress: Progress | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of ``v(S)`` over each user's unseen items (``S × len(users)``).

        A cache from :func:`~anchorrec.analysis.attribution.build_coalition_cache` (or read
        from the store) keeps every user's moments (:meth:`keep_moments`), so this is a
        lookup. Otherwise they are computed: for many users from each coalition's mean item
        ``x̄`` and centred Gram matrix ``C`` (``v = u·x̄ + d``, ``Σ_i d = 0``, ``Σ_i d² = uᵀCu``)
        minus the few bought items, instead of scoring every item (the audit of 39,387
        users × 23,033 items took minutes scoring them all); for a few users by scoring.
        Centring keeps a coalition whose items all score alike at a spread of 0.
        ``progress(done, total)`` is called after each chunk of users.
        """
        users = np.asarray(users, dtype=np.int64)
        if self._moments is not None:
            if progress is not None:
                progress(len(users), len(users))
            return self._moments[0][:, users], self._moments[1][:, users]
        width = self.items.shape[2]  # the Gram matrices cost what scoring `width` users does
        if "_item_moments" not in self.__dict__ and width > max(len(users), GRAM_MIN_WIDTH):
            return self._scored_moments(users, chunk, progress)
        return self._gram_moments(users, progress)

    @property
    def moments(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Every user's kept moments (mean, std; ``S × n_users``), or None."""
        return self._moments

    def keep_moments(
        self,
        moments: tuple[np.ndarray, np.ndarray] | None = None,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep every user's moments: ``moments`` (as stored beside the cache) or, when None,
        computed here once from the Gram matrices. From then on an explanation of the
        standardised game reads its user's column instead of scoring the catalogue."""
        shape = (len(self.subsets), self.n_users)
        if moments is None:
            self._moments = None
            moments = self._gram_moments(np.arange(self.n_users), progress)
            self.__dict__.pop("_item_moments", None)  # S × D × D floats, no longer needed
        mean, std = (np.asarray(m, dtype=np.float64) for m in moments)
        if mean.shape != shape or std.shape != shape:
            raise ConfigError(
                f"the coalition moments have shape {mean.shape} / {std.shape}, not {shape} "
                "(coalitions × users): they belong to another cache; rebuild it."
            )
        self._moments = (mean, std)
        self.__dict__.setdefault("_widths", self._widths)  # the first row then costs no more
        return self._moments

    def _gram_moments(
        self, users: np.ndarray, progress: Progress | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`coalition_moments` from the Gram matrices."""
        centre, gram = self._item_moments
        mean = np.zeros((len(self.subsets), len(users)))
        std = np.zeros((len(self.subsets), len(users)))
        step = 4096
        for start in range(0, len(users), step):
            ub = users[start : start + step]
            u = self.users[:, ub].astype(np.float64)  # S × B × D
            base = np.einsum("sbd,sd->sb", u, centre)
            spread = np.einsum("sbd,sbd->sb", u @ gram, u)
            sub = self.train[ub]
            rows = np.repeat(np.arange(len(ub)), np.diff(sub.indptr))
            seen = np.empty((len(self.subsets), len(rows)))  # d of each bought item
            for s in range(len(self.subsets)):  # one coalition at a time: no S × nnz × D block
                items = self.items[s, sub.indices].astype(np.float64)
                items -= centre[s]
                seen[s] = np.einsum("nd,nd->n", u[s, rows], items)
            seen1 = np.stack([np.bincount(rows, w, len(ub)) for w in seen])
            seen2 = np.stack([np.bincount(rows, w * w, len(ub)) for w in seen])
            count = np.maximum(self.n_items - np.diff(sub.indptr), 1)
            d_mean = -seen1 / count  # Σ over unseen items of d = −Σ over bought ones
            m = base + d_mean
            var = np.maximum((spread - seen2) / count - d_mean**2, 0.0)
            mean[:, start : start + len(ub)] = m
            std[:, start : start + len(ub)] = np.sqrt(var)
            if progress is not None:
                progress(start + len(ub), len(users))
        return mean, std

    @functools.cached_property
    def _item_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Each coalition's mean item (``S × D``) and centred Gram matrix (``S × D × D``),
        one coalition at a time (no float64 copy of every coalition's items at once)."""
        n_sets, _, dim = self.items.shape
        centre = np.empty((n_sets, dim))
        gram = np.empty((n_sets, dim, dim))
        for s in range(n_sets):
            items = self.items[s].astype(np.float64)
            centre[s] = items.mean(axis=0)
            items -= centre[s]
            gram[s] = items.T @ items
        return centre, gram

    def _scored_moments(
        self, users: np.ndarray, chunk: int, progress: Progress | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`coalition_moments` by scoring every item (cheaper for a few users)."""
        mean = np.zeros((len(self.subsets), len(users)))
        std = np.zeros((len(self.subsets), len(users)))
        for start in range(0, len(users), chunk):
            ub = users[start : start + chunk]
            vals = np.matmul(self.users[:, ub], np.swapaxes(self.items, 1, 2)).astype(np.float64)
            unseen = np.ones((len(ub), self.n_items), dtype=bool)
            sub = self.train[ub]
            unseen[np.repeat(np.arange(len(ub)), np.diff(sub.indptr)), sub.indices] = False
            count = np.maximum(unseen.sum(axis=1), 1)
            m = (vals * unseen).sum(axis=2) / count
            var = (((vals - m[..., None]) ** 2) * unseen).sum(axis=2) / count
            mean[:, start : start + len(ub)] = m
            std[:, start : start + len(ub)] = np.sqrt(var)
            if progress is not None:
                progress(start + len(ub), len(users))
        return mean, std

    def standardised_input_values(self, user: int, items: np.ndarray | None = None) -> np.ndarray:
        """Input-level Shapley values of the *standardised-score* game (``n_players × n_items``).

        ``v_z(S) = (v(S) − mean) / std`` over the user's unseen items under coalition ``S``
        (0 when every item ties, as under ``∅``): how far the item stands out among the
        user's candidates, in units of that coalition's spread. It is blind to a coalition
        merely rescaling all scores, which the raw game is not; ``Σφ_z`` equals the item's
        z-score in the full model.
        """
        mean, std = self.coalition_moments(np.array([user]))
        return self.shapley(_zscore(self.coalition_values(user, items), mean[:, 0:1], std[:, 0:1]))

    def branch_values(self, user: int, items: np.ndarray | None = None) -> np.ndarray:
        """Branch-level Shapley values (``n_branches × n_items``); they sum to the score."""
        items = np.arange(self.n_items) if items is None else np.asarray(items)
        return self.pair_branch_values(np.full(len(items), int(user)), items)

    def pair_branch_values(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Branch-level Shapley values (``n_branches × n_pairs``) of (user, item) pairs.

        ``φ_m = G_mm + ½ Σ_{k≠m} (G_mk + G_km)`` with ``G_ab = u_a · i_b``, that is
        ``½ (u_m · Σ_b i_b + Σ_a u_a · i_m)``: two products per branch, not one per pair of
        branches.
        """
        users = np.asarray(users, dtype=np.int64)
        ibr = self.item_branches[:, np.asarray(items, dtype=np.int64)].astype(np.float64)
        if len(users) and bool((users == users[0]).all()):  # one shopper: one vector
            ubr = self.user_branches[:, users[0]].astype(np.float64)  # B × d
            return 0.5 * (ubr @ ibr.sum(axis=0).T + ibr @ ubr.sum(axis=0))
        ubr = self.user_branches[:, users].astype(np.float64)  # B × P × d
        return 0.5 * (
            np.einsum("apd,pd->ap", ubr, ibr.sum(axis=0))
            + np.einsum("bpd,pd->bp", ibr, ubr.sum(axis=0))
        )


#: Below this spread a coalition's scores count as all tied (its z-scores are 0).
_TIED_STD = 1e-9


def _zscore(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    tied = std <= _TIED_STD
    return np.where(tied, 0.0, (values - mean) / np.where(tied, 1.0, std))


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]
    return order.astype(np.int64), scores[order]


def background_draws(n_users: int, n_items: int, draws: int, seed: int) -> list[Background]:
    """The seeded draws of the background game (the same for every coalition)."""
    from anchorrec.models.base import Background

    rng = np.random.default_rng(seed)
    return [Background.draw(n_users, n_items, rng) for _ in range(draws)]


def _check_user(cache: CoalitionCache, user: int) -> None:
    if not 0 <= int(user) < cache.n_users:
        raise ConfigError(
            f"user {user} does not exist: this model has users 0..{cache.n_users - 1}."
        )
