"""Why an item was recommended: exact Shapley attribution to ID, image and text.

:func:`coalition_cache` runs the model once per coalition of input players (``2^n``
forward passes, 8 for id/image/text) and keeps the embeddings. From then on the input-level
Shapley values of a user against every item are a handful of dot products, and the
branch-level values come from the closed form on the full model's branches.

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

Every attribution is built in one place, :func:`attribute`, as an :class:`Attribution`
(players, signed values, shares, baseline, branch values); DataFrames appear only at the
edges (:meth:`Attribution.to_frame`, the audit's tables and CSV).

Input level is what a merchandiser means by "because of the image": removing the image
removes every path by which it reaches the score. Branch level splits the score along the
model's additive branches; in AnchorRec every modality branch is gated by the ID embedding,
so the two differ. Both are exact and efficient; both are shown.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from anchorrec.analysis.shapley import (
    abs_shares,
    coalitions,
    marginal_terms,
    shapley_from_values,
    shapley_weight_matrix,
)
from anchorrec.device import no_grad
from anchorrec.errors import ConfigError
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    import torch

    from anchorrec.models.base import Background
    from anchorrec.models.checkpoint import LoadedModel

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

_CACHES: weakref.WeakKeyDictionary[Any, dict[tuple[str, int, int], CoalitionCache]] = (
    weakref.WeakKeyDictionary()
)


def _numpy(t: torch.Tensor) -> np.ndarray:
    """float32 on the CPU (float64 stays float64: the exactness tests use it)."""
    import torch

    dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    return t.detach().to("cpu", dtype).numpy()


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
        """Scores of ``user`` against every item with the players in ``drop`` removed."""
        s = self.subset_index(frozenset(self.players) - frozenset(drop))
        return self.items[s] @ self.users[s, user]

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
        item_emb = self.items if items is None else self.items[:, items]
        values = np.matmul(item_emb, self.users[:, user, :, None])[..., 0]
        return values.astype(np.float64)

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

        ``progress(done, total)`` is called after each chunk of users. For many users the
        moments come from each coalition's mean item ``x̄`` and centred Gram matrix ``C``
        (``v = u·x̄ + d``, ``Σ_i d = 0``, ``Σ_i d² = uᵀCu``) minus the few bought items, instead
        of scoring every item: the audit of 39,387 users × 23,033 items took minutes scoring
        them all. Centring keeps a coalition whose items all score alike at a spread of 0.
        """
        users = np.asarray(users, dtype=np.int64)
        width = self.items.shape[2]  # the Gram matrices cost what scoring `width` users does
        if "_item_moments" not in self.__dict__ and width > max(len(users), GRAM_MIN_WIDTH):
            return self._scored_moments(users, chunk, progress)
        centre, gram = self._item_moments
        mean = np.zeros((len(self.subsets), len(users)))
        std = np.zeros((len(self.subsets), len(users)))
        step = max(chunk, 4096)
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
        """Each coalition's mean item (``S × D``) and centred Gram matrix (``S × D × D``)."""
        items = self.items.astype(np.float64)
        centre = items.mean(axis=1)
        items -= centre[:, None, :]
        return centre, np.matmul(np.swapaxes(items, 1, 2), items)

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

        ``φ_m = G_mm + ½ Σ_{k≠m} (G_mk + G_km)`` with ``G_ab = u_a · i_b``.
        """
        ubr = self.user_branches[:, users].astype(np.float64)
        ibr = self.item_branches[:, items].astype(np.float64)
        gram = np.einsum("apd,bpd->abp", ubr, ibr)
        diag = np.einsum("mmp->mp", gram)
        return diag + 0.5 * ((gram.sum(axis=1) - diag) + (gram.sum(axis=0) - diag))


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


@no_grad
def build_coalition_cache(
    loaded: LoadedModel,
    *,
    game: str = MEAN_GAME,
    draws: int = BACKGROUND_DRAWS,
    seed: int = BACKGROUND_SEED,
) -> CoalitionCache:
    """Run the model once per coalition of its players (``2^n`` forward passes; under the
    background game ``draws`` per coalition that removes something)."""
    import torch

    check_game(game)
    if game == BACKGROUND_GAME and draws < 1:
        raise ConfigError(f"the background game needs at least one draw (got {draws}).")
    model = loaded.model
    was_training = model.training
    model.eval()
    try:
        players = tuple(model.players)
        subsets = coalitions(players)
        full = model.compute_embeddings()
        n_draws = draws if game == BACKGROUND_GAME else 1
        draw_list = (
            background_draws(int(full.users.shape[0]), int(full.items.shape[0]), draws, seed)
            if game == BACKGROUND_GAME
            else []
        )
        users, items = [], []

        def single(u: np.ndarray, i: np.ndarray) -> None:
            # one embedding for every draw: pad with zeros rather than repeat it, so that
            # v(S) is its plain dot product (bit for bit the same as for any other coalition
            # with the same embeddings: a player that changes nothing gets exactly 0)
            users.append(np.pad(u, ((0, 0), (0, u.shape[1] * (n_draws - 1)))))
            items.append(np.pad(i, ((0, 0), (0, i.shape[1] * (n_draws - 1)))))

        for subset in subsets:
            drop = frozenset(players) - subset
            if not drop:
                single(_numpy(full.users), _numpy(full.items))
            elif game == MEAN_GAME:
                emb = model.compute_embeddings(drop=drop)
                users.append(_numpy(emb.users))
                items.append(_numpy(emb.items))
            else:
                embs = [model.compute_embeddings(drop=drop, background=b) for b in draw_list]
                if all(
                    torch.equal(e.users, embs[0].users) and torch.equal(e.items, embs[0].items)
                    for e in embs[1:]
                ):  # the draws do not matter (the model ignores what was removed)
                    single(_numpy(embs[0].users), _numpy(embs[0].items))
                    continue
                users.append(np.concatenate([_numpy(e.users) for e in embs], axis=1) / n_draws)
                items.append(np.concatenate([_numpy(e.items) for e in embs], axis=1))
    finally:
        model.train(was_training)
    branches = tuple(dict.fromkeys([*full.user_branches, *full.item_branches]))
    n_users, dim = full.users.shape
    n_items = full.items.shape[0]
    dtype = users[-1].dtype
    user_br = np.zeros((len(branches), n_users, dim), dtype=dtype)
    item_br = np.zeros((len(branches), n_items, dim), dtype=dtype)
    for b, name in enumerate(branches):
        if name in full.user_branches:
            user_br[b] = _numpy(full.user_branches[name])
        if name in full.item_branches:
            item_br[b] = _numpy(full.item_branches[name])
    if not branches:  # a model without branches: one branch, the whole embedding
        branches = ("total",)
        user_br, item_br = _numpy(full.users)[None], _numpy(full.items)[None]
    return CoalitionCache(
        players=players,
        subsets=subsets,
        users=np.stack(users),
        items=np.stack(items),
        branches=branches,
        user_branches=user_br,
        item_branches=item_br,
        train=loaded.dataset.train.tocsr(),
        game=game,
        draws=n_draws,
        seed=seed,
    )


def coalition_cache(
    loaded: LoadedModel,
    *,
    persist: bool = False,
    game: str = MEAN_GAME,
    draws: int = BACKGROUND_DRAWS,
    seed: int = BACKGROUND_SEED,
) -> CoalitionCache:
    """The coalition cache of ``loaded``'s model for ``game``, built on first use, kept in memory.

    With ``persist`` it is also read from / written to the model's derived store
    (``attribution/``, a pickle-free ``.npz`` keyed by the model fingerprint and the game; the
    workspace when the model directory is read-only), so a new process skips the forward
    passes.
    """
    check_game(game)
    if isinstance(loaded, CoalitionCache):
        return loaded
    key = (game, draws if game == BACKGROUND_GAME else 1, seed if game == BACKGROUND_GAME else 0)
    model = loaded.model
    per_model = _CACHES.setdefault(model, {})
    cache = per_model.get(key)
    store = ModelDir(loaded.model_dir).store() if persist and loaded.model_dir else None
    if cache is not None and store is None:
        return cache
    name = _persisted_name(loaded.fingerprint, key)
    found = store.find(name) if store is not None else None
    if cache is None and found is not None:
        cache = _read_cache(found, loaded.dataset.train.tocsr())
    elif cache is None:
        cache = build_coalition_cache(loaded, game=game, draws=draws, seed=seed)
    if store is not None and found is None:  # also one built earlier without persist
        with contextlib.suppress(OSError):  # nowhere writable: kept in memory only
            store.write_bytes(name, _encode_cache(cache))
    per_model[key] = cache
    return cache


ATTRIBUTION_DIR = "attribution"
#: Bumped whenever the removal rule changes (2: a removed input's item graph is the mean
#: graph, no longer the identity), so a cache persisted under an older rule is never read.
COALITION_RULE_VERSION = 2


def _persisted_name(fingerprint: str, key: tuple[str, int, int]) -> str:
    """The store's name of a persisted coalition cache."""
    game, draws, seed = key
    tag = "" if game == MEAN_GAME else f"-background{draws}s{seed}"
    return f"{ATTRIBUTION_DIR}/coalitions-v{COALITION_RULE_VERSION}{tag}-{fingerprint}.npz"


