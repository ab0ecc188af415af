"""Why an item was recommended: exact Shapley attribution to ID, image and text.

:func:`coalition_cache` runs the model once per coalition of input players (``2^n``
forward passes, 8 for id/image/text) and keeps the embeddings. From then on the input-level
Shapley values of a user against every item are a handful of dot products
(:meth:`CoalitionCache.input_values`), and the branch-level values come from the closed
form on the full model's branches (:meth:`CoalitionCache.branch_values`).

Input level is what a merchandiser means by "because of the image": removing the image
removes every path by which it reaches the score. Branch level splits the score along the
model's additive branches; in AnchorRec every modality branch is gated by the ID embedding,
so the two differ. Both are exact and efficient; both are shown.
"""

from __future__ import annotations

import io
import json
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from anchorrec.analysis.context import dataset_of, model_dir_of, model_fingerprint, recommender_of
from anchorrec.analysis.shapley import abs_shares, branch_shapley, coalitions, shapley_weight_matrix
from anchorrec.errors import ConfigError
from anchorrec.fileio import atomic_write_bytes

_CACHES: weakref.WeakKeyDictionary[Any, CoalitionCache] = weakref.WeakKeyDictionary()


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


@dataclass
class CoalitionCache:
    """The user and item embeddings of the model under every coalition of its input players.

    ``users[s]`` / ``items[s]`` are the ``U×d`` / ``I×d`` embeddings with only the players in
    ``subsets[s]`` present (``subsets[0]`` is ``∅``, ``subsets[-1]`` every player).
    ``user_branches`` / ``item_branches`` are the full model's branches (``B×U×d`` / ``B×I×d``,
    zero where a side lacks a branch). ``train`` masks the items a user already bought.
    """

    players: tuple[str, ...]
    subsets: list[frozenset[str]]
    users: np.ndarray
    items: np.ndarray
    branches: tuple[str, ...]
    user_branches: np.ndarray
    item_branches: np.ndarray
    train: sp.csr_matrix
    weights: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.weights = shapley_weight_matrix(self.players, self.subsets)

    @property
    def n_users(self) -> int:
        return int(self.users.shape[1])

    @property
    def n_items(self) -> int:
        return int(self.items.shape[1])

    def subset_index(self, subset: frozenset[str]) -> int:
        return self.subsets.index(frozenset(subset))

    # ------------------------------------------------------------------ scores and ranks
    def scores(self, user: int, drop: frozenset[str] = frozenset()) -> np.ndarray:
        """Scores of ``user`` against every item with the players in ``drop`` removed."""
        s = self.subset_index(frozenset(self.players) - frozenset(drop))
        return self.items[s] @ self.users[s, user]

    def seen(self, user: int) -> np.ndarray:
        """Item ids of ``user``'s train interactions (excluded from every ranking)."""
        return self.train.indices[self.train.indptr[user] : self.train.indptr[user + 1]]

    def ranking(
        self, user: int, k: int, drop: frozenset[str] = frozenset()
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` unseen items of ``user`` (ids, scores), best first."""
        scores = self.scores(user, drop).astype(np.float64)
        scores[self.seen(user)] = -np.inf
        return _top_k(scores, k)

    def ranks(self, user: int, drop: frozenset[str] = frozenset()) -> np.ndarray:
        """Rank (1 = best) of every item among ``user``'s unseen items; seen items get 0."""
        scores = self.scores(user, drop).astype(np.float64)
        seen = self.seen(user)
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

    def input_values(
        self, user: int, items: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Input-level Shapley values (``n_players × n_items``) and ``v(∅)`` per item.

        ``baseline + φ.sum(0)`` equals the score ``v(N)`` to float precision.
        """
        values = self.coalition_values(user, items)
        return self.weights @ values, values[0]

    def coalition_moments(
        self, users: np.ndarray, chunk: int = 128
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of ``v(S)`` over each user's unseen items (``S × len(users)``)."""
        users = np.asarray(users, dtype=np.int64)
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
        return self.weights @ _zscore(self.coalition_values(user, items), mean[:, 0:1], std[:, 0:1])

    def branch_values(self, user: int, items: np.ndarray | None = None) -> np.ndarray:
        """Branch-level Shapley values (``n_branches × n_items``); they sum to the score."""
        item_br = self.item_branches if items is None else self.item_branches[:, items]
        return branch_shapley(
            self.user_branches[:, user].astype(np.float64), item_br.astype(np.float64)
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


@torch.no_grad()
def build_coalition_cache(loaded: Any) -> CoalitionCache:
    """Run the model once per coalition of its players (``2^n`` forward passes)."""
    model = recommender_of(loaded)
    was_training = model.training
    model.eval()
    try:
        players = tuple(model.players)
        subsets = coalitions(players)
        users, items = [], []
        full = None
        for subset in subsets:
            emb = model.compute_embeddings(drop=frozenset(players) - subset)
            users.append(_numpy(emb.users))
            items.append(_numpy(emb.items))
            if subset == frozenset(players):
                full = emb
    finally:
        model.train(was_training)
    assert full is not None
    branches = tuple(dict.fromkeys([*full.user_branches, *full.item_branches]))
    n_users, dim = users[-1].shape
    n_items = items[-1].shape[0]
    user_br = np.zeros((len(branches), n_users, dim), dtype=np.float32)
    item_br = np.zeros((len(branches), n_items, dim), dtype=np.float32)
    for b, name in enumerate(branches):
        if name in full.user_branches:
            user_br[b] = _numpy(full.user_branches[name])
        if name in full.item_branches:
            item_br[b] = _numpy(full.item_branches[name])
    if not branches:  # a model without branches: one branch, the whole embedding
        branches = ("total",)
        user_br, item_br = users[-1][None], items[-1][None]
    return CoalitionCache(
        players=players,
        subsets=subsets,
        users=np.stack(users),
        items=np.stack(items),
        branches=branches,
        user_branches=user_br,
        item_branches=item_br,
        train=dataset_of(loaded).train.tocsr(),
    )


def coalition_cache(loaded: Any, *, persist: bool = False) -> CoalitionCache:
    """The coalition cache of ``loaded``'s model, built on first use and kept in memory.

    With ``persist`` it is also read from / written to ``<model_dir>/attribution/`` (a
    pickle-free ``.npz`` keyed by the model fingerprint), so a new process skips the
    ``2^n`` forward passes.
    """
    model = recommender_of(loaded)
    cache = _CACHES.get(model)
    if cache is None:
        model_dir = model_dir_of(loaded)
        path = (
            _persisted_path(model_dir, model_fingerprint(loaded)) if persist and model_dir else None
        )
        if path is not None and path.is_file():
            cache = _read_cache(path, dataset_of(loaded).train.tocsr())
        else:
            cache = build_coalition_cache(loaded)
            if path is not None:
                _write_cache(path, cache)
        _CACHES[model] = cache
    return cache


ATTRIBUTION_DIR = "attribution"
#: Bumped whenever the removal rule changes (2: a removed input's item graph is the mean
#: graph, no longer the identity), so a cache persisted under an older rule is never read.
COALITION_RULE_VERSION = 2


def _persisted_path(model_dir: Path, fingerprint: str) -> Path:
    return (
        Path(model_dir)
        / ATTRIBUTION_DIR
        / f"coalitions-v{COALITION_RULE_VERSION}-{fingerprint}.npz"
    )


def _write_cache(path: Path, cache: CoalitionCache) -> None:
    meta = {
        "players": list(cache.players),
        "subsets": [sorted(s) for s in cache.subsets],
        "branches": list(cache.branches),
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
    atomic_write_bytes(path, buf.getvalue())


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
        )


def _as_cache(source: Any) -> CoalitionCache:
    return source if isinstance(source, CoalitionCache) else coalition_cache(source)


# ---------------------------------------------------------------------- public explanations
@dataclass(frozen=True)
class UserExplanation:
    """The top-``k`` of one user with the attribution of every item.

    ``items`` has one row per recommended item: ``item``, ``rank``, ``score``, ``baseline``
    (``v(∅)``), ``phi_<player>`` (signed input-level Shapley), ``share_<player>``
    (``|φ|/Σ|φ|``), ``branch_<name>`` (signed branch-level Shapley) and
    ``branch_share_<name>``. Per row ``baseline + Σ phi = score`` and ``Σ branch = score``.
    """

    user: int
    baseline: float
    players: tuple[str, ...]
    branches: tuple[str, ...]
    items: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """The ``recommend --explain --json`` record of this user."""
        rows = []
        for row in self.items.itertuples(index=False):
            r = row._asdict()
            rows.append(
                {
                    "item": int(r["item"]),
                    "rank": int(r["rank"]),
                    "score": float(r["score"]),
                    "baseline": float(r["baseline"]),
                    "attribution": {p: float(r[f"phi_{p}"]) for p in self.players},
                    "share": {p: float(r[f"share_{p}"]) for p in self.players},
                    "branch_attribution": {b: float(r[f"branch_{b}"]) for b in self.branches},
                    "standardised_attribution": {p: float(r[f"zphi_{p}"]) for p in self.players},
                }
            )
        return {"user": int(self.user), "baseline": float(self.baseline), "items": rows}


def explain_items(source: Any, user: int, items: np.ndarray) -> pd.DataFrame:
    """Attribution of ``user``'s score on each of ``items`` (any items, not only a top-k)."""
    cache = _as_cache(source)
    _check_user(cache, user)
    items = np.asarray(items, dtype=np.int64)
    phi, baseline = cache.input_values(user, items)
    branch = cache.branch_values(user, items)
    zphi = cache.standardised_input_values(user, items)
    score = baseline + phi.sum(axis=0)
    table = {"item": items, "score": score, "baseline": baseline}
    shares = abs_shares(phi, axis=0)
    for m, player in enumerate(cache.players):
        table[f"phi_{player}"] = phi[m]
    for m, player in enumerate(cache.players):
        table[f"share_{player}"] = shares[m]
    branch_shares = abs_shares(branch, axis=0)
    for b, name in enumerate(cache.branches):
        table[f"branch_{name}"] = branch[b]
    for b, name in enumerate(cache.branches):
        table[f"branch_share_{name}"] = branch_shares[b]
    zshares = abs_shares(zphi, axis=0)
    for m, player in enumerate(cache.players):
        table[f"zphi_{player}"] = zphi[m]
    for m, player in enumerate(cache.players):
        table[f"zshare_{player}"] = zshares[m]
    return pd.DataFrame(table)


def explain_user(source: Any, user: int, k: int = 10) -> UserExplanation:
    """The top-``k`` unseen items of ``user`` with input- and branch-level attribution."""
    cache = _as_cache(source)
    _check_user(cache, user)
    items, _ = cache.ranking(user, k)
    table = explain_items(cache, user, items)
    table.insert(1, "rank", np.arange(1, len(items) + 1))
    baseline = (
        float(table["baseline"].iloc[0])
        if len(table)
        else float(cache.coalition_values(user)[0].mean())
    )
    return UserExplanation(user, baseline, cache.players, cache.branches, table)


def explain_all_items(source: Any, user: int) -> pd.DataFrame:
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


def whatif(source: Any, user: int, k: int = 10) -> WhatIf:
    """Drop each input player in turn and re-rank ``user``'s catalogue."""
    cache = _as_cache(source)
    _check_user(cache, user)
    items, _ = cache.ranking(user, k)
    table = pd.DataFrame({"item": items, "rank": np.arange(1, len(items) + 1)})
    flip: dict[str, float] = {}
    for player in cache.players:
        ranks = cache.ranks(user, drop=frozenset([player]))
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
    source: Any, k: int = 10, users: np.ndarray | None = None, batch: int = 512
) -> pd.DataFrame:
    """Input- and branch-level attribution of every user's top-``k`` (the audit's raw table).

    One row per (user, recommended item) with ``user``, ``item``, ``rank``, ``score``,
    ``baseline``, ``phi_*``, ``share_*``, ``branch_*``, ``branch_share_*``, and the
    standardised-score game's ``zphi_*`` / ``zshare_*`` (see
    :meth:`CoalitionCache.standardised_input_values`).
    """
    cache = _as_cache(source)
    users = np.arange(cache.n_users) if users is None else np.asarray(users, dtype=np.int64)
    full = len(cache.subsets) - 1
    frames = []
    for start in range(0, len(users), batch):
        ub = users[start : start + batch]
        scores = (cache.users[full, ub] @ cache.items[full].T).astype(np.float64)
        sub = cache.train[ub]
        rows = np.repeat(np.arange(len(ub)), np.diff(sub.indptr))
        scores[rows, sub.indices] = -np.inf
        kk = min(k, cache.n_items)
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        part_scores = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1)
        valid = np.isfinite(np.take_along_axis(part_scores, order, axis=1))
        # v(S) for every coalition, user of the batch and recommended item
        values = np.einsum("sbkd,sbd->sbk", cache.items[:, top], cache.users[:, ub]).astype(
            np.float64
        )
        phi = np.einsum("ms,sbk->mbk", cache.weights, values)
        mean, std = cache.coalition_moments(ub)
        zphi = np.einsum(
            "ms,sbk->mbk", cache.weights, _zscore(values, mean[..., None], std[..., None])
        )
        ubr = cache.user_branches[:, ub].astype(np.float64)
        ibr = cache.item_branches[:, top].astype(np.float64)
        gram = np.einsum("abd,cbkd->acbk", ubr, ibr)
        diag = np.einsum("mmbk->mbk", gram)
        branch = diag + 0.5 * ((gram.sum(axis=1) - diag) + (gram.sum(axis=0) - diag))
        mask = valid.ravel()
        table: dict[str, np.ndarray] = {
            "user": np.repeat(ub, kk)[mask],
            "item": top.ravel()[mask],
            "rank": np.tile(np.arange(1, kk + 1), len(ub))[mask],
            "score": values[-1].ravel()[mask],
            "baseline": values[0].ravel()[mask],
        }
        shares = abs_shares(phi, axis=0)
        for m, player in enumerate(cache.players):
            table[f"phi_{player}"] = phi[m].ravel()[mask]
        for m, player in enumerate(cache.players):
            table[f"share_{player}"] = shares[m].ravel()[mask]
        bshares = abs_shares(branch, axis=0)
        for b, name in enumerate(cache.branches):
            table[f"branch_{name}"] = branch[b].ravel()[mask]
        for b, name in enumerate(cache.branches):
            table[f"branch_share_{name}"] = bshares[b].ravel()[mask]
        zshares = abs_shares(zphi, axis=0)
        for m, player in enumerate(cache.players):
            table[f"zphi_{player}"] = zphi[m].ravel()[mask]
        for m, player in enumerate(cache.players):
            table[f"zshare_{player}"] = zshares[m].ravel()[mask]
        frames.append(pd.DataFrame(table))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
