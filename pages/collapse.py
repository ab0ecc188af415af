"""Positional collapse: the Figure-1 co-embedding per variant and every diagnostic beside its null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from anchorrec.analysis.diagnostics import MEANINGS, compare
from anchorrec.analysis.projection import COEMBEDDING
from anchorrec.models.registry import ID_ONLY_VARIANTS
from anchorrec.ui import charts, loaders
from anchorrec.ui.errors import USER_ERRORS, show_error, user_errors
from anchorrec.ui.images import item_title
from anchorrec.ui.state import require_dataset, require_models

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
METRIC_TITLES = {
    "effective_rank": "Effective rank",
    "uniformity": "Uniformity",
    "alignment": "Alignment",
    "linear_cka": "Linear CKA",
    "knn_overlap": "kNN overlap@10",
    "neighbour_text_cosine": "Neighbours' text cosine",
    "neighbour_image_cosine": "Neighbours' image cosine",
    "neighbour_co_interactions": "Neighbours' co-interactions",
    "coembedding_displacement": "ID → final displacement",
    "id_dominance": "ID dominance",
}

state = require_dataset()
entries = require_models(state)
ds = state.dataset

st.title("Positional collapse")
st.caption(
    "Positional collapse: the interaction-ID signal swamps content, and the final item vectors "
    "end up where the ID view puts them. The paper's Figure 1 shows it by projecting the ID view "
    "H and the final vectors h together: a grey segment joins an item's two points; short "
    "segments and overlapping clouds are collapse."
)

# ------------------------------------------------------------------------------ Figure 1
st.subheader("Figure 1: ID view and final vectors in one projection")
titles = np.asarray([item_title(ds, i) for i in range(ds.n_items)], dtype=object)
cols = st.columns(len(entries))
for col, e in zip(cols, entries, strict=True):
    with col:
        layouts = loaders.available_projections(e.path)
        methods = [m for m in ("umap", "tsne", "pca") if f"{COEMBEDDING}/{m}" in layouts]
        if not methods:
            st.info(
                f"{e.label}: no co-embedding layout cached; compute layouts on *Embedding spaces*."
            )
            continue
        folder, _ = layouts[f"{COEMBEDDING}/{methods[0]}"]
        try:
            proj = loaders.projection(folder, COEMBEDDING, methods[0])
        except USER_ERRORS as exc:
            show_error(exc, f"{e.label}")
            continue
        ids = proj.item_ids.astype(np.int64)
        st.plotly_chart(
            charts.coembedding_figure(
                proj.xy,
                ids,
                proj.tag_labels,
                hover=titles[ids],
                title=f"{e.label} · {METHOD_NAMES[methods[0]]} · trustworthiness {proj.trustworthiness:.2f}",
            ),
            width="stretch",
            key=f"coemb_{e.name}",
        )
        if e.variant in ID_ONLY_VARIANTS:
            st.caption(
                "An ID-only model: its final vectors are its ID view, so the two clouds coincide."
            )

# ------------------------------------------------------------------------------ diagnostics
st.subheader("Diagnostics, side by side")
reports, missing = [], []
for e in entries:
    report = loaders.stored_diagnostics(e.path)
    if report is None:
        missing.append(e)
    else:
        reports.append(report)
if missing:
    names = ", ".join(e.label for e in missing)
    st.info(
        f"Diagnostics of {names} are not computed yet. They take a few minutes per model on a "
        "few thousand items and are stored beside the model, so this is done once."
    )
    if st.button(f"Compute diagnostics of {names}", type="primary", key="diag_compute"):
        for e in missing:
            with user_errors(f"Model {e.name}", stop=False), st.spinner(f"Measuring {e.label}…"):
                reports.append(loaders.compute_diagnostics(state.loaded(e)))
if not reports:
    st.stop()
variants = [r.variant for r in reports]
if len(set(variants)) != len(variants):  # two models of one variant: name them by directory
    for r, e in zip(reports, entries, strict=False):
        r.variant = e.name
    variants = [r.variant for r in reports]
wide = compare(reports)
st.dataframe(
    wide,
    hide_index=True,
    width="stretch",
    column_config={v: st.column_config.NumberColumn(format="%.3f") for v in [*variants, "null"]},
    key="diag_table",
)
st.caption("`null`: the value expected by chance (see each metric's line below).")

metrics = list(dict.fromkeys(wide["metric"]))
for start in range(0, len(metrics), 2):
    cols = st.columns(2)
    for col, metric in zip(cols, metrics[start : start + 2], strict=False):
        with col:
            sub = wide[wide["metric"] == metric].reset_index(drop=True)
            st.markdown(f"**{METRIC_TITLES.get(metric, metric)}**")
            st.plotly_chart(
                charts.value_vs_null(pd.DataFrame(sub), variants, height=240),
                width="stretch",
                key=f"diag_{metric}",
            )
            st.caption(MEANINGS.get(metric, ""))
