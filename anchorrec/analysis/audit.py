"""Audit of a model's recommendations: what drives them, for whom, and how concentrated.

:func:`audit` attributes every user's top-``k`` list (exact input- and branch-level Shapley,
see :mod:`anchorrec.analysis.attribution`) and aggregates the shares overall and by
segment — the user's group (a ``group`` column of users.csv, e.g. the sample's planted
driver), the user's activity (train-interaction tertiles, any dataset), the item's category, its popularity bucket and whether it is cold — with the
exposure concentration (Gini of recommendation counts) and catalogue coverage. It records its
provenance (dataset fingerprint, weights SHA-256, code version, time, attribution game) and
flags segments with fewer than :data:`SMALL_SEGMENT` recommendations.
"""

from __future__ import annotations

import datetime as _dt
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution import (
    GAME_QUESTIONS,
    MEAN_GAME,
    Attribution,
    Progress,
    attribute_top_k,
    coalition_cache,
)
from anchorrec.evaluation.segments import (  # noqa: F401 - HEAD/TAIL_SHARE re-exported
    HEAD_SHARE,
    TAIL_SHARE,
    popularity_buckets,
    user_activity,
)
from anchorrec.stats import gini

if TYPE_CHECKING:
    from anchorrec.models.base import Embeddings
    from anchorrec.models.checkpoint import LoadedModel

#: An item is *cold* when it has at most this many train interactions.
COLD_MAX_INTERACTIONS = 3
#: Column of users.csv / items.csv that defines a segment, in order of preference.
USER_GROUP_COLUMNS: tuple[str, ...] = ("group", "segment")
ITEM_CATEGORY_COLUMNS: tuple[str, ...] = ("category",)

OVERALL = "all"
#: A segment with fewer recommendations than this is flagged as too small to read.
SMALL_SEGMENT = 30


@dataclass(frozen=True)
class AuditResult:
    """Everything :func:`audit` computed.

    ``recommendations``: one row per (user, recommended item) with ``phi_*``, ``share_*``,
    ``branch_*``, ``branch_share_*`` and the segment columns ``user_group``,
    ``item_category``, ``popularity_bucket``, ``cold``.
    ``shares``: one row per segment (``kind``, ``segment``, ``n``, ``users``, mean
    ``share_*`` / ``phi_*`` / ``branch_share_*``); the first row is ``kind == "all"``.
    ``exposure``: recommendation count and popularity of every item.
    ``summary``: Gini of exposure, coverage and the sizes, and ``shown_lists``: what the
    lists the shop shows through the cold-start path hold (None without one; see
    :mod:`anchorrec.analysis.shown_lists`).
    ``attribution``: the typed values behind ``recommendations``; ``provenance``: what the
    audit was computed from (see :func:`provenance`).
    """

    variant: str
    k: int
    players: tuple[str, ...]
    branches: tuple[str, ...]
    recommendations: pd.DataFrame
    shares: pd.DataFrame
    exposure: pd.DataFrame
    summary: dict[str, Any]
    game: str = MEAN_GAME
    attribution: Attribution | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


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


