"""The diagnostics report of one model: its rows, the side-by-side comparison of several
models, and the stored copy beside a model (what ``prepare`` writes, the pages read).

Split from :mod:`anchorrec.analysis.diagnostics` (which computes the report and re-exports
every name here), so that reading a stored report needs neither torch nor the attribution.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from anchorrec.models.model_dir import ModelDir

#: Level of every bootstrap interval.
LEVEL = 0.95

MEANINGS: dict[str, str] = {
    "effective_rank": "How many directions the space really uses (1 = everything on a line); null: a Gaussian space of the same shape.",
    "uniformity": "How evenly the items spread on the sphere (0 = all point the same way, more negative = more uniform); null: a Gaussian space.",
    "alignment": "Mean squared distance between an item's two normalised vectors (0 = aligned, 4 = opposite); null: unpaired items.",
    "linear_cka": "Similarity of the two spaces' geometry (1 = same up to rotation and scale); null: the same spaces with items shuffled.",
    "knn_overlap": "Share of an item's 10 nearest neighbours that are the same in both spaces; chance: k/(N−1).",
    "neighbour_text_cosine": "Mean raw-text cosine between an item and its top-3 final-space neighbours (higher = neighbours follow text); null: random items.",
    "neighbour_image_cosine": "Mean raw-image cosine between an item and its top-3 final-space neighbours (higher = neighbours follow images); null: random items.",
    "neighbour_shared_users": "Mean number of train users an item shares with each of its top-3 final-space neighbours (higher = neighbours follow the interaction graph); null: random items.",
    "neighbour_two_hop_share": "Share of an item's top-3 final-space neighbours within two hops of it in the interaction graph (bought by a common user); null: random items.",
    "coembedding_displacement": "Mean distance between an item's ID-view vector and its final vector, relative to the distance to other items' final vectors (≈0 = the final vectors sit on the ID vectors: positional collapse); null: 1.",
    "branch_variance_share": "Share of the final item space's variance carried by this branch, Cov(branch, final) / Var(final) summed over dimensions (the shares add up to 1; can be negative); null: equal shares.",
    "branch_magnitude": "Mean |h_u · branch_i| over the top-10 lists: how much of the score's size this branch moves; null: 0.",
    "id_dominance": "ID share |φ_id|/Σ|φ| of input-level attribution (mean-reference game) over the top-10 lists (1 = recommendations driven by IDs alone); null: 1/number of inputs.",
}


@dataclass(frozen=True)
class Diagnostic:
    """One number with its interval, where it was measured, its chance level and its meaning.

    ``low`` / ``high``: a :data:`LEVEL` percentile-bootstrap interval over items (over users
    for the attribution-based rows), None when not computed.
    """

    metric: str
    space: str
    value: float
    null: float
    null_kind: str
    meaning: str
    low: float | None = None
    high: float | None = None


@dataclass
class DiagnosticsReport:
    """Every diagnostic of one model; :meth:`table` gives the DataFrame the dashboard shows.

    ``distributions`` holds per-item distributions (``coembedding_displacement``: its
    quantiles and a histogram), for the pages to draw.
    """

    variant: str
    n_items: int
    rows: list[Diagnostic] = field(default_factory=list)
    distributions: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(
        self,
        metric: str,
        space: str,
        value: float,
        null: float,
        null_kind: str,
        interval: tuple[float, float] = (float("nan"), float("nan")),
    ) -> None:
        self.rows.append(
            Diagnostic(
                metric,
                space,
                float(value),
                float(null),
                null_kind,
                MEANINGS[metric],
                *_bounds(interval),
            )
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [asdict(r) for r in self.rows], columns=list(Diagnostic.__dataclass_fields__)
        )

    def value(self, metric: str, space: str | None = None) -> float:
        """The value of ``metric`` (in ``space`` when several spaces have it)."""
        return self.row(metric, space).value

    def row(self, metric: str, space: str | None = None) -> Diagnostic:
        for r in self.rows:
            if r.metric == metric and (space is None or r.space == space):
                return r
        raise KeyError(f"{metric} {space or ''}".strip())

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "n_items": self.n_items,
            "diagnostics": [asdict(r) for r in self.rows],
            "distributions": self.distributions,
        }


def _bounds(interval: tuple[float, float]) -> tuple[float | None, float | None]:
    low, high = (float(x) for x in interval)
    if math.isnan(low) or math.isnan(high):
        return None, None
    return low, high


def compare(reports: list[DiagnosticsReport]) -> pd.DataFrame:
    """Reports of several variants side by side: one row per (metric, space), one column each."""
    frames = []
    for r in reports:
        t = r.table()
        t = t.assign(variant=r.variant)
        frames.append(t)
    if not frames:
        return pd.DataFrame()
    all_rows = pd.concat(frames, ignore_index=True)
    wide = all_rows.pivot_table(
        index=["metric", "space"], columns="variant", values="value", sort=False
    )
    nulls = all_rows.groupby(["metric", "space"], sort=False)["null"].first()
    wide["null"] = nulls
    return wide.reset_index()


def overlaps(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> bool:
    """Whether two intervals overlap (an unknown interval overlaps everything)."""
    if any(x is None or math.isnan(x) for x in (*a, *b)):
        return True
    return a[0] <= b[1] and b[0] <= a[1]  # type: ignore[operator]


def compare_with_intervals(reports: list[DiagnosticsReport]) -> pd.DataFrame:
    """Side by side with intervals: one row per (metric, space), a ``value [low, high]`` column
    per variant, the null, and ``verdict``: ``tie`` when every two variants' intervals overlap,
    else the pairs whose intervals are apart (``a > b``)."""
    keys: list[tuple[str, str]] = []
    for r in reports:
        for d in r.rows:
            if (d.metric, d.space) not in keys:
                keys.append((d.metric, d.space))
    rows = []
    for metric, space in keys:
        row: dict[str, Any] = {"metric": metric, "space": space}
        found: dict[str, Diagnostic] = {}
        for r in reports:
            try:
                d = r.row(metric, space)
            except KeyError:
                row[r.variant] = "—"
                continue
            found[r.variant] = d
            row[r.variant] = format_interval(d)
        row["null"] = format_value(next(iter(found.values())).null) if found else "—"
        apart = []
        names = list(found)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                da, db = found[a], found[b]
                if not overlaps((da.low, da.high), (db.low, db.high)):
                    apart.append(f"{a} > {b}" if da.value > db.value else f"{b} > {a}")
        row["verdict"] = "" if len(found) < 2 else ("tie" if not apart else "; ".join(apart))
        rows.append(row)
    return pd.DataFrame(rows)


def format_interval(d: Diagnostic) -> str:
    if d.low is None or d.high is None:
        return format_value(d.value)
    return f"{format_value(d.value)} [{format_value(d.low)}, {format_value(d.high)}]"


def format_value(x: float) -> str:
    if math.isnan(x):
        return "—"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


# ---------------------------------------------------------------------- stored reports
#: Name and format of the stored report in the model's derived store.
DIAGNOSTICS_FILE = "diagnostics.json"
#: Bumped whenever a metric's definition changes (2: intervals, the pairwise co-interaction
#: metrics, branch variance shares and magnitudes, no 2-D displacement), so a report stored
#: under an older definition is recomputed rather than shown.
DIAGNOSTICS_FORMAT = "anchorrec-diagnostics-v2"


def _interval(row: dict[str, Any]) -> dict[str, float | None]:
    """``low`` / ``high`` of a stored row, None when absent or not a number."""
    out: dict[str, float | None] = {}
    for key in ("low", "high"):
        value = row.get(key)
        out[key] = float(value) if isinstance(value, int | float) and value == value else None
    return out


def report_from_json(data: dict[str, Any]) -> DiagnosticsReport:
    rows = [Diagnostic(**{**row, **_interval(row)}) for row in data["diagnostics"]]
    return DiagnosticsReport(
        variant=data["variant"],
        n_items=int(data["n_items"]),
        rows=rows,
        distributions=dict(data.get("distributions") or {}),
    )


def read_diagnostics(model_dir: str | Path) -> DiagnosticsReport | None:
    """The stored report of the model in ``model_dir``, or None (absent, unreadable or
    written for another model: a retrained model's stale report is ignored)."""
    data = ModelDir(model_dir).store().read_json(DIAGNOSTICS_FILE, DIAGNOSTICS_FORMAT)
    if data is None:
        return None
    try:
        return report_from_json(data)
    except (KeyError, TypeError, ValueError):
        return None
