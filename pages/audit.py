"""Audit: attribution shares by segment, exposure, cold items; CSV and HTML report downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from anchorrec.analysis.audit import COLD_MAX_INTERACTIONS
from anchorrec.analysis.audit_report import render_audit_html
from anchorrec.ui import cached, charts
from anchorrec.ui.errors import user_errors
from anchorrec.ui.images import item_title
from anchorrec.ui.state import REFERENCE_KEY, require_dataset, require_models

state = require_dataset()
entries = require_models(state)
ds = state.dataset

st.title("Audit")
st.caption(
    "Every shopper's top-K attributed with exact input-level Shapley values (ID / image / text), "
    "aggregated overall and by segment. Shares are |φ|/Σ|φ| averaged over recommendations; "
    "exposure counts how often each item is recommended."
)
k = st.slider("Top-K audited", 5, 50, 10, step=5, key="audit_k")

results = {}
for e in entries:
    with user_errors(f"Model {e.name}", stop=False):
        results[e.name] = cached.audit(state.loaded(e), k)
if not results:
    st.stop()

st.subheader("Summary")
rows = []
for name, r in results.items():
    overall = r.shares[r.shares["kind"] == "all"].iloc[0]
    row = {
        "variant": name,
        "users": r.summary["users"],
        "recommendations": r.summary["recommendations"],
    }
    for p in r.players:
        row[f"{p} share"] = overall[f"share_{p}"]
    row["exposure Gini"] = r.summary["exposure_gini"]
    row["coverage"] = r.summary["coverage"]
    rows.append(row)
st.dataframe(
    pd.DataFrame(rows),
    hide_index=True,
    width="stretch",
    column_config={
        c: st.column_config.NumberColumn(format="%.3f")
        for c in [
            "exposure Gini",
            "coverage",
            *[f"{p} share" for p in ("id", "image", "text", "fused")],
        ]
    },
    key="audit_summary",
)
st.caption(
    "Exposure Gini: 0 = every item recommended equally often, 1 = one item takes all. Coverage: share of the catalogue recommended at least once."
)

st.subheader("Attribution shares by segment")
kinds = [kd for kd in dict.fromkeys(next(iter(results.values())).shares["kind"]) if kd != "all"]
kind = st.radio("Segment", kinds, horizontal=True, key="audit_kind") if kinds else None
cols = st.columns(len(results))
for col, (name, r) in zip(cols, results.items(), strict=True):
    with col:
        st.markdown(f"**{name}**")
        seg = r.shares[r.shares["kind"].isin(["all", kind])].copy()
        seg["label"] = seg["segment"].astype(str) + " (n=" + seg["n"].astype(str) + ")"
        st.plotly_chart(
            charts.share_bars(seg, "label", r.players, height=90 + 28 * len(seg)),
            width="stretch",
            key=f"audit_shares_{name}",
        )

st.subheader("Exposure")
c1, c2 = st.columns(2)
with c1:
    st.markdown("**Concentration** (Lorenz curve of recommendation counts)")
    st.plotly_chart(
        charts.exposure_curve(
            {n: r.exposure["recommended"].to_numpy() for n, r in results.items()}
        ),
        width="stretch",
        key="audit_lorenz",
    )
with c2:
    by = st.radio("Exposure by", ["popularity bucket", "category"], horizontal=True, key="audit_by")
    frames = []
    for name, r in results.items():
        recs = r.recommendations
        col = "popularity_bucket" if by == "popularity bucket" else "item_category"
        if col not in recs:
            continue
        share = (
            recs[col].astype(str).value_counts(normalize=True).rename("share of recommendations")
        )
        frames.append(share.rename_axis(by).reset_index().assign(variant=name))
    if frames:
        import plotly.express as px

        fig = px.bar(
            pd.concat(frames),
            x=by,
            y="share of recommendations",
            color="variant",
            barmode="group",
            color_discrete_sequence=charts.PALETTE,
        )
        fig.update_layout(
            height=280, margin={"l": 4, "r": 4, "t": 8, "b": 4}, yaxis_tickformat=".0%"
        )
        st.plotly_chart(fig, width="stretch", key="audit_exposure_by")
    else:
        st.caption("This dataset has no item category.")

st.subheader("Cold items")
for name, r in results.items():
    recs = r.recommendations
    cold = recs[recs["cold"].astype(str).str.startswith("cold")]
    exp = r.exposure
    n_cold = int((exp["popularity"] <= COLD_MAX_INTERACTIONS).sum())
    st.markdown(
        f"**{name}**: {n_cold} cold items (≤{COLD_MAX_INTERACTIONS} train interactions) in the catalogue; {cold['item'].nunique()} of them "
        f"recommended, in {len(cold):,} of {len(recs):,} recommendations "
        f"({len(cold) / max(len(recs), 1):.2%})."
    )
    if len(cold):
        top = cold.groupby("item").size().sort_values(ascending=False).head(10)
        st.dataframe(
            pd.DataFrame(
                {
                    "item": top.index,
                    "title": [item_title(ds, int(i)) for i in top.index],
                    "times recommended": top.to_numpy(),
                }
            ),
            hide_index=True,
            key=f"audit_cold_{name}",
        )

st.subheader("Export")
# the HTML report compares each variant with the Overview's reference (lightgcn by default)
wanted = st.session_state.get(REFERENCE_KEY) or "lightgcn"
reference = next((m for m in state.models if m.usable and m.label == wanted), None)
if ds.test.nnz == 0:
    reference = None  # nothing to compare on
if reference is not None:
    st.caption(
        f"Each HTML report includes the variant's test accuracy against **{reference.label}** "
        "(the reference chosen on *Overview*), with 95% paired bootstrap intervals; the "
        "reference's own report leaves it out."
    )
cols = st.columns(len(results))
for col, (name, r) in zip(cols, results.items(), strict=True):
    with col:
        st.download_button(
            f"{name}: shares CSV",
            r.shares.to_csv(index=False).encode(),
            file_name=f"{ds.name}-{name}-audit-shares.csv",
            mime="text/csv",
            key=f"dl_csv_{name}",
        )
        e = next(x for x in entries if x.name == name)
        report = cached.stored_diagnostics(e.path)  # None: the report leaves them out
        accuracy = []
        if reference is not None and reference.path != e.path:
            with user_errors(f"Comparing {e.label} with {reference.label}", stop=False):
                accuracy = cached.differences(
                    {e.label: state.loaded(e), reference.label: state.loaded(reference)},
                    reference.label,
                )
        html = render_audit_html(r, report, title=f"{ds.name} · {name} audit", accuracy=accuracy)
        st.download_button(
            f"{name}: HTML report",
            html.encode(),
            file_name=f"{ds.name}-{name}-audit.html",
            mime="text/html",
            key=f"dl_html_{name}",
        )
