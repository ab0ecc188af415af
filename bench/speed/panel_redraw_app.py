"""The Streamlit script that ``bench/speed/panel_redraw.py`` measures (not a dashboard page).

Nine synthetic layout panels of the photo sample's size (1,289 points, ten categories), drawn
either by the plotly scatter the page drew before (:func:`layout_scatter`, kept here) as nine
charts in a 3 × 3 grid (``?mode=grid``, what *Embedding spaces* drew before) or as one chart
with nine subplots (``?mode=one``), as SVG or WebGL traces (``&kind=scatter|scattergl``), or by
the linked canvas panels the page draws now (``?mode=canvas``). A select box switches the
colouring between the categories and a numeric value, as the page's "Colour by" does.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anchorrec.ui import linked_panels  # noqa: E402
from anchorrec.ui.charts import (  # noqa: E402
    LEVEL_PALETTE,
    MAX_LEVELS,
    SELECTED_COLOUR,
    SPACE_COLOURS,
    PanelFigure,
    limit_levels,
)

N_ITEMS, PANELS = 1289, 9
MAX_POINTS = 20_000
WEBGL_MIN_POINTS = 2_500


def _points(kind: str, rows: np.ndarray, x, y, ids, titles, label: str = "") -> dict:
    """One marker trace of ``rows``: item ids in ``customdata``, the title as hover text."""
    return {
        "type": kind,
        "mode": "markers",
        "x": x[rows],
        "y": y[rows],
        "customdata": ids[rows, None],
        "hovertext": titles[rows],
        "hovertemplate": f"<b>%{{hovertext}}</b><br><br>{label}item_id=%{{customdata[0]}}"
        "<extra></extra>",
        "marker": {"size": 5, "opacity": 0.75},
        "selected": {"marker": {"opacity": 1.0}},
        "unselected": {"marker": {"opacity": 0.35}},
    }


def layout_scatter(
    xy: np.ndarray,
    item_ids: np.ndarray,
    *,
    colour: pd.Series | np.ndarray | None = None,
    colour_name: str = "",
    hover: Sequence[str] | None = None,
    selected: Sequence[int] = (),
    title: str = "",
    height: int = 320,
    tags: np.ndarray | None = None,
    legend: bool = True,
) -> PanelFigure:
    """A 2-D layout of items, coloured by ``colour`` (discrete or numeric), ``selected`` ringed.

    ``tags`` (a joint layout's space per row) colour the points by space instead. A discrete
    colouring makes one trace per level (its legend entry), in sorted order; a numeric one
    with more than :data:`MAX_LEVELS` values one trace on a Viridis colour axis.
    """
    n = min(len(item_ids), MAX_POINTS)
    kind = "scattergl" if n > WEBGL_MIN_POINTS else "scatter"
    x = np.asarray(xy[:n, 0], dtype=float)
    y = np.asarray(xy[:n, 1], dtype=float)
    ids = np.asarray(item_ids[:n], dtype=np.int64)
    # Titles come from the catalogue; plotly reads a subset of HTML in hover labels, so they
    # are escaped to show as text.
    source = hover[:n] if hover is not None else ids
    titles = np.array([html.escape(str(t)) for t in source], dtype=object)
    everything = np.arange(n)
    layout: dict = {}
    levels: list[tuple[str, np.ndarray, str]] = []  # (level, rows, colour)
    if tags is not None:
        space = np.asarray(tags[:n]).astype(str)
        for i, name in enumerate(dict.fromkeys(space)):
            colour_of = SPACE_COLOURS.get(name, LEVEL_PALETTE[i % len(LEVEL_PALETTE)])
            levels.append((name, np.flatnonzero(space == name), colour_of))
        label = "space"
    elif colour is not None:
        label = colour_name or "colour"
        values = pd.Series(np.asarray(colour)[:n])
        if not (pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_LEVELS):
            names = limit_levels(values).to_numpy().astype(str)
            for i, name in enumerate(sorted(set(names), key=str)):
                colour_of = LEVEL_PALETTE[i % len(LEVEL_PALETTE)]
                levels.append((name, np.flatnonzero(names == name), colour_of))
    if levels:
        data = []
        for name, rows, colour_of in levels:
            trace = _points(kind, rows, x, y, ids, titles, f"{label}={html.escape(name)}<br>")
            trace |= {"name": name, "legendgroup": name, "showlegend": True}
            trace["marker"] |= {"color": colour_of}
            data.append(trace)
    elif colour is not None:  # numeric: one trace on a colour axis
        trace = _points(kind, everything, x, y, ids, titles, f"{label}=%{{marker.color}}<br>")
        trace["marker"] |= {"color": values.to_numpy(dtype=float), "coloraxis": "coloraxis"}
        data = [trace | {"showlegend": False}]
        layout["coloraxis"] = {"colorscale": "Viridis", "colorbar": {"title": {"text": label}}}
    else:
        data = [_points(kind, everything, x, y, ids, titles) | {"showlegend": False}]
    chosen = np.flatnonzero(np.isin(ids, np.asarray([int(i) for i in selected], dtype=np.int64)))
    if len(chosen):
        data.append(
            {
                "type": kind,
                "mode": "markers",
                "x": x[chosen],
                "y": y[chosen],
                "marker": {
                    "size": 11,
                    "color": "rgba(0,0,0,0)",
                    "line": {"width": 2, "color": SELECTED_COLOUR},
                },
                "customdata": ids[chosen, None],
                "hovertext": titles[chosen],
                "hoverinfo": "text",
                "name": "selected",
                "showlegend": True,
            }
        )
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False}
    layout |= {
        "height": height,
        # the toolbar stands upright at the right edge, clear of the left-aligned title
        "modebar": {"orientation": "v"},
        "margin": {"l": 4, "r": 36, "t": 32 if title else 8, "b": 4},
        "legend": {
            "font": {"size": 10},
            "itemsizing": "constant",
            "tracegroupgap": 0,
            "orientation": "h",
            "y": -0.02,
            "yanchor": "top",
        },
        "xaxis": axis,
        "yaxis": dict(axis),
        "showlegend": legend,
    }
    if title:
        layout["title"] = {"text": title, "font": {"size": 13}, "x": 0.0, "xanchor": "left"}
    return PanelFigure({"data": data, "layout": layout})


def box_drag(fig: PanelFigure) -> PanelFigure:
    """``fig`` with box selection as its drag, while a click still selects one point (how the
    page's plotly panels were drawn).

    Streamlit (checked on 1.67, ``PlotlyChart``) forces ``clickmode="event"`` whenever the
    figure's ``layout.dragmode`` is ``"select"`` or ``"lasso"``, and in that mode it reads a
    click only on treemap/sunburst points: a plain box-drag default would end click-to-select.
    So the layout asks for a mode plotly.js does not know; plotly.js then takes the template's
    ``dragmode`` (``select``), while Streamlit, seeing no select mode, keeps
    ``clickmode="event+select"``. Both gestures then reach Streamlit as selections. Picking a
    tool in the toolbar sets a real mode and Streamlit's own rules apply again. (Plotly's
    Python validator would refuse the unknown mode: it lives only in the specification.)
    """
    layout = {**fig.spec["layout"]}
    template = {**layout.get("template", {})}
    template["layout"] = {**template.get("layout", {}), "dragmode": "select"}
    layout |= {"template": template, "dragmode": "box", "clickmode": "event+select"}
    return PanelFigure({**fig.spec, "layout": layout})


def main() -> int:
    """Draw the panels (Streamlit runs this file as ``__main__``)."""
    mode = st.query_params.get("mode", "grid")
    kind = st.query_params.get("kind", "scatter")
    rng = np.random.default_rng(0)
    xy = [rng.normal(size=(N_ITEMS, 2)) for _ in range(PANELS)]
    categories = np.array([f"category {i % 10}" for i in range(N_ITEMS)])
    values = rng.random(N_ITEMS) * 100
    titles = np.array([f"item {i}, a product title" for i in range(N_ITEMS)])
    colour = st.selectbox("Colour by", ["category", "popularity"], key="colour")
    paint = categories if colour == "category" else values

    def panel(p: int, **look) -> PanelFigure:
        fig = layout_scatter(
            xy[p], np.arange(N_ITEMS), colour=paint, colour_name=colour, hover=titles, **look
        )
        for trace in fig.spec["data"]:
            trace["type"] = kind
        return fig

    if mode == "canvas":
        panels = [
            linked_panels.Panel(f"panel_{p}", f"panel {p}", "", xy[p], np.arange(N_ITEMS))
            for p in range(PANELS)
        ]
        data = linked_panels.payload(panels, titles, paint, colour)
        linked_panels.show(data, key="panels", on_change=lambda: None)
    elif mode == "grid":
        for start in range(0, PANELS, 3):
            for col, p in zip(st.columns(3), range(start, start + 3), strict=True):
                with col:
                    fig = box_drag(panel(p, title=f"panel {p}", height=300, legend=p == 0))
                    st.plotly_chart(fig, key=f"panel_{p}", width="stretch", on_select="rerun")
    else:
        data, layout = [], {"height": 900, "showlegend": False}
        hidden = {"showticklabels": False, "showgrid": False, "zeroline": False}
        for p in range(PANELS):
            axis = "" if p == 0 else str(p + 1)
            row, col = divmod(p, 3)
            data += [{**t, "xaxis": f"x{axis}", "yaxis": f"y{axis}"} for t in panel(p).spec["data"]]
            layout[f"xaxis{axis}"] = {
                "domain": [col / 3 + 0.01, (col + 1) / 3 - 0.01],
                "anchor": f"y{axis}",
                **hidden,
            }
            layout[f"yaxis{axis}"] = {
                "domain": [1 - (row + 1) / 3 + 0.02, 1 - row / 3 - 0.02],
                "anchor": f"x{axis}",
                **hidden,
            }
        figure = PanelFigure({"data": data, "layout": layout})
        st.plotly_chart(figure, key="panels", width="stretch", on_select="rerun")
    st.write(f"drawn: {colour}")
    return 0


if __name__ == "__main__":
    main()
