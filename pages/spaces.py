"""Embedding spaces: aligned layouts of every space, the anchor domain, one shared selection."""

from __future__ import annotations

import numpy as np
import streamlit as st

from anchorrec.analysis.projection import ANCHOR_DOMAIN
from anchorrec.analysis.spaces import SPACE_DESCRIPTIONS, SPACE_ORDER
from anchorrec.data.shop_ids import item_shop_ids
from anchorrec.ui import cached, figure_downloads, linked_panels, prepared, tables
from anchorrec.ui.errors import USER_ERRORS, show_error, user_errors
from anchorrec.ui.games import current_game
from anchorrec.ui.images import item_titles
from anchorrec.ui.layout_form import compute_layouts_form
from anchorrec.ui.neighbours import show_item_inspector
from anchorrec.ui.selection import show_selection_summary
from anchorrec.ui.state import (
    consume_panel_selection,
    require_dataset,
    require_models,
    selected_item,
)

GROUP = "spaces"
PANELS_KEY = "spaces_panels"
NAMES = tables.METHOD_TITLES
ANCHOR_WORDS = (
    "P_id(H), P_mm(Z^mm), P_v(x^v), P_t(x^t) and the mixup in one projection, coloured by "
    "modality. Aligned modalities overlap; separate clouds mean the projections disagree."
)


def _colours(state, entry) -> tuple[np.ndarray | None, str]:
    choice = st.selectbox("Colour by", tables.colour_options(state.dataset), key="spaces_colour")
    if choice != "ID share":
        return tables.colour_values(state.dataset, choice)
    game = current_game()  # the session's attribution game (Recommendations, Audit)
    if not prepared.ready(
        state, [entry], prepared.COALITIONS, "spaces_prepare", stop=False, game=game
    ):
        return None, choice
    with user_errors("ID share", stop=False):
        return cached.id_share_by_item(state.loaded(entry), game=game), f"ID share, {game} game"
    return None, choice


def _panel(space, layouts, method, n_items, wide=False) -> linked_panels.Panel | None:
    try:
        proj = cached.projection(layouts[f"{space}/{method}"][0], space, method)
    except USER_ERRORS as exc:
        show_error(exc, f"Layout of {space}")
        return None
    ids = proj.item_ids.astype(np.int64)
    title = f"{space.replace('_', ' ')} · trustworthiness {proj.trustworthiness:.2f}"
    words = ANCHOR_WORDS if wide else SPACE_DESCRIPTIONS.get(space, space)
    note = prepared.sample_notice(n_items, ids)
    caption = f"{words} {note}" if note else words
    heading = "Anchor domain" if wide else ""
    return linked_panels.Panel(space, title, caption, proj.xy, ids, proj.tag_labels, wide, heading)


def _on_selection() -> None:  # before the rerun draws the sidebar: the new item is shown there
    consume_panel_selection(PANELS_KEY, GROUP)


def render() -> None:
    state = require_dataset()
    entries = require_models(state)
    ds = state.dataset
    st.title("Embedding spaces")
    st.caption(
        "Every space of one model projected to 2-D. Item spaces are Procrustes-aligned onto the "
        "final space's layout, so the same region means the same items; the anchor domain is "
        "one joint projection coloured by modality. Hover a point to find the same item in every "
        "panel; click it to inspect it, or drag a box or a lasso to select many: the selection "
        "is drawn in every panel and summarised below. The wheel zooms and *Pan* moves every "
        "panel alike; *Show* hides the items of a category, segment or attribute."
    )
    top = st.columns([2, 2, 3])
    entry = entries[0]
    if len(entries) > 1:
        name = top[0].radio("Model", [e.name for e in entries], horizontal=True, key="spaces_model")
        entry = next(e for e in entries if e.name == name)
    layouts = cached.available_projections(entry.path)
    compute_layouts_form(state, entry, top[2], layouts)
    ready = [m for m in ("umap", "tsne", "pca") if any(k.endswith(f"/{m}") for k in layouts)]
    if not ready:
        prepared.no_layouts(state, entry)  # the command; a background run on a large catalogue
        st.stop()
    method = top[1].radio(
        "Layout", ready, format_func=NAMES.get, horizontal=True, key="spaces_method"
    )
    left, right = st.columns(2)
    with left:
        colour, colour_name = _colours(state, entry)
    query = right.text_input(
        "Find items",
        key="spaces_search",
        placeholder="a title or an id",
        help="Rings every matching item in every panel.",
    )
    titles = item_titles(ds)  # cached: 23,033 titles one by one took seconds
    spaces = [s for s in SPACE_ORDER if f"{s}/{method}" in layouts and not s.startswith("anchor_")]
    selected = consume_panel_selection(PANELS_KEY, GROUP)
    found = tables.search_items(ds, query)
    if query.strip():
        right.caption(f"{len(found)} {'item matches' if len(found) == 1 else 'items match'}.")
    panels = [_panel(s, layouts, method, ds.n_items) for s in spaces]
    if f"{ANCHOR_DOMAIN}/{method}" in layouts:
        panels.append(_panel(ANCHOR_DOMAIN, layouts, method, ds.n_items, wide=True))
    panels = [p for p in panels if p is not None]
    if panels:
        filters = linked_panels.catalogue_filters(ds)  # category, segment, new or warm, attributes
        look = {"selected": selected, "found": found, "shop_ids": item_shop_ids(ds)}
        strata = filters.get("category")
        data = linked_panels.payload(
            panels, titles, colour, colour_name, filters=filters, strata=strata, **look
        )
        linked_panels.show(data, key=PANELS_KEY, on_change=_on_selection)
        figure_downloads.panel_downloads(panels, entry, "spaces")  # SVG / PNG for a paper
    show_selection_summary(ds, selected if len(selected) > 1 else found, "spaces_selection")
    st.divider()
    item = selected_item(state.item)
    st.subheader(f"Inspector — item {item}")
    with user_errors("Neighbours", stop=False):
        show_item_inspector(ds, item, entry.name, lambda: cached.spaces(state.loaded(entry)))


render()