def has_stored_cache(model_dir: str | Path, game: str = MEAN_GAME) -> bool:
    """Whether the model's derived store holds its coalition cache for ``game`` (what
    ``python -m anchorrec prepare`` writes); file checks only, no model is loaded."""
    check_game(game)
    key = (game, BACKGROUND_DRAWS, BACKGROUND_SEED) if game == BACKGROUND_GAME else (game, 1, 0)
    md = ModelDir(model_dir)
    return md.store().find(_persisted_name(md.fingerprint(), key)) is not None


def _encode_cache(cache: CoalitionCache) -> bytes:
    meta = {
        "players": list(cache.players),
        "subsets": [sorted(s) for s in cache.subsets],
        "branches": list(cache.branches),
        "game": cache.game,
        "draws": cache.draws,
        "seed": cache.seed,
    }
    buf = io.BytesIO()
    np.savez(
        buf,
        users=cache.users,
        items=cache.items,
        user_branches=cache.user_branches,
        item_branches=cache.item_branches,
        meta=np.asarray(json.dumps(meta)),
    )
    return buf.getvalue()


def _read_cache(path: Path, train: sp.csr_matrix) -> CoalitionCache:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"][()]))
        return CoalitionCache(
            players=tuple(meta["players"]),
            subsets=[frozenset(s) for s in meta["subsets"]],
            users=z["users"],
            items=z["items"],
            branches=tuple(meta["branches"]),
            user_branches=z["user_branches"],
            item_branches=z["item_branches"],
            train=train,
            game=meta.get("game", MEAN_GAME),
            draws=int(meta.get("draws", 1)),
            seed=int(meta.get("seed", BACKGROUND_SEED)),
        )


