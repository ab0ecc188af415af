"""Embedding spaces: aligned layouts of every space, the anchor domain, one shared selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from anchorrec.analysis.projection import ANCHOR_DOMAIN, DEFAULT_PARAMS, METHODS
from anchorrec.analysis.spaces import SPACE_ORDER
from anchorrec.models.base import SPACE_DESCRIPTIONS
from anchorrec.ui import cached, charts
from anchorrec.ui.errors import USER_ERRORS, show_error, user_errors
from anchorrec.ui.images import item_image_path, item_title, thumbnail
from anchorrec.ui.neighbours import show_neighbour_tabs
from anchorrec.ui.state import (
    consume_selections,
    require_dataset,
    require_models,
    selection_callback,
)

GROUP = "spaces"
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}

state = require_dataset()
entries = require_models(state)
ds = state.dataset

st.title("Embedding spaces")
st.caption(
    "Every space of one model projected to 2-D. Item spaces are Procrustes-aligned onto the "
    "final space's layout, so the same region means the same items; the anchor domain is one "
    "joint projection coloured by modality. Select points (click, box or lasso) in any panel: "
    "the selection is drawn in every panel and the first item opens in the inspector."
)

top = st.columns([2, 2, 3])
entry = entries[0]
if len(entries) > 1:
    name = top[0].radio("Model", [e.name for e in entries], horizontal=True, key="spaces_model")
    entry = next(e for e in entries if e.name == name)
layouts = cached.available_projections(entry.path)
methods_ready = [m for m in ("umap", "tsne", "pca") if any(k.endswith(f"/{m}") for k in layouts)]

with top[2].popover("Compute layouts", icon=":material/calculate:"):
    with st.form("compute_layouts"):
        method = st.selectbox("Method", METHODS, format_func=METHOD_NAMES.get)
        p = dict(DEFAULT_PARAMS[method])
        if method == "tsne":
            p["perplexity"] = st.number_input("Perplexity", 2.0, 100.0, float(p["perplexity"]))
        if method == "umap":
            p["n_neighbors"] = st.number_input("Neighbours", 2, 200, int(p["n_neighbors"]))
            p["min_dist"] = st.number_input("Min. distance", 0.0, 1.0, float(p["min_dist"]))
        p["seed"] = st.number_input("Seed", 0, 10_000, int(p["seed"]))
        go = st.form_submit_button("Compute", type="primary")
    st.caption(
        "Computed once, then cached on disk beside the model. UMAP's first run in a process takes ~25 s."
    )
if go:
    with (
        user_errors("Layouts"),
        st.spinner(f"Computing {METHOD_NAMES[method]} layouts of {entry.name}…"),
    ):
        loaded = state.loaded(entry)
        cached.compute_layouts(loaded, method, p)
    st.rerun()

if not methods_ready:
    st.info(
        f"No layout of **{entry.name}** is cached yet. Use *Compute layouts* (PCA takes a second), "
        f"or run `python -m anchorrec project {entry.path}`."
    )
    st.stop()
method = top[1].radio(
    "Layout", methods_ready, format_func=METHOD_NAMES.get, horizontal=True, key="spaces_method"
)

colour_options = []
if ds.items is not None and "category" in ds.items.columns:
    colour_options.append("category")
colour_options += ["popularity", "ID share"]
if ds.items is not None:
    skip = {"item_id", "title", "description", "image", "category"}
    colour_options += [f"attribute: {c}" for c in ds.items.columns if c not in skip]
colour_by = st.selectbox("Colour by", colour_options, key="spaces_colour")
colour: np.ndarray | pd.Series | None
if colour_by == "category":
    colour = ds.items["category"]
elif colour_by == "popularity":
    colour = np.log1p(ds.item_popularity())
    colour_by = "log(1+train interactions)"
elif colour_by == "ID share":
    with user_errors("ID share", stop=False):
        colour = cached.id_share_by_item(state.loaded(entry))
    colour_by = "mean ID share in top-10"
else:
    colour = ds.items[colour_by.split(": ", 1)[1]]
colour_values = np.asarray(colour) if colour is not None else None
titles = np.asarray([item_title(ds, i) for i in range(ds.n_items)], dtype=object)

space_names = [s for s in SPACE_ORDER if f"{s}/{method}" in layouts and not s.startswith("anchor_")]
keys = [f"spaces_{s}" for s in space_names] + [f"spaces_{ANCHOR_DOMAIN}"]
selected = consume_selections(keys, GROUP)


def _panel(space: str, height: int = 300, legend: bool = True) -> None:
    folder, _ = layouts[f"{space}/{method}"]
    try:
        proj = cached.projection(folder, space, method)
    except USER_ERRORS as exc:
        show_error(exc, f"Layout of {space}")
        return
    ids = proj.item_ids.astype(np.int64)
    tags = proj.tag_labels
    fig = charts.layout_scatter(
        proj.xy,
        ids,
        colour=None if tags is not None or colour_values is None else colour_values[ids],
        colour_name=colour_by,
        hover=titles[ids],
        selected=selected,
        tags=tags,
        title=f"{space.replace('_', ' ')} · trustworthiness {proj.trustworthiness:.2f}",
        height=height,
        legend=legend,
    )
    key = f"spaces_{space}"
    st.plotly_chart(
        fig,
        key=key,
        on_select=selection_callback(key, GROUP),
        selection_mode=("points", "box", "lasso"),
        width="stretch",
    )
    st.caption(SPACE_DESCRIPTIONS.get(space, space))


for start in range(0, len(space_names), 3):
    cols = st.columns(3)
    for col, space in zip(cols, space_names[start : start + 3], strict=False):
        with col:
            _panel(space, legend=start == 0 and space == space_names[0])

if f"{ANCHOR_DOMAIN}/{method}" in layouts:
    st.subheader("Anchor domain")
    st.caption(
        "P_id(H), P_mm(Z^mm), P_v(x^v), P_t(x^t) and the mixup in one projection, coloured by "
        "modality. Aligned modalities overlap; separate clouds mean the projections disagree."
    )
    _panel(ANCHOR_DOMAIN, height=420)

# ------------------------------------------------------------------------------ inspector
st.divider()
item = int(st.session_state.get("sel_item", state.item))
st.subheader(f"Inspector — item {item}")
if len(selected) > 1:
    st.caption(f"{len(selected)} items selected; showing the first. Selected: {selected[:30]}")


left, right = st.columns([1, 2])
with left:
    path = item_image_path(ds, item)
    data = thumbnail(str(path), 320) if path is not None else None
    if data:
        st.image(data, width=240)
    st.markdown(f"**{item_title(ds, item)}**")
    if ds.items is not None:
        row = ds.items.iloc[item]
        if "description" in ds.items.columns and isinstance(row["description"], str):
            st.write(row["description"])
        attrs = {
            c: row[c]
            for c in ds.items.columns
            if c not in ("item_id", "title", "description", "image")
        }
        if attrs:
            st.caption(" · ".join(f"{k}: {v}" for k, v in list(attrs.items())[:10]))
    st.caption(f"{int(ds.item_popularity()[item])} train interactions")
with right, user_errors("Neighbours", stop=False):
    st.markdown(f"**Nearest neighbours in each space** ({entry.name}, cosine)")
    show_neighbour_tabs(ds, cached.spaces(state.loaded(entry)), item, "nb_")
