"""Layout panels as one component drawn in the browser: the spaces of *Embedding spaces* and
the Figure-1 panels of *Positional collapse*.

Every panel is a canvas, and the browser draws all of them from one payload: the items, their
titles and colours, and each panel's points. Hover, click, box and lasso selection happen in
the browser, at once and in every panel (the same item is ringed wherever it lies); only a
finished selection goes back to the server, which summarises it. Drawing the panels as plotly
charts cost seconds per interaction on a 2-core machine (each colour change or selection
redrew ten charts; docs/benchmarks.md), a redraw of the canvases a few milliseconds.

The payload (:func:`payload`) is plain JSON. Positions are scaled to integers in
``[0, SCALE]`` per panel and axis (what an autoscaled chart shows), items are referred to by
their row in the shared ``items`` list, and colours by their index in one palette.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.ui.charts import (
    LEVEL_PALETTE,
    MAX_LEVELS,
    SELECTED_COLOUR,
    SPACE_COLOURS,
    limit_levels,
)

SCALE = 10_000
#: Steps of the numeric colour scale (Viridis, low to high).
SCALE_STEPS = 64
MISSING_COLOUR = "#bbbbbb"
COMPONENT = "anchorrec.linked_panels"
_ASSETS = Path(__file__).with_name("linked_panels")


@dataclass(frozen=True)
class Panel:
    """One layout: row ``r`` of ``xy`` is item ``item_ids[r]`` (of space ``tags[r]`` if joint)."""

    space: str
    title: str
    caption: str
    xy: np.ndarray
    item_ids: np.ndarray
    tags: np.ndarray | None = None
    wide: bool = False
    heading: str = ""
    #: pixels (0: the grid's default)
    height: int = 0
    #: a joint layout of two spaces: join this many items' two points by a segment
    links: int = 0


def _scaled(values: np.ndarray) -> list[int]:
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return [SCALE // 2] * len(values)
    low, high = float(values[finite].min()), float(values[finite].max())
    span = high - low or 1.0
    out = np.where(finite, (values - low) / span, 0.5)
    return np.rint(out * SCALE).astype(int).tolist()


def viridis(steps: int = SCALE_STEPS) -> list[str]:
    """``steps`` colours of the Viridis scale, low to high, as ``#rrggbb``."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    out = []
    for c in sample_colorscale("Viridis", [i / (steps - 1) for i in range(steps)]):
        r, g, b = (round(float(v)) for v in unlabel_rgb(c))
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return out


