"""Collapse and ID-dominance diagnostics of one trained model, each beside its chance level.

:func:`diagnose` computes the table the dashboard shows per variant: effective rank and
uniformity of every item space, CKA and kNN overlap between the spaces that matter, the
alignment of the anchor domain, the paper's neighbour coherence, the Figure-1 co-embedding
displacement and the ID-dominance index. Every row carries a null/chance level and a
one-line meaning.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.analysis import geometry as g
from anchorrec.analysis.attribution import coalition_cache, top_k_attribution
from anchorrec.analysis.context import dataset_of, model_dir_of, model_fingerprint, variant_of
from anchorrec.analysis.spaces import COEMBEDDING_SPACES, Space, item_spaces, model_spaces
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

#: Top-k neighbours of the paper's qualitative evidence (Baby, top-3 in the final space).
COHERENCE_K = 3
OVERLAP_K = 10
#: Users whose top-K lists enter the ID-dominance index (a seeded sample above this).
DOMINANCE_MAX_USERS = 5_000
DOMINANCE_K = 10

MEANINGS: dict[str, str] = {
    "effective_rank": "How many directions the space really uses (1 = everything on a line); null: a Gaussian space of the same shape.",
    "uniformity": "How evenly the items spread on the sphere (0 = all point the same way, more negative = more uniform); null: a Gaussian space.",
    "alignment": "Mean squared distance between an item's two normalised vectors (0 = aligned, 4 = opposite); null: unpaired items.",
    "linear_cka": "Similarity of the two spaces' geometry (1 = same up to rotation and scale); null: the same spaces with items shuffled.",
    "knn_overlap": "Share of an item's 10 nearest neighbours that are the same in both spaces; chance: k/(N−1).",
    "neighbour_text_cosine": "Mean raw-text cosine between an item and its top-3 final-space neighbours (higher = neighbours follow text); null: random items.",
    "neighbour_image_cosine": "Mean raw-image cosine between an item and its top-3 final-space neighbours (higher = neighbours follow images); null: random items.",
    "neighbour_co_interactions": "Mean number of 2-hop co-interacted items of the top-3 final-space neighbours (higher = neighbours follow the interaction graph); null: random items.",
    "coembedding_displacement": "Mean distance between an item's ID-view vector and its final vector, relative to the distance to other items' final vectors (≈0 = the final vectors sit on the ID vectors: positional collapse); null: 1.",
    "coembedding_displacement_2d": "The same in the cached joint 2-D layout of the ID view and the final vectors (the paper's Figure 1): mean distance between an item's two points over the distance to other items' final points; null: 1.",
    "id_dominance": "ID share |φ_id|/Σ|φ| of input-level attribution over the top-10 lists (1 = recommendations driven by IDs alone); null: 1/number of inputs.",
}


@dataclass(frozen=True)
class Diagnostic:
    """One number, where it was measured, what it would be by chance, and what it means."""

    metric: str
    space: str
    value: float
    null: float
    null_kind: str
    meaning: str


@dataclass
class DiagnosticsReport:
    """Every diagnostic of one model; :meth:`table` gives the DataFrame the dashboard shows."""

    variant: str
    n_items: int
    rows: list[Diagnostic] = field(default_factory=list)

    def add(self, metric: str, space: str, value: float, null: float, null_kind: str) -> None:
        self.rows.append(
            Diagnostic(metric, space, float(value), float(null), null_kind, MEANINGS[metric])
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [asdict(r) for r in self.rows], columns=list(Diagnostic.__dataclass_fields__)
        )

    def value(self, metric: str, space: str | None = None) -> float:
        """The value of ``metric`` (in ``space`` when several spaces have it)."""
        for r in self.rows:
            if r.metric == metric and (space is None or r.space == space):
                return r.value
        raise KeyError(f"{metric} {space or ''}".strip())

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "n_items": self.n_items,
            "diagnostics": [asdict(r) for r in self.rows],
        }


def _gaussian_like(x: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=x.shape)


#: Space pairs compared by CKA and kNN overlap (when both exist).
SPACE_PAIRS: tuple[tuple[str, str], ...] = (
    ("final", "id_view"),
    ("final", "raw_text"),
    ("final", "raw_image"),
    ("fused_view", "id_view"),
    ("anchor_fused", "anchor_id"),
)
#: Positive pairs of the anchor domain (and of direct alignment's representation space).
ALIGNMENT_PAIRS: tuple[tuple[str, str], ...] = (
    ("anchor_fused", "anchor_id"),
    ("anchor_fused", "anchor_mixup"),
    ("anchor_fused", "anchor_image"),
    ("anchor_fused", "anchor_text"),
    ("fused_view", "id_view"),
)


def space_diagnostics(
    report: DiagnosticsReport, spaces: dict[str, Space], *, seed: int = 0
) -> None:
    """Effective rank and uniformity of each item space, CKA / overlap / alignment of pairs."""
    items = item_spaces(spaces)
    for name, space in items.items():
        rows = g.sample_rows(space.n_rows, g.DEFAULT_MAX_ROWS, seed)
        x = space.matrix[rows]
        gauss = _gaussian_like(x, seed)
        report.add("effective_rank", name, g.effective_rank(x), g.effective_rank(gauss), "gaussian")
        report.add(
            "uniformity",
            name,
            g.uniformity(x, seed=seed),
            g.uniformity(gauss, seed=seed),
            "gaussian",
        )
    for a, b in ALIGNMENT_PAIRS:
        if a in items and b in items and items[a].dim == items[b].dim:
            x, y = items[a].matrix, items[b].matrix
            report.add(
                "alignment",
                f"{a}~{b}",
                g.alignment(x, y),
                g.alignment_null(x, y, seed),
                "permutation",
            )
    for a, b in SPACE_PAIRS:
        if a in items and b in items:
            rows = g.sample_rows(items[a].n_rows, g.DEFAULT_MAX_ROWS, seed)
            x, y = items[a].matrix[rows], items[b].matrix[rows]
            null_mean, _ = g.cka_permutation_null(x, y, seed=seed)
            report.add("linear_cka", f"{a}~{b}", g.linear_cka(x, y), null_mean, "permutation")
            report.add(
                "knn_overlap",
                f"{a}~{b}",
                g.knn_overlap(items[a].matrix, items[b].matrix, OVERLAP_K, seed=seed),
                g.knn_overlap_chance(items[a].n_rows, OVERLAP_K),
                "chance",
            )


def neighbour_coherence(
    final: np.ndarray,
    train: Any,
    raw: dict[str, np.ndarray],
    *,
    k: int = COHERENCE_K,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """The paper's evidence: what an item's top-``k`` final-space neighbours share with it.

    Returns ``{metric: (value, null)}`` for the mean raw-text and raw-image cosine of the
    neighbours and their mean number of 2-hop co-interacted items; the null uses ``k``
    random other items instead of the neighbours.
    """
    rows = g.sample_rows(len(final), g.DEFAULT_MAX_ROWS, seed)
    nbrs = g.knn_indices(final, k, rows)
    rng = np.random.default_rng(seed)
    rand = rng.integers(0, len(final) - 1, size=nbrs.shape)
    rand = rand + (rand >= rows[:, None])  # never the item itself
    out: dict[str, tuple[float, float]] = {}
    for modality, metric in (
        ("text", "neighbour_text_cosine"),
        ("image", "neighbour_image_cosine"),
    ):
        if modality in raw:
            x = raw[modality]
            out[metric] = (
                float(g.mean_neighbour_cosine(x, rows, nbrs).mean()),
                float(g.mean_neighbour_cosine(x, rows, rand).mean()),
            )
    co = g.co_interaction_counts(train)
    out["neighbour_co_interactions"] = (float(co[nbrs].mean()), float(co[rand].mean()))
    return out


def coembedding_displacement(id_view: np.ndarray, final: np.ndarray, *, seed: int = 0) -> float:
    """Mean ‖h_i − H_i‖ over the mean ‖h_j − H_i‖ for random other items j (both standardised
    jointly, so the ratio is scale-free); ≈ 0 means the final vectors sit on the ID vectors."""
    joint_mean = np.concatenate([id_view, final]).mean(axis=0)
    scale = np.sqrt(((np.concatenate([id_view, final]) - joint_mean) ** 2).sum(axis=1).mean())
    a = (np.asarray(id_view, np.float64) - joint_mean) / scale
    b = (np.asarray(final, np.float64) - joint_mean) / scale
    own = np.linalg.norm(b - a, axis=1).mean()
    perm = np.random.default_rng(seed).permutation(len(a))
    other = np.linalg.norm(b[perm] - a, axis=1).mean()
    return float(own / other) if other > 0 else 0.0


def layout_displacement(layout: Any, *, seed: int = 0) -> float:
    """:func:`coembedding_displacement` measured in a joint 2-D layout (tags 0 = ID, 1 = final)."""
    ids, fin = layout.xy[layout.tags == 0], layout.xy[layout.tags == 1]
    own = np.linalg.norm(fin - ids, axis=1).mean()
    perm = np.random.default_rng(seed).permutation(len(ids))
    other = np.linalg.norm(fin[perm] - ids, axis=1).mean()
    return float(own / other) if other > 0 else 0.0


def _cached_coembedding(loaded: Any) -> Any:
    """The cached co-embedding layout of the model (t-SNE first, as in the paper), if any."""
    from anchorrec.analysis.projection import COEMBEDDING, ProjectionCache

    model_dir = model_dir_of(loaded)
    if model_dir is None:
        return None
    cache = ProjectionCache(model_dir, model_fingerprint(loaded))
    for method in ("tsne", "umap", "pca"):
        layout = cache.get(COEMBEDDING, method)
        if layout is not None and layout.tag_names == COEMBEDDING_SPACES:
            return layout
    return None


def id_dominance(loaded: Any, *, k: int = DOMINANCE_K, seed: int = 0) -> tuple[float, float]:
    """Mean input-level ID share over (a seeded sample of) all users' top-``k``, and 1/n."""
    cache = coalition_cache(loaded)
    users = g.sample_rows(cache.n_users, DOMINANCE_MAX_USERS, seed)
    table = top_k_attribution(cache, k=k, users=users)
    if "share_id" not in table:
        return 0.0, 1.0 / max(1, len(cache.players))
    return float(table["share_id"].mean()), 1.0 / len(cache.players)


