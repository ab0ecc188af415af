"""Which input earns a shopper's hits: each input's Shapley value of Recall@K and NDCG@K.

The *accuracy game* of one shopper has the input players (ID, image, text, …) and
``v(S)`` = the shopper's Recall@K (or NDCG@K) on the held-out split when the model keeps only
the inputs in ``S`` (the rest removed by the coalition cache's rule, the coalitions the
reliance table ranks). Its Shapley values are exact (all ``2^n`` coalitions) and efficient:
per shopper they add up to ``v(all inputs) − v(none)``. A negative value says the input
*costs* the shopper hits.

Score shares say where the score mass comes from; with every modality branch gated by the ID
embedding they give the ID about 90 % for everyone. The accuracy game says which input ranks
the shopper's later purchases, so it separates shoppers whose taste follows the pictures from
those whose taste follows the text. It needs held-out purchases: a segment and audit
statistic, never a per-recommendation one.

:func:`accuracy_game` aggregates the per-shopper values by every segment
(:func:`shopper_segments`: planted group, past category, activity; and the held-out purchases
split into new and warm items) with percentile bootstrap intervals over the shoppers, and the
paired difference of every two inputs. :func:`store_accuracy_game` /
:func:`read_accuracy_game` keep the result beside the model (one JSON document per removal
rule in the model's derived store, tagged with its fingerprint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from anchorrec.analysis.attribution import MEAN_GAME, CoalitionCache, check_game, coalition_cache
from anchorrec.analysis.audit import COLD_MAX_INTERACTIONS
from anchorrec.analysis.reliance import read_measured
from anchorrec.models.config import DEFAULT_MASK
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset
    from anchorrec.models.checkpoint import LoadedModel

ACCURACY_K = 20
METRICS: tuple[str, ...] = ("recall", "ndcg")
#: Resamples of the shoppers behind each interval, its level and seed.
RESAMPLES = 1000
LEVEL = 0.95
#: Segment kinds, in the order tables show them.
OVERALL = "all"
PLANTED = "planted group"
PAST_CATEGORY = "past category"
ACTIVITY = "activity"
ITEMS = "held-out items"
SEGMENT_KINDS: tuple[str, ...] = (OVERALL, PLANTED, PAST_CATEGORY, ACTIVITY, ITEMS)
NEW_ITEMS = f"new (≤{COLD_MAX_INTERACTIONS} train purchases)"
WARM_ITEMS = "warm"
#: A segment with fewer shoppers than this is flagged as too small to read.
SMALL_SEGMENT = 30
#: The stored document of one removal rule (``accuracy-game-<game>.json``).
ACCURACY_FORMAT = "anchorrec-accuracy-game-v1"
#: What every place that shows the game says about it.
NEEDS_HELD_OUT = (
    "needs held-out purchases: it measures which input ranks the purchases the model never saw"
)


@dataclass(frozen=True)
class SegmentValue:
    """The mean over a segment's shoppers of one input's accuracy-game value (or of the
    difference of two inputs' values, ``input = "image − text"``), with its interval."""

    kind: str
    segment: str
    metric: str
    input: str
    value: float
    low: float
    high: float
    users: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class ShopperValues:
    """Per shopper (``users``) and metric: the Shapley values (``n_players × n_users``) and
    the metric with no input (``empty``) and with every input (``full``)."""

    players: tuple[str, ...]
    users: np.ndarray
    values: dict[str, np.ndarray]
    empty: dict[str, np.ndarray]
    full: dict[str, np.ndarray]

    def efficiency_error(self) -> float:
        """Largest ``|Σφ − (v(N) − v(∅))|`` over shoppers and metrics."""
        errs = [
            np.abs(self.values[m].sum(axis=0) - (self.full[m] - self.empty[m])).max(initial=0.0)
            for m in self.values
        ]
        return float(max(errs, default=0.0))


@dataclass(frozen=True)
class AccuracyGame:
    """The accuracy game of one model, aggregated by segment (first rows: every shopper)."""

    variant: str
    game: str
    split: str
    k: int
    mask: str
    players: tuple[str, ...]
    users: int
    rows: tuple[SegmentValue, ...]

    def value(self, kind: str, segment: str, input_: str, metric: str = "recall") -> SegmentValue:
        for r in self.rows:
            if (r.kind, r.segment, r.input, r.metric) == (kind, segment, input_, metric):
                return r
        raise KeyError(f"{kind} / {segment} / {input_} / {metric}")

    def segments(self, kind: str) -> list[str]:
        return list(dict.fromkeys(r.segment for r in self.rows if r.kind == kind))

    def to_frame(self) -> pd.DataFrame:
        """One row per (segment, metric, input): ``kind``, ``segment``, ``metric``, ``input``,
        ``value``, ``low``, ``high``, ``users``."""
        return pd.DataFrame([asdict(r) for r in self.rows])

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "game": self.game,
            "split": self.split,
            "k": self.k,
            "mask": self.mask,
            "users": self.users,
            "players": list(self.players),
            "needs": NEEDS_HELD_OUT,
            "rows": [asdict(r) for r in self.rows],
        }