def _as_cache(source: CoalitionCache | LoadedModel) -> CoalitionCache:
    return source if isinstance(source, CoalitionCache) else coalition_cache(source)


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
    users: np.ndarray,
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
    standardised-score game (which reads every unseen item of each user) on or off.
    """
    cache = _as_cache(source)
    items = np.asarray(items, dtype=np.int64).ravel()
    users = np.broadcast_to(np.asarray(users, dtype=np.int64), items.shape).copy()
    for u in np.unique(users):
        _check_user(cache, int(u))
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
    if standardised:
        unique, where = np.unique(users, return_inverse=True)
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
    cache = _as_cache(source)
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


# ---------------------------------------------------------------------- public explanations
@dataclass(frozen=True)
class UserExplanation:
    """The top-``k`` of one user with the attribution of every item.

    ``attribution`` is the typed result; :attr:`items` is its table (one row per recommended
    item: ``item``, ``rank``, ``score``, ``baseline`` (``v(∅)``), ``phi_<player>`` (signed
    input-level Shapley), ``share_<player>`` (``|φ|/Σ|φ|``), ``branch_<name>`` (signed
    branch-level Shapley) and ``branch_share_<name>``). Per row ``baseline + Σ phi = score``
    and ``Σ branch = score``.
    """

    user: int
    baseline: float
    players: tuple[str, ...]
    branches: tuple[str, ...]
    attribution: Attribution

    @property
    def items(self) -> pd.DataFrame:
        return self.attribution.to_frame(user_column=False)

    def to_json(self) -> dict[str, Any]:
        """The ``recommend --explain --json`` record of this user."""
        rows = [self.attribution.record(j) for j in range(len(self.attribution))]
        return {
            "user": int(self.user),
            "game": self.attribution.game,
            "baseline": float(self.baseline),
            "items": rows,
        }


def explain_items(
    source: CoalitionCache | LoadedModel, user: int, items: np.ndarray
) -> pd.DataFrame:
    """Attribution of ``user``'s score on each of ``items`` (any items, not only a top-k)."""
    return attribute(source, user, items).to_frame(user_column=False)


