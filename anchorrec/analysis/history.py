""" "Because you bought …": which of a shopper's past purchases account for a recommendation.

Where the model's user vector is linear in the user's history (see
:meth:`Recommender.history_basis`), ``h_u = own_u + Σ_j R̂_uj Σ_t T^t_j`` over the user's
train items ``j`` and paths ``t``, so the score splits exactly:

    score(u, i) = own_u · h_i  +  Σ_j Σ_t R̂_uj (T^t_j · h_i)

The per-item terms are the history items' contributions (split by path: ``id`` is the
LightGCN layers through that item, ``fused`` / ``text`` / ``image`` the modality views'
user side ``R̂ Z``); ``own_u · h_i`` is the part no history item owns (the user's own ID
embedding, the l = 0 layer). Every LightGCN path from the user of length ≥ 1 — including
those that continue through other users — starts at exactly one history item and is
credited to it. A model whose user vector is a free parameter (matrix factorisation) owns
nothing through its history: all of its score is unowned.

This is a decomposition, not a Shapley game: it needs no removal rule, and it is exact
(up to float rounding) because the user side is linear.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import torch

from anchorrec.errors import ConfigError
from anchorrec.models.base import HistoryBasis

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

_CACHES: weakref.WeakKeyDictionary[Any, HistoryExplainer] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class HistoryAttribution:
    """The score of ``item`` for ``user`` split over the user's past purchases.

    ``history`` holds the user's train items, largest ``|contribution|`` first;
    ``contributions[j]`` is what ``history[j]`` adds to the score, ``by_path[t, j]`` its split
    over ``paths``. ``score == unowned + contributions.sum()`` to float rounding.
    """

    user: int
    item: int
    score: float
    unowned: float
    history: np.ndarray
    contributions: np.ndarray
    paths: tuple[str, ...]
    by_path: np.ndarray

    @property
    def explained(self) -> float:
        """The part of the score the history owns: ``score − unowned``."""
        return float(self.contributions.sum())

    def top(self, n: int = 5) -> list[tuple[int, float]]:
        return [
            (int(i), float(c))
            for i, c in zip(self.history[:n], self.contributions[:n], strict=True)
        ]

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        n = len(self.history) if top is None else min(top, len(self.history))
        return {
            "score": self.score,
            "unowned": self.unowned,
            "explained": self.explained,
            "items": [
                {
                    "item": int(self.history[j]),
                    "contribution": float(self.contributions[j]),
                    "paths": {p: float(self.by_path[t, j]) for t, p in enumerate(self.paths)},
                }
                for j in range(n)
            ],
            "items_left_out": len(self.history) - n,
        }


@dataclass
class HistoryExplainer:
    """The model's history basis and final item vectors, ready for per-pair splits."""

    basis: HistoryBasis
    items: np.ndarray
    train: sp.csr_matrix

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self.basis.terms)

    def explain(self, user: int, item: int) -> HistoryAttribution:
        """Split ``user``'s score of ``item`` over the user's history (a few dot products)."""
        n_users = self.basis.own.shape[0]
        if not 0 <= int(user) < n_users:
            raise ConfigError(f"user {user} does not exist: this model has users 0..{n_users - 1}.")
        if not 0 <= int(item) < len(self.items):
            raise ConfigError(
                f"item {item} does not exist: this model has items 0..{len(self.items) - 1}."
            )
        w = self.basis.weights
        hist = w.indices[w.indptr[user] : w.indptr[user + 1]]
        weights = w.data[w.indptr[user] : w.indptr[user + 1]].astype(np.float64)
        h_i = self.items[item].astype(np.float64)
        by_path = np.zeros((len(self.paths), len(hist)))
        for t, name in enumerate(self.paths):
            by_path[t] = weights * (self.basis.terms[name][hist].astype(np.float64) @ h_i)
        contributions = by_path.sum(axis=0)
        unowned = float(self.basis.own[user].astype(np.float64) @ h_i)
        order = np.lexsort((hist, -np.abs(contributions)))
        return HistoryAttribution(
            user=int(user),
            item=int(item),
            score=unowned + float(contributions.sum()),
            unowned=unowned,
            history=hist[order].astype(np.int64),
            contributions=contributions[order],
            paths=self.paths,
            by_path=by_path[:, order],
        )


@torch.no_grad()
def history_explainer(loaded: LoadedModel) -> HistoryExplainer | None:
    """The model's :class:`HistoryExplainer` (built once per model), or None when the model's
    user vector is not linear in the history."""
    model = loaded.model
    cached = _CACHES.get(model)
    if cached is not None:
        return cached
    basis = model.history_basis()
    if basis is None:
        return None
    items = model.eval_embeddings().items.detach().to("cpu", torch.float32).numpy()
    explainer = HistoryExplainer(basis, items, loaded.dataset.train.tocsr())
    _CACHES[model] = explainer
    return explainer


def because_you_bought(loaded: LoadedModel, user: int, item: int) -> HistoryAttribution | None:
    """Which of ``user``'s past purchases account for the score of ``item`` (None when the
    model is not linear in the history). The call the "Why this recommendation?" dialog makes."""
    explainer = history_explainer(loaded)
    return None if explainer is None else explainer.explain(user, item)
