"""Is one model's lead over another real? Paired bootstrap intervals over the evaluated users.

Two models evaluated on the same split rank for the same users, so their per-user metrics
pair up. The difference of the means is a mean of per-user differences; resampling the users
with replacement (a paired bootstrap) gives an interval for it. An interval that excludes 0
says the lead holds across the users who happened to be tested. It says nothing about
retraining with another seed, which moves a model's figures too (``bench/research/sample_seeds.py``
measures that on the sample).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

#: resamples of the users
RESAMPLES = 2000
LEVEL = 0.95
#: resamples drawn at once (bounds memory to CHUNK × users indices)
CHUNK = 200


@dataclass(frozen=True)
class PairedDifference:
    """``mean(model) − mean(reference)`` of one metric over the same users, with an interval."""

    model: str
    reference: str
    metric: str
    model_mean: float
    reference_mean: float
    low: float
    high: float
    users: int
    level: float = LEVEL

    @property
    def difference(self) -> float:
        return self.model_mean - self.reference_mean

    @property
    def verdict(self) -> str:
        """``above`` / ``below`` when the interval excludes 0, else ``tie``."""
        if self.low > 0:
            return "above"
        if self.high < 0:
            return "below"
        return "tie"


def paired_bootstrap_interval(
    a: np.ndarray,
    b: np.ndarray,
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ``mean(a − b)`` when the paired rows are resampled."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if diff.ndim != 1 or len(diff) == 0:
        raise ValueError("a and b must be equally long, non-empty 1-d arrays of per-user values")
    low, high = bootstrap_intervals(diff[:, None], resamples=resamples, level=level, seed=seed)
    return float(low[0]), float(high[0])


def bootstrap_intervals(
    diffs: np.ndarray, *, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of the mean of every column of ``diffs`` (users × columns), all
    columns resampled with the same draws of users (what :func:`paired_bootstrap_interval`
    draws for one column, with the same ``seed``).

    Each chunk of draws becomes a matrix of how often each user was drawn, so the resampled
    means of every column are one matrix product rather than a gather per column. The products
    are small (200 draws × a few thousand users × a few columns): split over every core, their
    BLAS threads wait on each other whenever another process holds a core (the app's browser on
    a 2-core machine: 0.5 s instead of 0.06 s), so they run on one thread.
    """
    diffs = np.asarray(diffs, np.float64)
    if diffs.ndim != 2 or diffs.shape[0] == 0:
        raise ValueError("diffs must be a non-empty 2-d array (users × columns)")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    n = diffs.shape[0]
    rng = np.random.default_rng(seed)
    means = []
    with threadpool_limits(1, user_api="blas"):
        for start in range(0, resamples, CHUNK):
            rows = min(CHUNK, resamples - start)
            drawn = rng.integers(0, n, size=(rows, n))
            drawn += np.arange(rows)[:, None] * n  # row r's draws land in row r of the counts
            counts = np.bincount(drawn.ravel(), minlength=rows * n).reshape(rows, n)
            means.append(counts.astype(np.float64) @ diffs / n)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.concatenate(means), [tail, 1.0 - tail], axis=0)
    return low, high


def compare_to_reference(
    per_user: Mapping[str, Mapping[str, np.ndarray]],
    reference: str,
    metrics: Sequence[str] = ("recall@20", "ndcg@20"),
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = 0,
) -> list[PairedDifference]:
    """Every other model against ``reference``, metric by metric.

    ``per_user`` maps a model's name to its :func:`~anchorrec.evaluation.metrics.per_user_metrics`
    on one dataset and split; the users must be the same for every model.
    """
    if reference not in per_user:
        raise ValueError(f"reference {reference!r} is not among {sorted(per_user)}")
    ref = per_user[reference]
    pairs = []
    for name, values in per_user.items():
        if name == reference:
            continue
        if not np.array_equal(values["users"], ref["users"]):
            raise ValueError(
                f"{name!r} and {reference!r} were evaluated on different users; "
                "compare models of the same dataset and split"
            )
        pairs += [(name, metric) for metric in metrics]
    if not pairs:
        return []
    diffs = np.stack(
        [
            np.asarray(per_user[name][metric], np.float64) - np.asarray(ref[metric], np.float64)
            for name, metric in pairs
        ],
        axis=1,
    )
    lows, highs = bootstrap_intervals(diffs, resamples=resamples, level=level, seed=seed)
    out = [
        PairedDifference(
            model=name,
            reference=reference,
            metric=metric,
            model_mean=float(np.mean(per_user[name][metric])),
            reference_mean=float(np.mean(ref[metric])),
            low=float(low),
            high=float(high),
            users=len(ref["users"]),
            level=level,
        )
        for (name, metric), low, high in zip(pairs, lows, highs, strict=True)
    ]
    return out


def comparison_table(differences: Sequence[PairedDifference]) -> pd.DataFrame:
    """One row per model: for each metric the difference, its interval and the verdict."""
    rows: dict[str, dict[str, object]] = {}
    for d in differences:
        row = rows.setdefault(d.model, {"variant": d.model})
        name = d.metric.replace("recall", "Recall").replace("ndcg", "NDCG")
        row[f"{name} difference"] = d.difference
        row[f"{name} {round(d.level * 100)}% interval"] = f"[{d.low:+.4f}, {d.high:+.4f}]"
        row[f"{name} verdict"] = d.verdict
    return pd.DataFrame(list(rows.values()))