def accuracy_game_from_json(data: Mapping[str, Any]) -> AccuracyGame:
    """The :class:`AccuracyGame` of a :meth:`AccuracyGame.to_json` document (KeyError /
    TypeError / ValueError when it is not one)."""
    rows = tuple(
        SegmentValue(
            str(r["kind"]),
            str(r["segment"]),
            str(r["metric"]),
            str(r["input"]),
            float(r["value"]),
            float(r["low"]),
            float(r["high"]),
            int(r["users"]),
        )
        for r in data["rows"]
    )
    return AccuracyGame(
        variant=str(data["variant"]),
        game=check_game(str(data["game"])),
        split=str(data["split"]),
        k=int(data["k"]),
        mask=str(data["mask"]),
        players=tuple(str(p) for p in data["players"]),
        users=int(data["users"]),
        rows=rows,
    )


# ------------------------------------------------------------------------------ segments
def activity_buckets(counts: np.ndarray) -> np.ndarray:
    """Each shopper's activity bucket by train purchases: thirds of the shoppers, named by
    their range (``3 purchases``, ``4–6 purchases``, ``7+ purchases``)."""
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) == 0:
        return np.zeros(0, dtype=object)
    cuts = sorted(set(np.quantile(counts, [1 / 3, 2 / 3], method="higher").astype(int)))
    edges = [int(counts.min()), *[c + 1 for c in cuts if c + 1 <= counts.max()]]
    edges = sorted(set(edges))
    labels = np.empty(len(counts), dtype=object)
    for j, low in enumerate(edges):
        high = edges[j + 1] - 1 if j + 1 < len(edges) else None
        if high is None:
            name = f"{low}+ purchases" if low < counts.max() else f"{low} purchases"
        elif high == low:
            name = f"{low} purchases"
        else:
            name = f"{low}–{high} purchases"
        inside = (counts >= low) & (True if high is None else counts <= high)
        labels[inside] = name
    return labels


def past_categories(dataset: Dataset, column: str = "category") -> np.ndarray | None:
    """Each shopper's most bought category in train (ties: the first name), or None when the
    catalogue has no ``column``; a shopper with no train purchase gets ``none``."""
    if dataset.items is None or column not in dataset.items.columns:
        return None
    names, codes = np.unique(dataset.items[column].astype(str).to_numpy(), return_inverse=True)
    train = sp.csr_matrix(dataset.train)
    onehot = sp.csr_matrix(
        (np.ones(dataset.n_items), (np.arange(dataset.n_items), codes)),
        shape=(dataset.n_items, len(names)),
    )
    counts = (train @ onehot).toarray()
    out = names[counts.argmax(axis=1)].astype(object)
    out[counts.sum(axis=1) == 0] = "none"
    return out


def shopper_segments(dataset: Dataset) -> dict[str, dict[str, np.ndarray]]:
    """Shopper segments by kind (name → user ids): the planted group (``users.csv``
    ``group``), the most bought past category, the activity bucket."""
    from anchorrec.evaluation.segments import user_segments

    out: dict[str, dict[str, np.ndarray]] = {}
    groups = user_segments(dataset, "group")
    if groups:
        out[PLANTED] = groups
    for kind, labels in (
        (PAST_CATEGORY, past_categories(dataset)),
        (ACTIVITY, activity_buckets(np.diff(sp.csr_matrix(dataset.train).indptr))),
    ):
        if labels is not None:
            out[kind] = {str(v): np.flatnonzero(labels == v) for v in dict.fromkeys(sorted(labels))}
    return out


def new_items(dataset: Dataset) -> np.ndarray:
    """Boolean mask of the items with at most :data:`COLD_MAX_INTERACTIONS` train purchases."""
    return dataset.item_popularity() <= COLD_MAX_INTERACTIONS


