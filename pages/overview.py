"""Overview: the dataset card, each variant's accuracy and collapse headline, training curves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from anchorrec.evaluation.significance import comparison_table
from anchorrec.ui import cached, charts
from anchorrec.ui.errors import user_errors
from anchorrec.ui.state import REFERENCE_KEY, sidebar

ACCURACY = ("recall@10", "recall@20", "ndcg@10", "ndcg@20")
HEADLINE = (
    (
        "coembedding_displacement",
        "ID→final displacement",
        "≈0 means the final vectors sit on the ID vectors (collapse); null 1",
    ),
    (
        "id_dominance",
        "ID share of attribution",
        "share of the top-10 scores owed to the ID input; null 1/inputs",
    ),
    ("effective_rank", "effective rank (final)", "directions the final space really uses"),
)

state = sidebar()
st.title("AnchorRec Studio")
st.caption(
    "See why a multimodal recommender recommends what it does: each modality's embedding "
    "space, every recommendation attributed to its ID, image and text signal with exact "
    "Shapley values, and positional-collapse diagnostics variant against variant."
)

with st.expander("Where to start", expanded=True):
    c1, c2, c3 = st.columns(3)
    c1.markdown(
        "**Merchandiser** — *what does a shopper see, and why?*  \n"
        "Open **Recommendations**, pick a shopper (or a planted group), compare the variants' "
        "top-10 with pictures; each bar says how much of the score came from the photo, the "
        "text or past purchases (ID). *What if* drops an input and shows the new ranks."
    )
    c2.markdown(
        "**Researcher** — *does content survive, or do IDs swamp it?*  \n"
        "**Positional collapse** puts the ID view and the final vectors in one plot "
        "(the paper's Figure 1) and lists every diagnostic beside its chance level. "
        "**Embedding spaces** shows each space aligned, with one selection drawn in all."
    )
    c3.markdown(
        "**Auditor** — *is the evidence exact and exportable?*  \n"
        "**Audit** aggregates exact, additive Shapley shares by shopper group, category, "
        "popularity and cold items, with exposure concentration; download the CSV and a "
        "self-contained HTML report."
    )

if state.dataset is None:
    st.info("Open a dataset in the sidebar, or import a catalogue on the **Data** page.")
    st.stop()
ds = state.dataset

st.subheader(f"Dataset: {ds.name}")
m = st.columns(5)
m[0].metric("Users", f"{ds.n_users:,}")
m[1].metric("Items", f"{ds.n_items:,}")
m[2].metric("Interactions", f"{ds.n_interactions:,}")
m[3].metric("Sparsity", f"{ds.sparsity:.2%}")
m[4].metric("Per shopper", f"{ds.n_interactions / max(ds.n_users, 1):.1f}")
left, right = st.columns([1, 2])
with left:
    mods = pd.DataFrame(
        [{"modality": k, "dimensions": int(v.shape[1])} for k, v in ds.features.items()]
    )
    if len(mods):
        st.dataframe(mods, hide_index=True, width="stretch")
    else:
        st.warning("This dataset has no item features: only ID baselines can be trained.")
with right:
    facts = [
        f"Split: {ds.train.nnz:,} train / {ds.valid.nnz:,} valid / {ds.test.nnz:,} test interactions",
        f"Directory: `{state.dataset_dir}`",
        f"Fingerprint: `{ds.fingerprint}`",
    ]
    if ds.items is not None:
        facts.append(f"Item metadata: {', '.join(map(str, ds.items.columns[:12]))}")
        if "category" in ds.items.columns:
            facts.append(f"Categories: {ds.items['category'].nunique()}")
    if ds.users is not None and "group" in ds.users.columns:
        groups = ds.users["group"].value_counts()
        facts.append(
            "Planted shopper groups: " + ", ".join(f"{g} ({n})" for g, n in groups.items())
        )
    st.markdown("  \n".join(facts))
    for w in ds.warnings:
        st.warning(w)

st.subheader("Variants")
if not state.models:
    st.info("No trained model for this dataset yet: train one on the **Train** page.")
    st.stop()
rows = []
for e in state.models:
    row = {"variant": e.label, "kind": e.variant or "?", "usable": e.usable}
    met = cached.metrics(e.path) if e.usable else {}
    test = met.get("test", {}) if isinstance(met.get("test"), dict) else {}
    for k in ACCURACY:
        row[f"test {k}"] = test.get(k)
    row["best epoch"] = met.get("best_epoch")
    rows.append(row)
table = pd.DataFrame(rows)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={f"test {k}": st.column_config.NumberColumn(format="%.4f") for k in ACCURACY},
)
st.caption(
    "Test metrics of each model's best epoch (chosen by valid Recall@20), full ranking, train items excluded."
)

usable = [e for e in state.models if e.usable]
if len(usable) >= 2 and ds.test.nnz == 0:
    st.caption("No test interactions in this dataset, so the variants cannot be compared here.")
elif len(usable) >= 2:
    st.markdown(
        "**Is a difference real?** Each variant against a reference on the same test users: "
        "the difference of the means and its 95% paired bootstrap interval."
    )
    labels = [e.label for e in usable]
    # kept outside the widget's key, which Streamlit forgets on pages that do not draw it;
    # the Audit page's HTML export compares with the same reference
    remembered = st.session_state.get(REFERENCE_KEY)
    default = remembered if remembered in labels else "lightgcn"
    reference = st.columns([1, 2])[0].selectbox(
        "Reference",
        labels,
        index=labels.index(default) if default in labels else 0,
        key="overview_reference",
        help="Usually the ID-only baseline: does a multimodal variant beat it?",
    )
    st.session_state[REFERENCE_KEY] = reference
    with user_errors("Comparing the variants", stop=False):
        significance = comparison_table(
            cached.differences({e.label: state.loaded(e) for e in usable}, reference)
        )
        st.dataframe(
            significance,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%+.4f")
                for c in significance.columns
                if c.endswith("difference")
            },
            key="overview_significance",
        )
    st.caption(
        "*above* / *below*: the interval excludes 0, so the lead holds across the users who "
        "happened to be tested; *tie*: it does not. Retraining with another seed moves the "
        "figures too, which this interval does not cover."
    )

selected = state.selected
if selected and ds.users is not None and "group" in ds.users.columns:
    st.markdown(
        "**Accuracy by shopper group** of the selected variants (test Recall@20 / NDCG@20): "
        "where a variant gains or loses against another."
    )
    by_group = []
    for e in selected:
        if not e.usable:
            continue
        for group, met in cached.segment_metrics(state.loaded(e), "group").items():
            by_group.append(
                {
                    "variant": e.label,
                    "group": group,
                    "users": int(met["users"]),
                    "Recall@20": met["recall@20"],
                    "NDCG@20": met["ndcg@20"],
                }
            )
    if by_group:
        frame = pd.DataFrame(by_group)
        wide = frame.pivot(index="variant", columns="group", values=["Recall@20", "NDCG@20"])
        wide.columns = [f"{metric} · {group}" for metric, group in wide.columns]
        st.dataframe(
            wide.reset_index(),
            hide_index=True,
            width="stretch",
            column_config={c: st.column_config.NumberColumn(format="%.4f") for c in wide.columns},
            key="overview_groups",
        )

if selected:
    st.markdown("**Collapse headline** of the selected variants (details on *Positional collapse*)")
    headline, missing = [], []
    for e in selected:
        report = cached.stored_diagnostics(e.path)
        if report is None:
            missing.append(e.label)
            continue
        row: dict[str, object] = {"variant": e.label}
        for metric, label, _ in HEADLINE:
            try:
                space = "final" if metric == "effective_rank" else None
                row[label] = report.value(metric, space)
            except KeyError:
                row[label] = None
        headline.append(row)
    if missing:
        st.caption(
            f"Not measured yet for {', '.join(missing)}: compute them once on *Positional collapse*."
        )
    if headline:
        st.dataframe(
            pd.DataFrame(headline),
            hide_index=True,
            width="stretch",
            column_config={
                label: st.column_config.NumberColumn(label, help=meaning, format="%.3f")
                for _, label, meaning in HEADLINE
            },
            key="overview_headline",
        )
        st.caption(" · ".join(f"**{label}**: {meaning}" for _, label, meaning in HEADLINE))

    logs = {e.name: cached.train_log(e.path) for e in selected}
    logs = {k: v for k, v in logs.items() if len(v)}
    if logs:
        st.subheader("Training curves")
        c1, c2 = st.columns(2)
        c1.plotly_chart(charts.training_curves(logs, "valid_recall@20"), width="stretch")
        c2.plotly_chart(charts.training_curves(logs, "loss_total"), width="stretch")