def diagnose(loaded: Any, *, seed: int = 0, with_attribution: bool = True) -> DiagnosticsReport:
    """Every diagnostic of ``loaded`` (see :data:`MEANINGS`), as one table-able report."""
    spaces = model_spaces(loaded)
    ds = dataset_of(loaded)
    report = DiagnosticsReport(variant=variant_of(loaded), n_items=ds.n_items)
    space_diagnostics(report, spaces, seed=seed)
    final = spaces["final"].matrix
    raw = {m: spaces[f"raw_{m}"].matrix for m in ("text", "image") if f"raw_{m}" in spaces}
    for metric, (value, null) in neighbour_coherence(final, ds.train, raw, seed=seed).items():
        report.add(metric, "final", value, null, "random items")
    if "id_view" in spaces:
        report.add(
            "coembedding_displacement",
            "id_view~final",
            coembedding_displacement(spaces["id_view"].matrix, final, seed=seed),
            1.0,
            "unpaired items",
        )
    layout = _cached_coembedding(loaded)
    if layout is not None:
        report.add(
            "coembedding_displacement_2d",
            f"id_view~final ({layout.method})",
            layout_displacement(layout, seed=seed),
            1.0,
            "unpaired items",
        )
    if with_attribution and len(getattr(loaded, "model", loaded).players) > 1:
        value, null = id_dominance(loaded, seed=seed)
        report.add("id_dominance", "top-10", value, null, "equal shares")
    return report


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


def format_value(x: float) -> str:
    if math.isnan(x):
        return "—"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


# ---------------------------------------------------------------------- stored reports
#: Name and format of the stored report in the model's derived store.
DIAGNOSTICS_FILE = "diagnostics.json"
DIAGNOSTICS_FORMAT = "anchorrec-diagnostics-v1"


def report_from_json(data: dict[str, Any]) -> DiagnosticsReport:
    rows = [Diagnostic(**row) for row in data["diagnostics"]]
    return DiagnosticsReport(variant=data["variant"], n_items=int(data["n_items"]), rows=rows)


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


def store_diagnostics(loaded: LoadedModel, report: DiagnosticsReport | None = None):
    """Compute (unless given) and store the report of ``loaded``, so the dashboard reads it
    instead of running minutes of SVDs on a page load."""
    report = report if report is not None else diagnose(loaded)
    ModelDir(loaded.model_dir).store().write_json(
        DIAGNOSTICS_FILE, DIAGNOSTICS_FORMAT, report.to_json()
    )
    return report
