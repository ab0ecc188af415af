"""Audit of a model's recommendations: what drives them, for whom, and how concentrated.

:func:`audit` attributes every user's top-``k`` list (exact input- and branch-level Shapley,
see :mod:`anchorrec.analysis.attribution`) and aggregates the shares overall and by
segment — the user's group (a ``group`` column of users.csv, e.g. the sample's planted
driver), the item's category, its popularity bucket and whether it is cold — with the
exposure concentration (Gini of recommendation counts) and catalogue coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution import coalition_cache, top_k_attribution
from anchorrec.analysis.context import dataset_of, variant_of
from anchorrec.stats import gini

#: An item is *cold* when it has at most this many train interactions.
COLD_MAX_INTERACTIONS = 3
#: Popularity buckets by share of the catalogue, most popular first (head / torso / tail).
HEAD_SHARE = 0.2
TAIL_SHARE = 0.5
#: Column of users.csv / items.csv that defines a segment, in order of preference.
USER_GROUP_COLUMNS: tuple[str, ...] = ("group", "segment")
ITEM_CATEGORY_COLUMNS: tuple[str, ...] = ("category",)

OVERALL = "all"


@dataclass(frozen=True)
class AuditResult:
    """Everything :func:`audit` computed.

    ``recommendations``: one row per (user, recommended item) with ``phi_*``, ``share_*``,
    ``branch_*``, ``branch_share_*`` and the segment columns ``user_group``,
    ``item_category``, ``popularity_bucket``, ``cold``.
    ``shares``: one row per segment (``kind``, ``segment``, ``n``, ``users``, mean
    ``share_*`` / ``phi_*`` / ``branch_share_*``); the first row is ``kind == "all"``.
    ``exposure``: recommendation count and popularity of every item.
    ``summary``: Gini of exposure, coverage and the sizes.
    """

    variant: str
    k: int
    players: tuple[str, ...]
    branches: tuple[str, ...]
    recommendations: pd.DataFrame
    shares: pd.DataFrame
    exposure: pd.DataFrame
    summary: dict[str, Any]


def popularity_buckets(popularity: np.ndarray) -> np.ndarray:
    """``head`` (the 20 % most interacted items), ``tail`` (the 50 % least) or ``torso``."""
    n = len(popularity)
    order = np.argsort(-popularity, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    bucket = np.full(n, "torso", dtype=object)
    bucket[rank < int(np.ceil(HEAD_SHARE * n))] = "head"
    bucket[rank >= n - int(np.floor(TAIL_SHARE * n))] = "tail"
    return bucket


def _column(frame: pd.DataFrame | None, names: tuple[str, ...]) -> pd.Series | None:
    if frame is None:
        return None
    for name in names:
        if name in frame.columns:
            return frame[name].astype(str)
    return None


def _aggregate(table: pd.DataFrame, by: str | None, kind: str, cols: list[str]) -> pd.DataFrame:
    if by is None:
        grouped = table.assign(_all=OVERALL).groupby("_all", sort=True)
    else:
        grouped = table.groupby(by, sort=True)
    out = grouped[cols].mean()
    out.insert(0, "users", grouped["user"].nunique())
    out.insert(0, "n", grouped.size())
    out = out.reset_index().rename(columns={"_all" if by is None else by: "segment"})
    out.insert(0, "kind", kind)
    out["segment"] = out["segment"].astype(str)
    return out


def audit(loaded: Any, k: int = 10, users: np.ndarray | None = None) -> AuditResult:
    """Attribute every user's top-``k`` and aggregate overall and by segment."""
    ds = dataset_of(loaded)
    cache = coalition_cache(loaded)
    recs = top_k_attribution(cache, k=k, users=users)
    popularity = ds.item_popularity()
    group = _column(ds.users, USER_GROUP_COLUMNS)
    category = _column(ds.items, ITEM_CATEGORY_COLUMNS)
    if group is not None:
        recs["user_group"] = group.to_numpy()[recs["user"].to_numpy()]
    if category is not None:
        recs["item_category"] = category.to_numpy()[recs["item"].to_numpy()]
    recs["popularity_bucket"] = popularity_buckets(popularity)[recs["item"].to_numpy()]
    recs["cold"] = np.where(
        popularity[recs["item"].to_numpy()] <= COLD_MAX_INTERACTIONS,
        f"cold (≤{COLD_MAX_INTERACTIONS} train interactions)",
        "warm",
    )
    cols = (
        [f"share_{p}" for p in cache.players]
        + [f"phi_{p}" for p in cache.players]
        + [f"branch_share_{b}" for b in cache.branches]
        + [f"zshare_{p}" for p in cache.players]
        + [f"zphi_{p}" for p in cache.players]
        + ["score", "baseline"]
    )
    parts = [_aggregate(recs, None, OVERALL, cols)]
    for by, kind in (
        ("user_group", "user group"),
        ("item_category", "item category"),
        ("popularity_bucket", "popularity bucket"),
        ("cold", "cold items"),
    ):
        if by in recs.columns:
            parts.append(_aggregate(recs, by, kind, cols))
    shares = pd.concat(parts, ignore_index=True)
    counts = np.bincount(recs["item"].to_numpy(), minlength=ds.n_items)
    exposure = pd.DataFrame(
        {"item": np.arange(ds.n_items), "recommended": counts, "popularity": popularity}
    )
    n_users = int(recs["user"].nunique()) if len(recs) else 0
    summary = {
        "variant": variant_of(loaded),
        "k": k,
        "users": n_users,
        "recommendations": len(recs),
        "items": ds.n_items,
        "exposure_gini": gini(counts),
        "coverage": float((counts > 0).mean()) if ds.n_items else 0.0,
        "players": list(cache.players),
        "branches": list(cache.branches),
    }
    return AuditResult(
        variant_of(loaded), k, cache.players, cache.branches, recs, shares, exposure, summary
    )