# ------------------------------------------------------------------------------ the game
def _metrics(top: np.ndarray, truth: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Recall@K and NDCG@K of top lists (one row per shopper) against ``truth`` (same rows,
    sorted indices), as the evaluation computes them."""
    n, k = top.shape
    n_items = truth.shape[1]
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(truth.indptr))
    keys = row_of * n_items + truth.indices.astype(np.int64)  # sorted
    top_keys = np.arange(n, dtype=np.int64)[:, None] * n_items + top
    pos = np.minimum(np.searchsorted(keys, top_keys), max(len(keys) - 1, 0))
    rel = keys[pos] == top_keys if len(keys) else np.zeros(top.shape, dtype=bool)
    n_true = np.diff(truth.indptr).astype(np.float64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    idcg = np.cumsum(discount)[np.minimum(n_true, k).astype(int) - 1]
    return {"recall": rel.sum(axis=1) / n_true, "ndcg": (rel * discount).sum(axis=1) / idcg}


def shopper_values(
    cache: CoalitionCache,
    dataset: Dataset,
    *,
    k: int = ACCURACY_K,
    split: str = "test",
    mask: str = DEFAULT_MASK,
    items: np.ndarray | None = None,
) -> ShopperValues:
    """Every evaluated shopper's accuracy-game values (``items``, a boolean mask: only the
    held-out purchases of those items count, and only shoppers with one are evaluated)."""
    import torch

    from anchorrec.evaluation.metrics import seen_items
    from anchorrec.models.base import Embeddings
    from anchorrec.models.ranking import top_k_items

    truth = sp.csr_matrix(dataset.split(split))
    if items is not None:
        truth = sp.csr_matrix(truth.multiply(np.asarray(items, dtype=np.float64)[None, :]))
        truth.eliminate_zeros()
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    truth = truth[users]
    truth.sort_indices()
    seen = seen_items(dataset, split, mask)
    per: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    for s in range(len(cache.subsets)):
        u = torch.from_numpy(np.ascontiguousarray(cache.users[s]))
        i = torch.from_numpy(np.ascontiguousarray(cache.items[s]))
        top, _ = top_k_items(Embeddings(u, i), users, k, seen)
        for m, v in _metrics(top, truth).items():
            per[m].append(v)
    values = {m: cache.shapley(np.stack(per[m])) for m in METRICS}
    return ShopperValues(
        cache.players,
        users,
        values,
        {m: per[m][0] for m in METRICS},
        {m: per[m][-1] for m in METRICS},
    )


def _columns(players: tuple[str, ...], phi: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The players' values and every pair's difference, as (names, users × columns)."""
    names = list(players)
    cols = [phi[m] for m in range(len(players))]
    for a in range(len(players)):
        for b in range(a + 1, len(players)):
            names.append(f"{players[a]} − {players[b]}")
            cols.append(phi[a] - phi[b])
    return names, np.stack(cols, axis=1)


def _aggregate(
    kind: str,
    segments: Mapping[str, np.ndarray],
    sv: ShopperValues,
    seed: int,
) -> list[SegmentValue]:
    from anchorrec.evaluation.significance import bootstrap_intervals

    rows: list[SegmentValue] = []
    for name, ids in segments.items():
        inside = np.isin(sv.users, ids)
        n = int(inside.sum())
        if n == 0:
            continue
        for metric in METRICS:
            names, table = _columns(sv.players, sv.values[metric][:, inside])
            low, high = bootstrap_intervals(table, resamples=RESAMPLES, level=LEVEL, seed=seed)
            mean = table.mean(axis=0)
            rows += [
                SegmentValue(
                    kind, name, metric, c, float(mean[j]), float(low[j]), float(high[j]), n
                )
                for j, c in enumerate(names)
            ]
    return rows


def accuracy_game(
    loaded: LoadedModel,
    *,
    game: str = MEAN_GAME,
    k: int = ACCURACY_K,
    split: str = "test",
    mask: str = DEFAULT_MASK,
    seed: int = 0,
) -> AccuracyGame:
    """Each input's accuracy-game value of ``loaded`` by every segment, with intervals."""
    ds = loaded.dataset
    cache = coalition_cache(loaded, game=game)
    everyone = shopper_values(cache, ds, k=k, split=split, mask=mask)
    rows = _aggregate(OVERALL, {OVERALL: everyone.users}, everyone, seed)
    for kind, segments in shopper_segments(ds).items():
        rows += _aggregate(kind, segments, everyone, seed)
    new = new_items(ds)
    for name, keep in ((NEW_ITEMS, new), (WARM_ITEMS, ~new)):
        if keep.any():
            sv = shopper_values(cache, ds, k=k, split=split, mask=mask, items=keep)
            if len(sv.users):
                rows += _aggregate(ITEMS, {name: sv.users}, sv, seed)
    return AccuracyGame(
        loaded.variant,
        cache.game,
        split,
        k,
        mask,
        cache.players,
        len(everyone.users),
        tuple(rows),
    )


# ------------------------------------------------------------------------------ stored beside the model
def accuracy_game_file(game: str) -> str:
    """The store's name of the accuracy-game document of removal rule ``game``."""
    return f"accuracy-game-{check_game(game)}.json"


def read_accuracy_game(
    model_dir: str | Path,
    game: str = MEAN_GAME,
    *,
    k: int = ACCURACY_K,
    split: str = "test",
    mask: str = DEFAULT_MASK,
) -> AccuracyGame | None:
    """The stored accuracy game of the model in ``model_dir``, or None: absent, unreadable,
    measured otherwise, or written for another model."""
    return read_measured(
        model_dir,
        accuracy_game_file(game),
        ACCURACY_FORMAT,
        accuracy_game_from_json,
        (k, split, mask),
    )


def store_accuracy_game(
    loaded: LoadedModel, game: str = MEAN_GAME, result: AccuracyGame | None = None
) -> AccuracyGame:
    """Measure (unless given) and store the accuracy game of ``loaded`` under ``game``."""
    result = result if result is not None else accuracy_game(loaded, game=game)
    if result.game != game:
        raise ValueError(f"a {result.game}-game accuracy game cannot be stored as the {game} one")
    if loaded.model_dir is None:
        raise ValueError("the model has no directory to store its accuracy game in")
    ModelDir(loaded.model_dir).store().write_json(
        accuracy_game_file(game), ACCURACY_FORMAT, result.to_json()
    )
    return result
