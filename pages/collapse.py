"""Positional collapse: the Figure-1 co-embedding per variant, the accuracy of every coalition of
inputs (modality reliance) and every diagnostic beside its null."""

from __future__ import annotations

import numpy as np
import streamlit as st

from anchorrec.analysis.diagnostics import MEANINGS
from anchorrec.analysis.projection import COEMBEDDING
from anchorrec.data.shop_ids import item_shop_ids
from anchorrec.models.registry import MULTIMODAL_VARIANTS
from anchorrec.ui import cached, charts, figure_downloads, linked_panels, prepared, tables
from anchorrec.ui.accuracy_views import show_accuracy_game
from anchorrec.ui.collapse_views import FIGURE_CAPTION, TABLE_CAPTION, with_intervals
from anchorrec.ui.errors import USER_ERRORS, show_error, user_errors
from anchorrec.ui.games import current_game
from anchorrec.ui.images import item_titles
from anchorrec.ui.reliance_views import show_reliance
from anchorrec.ui.state import AppState, consume_panel_selection, require_dataset, require_models
from anchorrec.ui.text import code, plain
from anchorrec.workspace import ModelEntry

FIGURE_KEY = "collapse_figure"
#: Items whose two points are joined by a segment in each Figure-1 panel.
LINKS = 150


def _figure_one(state: AppState, entries: list[ModelEntry]) -> None:
    ds = state.dataset
    panels = []
    for e in entries:
        layouts = cached.available_projections(e.path)
        methods = [m for m in ("umap", "tsne", "pca") if f"{COEMBEDDING}/{m}" in layouts]
        if not methods:
            st.info(
                f"{plain(e.label)}: no co-embedding layout yet; compute layouts on *Embedding "
                f"spaces*, or run {code(f'python -m anchorrec prepare {e.path}')}."
            )
            continue
        try:
            proj = cached.projection(
                layouts[f"{COEMBEDDING}/{methods[0]}"][0], COEMBEDDING, methods[0]
            )
        except USER_ERRORS as exc:
            show_error(exc, e.label)
            continue
        ids = proj.item_ids.astype(np.int64)
        notes = [prepared.sample_notice(ds.n_items, ids)]
        if e.variant not in MULTIMODAL_VARIANTS:
            notes.append(
                "An ID-only model: its final vectors are its ID view, so the clouds coincide."
            )
        title = f"{e.label} · {tables.METHOD_TITLES[methods[0]]} · trustworthiness {proj.trustworthiness:.2f}"
        caption = " ".join(n for n in notes if n)
        panels.append(
            linked_panels.Panel(
                e.name, title, caption, proj.xy, ids, proj.tag_labels, height=380, links=LINKS
            )
        )
    if panels:
        selected = consume_panel_selection(FIGURE_KEY, "collapse")
        data = linked_panels.payload(
            panels,
            item_titles(ds),
            selected=selected,
            columns=min(len(panels), 3),
            shop_ids=item_shop_ids(ds),
            filters=linked_panels.catalogue_filters(ds),
        )
        linked_panels.show(data, key=FIGURE_KEY, on_change=_on_selection)
        figure_downloads.panel_downloads(panels, entries, "collapse")  # SVG / PNG for a paper


def _on_selection() -> None:  # the first selected item becomes the current one (sidebar, URL)
    consume_panel_selection(FIGURE_KEY, "collapse")


def _diagnostics(state: AppState, entries: list[ModelEntry]) -> None:
    pairs = [(e, cached.stored_diagnostics(e.path)) for e in entries]
    missing = [e for e, report in pairs if report is None]
    if missing:
        shown = ", ".join(plain(e.label) for e in missing)
        st.info(
            f"Diagnostics of {shown} are not computed yet. {tables.DIAGNOSTICS_TIME} They are "
            "stored beside the model, so this is done once."
        )
        if st.button(f"Compute diagnostics of {shown}", type="primary", key="diag_compute"):
            for e in missing:
                with (
                    user_errors(f"Model {e.name}", stop=False),
                    st.spinner(f"Measuring {plain(e.label)}…"),
                ):
                    cached.compute_diagnostics(state.loaded(e))
            st.rerun()  # read back from the store: the notice goes, the tables come
    found = [(e.name, r) for e, r in pairs if r is not None]
    if not found:
        return
    reports = tables.named_reports(found)
    variants = [r.variant for r in reports]
    wide = tables.diagnostics_table(reports)
    numbers = [*variants, "null"]
    st.dataframe(
        with_intervals(wide, reports),  # text cells "value [low, high]", right-aligned
        hide_index=True,
        width="stretch",
        column_order=["metric", "space", *numbers, "verdict"],
        column_config={c: st.column_config.TextColumn(c, alignment="right") for c in numbers},
        key="diag_table",
    )
    st.caption(TABLE_CAPTION)
    keys = list(dict.fromkeys(wide["key"]))
    names = {k: wide.loc[wide["key"] == k, "metric"].iloc[0] for k in keys}
    key = st.selectbox("Chart of", keys, format_func=names.get, key="diag_chart")
    sub = wide[wide["key"] == key].reset_index(drop=True)
    left, right = st.columns([3, 2])
    left.plotly_chart(
        charts.value_vs_null(sub, variants, height=300, log=key == "effective_rank"),
        width="stretch",
        key=f"diag_{key}",
    )
    right.markdown(f"**{names[key]}**")  # own text: metric names
    right.caption(MEANINGS.get(key, ""))
    with st.expander("What each diagnostic means"):
        st.markdown("\n".join(f"- **{names[k]}**: {MEANINGS.get(k, '')}" for k in keys))  # own text


def render() -> None:
    state = require_dataset()
    entries = require_models(state)
    st.title("Positional collapse")
    st.caption(FIGURE_CAPTION)
    st.subheader("Figure 1: ID view and final vectors in one projection")
    _figure_one(state, entries)
    st.subheader("Modality reliance: accuracy with only some inputs")
    show_reliance(state, entries)
    show_accuracy_game(state, entries, current_game(), "collapse_accuracy")
    st.subheader("Diagnostics, side by side")
    _diagnostics(state, prepared.ready(state, entries, prepared.DIAGNOSTICS, "diag_prepare"))


render()