def explain_user(
    source: CoalitionCache | LoadedModel,
    user: int,
    k: int = 10,
    within: np.ndarray | None = None,
) -> UserExplanation:
    """The top-``k`` unseen items of ``user`` with input- and branch-level attribution;
    ``within`` (a boolean mask over the items): the top-``k`` among those items only."""
    from anchorrec.analysis.one_thread import one_blas_thread

    cache = _as_cache(source)
    _check_user(cache, user)
    with one_blas_thread():  # one user's products: the thread pool costs more than it saves
        items, _ = cache.ranking(user, k, within=within)
        result = attribute(cache, user, items, ranks=np.arange(1, len(items) + 1))
        baseline = (
            float(result.baseline[0])
            if len(result)
            else float(cache.coalition_values(user)[0].mean())
        )
    return UserExplanation(user, baseline, cache.players, cache.branches, result)


def explain_all_items(source: CoalitionCache | LoadedModel, user: int) -> pd.DataFrame:
    """Attribution of ``user`` against the whole catalogue (the < 50 ms path)."""
    cache = _as_cache(source)
    _check_user(cache, user)
    phi, baseline = cache.input_values(user)
    table = {
        "item": np.arange(cache.n_items),
        "score": baseline + phi.sum(axis=0),
        "baseline": baseline,
    }
    for m, player in enumerate(cache.players):
        table[f"phi_{player}"] = phi[m]
    return pd.DataFrame(table)


#: How a sentence names each input player.
PLAYER_WORDS = {
    "id": "purchase history (ID)",
    "image": "picture",
    "text": "product text",
    "fused": "fused image+text feature",
}


def describe_recommendation(row: Any, players: tuple[str, ...]) -> str:
    """One plain sentence on why an item sits where it does, from one ``explain_*`` row.

    ``row`` has ``item``, ``score``, ``baseline`` and ``phi_<player>`` (and ``rank`` when it
    comes from a top-k). Inputs are listed by signed Shapley value, largest first; the input
    with the largest ``|φ|`` is named as the main reason.
    """
    phi = {p: float(row[f"phi_{p}"]) for p in players}
    total = sum(abs(v) for v in phi.values())
    where = (
        f"ranked #{int(row['rank'])}" if "rank" in row and row["rank"] == row["rank"] else "scored"
    )
    parts = [
        f"its {PLAYER_WORDS.get(p, p)} {'raised' if v >= 0 else 'lowered'} it by {v:+.3f}"
        for p, v in sorted(phi.items(), key=lambda kv: -kv[1])
    ]
    text = (
        f"Item #{int(row['item'])} is {where} with score {float(row['score']):.3f} "
        f"({float(row['baseline']):.3f} with every input removed): " + "; ".join(parts) + "."
    )
    if total > 0:
        main = max(phi, key=lambda p: abs(phi[p]))
        text += (
            f" The main reason is the {PLAYER_WORDS.get(main, main)} "
            f"({abs(phi[main]) / total:.0%} of the total |φ|)."
        )
    return text


@dataclass(frozen=True)
class WhatIf:
    """Each top-``k`` item's rank with one input removed, and the top-``k`` rank-flip rate.

    ``table``: ``item``, ``rank`` and ``rank_without_<player>`` per recommended item.
    ``flip_rate[player]``: the share of the top-``k`` that leaves the top-``k`` when the
    player is removed (0 = the input changes nothing, 1 = a completely new list).
    """

    user: int
    k: int
    table: pd.DataFrame
    flip_rate: dict[str, float]


def whatif(
    source: CoalitionCache | LoadedModel,
    user: int,
    k: int = 10,
    within: np.ndarray | None = None,
) -> WhatIf:
    """Drop each input player in turn and re-rank ``user``'s catalogue (the items of
    ``within`` only, when given)."""
    cache = _as_cache(source)
    _check_user(cache, user)
    items, _ = cache.ranking(user, k, within=within)
    table = pd.DataFrame({"item": items, "rank": np.arange(1, len(items) + 1)})
    flip: dict[str, float] = {}
    for player in cache.players:
        ranks = cache.ranks(user, drop=frozenset([player]), within=within)
        new_ranks = ranks[items]
        table[f"rank_without_{player}"] = new_ranks
        flip[player] = float(np.mean(new_ranks > k)) if len(items) else 0.0
    return WhatIf(user, k, table, flip)


def _check_user(cache: CoalitionCache, user: int) -> None:
    if not 0 <= int(user) < cache.n_users:
        raise ConfigError(
            f"user {user} does not exist: this model has users 0..{cache.n_users - 1}."
        )


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
