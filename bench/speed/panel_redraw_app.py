"""The Streamlit script that ``bench/speed/panel_redraw.py`` measures (not a dashboard page).

Nine synthetic layout panels of the photo sample's size (1,289 points, ten categories), drawn
either by the dashboard's plotly scatter (:func:`anchorrec.ui.charts.layout_scatter`) as nine
charts in a 3 × 3 grid (``?mode=grid``, what *Embedding spaces* drew before) or as one chart
with nine subplots (``?mode=one``), as SVG or WebGL traces (``&kind=scatter|scattergl``), or by
the linked canvas panels the page draws now (``?mode=canvas``). A select box switches the
colouring between the categories and a numeric value, as the page's "Colour by" does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anchorrec.ui import linked_panels  # noqa: E402
from anchorrec.ui.charts import PanelFigure, layout_scatter  # noqa: E402

N_ITEMS, PANELS = 1289, 9


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