def _git_revision() -> str | None:
    """The short git revision of the checkout the package runs from, when it is one."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance(loaded: LoadedModel, game: str) -> dict[str, Any]:
    """What an audit was computed from: dataset fingerprint, weights SHA-256, code version,
    UTC time, attribution game (and the question it answers), model directory."""
    import anchorrec

    info = getattr(loaded, "info", None) or {}
    ds = loaded.dataset
    model_dir = loaded.model_dir
    revision = _git_revision()
    return {
        "dataset": ds.name,
        "dataset_fingerprint": ds.fingerprint,
        "model_dir": str(model_dir) if model_dir is not None else None,
        "weights_sha256": info.get("weights_sha256"),
        "model_code_version": info.get("code_version"),
        "code_version": anchorrec.__version__ + (f" (git {revision})" if revision else ""),
        "time": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "game": game,
        "game_question": GAME_QUESTIONS[game],
    }


def audit(
    loaded: LoadedModel,
    k: int = 10,
    users: np.ndarray | None = None,
    *,
    game: str = MEAN_GAME,
    progress: Progress | None = None,
    ranking: Callable[[bool], Embeddings] | None = None,
) -> AuditResult:
    """Attribute every user's top-``k`` (under ``game``) and aggregate overall and by segment
    (``progress(done, total)`` as :func:`~anchorrec.analysis.attribution.attribute_top_k`)."""
    ds = loaded.dataset
    cache = coalition_cache(loaded, game=game)
    attribution = attribute_top_k(cache, k=k, users=users, progress=progress)
    recs = attribution.to_frame()
    popularity = ds.item_popularity()
    group = _column(ds.users, USER_GROUP_COLUMNS)
    category = _column(ds.items, ITEM_CATEGORY_COLUMNS)
    if group is not None:
        recs["user_group"] = group.to_numpy()[recs["user"].to_numpy()]
    recs["user_activity"] = user_activity(ds)[recs["user"].to_numpy()]
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
        ("user_activity", "user activity"),
        ("item_category", "item category"),
        ("popularity_bucket", "popularity bucket"),
        ("cold", "cold items"),
    ):
        if by in recs.columns:
            parts.append(_aggregate(recs, by, kind, cols))
    shares = pd.concat(parts, ignore_index=True)
    shares["small"] = shares["n"] < SMALL_SEGMENT
    counts = np.bincount(recs["item"].to_numpy(), minlength=ds.n_items)
    exposure = pd.DataFrame(
        {"item": np.arange(ds.n_items), "recommended": counts, "popularity": popularity}
    )
    n_users = int(recs["user"].nunique()) if len(recs) else 0
    summary = {
        "variant": loaded.variant,
        "k": k,
        "users": n_users,
        "recommendations": len(recs),
        "items": ds.n_items,
        "exposure_gini": gini(counts),
        "coverage": float((counts > 0).mean()) if ds.n_items else 0.0,
        "players": list(cache.players),
        "branches": list(cache.branches),
        "game": cache.game,
        "efficiency_error": attribution.efficiency_error(),
        "shown_lists": _shown(loaded, k, users, ranking),
    }
    return AuditResult(
        loaded.variant,
        k,
        cache.players,
        cache.branches,
        recs,
        shares,
        exposure,
        summary,
        game=cache.game,
        attribution=attribution,
        provenance=provenance(loaded, cache.game),
    )


def _shown(
    loaded: LoadedModel,
    k: int,
    users: np.ndarray | None,
    ranking: Callable[[bool], Embeddings] | None,
) -> dict[str, Any] | None:
    from anchorrec.analysis.shown_lists import shown_lists

    shown = shown_lists(loaded, k, users, ranking)
    return None if shown is None else shown.to_json()


#: Leading columns of the per-recommendation export.
RECOMMENDATION_COLUMNS: tuple[str, ...] = ("user", "rank", "item", "score", "baseline")


def recommendations_frame(result: AuditResult) -> pd.DataFrame:
    """One row per recommendation: ``user``, ``rank``, ``item``, ``score``, ``baseline``, every
    signed input value ``phi_<player>`` and branch value ``branch_<name>``, then the segments.

    Per row ``baseline + Σ phi_* == score`` and ``Σ branch_* == score``: an auditor can
    re-add the numbers.
    """
    recs = result.recommendations
    signed = [f"phi_{p}" for p in result.players] + [f"branch_{b}" for b in result.branches]
    segments = [
        c
        for c in ("user_group", "user_activity", "item_category", "popularity_bucket", "cold")
        if c in recs
    ]
    return recs[[*RECOMMENDATION_COLUMNS, *signed, *segments]].assign(game=result.game)


def history_frame(loaded: LoadedModel, result: AuditResult) -> pd.DataFrame | None:
    """Per recommendation, every past purchase's part of its score (None when the model is
    not linear in the history): ``user``, ``rank``, ``item``, ``bought`` (a history item, or -1
    for the part no history item owns), ``contribution`` and one column per path. Per
    recommendation the contributions add up to its score."""
    from anchorrec.analysis.history import history_explainer

    explainer = history_explainer(loaded)
    if explainer is None:
        return None
    recs = result.recommendations
    paths = explainer.paths
    columns: dict[str, list[Any]] = {
        "user": [],
        "rank": [],
        "item": [],
        "bought": [],
        "contribution": [],
        **{f"path_{p}": [] for p in paths},
    }
    for user, rank, item in zip(recs["user"], recs["rank"], recs["item"], strict=True):
        h = explainer.explain(int(user), int(item))
        n = len(h.history) + 1
        columns["user"] += [int(user)] * n
        columns["rank"] += [int(rank)] * n
        columns["item"] += [int(item)] * n
        columns["bought"] += [-1, *h.history.tolist()]
        columns["contribution"] += [h.unowned, *h.contributions.tolist()]
        for t, p in enumerate(paths):
            columns[f"path_{p}"] += [float("nan"), *h.by_path[t].tolist()]
    return pd.DataFrame(columns)


def mean_share_by_item(audit: AuditResult, player: str, n_items: int) -> np.ndarray | None:
    """Each item's mean share of ``player`` over the audited lists it appears in (NaN: never
    recommended); None when the model has no such input."""
    if player not in audit.players:
        return None
    recs = audit.recommendations
    items = recs["item"].to_numpy()
    sums = np.bincount(items, weights=recs[f"share_{player}"].to_numpy(), minlength=n_items)
    counts = np.bincount(items, minlength=n_items)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
