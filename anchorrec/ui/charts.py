"""Plotly figures of the dashboard. Each takes plain numpy/pandas and returns a ``go.Figure``
(the layout panels a :class:`PanelFigure`, their plain plotly.js specification).

Scatter points carry their item id in ``custom_data`` (``["item_id"]``): a selection is read
by item id, never by point index (plotly makes one trace per colour, and indices restart in
each). Scatters above :data:`WEBGL_MIN_POINTS` points render with WebGL, and none holds more
than :data:`MAX_POINTS` points.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.basedatatypes import BaseFigure
from plotly.colors import qualitative

from anchorrec.analysis.colours import PLAYER_COLOURS

MAX_POINTS = 20_000
#: Plots with more points than this use WebGL; smaller ones SVG. A browser keeps only ~16 WebGL
#: contexts per page, and the spaces grid shows ten scatters: WebGL everywhere loses some.
WEBGL_MIN_POINTS = 2_500
#: Discrete colourings keep this many levels, each its own colour; the rest become "other".
MAX_LEVELS = 24
SELECTED_COLOUR = "#D62728"
#: Colours of the anchor-domain spaces (one per modality) and of the Figure-1 pair.
SPACE_COLOURS: dict[str, str] = {
    "anchor_id": PLAYER_COLOURS["id"],
    "anchor_image": PLAYER_COLOURS["image"],
    "anchor_text": PLAYER_COLOURS["text"],
    "anchor_fused": PLAYER_COLOURS["fused"],
    "anchor_mixup": "#56B4E9",
    "id_view": PLAYER_COLOURS["id"],
    "final": "#D55E00",
}
PALETTE = qualitative.Safe
#: Colours of discrete colourings (categories): the colour-blind-safe set first, then
#: distinct others, one per level up to :data:`MAX_LEVELS` (Safe alone has 11).
LEVEL_PALETTE: tuple[str, ...] = tuple(
    dict.fromkeys([*PALETTE[:-1], *qualitative.Dark24, *qualitative.Alphabet])
)[:MAX_LEVELS]


class PanelFigure(BaseFigure):
    """A layout panel as the plain specification plotly.js draws (``to_dict()``).

    Building a scatter as a plotly figure (plotly express, then ``update_layout``) validated
    every property and took about 0.2 s a panel. It is written as the dictionary Streamlit
    would have serialised instead: Streamlit takes any plotly figure through ``to_dict()``, which here returns
    :attr:`spec` as it is. The object is a figure for Streamlit's type check only; read
    and change :attr:`spec`.
    """

    def __init__(self, spec: dict) -> None:  # no BaseFigure.__init__: nothing to validate
        self._spec = spec

    @property
    def spec(self) -> dict:
        return self._spec

    def to_dict(self) -> dict:
        return self._spec

    def __repr__(self) -> str:
        return f"PanelFigure({len(self.spec.get('data', []))} traces)"


def limit_levels(values: pd.Series, max_levels: int = MAX_LEVELS) -> pd.Series:
    """A discrete colouring with at most ``max_levels`` levels (the most frequent; rest "other")."""
    values = values.astype("string").fillna("(missing)")
    top = values.value_counts().index[: max_levels - 1]
    return values.where(values.isin(top), "other") if values.nunique() > max_levels else values


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


def coembedding_figure(
    xy: np.ndarray,
    item_ids: np.ndarray,
    tags: np.ndarray,
    *,
    hover: Sequence[str] | None = None,
    links: int = 150,
    title: str = "",
    height: int = 380,
) -> PanelFigure:
    """The paper's Figure 1: ID-view and final points of the same items in one projection.

    A grey segment joins an item's two points for ``links`` items: short segments (the final
    point sitting on the ID point) are positional collapse.
    """
    fig = layout_scatter(xy, item_ids, tags=tags, hover=hover, title=title, height=height)
    tags = np.asarray(tags).astype(str)
    names = list(dict.fromkeys(tags))
    if len(names) == 2 and links > 0:
        a = np.flatnonzero(tags == names[0])
        b = np.flatnonzero(tags == names[1])
        pos_b = {int(i): r for r, i in zip(b, item_ids[b], strict=True)}
        pairs = [(r, pos_b[int(item_ids[r])]) for r in a if int(item_ids[r]) in pos_b][:links]
        xs, ys = [], []
        for ra, rb in pairs:
            xs += [float(xy[ra, 0]), float(xy[rb, 0]), None]
            ys += [float(xy[ra, 1]), float(xy[rb, 1]), None]
        fig.spec["data"].append(
            {
                "type": "scattergl" if len(item_ids) > WEBGL_MIN_POINTS else "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "line": {"width": 0.6, "color": "rgba(90,90,90,0.45)"},
                "hoverinfo": "skip",
                "name": "same item",
            }
        )
    return fig


def share_bars(
    frame: pd.DataFrame,
    label: str,
    names: Sequence[str],
    *,
    height: int = 300,
    words: dict[str, str] | None = None,
) -> go.Figure:
    """Stacked horizontal bars of mean shares (one column per name) per row of ``frame``;
    ``words`` name the inputs in the legend."""
    fig = go.Figure()
    for name in names:
        col = name
        if col in frame:
            fig.add_trace(
                go.Bar(
                    x=frame[col],
                    y=frame[label].astype(str),
                    orientation="h",
                    name=(words or {}).get(name, name),
                    marker_color=PLAYER_COLOURS.get(name, "#888888"),
                    hovertemplate=f"{(words or {}).get(name, name)}: %{{x:.1%}}<extra></extra>",
                )
            )
    fig.update_layout(
        barmode="stack",
        height=height,
        margin={"l": 4, "r": 4, "t": 8, "b": 4},
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.25, "traceorder": "normal"},
    )
    return fig


def training_curves(logs: dict[str, pd.DataFrame], column: str, *, height: int = 260) -> go.Figure:
    """One line per variant of ``column`` (e.g. ``valid_recall@20``) against the epoch."""
    fig = go.Figure()
    for i, (name, log) in enumerate(logs.items()):
        if column in log:
            fig.add_trace(
                go.Scatter(
                    x=log["epoch"],
                    y=log[column],
                    mode="lines+markers" if len(log) < 30 else "lines",
                    name=name,
                    line={"color": PALETTE[i % len(PALETTE)]},
                )
            )
    fig.update_layout(
        height=height,
        margin={"l": 4, "r": 4, "t": 28, "b": 4},
        title={"text": column.replace("_", " "), "font": {"size": 12}},
        xaxis={"title": "epoch", "tickformat": "d"},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def value_vs_null(
    frame: pd.DataFrame, variants: Sequence[str], *, height: int = 260, log: bool = False
) -> go.Figure:
    """Grouped bars of one metric per space, one bar per variant, and the null as a black tick.

    ``frame`` has ``space``, one column per variant and ``null``. ``log``: a log value axis,
    so learned spaces (tens of dimensions) stay readable beside raw ones (hundreds). The
    legend sits above the plot, clear of the axis labels.
    """
    fig = go.Figure()
    for i, v in enumerate(variants):
        if v in frame:
            fig.add_trace(
                go.Bar(x=frame["space"], y=frame[v], name=v, marker_color=PALETTE[i % len(PALETTE)])
            )
    fig.add_trace(
        go.Scatter(
            x=frame["space"],
            y=frame["null"],
            mode="markers",
            name="chance / null",
            marker={"symbol": "line-ew-open", "size": 26, "line": {"width": 3, "color": "#000"}},
        )
    )
    fig.update_layout(
        barmode="group",
        height=height,
        margin={"l": 4, "r": 4, "t": 30, "b": 4},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        yaxis={"type": "log"} if log else {},
    )
    return fig


def exposure_bars(shares: pd.DataFrame, by: str, *, height: int = 280) -> PanelFigure:
    """Grouped bars of each variant's share of recommendations per ``by`` level (the frame of
    :func:`anchorrec.ui.tables.exposure_shares`), written as a plain specification."""
    data = []
    for i, (variant, rows) in enumerate(shares.groupby("variant", sort=False)):
        data.append(
            {
                "type": "bar",
                "name": str(variant),
                "x": rows[by].astype(str).tolist(),
                "y": rows["share of recommendations"].astype(float).tolist(),
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "hovertemplate": f"{html.escape(str(variant))}<br>%{{x}}: %{{y:.1%}}<extra></extra>",
            }
        )
    layout = {
        "barmode": "group",
        "height": height,
        "margin": {"l": 4, "r": 4, "t": 8, "b": 4},
        "xaxis": {"title": {"text": by}},
        "yaxis": {"title": {"text": "share of recommendations"}, "tickformat": ".0%"},
        "legend": {"title": {"text": "variant"}},
    }
    return PanelFigure({"data": data, "layout": layout})


def exposure_curve(exposure: dict[str, np.ndarray], *, height: int = 280) -> go.Figure:
    """Lorenz curves of recommendation counts (how concentrated exposure is), one per variant."""
    fig = go.Figure()
    for i, (name, counts) in enumerate(exposure.items()):
        c = np.sort(np.asarray(counts, dtype=float))
        total = c.sum()
        if total <= 0:
            continue
        y = np.r_[0.0, np.cumsum(c) / total]
        x = np.linspace(0, 1, len(y))
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines", name=name, line={"color": PALETTE[i % len(PALETTE)]})
        )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="equal exposure",
            line={"dash": "dot", "color": "#777"},
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 4, "r": 4, "t": 8, "b": 4},
        xaxis={"title": "share of items (least recommended first)", "tickformat": ".0%"},
        yaxis={"title": "share of recommendations", "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def attribution_stack(
    signed: pd.DataFrame,
    labels: Sequence[str],
    *,
    words: dict[str, str] | None = None,
    height: int | None = None,
) -> go.Figure:
    """Signed contributions of each row (one recommended item per row, one column per input
    or branch), stacked relative to 0: a part left of 0 pushed the item down.

    ``labels`` name the rows (the items' titles); ``words`` name the inputs in the legend.
    """
    fig = go.Figure()
    y = [str(lbl) for lbl in labels]
    for name in signed.columns:
        word = (words or {}).get(name, name)
        fig.add_trace(
            go.Bar(
                x=signed[name],
                y=y,
                orientation="h",
                name=word,
                marker_color=PLAYER_COLOURS.get(name, "#888888"),
                hovertemplate=f"{word}: %{{x:+.4f}}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line_width=1, line_color="#444")
    fig.update_layout(
        barmode="relative",
        height=height or 90 + 26 * len(y),
        margin={"l": 4, "r": 4, "t": 8, "b": 4},
        xaxis={"title": {"text": "contribution to the score (− lowered it, + raised it)"}},
        yaxis={"autorange": "reversed", "type": "category"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    return fig
