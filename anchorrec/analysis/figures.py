"""A layout panel or the paper's Figure 1 as a picture for a paper: SVG and PNG, offline.

Drawn with matplotlib's Agg and SVG backends and its bundled DejaVu fonts: nothing is
downloaded (no browser, no kaleido). Every picture states the model it came from: its
fingerprint is in the caption line under the plot and in the file's metadata (SVG
``Description``, PNG text chunk).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from anchorrec.errors import ConfigError
from anchorrec.fileio import atomic_dir, check_output_dir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from anchorrec.models.checkpoint import LoadedModel

#: Colours of the two clouds of Figure 1 and of a plain panel.
CLOUD_COLOURS: tuple[str, ...] = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e")
PLAIN = "#4c72b0"
#: Items of Figure 1 whose two points are joined (as on the Positional collapse page).
FIGURE_ONE_LINKS = 150
FORMATS: tuple[str, ...] = ("svg", "png")
FIGURE_ONE = "figure1"


def panel_figure(
    xy: np.ndarray,
    *,
    title: str,
    note: str,
    tags: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
    links: int = 0,
    categories: np.ndarray | None = None,
) -> Figure:
    """One layout as a figure: points coloured by ``tags`` (a joint layout: one cloud per
    space, ``links`` items' points joined) or by ``categories``; ``note`` under the plot."""
    from matplotlib.figure import Figure

    xy = np.asarray(xy, dtype=np.float64)
    fig = Figure(figsize=(5.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    if tags is not None:
        names = list(dict.fromkeys(np.asarray(tags).tolist()))
        if links and item_ids is not None and len(names) == 2:
            ids = np.asarray(item_ids)
            first, second = (np.flatnonzero(np.asarray(tags) == n) for n in names)
            where = {int(ids[r]): r for r in second}
            pairs = [(r, where[int(ids[r])]) for r in first if int(ids[r]) in where][:links]
            if pairs:
                from matplotlib.collections import LineCollection

                a, b = (np.array([p[i] for p in pairs], dtype=np.int64) for i in (0, 1))
                segments = np.stack([xy[a], xy[b]], axis=1)
                ax.add_collection(
                    LineCollection(list(segments), colors="#999999", lw=0.4, alpha=0.6)
                )
        for n, name in enumerate(names):
            sel = np.asarray(tags) == name
            colour = CLOUD_COLOURS[n % len(CLOUD_COLOURS)]
            ax.scatter(xy[sel, 0], xy[sel, 1], s=4, alpha=0.6, color=colour, label=str(name), lw=0)
        ax.legend(loc="best", fontsize=8, markerscale=3, frameon=False)
    elif categories is not None:
        cats = np.asarray(categories).astype(str)
        values = sorted(set(cats.tolist()))
        for n, value in enumerate(values[:10]):
            sel = cats == value
            ax.scatter(xy[sel, 0], xy[sel, 1], s=4, alpha=0.7, lw=0, label=value, color=f"C{n}")
        rest = ~np.isin(cats, values[:10])
        if rest.any():
            ax.scatter(
                xy[rest, 0], xy[rest, 1], s=4, alpha=0.5, lw=0, color="#aaaaaa", label="other"
            )
        ax.legend(loc="best", fontsize=7, markerscale=3, frameon=False)
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=4, alpha=0.6, lw=0, color=PLAIN)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    fig.supxlabel(note, fontsize=6, color="#666666")
    return fig


def figure_bytes(fig: Figure, fmt: str, description: str = "") -> bytes:
    """The figure as SVG or PNG bytes (no date in the SVG: the same input gives the same file)."""
    if fmt not in FORMATS:
        raise ConfigError(f"figure format {fmt!r}: use svg or png.")
    buf = io.BytesIO()
    if fmt == "svg":
        fig.savefig(buf, format="svg", metadata={"Date": None, "Description": description})
    else:
        fig.savefig(buf, format="png", dpi=200, metadata={"Description": description})
    return buf.getvalue()


def _layout(loaded: LoadedModel, name: str, method: str) -> Any:
    from anchorrec.analysis.projection import (
        COEMBEDDING,
        ProjectionCache,
        compute_projections,
    )
    from anchorrec.analysis.spaces import model_spaces
    from anchorrec.models.model_dir import ModelDir

    space = COEMBEDDING if name == FIGURE_ONE else name
    if loaded.model_dir is not None:
        folder = ModelDir(loaded.model_dir).store().write_folder
        found = ProjectionCache(folder, loaded.fingerprint).get(space, method)
        if found is not None:
            return found
    spaces = model_spaces(loaded)
    wanted = {n: s for n, s in spaces.items() if n in (space, "final") or space == COEMBEDDING}
    layouts = compute_projections(wanted, [method])
    if (space, method) not in layouts:
        known = [n for n, s in spaces.items() if s.kind == "item"]
        raise ConfigError(
            f"--panel {name!r}: the {loaded.variant} model has no such layout; use figure1 "
            f"(ID view against final vectors) or an item space ({', '.join(known)})."
        )
    return layouts[(space, method)]


def model_figure(loaded: LoadedModel, panel: str = FIGURE_ONE, method: str = "umap") -> Figure:
    """The figure of ``panel`` (``figure1`` or an item space) of a loaded model."""
    proj = _layout(loaded, panel, method)
    ds = loaded.dataset
    note = (
        f"{loaded.variant} on {ds.name} · {method.upper()} · trustworthiness "
        f"{proj.trustworthiness:.2f} · model {loaded.fingerprint}"
    )
    if panel == FIGURE_ONE:
        return panel_figure(
            proj.xy,
            title=f"{loaded.variant}: ID view H and final vectors h",
            note=note,
            tags=proj.tag_labels,
            item_ids=proj.item_ids,
            links=FIGURE_ONE_LINKS,
        )
    categories = None
    if ds.items is not None and "category" in ds.items.columns:
        categories = ds.items["category"].to_numpy()[proj.item_ids]
    return panel_figure(
        proj.xy, title=f"{loaded.variant}: {panel}", note=note, categories=categories
    )


def export_figure(
    loaded: LoadedModel,
    out_dir: str | Path,
    panel: str = FIGURE_ONE,
    method: str = "umap",
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``<panel>.svg`` and ``<panel>.png`` (and ``export.json``) into ``out_dir``."""
    from anchorrec.analysis.exports import EXPORT_FILE, _write_record, export_record

    out = Path(out_dir)
    check_output_dir(out, overwrite=overwrite)
    fig = model_figure(loaded, panel, method)
    description = f"AnchorRec Studio {panel} of model {loaded.fingerprint}"
    files = [f"{panel}.{fmt}" for fmt in FORMATS] + [EXPORT_FILE]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for fmt in FORMATS:
            (tmp / f"{panel}.{fmt}").write_bytes(figure_bytes(fig, fmt, description))
        record = export_record(loaded, "figure", files, panel=panel, method=method)
        _write_record(tmp, record)
    return record
