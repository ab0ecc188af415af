"""Plotly figures of the dashboard, and the colours every chart shares. Each takes plain
numpy/pandas and returns a ``go.Figure`` or a :class:`PanelFigure` (a plain plotly.js
specification). The layout panels are not plotly charts: see
:mod:`anchorrec.ui.linked_panels`.
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
    """A chart as the plain specification plotly.js draws (``to_dict()``).

    Building a chart as a plotly figure (plotly express, then ``update_layout``) validates
    every property, about 0.2 s for a layout scatter. It is written as the dictionary
    Streamlit would have serialised instead: Streamlit takes any plotly figure through
    ``to_dict()``, which here returns :attr:`spec` as it is. The object is a figure for
    Streamlit's type check only; read and change :attr:`spec`.
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


def training_curves(logs: dict[str, pd.DataFrame], column: str) -> str:
    """One line per variant of ``column`` (e.g. ``valid_recall@20``) against the epoch, as
    inline SVG (:mod:`anchorrec.ui.line_svg`: the first page loads no chart library)."""
    from anchorrec.ui.line_svg import line_chart

    series = {
        name: (log["epoch"].to_numpy(), log[column].to_numpy())
        for name, log in logs.items()
        if column in log and "epoch" in log
    }
    return line_chart(series, title=column.replace("_", " "), x_label="epoch", colours=PALETTE)


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
) -> PanelFigure:
    """Signed contributions of each row (one recommended item per row, one column per input
    or branch), stacked relative to 0: a part left of 0 pushed the item down.

    ``labels`` name the rows (the items' titles); ``words`` name the inputs in the legend.
    Written as a plain specification: it is redrawn for every shopper picked. Titles are
    escaped: plotly reads a subset of HTML in tick labels, and a catalogue's text is text.
    """
    y = [html.escape(str(lbl)) for lbl in labels]
    data = []
    for name in signed.columns:
        word = (words or {}).get(name, name)
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "x": signed[name].astype(float).tolist(),
                "y": y,
                "name": word,
                "marker": {"color": PLAYER_COLOURS.get(name, "#888888")},
                "hovertemplate": f"{html.escape(word)}: %{{x:+.4f}}<extra></extra>",
            }
        )
    zero = {"type": "line", "x0": 0, "x1": 0, "xref": "x", "y0": 0, "y1": 1, "yref": "paper"}
    layout = {
        "barmode": "relative",
        "height": height or 90 + 26 * len(y),
        "margin": {"l": 4, "r": 4, "t": 8, "b": 4},
        "xaxis": {"title": {"text": "contribution to the score (− lowered it, + raised it)"}},
        "yaxis": {"autorange": "reversed", "type": "category", "automargin": True},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        "shapes": [zero | {"line": {"width": 1, "color": "#444"}}],
    }
    return PanelFigure({"data": data, "layout": layout})
