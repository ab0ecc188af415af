"""Modality reliance: how accurate the model stays when it keeps only some of its inputs.

For every coalition of input players that a reader can take in (all inputs, each pair, each
single input, none) the model ranks the held-out split with the inputs outside the coalition
removed by the attribution's own rule (the coalition cache of the chosen game), and
Recall@K / NDCG@K are measured as the evaluation measures them. "ID only ≈ all inputs" and
"image + text without ID ≈ nothing" is the plainest statement of ID dominance there is; it
is a property of the trained model, not of the attribution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from anchorrec.analysis.attribution import MEAN_GAME, coalition_cache
from anchorrec.evaluation.metrics import per_user_metrics
from anchorrec.models.base import Embeddings

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

RELIANCE_K = 20
#: Bootstrap resamples of the users behind each interval, and its level.
RELIANCE_BOOTSTRAP = 1000
RELIANCE_LEVEL = 0.95


@dataclass(frozen=True)
class CoalitionAccuracy:
    """Accuracy of the model with only ``inputs`` present (the rest removed)."""

    inputs: tuple[str, ...]
    recall: float
    recall_low: float
    recall_high: float
    ndcg: float
    ndcg_low: float
    ndcg_high: float

    @property
    def label(self) -> str:
        if not self.inputs:
            return "none"
        return " + ".join(self.inputs)


@dataclass(frozen=True)
class Reliance:
    """Accuracy of every readable coalition of one model (first row: all inputs)."""

    variant: str
    game: str
    split: str
    k: int
    users: int
    players: tuple[str, ...]
    rows: tuple[CoalitionAccuracy, ...]

    def row(self, *inputs: str) -> CoalitionAccuracy:
        want = frozenset(inputs)
        for r in self.rows:
            if frozenset(r.inputs) == want:
                return r
        raise KeyError(" + ".join(inputs) or "none")

    def to_frame(self) -> pd.DataFrame:
        """One row per coalition: ``inputs``, ``recall@k`` / ``ndcg@k`` with their intervals."""
        k = self.k
        return pd.DataFrame(
            {
                "inputs": [r.label for r in self.rows],
                f"recall@{k}": [r.recall for r in self.rows],
                f"recall@{k} low": [r.recall_low for r in self.rows],
                f"recall@{k} high": [r.recall_high for r in self.rows],
                f"ndcg@{k}": [r.ndcg for r in self.rows],
                f"ndcg@{k} low": [r.ndcg_low for r in self.rows],
                f"ndcg@{k} high": [r.ndcg_high for r in self.rows],
            }
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "game": self.game,
            "split": self.split,
            "k": self.k,
            "users": self.users,
            "players": list(self.players),
            "coalitions": [
                {**asdict(r), "inputs": list(r.inputs), "label": r.label} for r in self.rows
            ],
        }


def readable_coalitions(players: tuple[str, ...]) -> list[frozenset[str]]:
    """All inputs, each pair, each single input and none (every coalition for ≤ 3 players)."""
    out = [frozenset(players)]
    n = len(players)
    pairs = [frozenset((a, b)) for i, a in enumerate(players) for b in players[i + 1 :]]
    singles = [frozenset((p,)) for p in players]
    for group in (pairs if n > 2 else [], singles if n > 1 else []):
        out.extend(c for c in group if c not in out)
    if players:
        out.append(frozenset())
    return out


def _interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    if len(values) == 0:
        return float("nan"), float("nan")
    idx = rng.integers(0, len(values), size=(RELIANCE_BOOTSTRAP, len(values)))
    means = values[idx].mean(axis=1)
    tail = (1 - RELIANCE_LEVEL) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def reliance(
    loaded: LoadedModel,
    *,
    game: str = MEAN_GAME,
    k: int = RELIANCE_K,
    split: str = "test",
    seed: int = 0,
) -> Reliance:
    """Recall@``k`` / NDCG@``k`` on ``split`` of every readable coalition of ``loaded``.

    Intervals are percentile bootstraps over the evaluated users (the same resamples for
    every coalition, so rows compare fairly).
    """
    ds = loaded.dataset
    cache = coalition_cache(loaded, game=game)
    rows = []
    users = 0
    for coalition in readable_coalitions(cache.players):
        s = cache.subset_index(coalition)
        emb = Embeddings(torch.from_numpy(cache.users[s]), torch.from_numpy(cache.items[s]))
        per_user = per_user_metrics(emb, ds, split, k)
        users = len(per_user["users"])
        recall, ndcg = per_user[f"recall@{k}"], per_user[f"ndcg@{k}"]
        r_lo, r_hi = _interval(recall, np.random.default_rng(seed))
        n_lo, n_hi = _interval(ndcg, np.random.default_rng(seed))
        rows.append(
            CoalitionAccuracy(
                tuple(p for p in cache.players if p in coalition),
                float(recall.mean()) if len(recall) else float("nan"),
                r_lo,
                r_hi,
                float(ndcg.mean()) if len(ndcg) else float("nan"),
                n_lo,
                n_hi,
            )
        )
    return Reliance(loaded.variant, cache.game, split, k, users, cache.players, tuple(rows))
