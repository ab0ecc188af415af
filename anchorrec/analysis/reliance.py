"""Modality reliance: how accurate the model stays when it keeps only some of its inputs.

For every coalition of input players that a reader can take in (all inputs, each pair, each
single input, none) the model ranks the held-out split with the inputs outside the coalition
removed by the attribution's own rule (the coalition cache of the chosen game), and
Recall@K / NDCG@K are measured as the evaluation measures them. "ID only ≈ all inputs" and
"image + text without ID ≈ nothing" is the plainest statement of ID dominance there is; it
is a property of the trained model, not of the attribution.

A model's reliance takes one coalition cache and eight rankings of the split (seconds for
the mean game, minutes for the background game on a loaded machine), so ``prepare`` stores
it beside the model (:func:`store_reliance`, one document per game in the model's derived
store, tagged with its fingerprint) and the dashboard only reads it (:func:`read_reliance`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution import MEAN_GAME, check_game, coalition_cache
from anchorrec.errors import AnchorRecError, ConfigError
from anchorrec.models.config import DEFAULT_MASK
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

RELIANCE_K = 20
#: Bootstrap resamples of the users behind each interval, and its level.
RELIANCE_BOOTSTRAP = 1000
RELIANCE_LEVEL = 0.95
#: The stored document of one game (``reliance-<game>.json`` in the model's derived store).
RELIANCE_FORMAT = "anchorrec-reliance-v1"


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
    #: The items masked when ranking ``split`` (the evaluation's rule).
    mask: str = DEFAULT_MASK

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
            "mask": self.mask,
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
    mask: str = DEFAULT_MASK,
) -> Reliance:
    """Recall@``k`` / NDCG@``k`` on ``split`` of every readable coalition of ``loaded``.

    Intervals are percentile bootstraps over the evaluated users (the same resamples for
    every coalition, so rows compare fairly).
    """
    import torch

    from anchorrec.evaluation.metrics import per_user_metrics
    from anchorrec.models.base import Embeddings

    ds = loaded.dataset
    cache = coalition_cache(loaded, game=game)
    rows = []
    users = 0
    for coalition in readable_coalitions(cache.players):
        s = cache.subset_index(coalition)
        emb = Embeddings(torch.from_numpy(cache.users[s]), torch.from_numpy(cache.items[s]))
        per_user = per_user_metrics(emb, ds, split, k, mask=mask)
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
    return Reliance(loaded.variant, cache.game, split, k, users, cache.players, tuple(rows), mask)


def reliance_from_json(data: dict[str, Any]) -> Reliance:
    """The :class:`Reliance` of a :meth:`Reliance.to_json` document (KeyError / TypeError /
    ValueError when it is not one)."""
    names = [f.name for f in fields(CoalitionAccuracy)]
    rows = tuple(
        CoalitionAccuracy(
            tuple(str(p) for p in c["inputs"]), *(float(c[n]) for n in names if n != "inputs")
        )
        for c in data["coalitions"]
    )
    return Reliance(
        variant=str(data["variant"]),
        game=check_game(str(data["game"])),
        split=str(data["split"]),
        k=int(data["k"]),
        users=int(data["users"]),
        players=tuple(str(p) for p in data["players"]),
        rows=rows,
        mask=str(data.get("mask", DEFAULT_MASK)),
    )


def reliance_file(game: str) -> str:
    """The store's name of the reliance document of ``game``."""
    return f"reliance-{check_game(game)}.json"


def read_reliance(
    model_dir: str | Path,
    game: str = MEAN_GAME,
    *,
    k: int = RELIANCE_K,
    split: str = "test",
    mask: str = DEFAULT_MASK,
) -> Reliance | None:
    """The stored reliance of the model in ``model_dir`` under ``game`` (and ``k``, ``split``,
    ``mask``), or None: absent, unreadable, measured otherwise, or written for another model
    (a retrained model's stale table is ignored)."""
    return read_measured(
        model_dir, reliance_file(game), RELIANCE_FORMAT, reliance_from_json, (k, split, mask)
    )


class _Measured(Protocol):
    """What a stored measurement was measured with (read-only, as on a frozen dataclass)."""

    @property
    def k(self) -> int: ...

    @property
    def split(self) -> str: ...

    @property
    def mask(self) -> str: ...


M = TypeVar("M", bound=_Measured)


def read_measured(
    model_dir: str | Path,
    name: str,
    fmt: str,
    from_json: Callable[[dict[str, Any]], M],
    measured_as: tuple[int, str, str],
) -> M | None:
    """The stored measurement ``name`` (format ``fmt``) of the model in ``model_dir`` read by
    ``from_json``, or None: absent, unreadable, measured otherwise than ``measured_as``
    (``k``, ``split``, ``mask``), or written for another model."""
    data = ModelDir(model_dir).store().read_json(name, fmt)
    if data is None:
        return None
    try:
        result = from_json(data)
    except (KeyError, TypeError, ValueError, AnchorRecError):
        return None
    return result if (result.k, result.split, result.mask) == measured_as else None


def store_reliance(
    loaded: LoadedModel, game: str = MEAN_GAME, result: Reliance | None = None
) -> Reliance:
    """Measure (unless given) and store the reliance of ``loaded`` under ``game``, so the
    dashboard reads it instead of ranking the test split eight times on a page load."""
    if loaded.model_dir is None:
        raise ConfigError("only a model saved in a directory can store its reliance.")
    result = result if result is not None else reliance(loaded, game=game)
    if result.game != game:
        raise ValueError(f"a {result.game}-game reliance cannot be stored as the {game} game's")
    ModelDir(loaded.model_dir).store().write_json(
        reliance_file(game), RELIANCE_FORMAT, result.to_json()
    )
    return result