def colouring(values: np.ndarray | pd.Series | None, name: str, items: np.ndarray) -> dict:
    """How the panels colour ``items``: by level (a legend entry each), on a scale, or not.

    ``values`` holds one value per catalogue item. A discrete colouring keeps every level its
    own colour up to :data:`MAX_LEVELS` (the rest "other"); a numeric one with more levels
    than that is drawn on the Viridis scale, missing values grey.
    """
    if values is None:
        return {"kind": "none", "name": "", "palette": [], "index": [], "text": []}
    picked = pd.Series(np.asarray(values, dtype=object)[items]) if len(items) else pd.Series([])
    numeric = pd.api.types.is_numeric_dtype(pd.Series(np.asarray(values)))
    if numeric and pd.Series(np.asarray(values)).nunique() > MAX_LEVELS:
        v = pd.to_numeric(picked, errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(v)
        low = float(np.nanmin(v)) if finite.any() else 0.0
        high = float(np.nanmax(v)) if finite.any() else 1.0
        step = np.rint((v - low) / ((high - low) or 1.0) * (SCALE_STEPS - 1))
        index = np.where(finite, np.nan_to_num(step), SCALE_STEPS).astype(int)
        return {
            "kind": "scale",
            "name": name,
            "palette": [*viridis(), MISSING_COLOUR],
            "index": index.tolist(),
            "text": [f"{x:.3g}" if np.isfinite(x) else "missing" for x in v],
            "range": [low, high],
        }
    levels = limit_levels(picked).to_numpy().astype(str)
    order = sorted(set(levels), key=str)
    position = {level: i for i, level in enumerate(order)}
    palette = [LEVEL_PALETTE[i % len(LEVEL_PALETTE)] for i in range(len(order))]
    return {
        "kind": "levels",
        "name": name,
        "palette": palette,
        "index": [position[level] for level in levels],
        "text": levels.tolist(),
        "legend": order,
    }


def _segments(tags: np.ndarray, ids: np.ndarray, names: list[str], links: int) -> list[list[int]]:
    """Point pairs ``[a, b]`` of the first ``links`` items drawn in both of a two-space layout."""
    if len(names) != 2 or links <= 0:
        return []
    first = np.flatnonzero(tags == names[0])
    second = {int(ids[r]): int(r) for r in np.flatnonzero(tags == names[1])}
    pairs = [[int(r), second[int(ids[r])]] for r in first if int(ids[r]) in second]
    return pairs[:links]


def payload(
    panels: Sequence[Panel],
    titles: np.ndarray,
    colour: np.ndarray | pd.Series | None = None,
    colour_name: str = "",
    *,
    selected: Sequence[int] = (),
    found: Sequence[int] = (),
    columns: int = 3,
    shop_ids: np.ndarray | None = None,
) -> dict:
    """The component's data: shared items (id, title, colour, the shop's own id when an
    imported catalogue has one) and each panel's points."""
    items = np.unique(np.concatenate([np.asarray(p.item_ids, dtype=np.int64) for p in panels]))
    row_of = {int(i): r for r, i in enumerate(items)}
    out_panels = []
    for p in panels:
        ids = np.asarray(p.item_ids, dtype=np.int64)
        entry = {
            "space": p.space,
            "title": p.title,
            "caption": p.caption,
            "wide": p.wide,
            "heading": p.heading,
            "x": _scaled(p.xy[:, 0]),
            "y": _scaled(-np.asarray(p.xy[:, 1], dtype=float)),  # screen y grows downwards
            "rows": [row_of[int(i)] for i in ids],
        }
        if p.tags is not None:
            tags = np.asarray(p.tags).astype(str)
            names = list(dict.fromkeys(tags.tolist()))
            entry["tag_names"] = names
            entry["tag_colours"] = [
                SPACE_COLOURS.get(n, LEVEL_PALETTE[i % len(LEVEL_PALETTE)])
                for i, n in enumerate(names)
            ]
            position = {n: i for i, n in enumerate(names)}
            entry["tags"] = [position[t] for t in tags]
            entry["segments"] = _segments(tags, ids, names, p.links)
        entry["height"] = int(p.height)
        out_panels.append(entry)
    present = set(row_of)
    return {
        "items": items.tolist(),
        "titles": [str(t) for t in np.asarray(titles, dtype=object)[items]],
        "shop_ids": [] if shop_ids is None else [str(v) for v in shop_ids[items]],
        "colour": colouring(colour, colour_name, items),
        "panels": out_panels,
        "selected": [int(i) for i in selected if int(i) in present],
        "found": [int(i) for i in found if int(i) in present],
        "ring": SELECTED_COLOUR,
        "columns": int(columns),
    }


def selection_items(state: object) -> tuple[list[int], object] | None:
    """The item ids of the component's last selection and a signature of it (None if none).

    The component's state is ``{"selection": {"items": [...], "gesture": ..., "seq": n}}``;
    anything else (an absent or malformed state) reads as no selection.
    """
    if not isinstance(state, dict):
        return None
    sel = state.get("selection")
    if not isinstance(sel, dict) or not isinstance(sel.get("items"), list):
        return None
    ids: list[int] = []
    for i in sel["items"]:
        try:
            item = int(i)
        except (TypeError, ValueError):
            continue
        if item not in ids:
            ids.append(item)
    return ids, json.dumps(sel, sort_keys=True, default=str)


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


_RENDERER = None


def _renderer():
    """The component's mounting command, registered once per process."""
    global _RENDERER
    if _RENDERER is None:
        import streamlit as st

        _RENDERER = st.components.v2.component(
            COMPONENT, html="", css=_asset("panels.css"), js=_asset("panels.js")
        )
    return _RENDERER


def show(data: dict, *, key: str, on_change) -> None:
    """Draw the panels of ``data`` (from :func:`payload`); ``on_change`` runs on a selection."""
    _renderer()(key=key, data=data, on_selection_change=on_change, height="content")
