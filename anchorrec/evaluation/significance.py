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
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, resamples, CHUNK):
        n = min(CHUNK, resamples - start)
        means.append(diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.concatenate(means), [tail, 1.0 - tail])
    return float(low), float(high)


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
    out = []
    for name, values in per_user.items():
        if name == reference:
            continue
        if not np.array_equal(values["users"], ref["users"]):
            raise ValueError(
                f"{name!r} and {reference!r} were evaluated on different users; "
                "compare models of the same dataset and split"
            )
        for metric in metrics:
            low, high = paired_bootstrap_interval(
                values[metric], ref[metric], resamples=resamples, level=level, seed=seed
            )
            out.append(
                PairedDifference(
                    model=name,
                    reference=reference,
                    metric=metric,
                    model_mean=float(np.mean(values[metric])),
                    reference_mean=float(np.mean(ref[metric])),
                    low=low,
                    high=high,
                    users=len(ref["users"]),
                    level=level,
                )
            )
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
