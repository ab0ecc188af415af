"""Users grouped by a column of ``users.csv`` or by their activity, items by popularity, and
each group's mean of per-user metrics.

Activity and popularity come from the train split alone, so every dataset has them (no
``users.csv`` needed):

* user activity: the users' train-interaction counts cut at their tertiles into ``light``,
  ``medium`` and ``heavy`` (ties stay together, so the groups can differ in size; the label
  gives each group's range);
* item popularity: ``head`` (the 20 % most interacted items), ``torso`` and ``tail`` (the 50 %
  least), the buckets the Audit uses.

Plain numpy on stored per-user metrics: no model and no torch, so a page can show accuracy
by shopper group or activity from what training stored.
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


#: Popularity buckets by share of the catalogue, most popular first (head / torso / tail).
HEAD_SHARE = 0.2
TAIL_SHARE = 0.5
ACTIVITY_NAMES: tuple[str, ...] = ("light", "medium", "heavy")
#: What ``evaluate --by`` and the pages call the two train-split groupings.
ACTIVITY, POPULARITY = "activity", "popularity"


def popularity_buckets(popularity: np.ndarray) -> np.ndarray:
    """``head`` (the 20 % most interacted items), ``tail`` (the 50 % least) or ``torso``."""
    n = len(popularity)
    order = np.argsort(-np.asarray(popularity), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    bucket = np.full(n, "torso", dtype=object)
    bucket[rank < int(np.ceil(HEAD_SHARE * n))] = "head"
    bucket[rank >= n - int(np.floor(TAIL_SHARE * n))] = "tail"
    return bucket


def _range(counts: np.ndarray) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def popularity_segments(dataset: Dataset) -> dict[str, np.ndarray]:
    """Item ids by popularity bucket, labelled with the bucket's train-interaction range,
    e.g. ``"head (12–85 train interactions)"``; most popular first."""
    popularity = dataset.item_popularity()
    bucket = popularity_buckets(popularity)
    out: dict[str, np.ndarray] = {}
    for name in ("head", "torso", "tail"):
        items = np.flatnonzero(bucket == name)
        if len(items):
            out[f"{name} ({_range(popularity[items])} train interactions)"] = items
    return out


def user_activity(dataset: Dataset) -> np.ndarray:
    """``light``, ``medium`` or ``heavy`` for every user, by tertiles of train interactions."""
    counts = np.diff(dataset.train.indptr)
    if counts.size == 0:
        return np.empty(0, dtype=object)
    low, high = np.quantile(counts, [1 / 3, 2 / 3])
    labels = np.full(counts.size, ACTIVITY_NAMES[1], dtype=object)
    labels[counts <= low] = ACTIVITY_NAMES[0]
    labels[counts > high] = ACTIVITY_NAMES[2]
    return labels


def activity_segments(dataset: Dataset) -> dict[str, np.ndarray]:
    """User ids by activity, labelled with the group's range of train interactions, e.g.
    ``"light (1–3 train interactions)"``; lightest first, empty groups left out."""
    counts = np.diff(dataset.train.indptr)
    labels = user_activity(dataset)
    out: dict[str, np.ndarray] = {}
    for name in ACTIVITY_NAMES:
        users = np.flatnonzero(labels == name)
        if len(users):
            out[f"{name} ({_range(counts[users])} train interactions)"] = users
    return out


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
