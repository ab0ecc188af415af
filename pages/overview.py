"""Overview: the dataset card, each variant's accuracy and collapse headline, training curves."""

from __future__ import annotations

import streamlit as st

from anchorrec.evaluation.significance import comparison_table
from anchorrec.models.config import DEFAULT_MASK
from anchorrec.ui import cached, charts, prepared, segment_views, show, tables
from anchorrec.ui.cold_start_views import show_warm_new
from anchorrec.ui.errors import user_errors
from anchorrec.ui.games import current_game
from anchorrec.ui.overview_views import (
    SEEDS_COLUMN,
    SEEDS_HELP,
    WHERE_TO_START,
    show_group_accuracy_game,
    with_seed_spread,
)
from anchorrec.ui.preload import preload_charts
from anchorrec.ui.state import AppState, reference_label, remember_reference, sidebar
from anchorrec.ui.text import plain


def _dataset_card(state: AppState) -> None:
    ds = state.dataset
    st.subheader(f"Dataset: {plain(ds.name)}")
    figures = tables.dataset_figures(ds)
    for col, (figure, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        col.metric(figure, value)
    left, right = st.columns([1, 2])
    mods = tables.modalities_table(ds)
    if len(mods):
        with left:
            show.table(mods, "overview_modalities")
    else:
        left.warning("This dataset has no item features: only ID baselines can be trained.")
    right.markdown("  \n".join(tables.dataset_facts(ds, state.dataset_dir)))
    for w in ds.warnings:
        right.warning(plain(w))  # warnings quote the user's files: text, not Markdown


def _significance(state: AppState, usable: list) -> None:
    st.markdown(
        "**Is a difference real?** Each variant against a reference on the same test users: "
        "the difference of the means and its 95% paired bootstrap interval (test items ranked "
        f"with the {DEFAULT_MASK!r} items masked, MMRec's rule)."
    )
    if len(usable := prepared.comparable(state, usable)) < 2:  # the others: a notice
        return
    labels = [e.label for e in usable]
    default = reference_label() if reference_label() in labels else "lightgcn"
    reference = st.columns([1, 2])[0].selectbox(
        "Reference",
        labels,
        index=labels.index(default) if default in labels else 0,
        key="overview_reference",
        help="Usually the ID-only baseline: does a multimodal variant beat it?",
    )
    remember_reference(reference)
    with user_errors("Comparing the variants", stop=False):
        table = comparison_table(cached.entry_differences(state, usable, reference))
        formats = {c: "%+.4f" for c in table.columns if c.endswith("difference")}
        show.table(table, "overview_significance", formats)
    st.caption(
        "*above* / *below*: the interval excludes 0, so the lead holds across the users who "
        "happened to be tested; *tie*: it does not. Retraining with another seed moves the "
        "figures too, which this interval does not cover: see the seed mean ± sd above."
    )


def _selected_variants(state: AppState) -> None:
    selected = [e for e in state.selected if e.usable]
    segment_views.show_segment_accuracy(state, selected)  # shopper group; user activity
    if tables.planted_groups(state.dataset):
        show_group_accuracy_game(selected, current_game())
    st.markdown("**Collapse headline** of the selected variants (details on *Positional collapse*)")
    reports = {e.label: cached.stored_diagnostics(e.path) for e in selected}
    missing = [label for label, r in reports.items() if r is None]
    if missing:
        st.caption(
            f"Not measured yet for {', '.join(missing)}: compute them once on *Positional collapse*."
        )
    found = {label: r for label, r in reports.items() if r is not None}
    if found:
        config = {
            label: st.column_config.NumberColumn(label, help=meaning, format="%.3f")
            for _, label, meaning in tables.HEADLINE
        }
        show.table(tables.headline_table(found), "overview_headline", column_config=config)
        st.caption(" · ".join(f"**{head}**: {meaning}" for _, head, meaning in tables.HEADLINE))
    logs = {e.name: log for e in selected if len(log := cached.train_log(e.path))}
    if logs:
        st.subheader("Training curves")
        c1, c2 = st.columns(2)
        c1.markdown(charts.training_curves(logs, "valid_recall@20"), unsafe_allow_html=True)
        c2.markdown(charts.training_curves(logs, "loss_total"), unsafe_allow_html=True)


def render() -> None:
    state = sidebar()
    st.title("AnchorRec Studio")
    st.caption(
        "See why a multimodal recommender recommends what it does: each modality's embedding space, every recommendation attributed to its purchase-history, picture and text signal with exact Shapley values, and positional-collapse diagnostics variant against variant."
    )
    with st.expander("Where to start", expanded=True):
        for col, text in zip(st.columns(3), WHERE_TO_START, strict=True):
            col.markdown(text)
    if state.dataset is None:
        st.info("Open a dataset in the sidebar, or import a catalogue on the **Data** page.")
        st.stop()
    _dataset_card(state)
    st.subheader("Variants")
    if not state.models:
        st.info("No trained model for this dataset yet: train one on the **Train** page.")
        st.stop()
    rows = [
        (e.label, e.variant, e.usable, cached.metrics(e.path) if e.usable else {})
        for e in state.models
    ]
    formats = {f"test {k}": "%.4f" for k in tables.ACCURACY}
    table = with_seed_spread(tables.variants_table(rows), [e.path for e in state.models])
    config = {SEEDS_COLUMN: st.column_config.TextColumn(help=SEEDS_HELP)}
    show.table(table, "overview_variants", formats, column_config=config)
    st.caption(
        "Test metrics of each model's best epoch (chosen by valid Recall@20), full ranking, "
        "train items excluded: this model, one training run. **Seed mean ± sd**: the tuning "
        "protocol's retrainings of the same configuration, the figure the docs' verdicts use."
    )
    usable = [e for e in state.models if e.usable]
    if len(usable) >= 2 and state.dataset.test.nnz == 0:
        st.caption("No test interactions in this dataset, so the variants cannot be compared here.")
    elif len(usable) >= 2:
        _significance(state, usable)
    show_warm_new({e.label: e.path for e in usable})
    if state.selected:
        _selected_variants(state)
    preload_charts()  # the browser starts its chart library while the user reads this page


render()
