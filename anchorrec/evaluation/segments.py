"""Users grouped by a column of ``users.csv``, and each group's mean of per-user metrics.

Plain numpy on stored per-user metrics: no model and no torch, so a page can show accuracy
by shopper group from what training stored.
"""

from __future__ import annotations

import numpy as np

from anchorrec.data.dataset import Dataset


def user_segments(dataset: Dataset, column: str) -> dict[str, np.ndarray]:
    """The users grouped by a column of ``users.csv`` (value → user ids), sorted by value."""
    if dataset.users is None or column not in dataset.users.columns:
        return {}
    values = dataset.users[column].astype(str).to_numpy()
    return {v: np.flatnonzero(values == v) for v in sorted(set(values))}


def segment_means(
    per_user: dict[str, np.ndarray], segments: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Each segment's mean of every metric of :func:`per_user_metrics`, and its user count.

    ``segments`` maps a name to user ids (:func:`user_segments`); only users that were
    evaluated count, and a segment with none is left out.
    """
    out: dict[str, dict[str, float]] = {}
    for name, ids in segments.items():
        inside = np.isin(per_user["users"], ids)
        if inside.any():
            out[name] = {"users": float(inside.sum())} | {
                metric: float(np.mean(values[inside]))
                for metric, values in per_user.items()
                if metric != "users"
            }
    return out
