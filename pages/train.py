"""Train: a variant on the current dataset, with live progress; the model joins the variant toggle."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from anchorrec import workspace as ws
from anchorrec.models.config import PRESETS, preset_config
from anchorrec.models.registry import MULTIMODAL_VARIANTS, VARIANTS
from anchorrec.ui import tables
from anchorrec.ui.errors import user_errors
from anchorrec.ui.state import add_variant_next_run, require_dataset

VARIANT_HELP = {
    "anchor": "AnchorRec: anchor alignment in a shared projected space",
    "direct": "AlignRec-style direct alignment of modality and ID views",
    "none": "no alignment loss (the collapse-prone reference)",
    "anchor-noproj": "ablation: anchor alignment without projections",
    "anchor-noamp": "ablation: anchor alignment without AMP",
    "lightgcn": "ID-only baseline (LightGCN)",
    "mf": "ID-only baseline (matrix factorisation)",
    "popularity": "popularity baseline (no learning)",
}


def render() -> None:
    state = require_dataset()
    ds = state.dataset
    st.title("Train")
    target = ws.workspace_models_dir(ds.fingerprint)
    st.caption(
        f"Trains on **{ds.name}** ({ds.n_users:,} users, {ds.n_items:,} items) and writes the model "
        f"atomically to the workspace `{target}`; when it completes it joins the variant toggle."
    )
    usable = [v for v in VARIANTS if v not in MULTIMODAL_VARIANTS or ds.features]
    with st.form("train"):
        c1, c2, c3, c4 = st.columns(4)
        variant = c1.selectbox(
            "Variant",
            usable,
            key="train_variant",
            format_func=lambda v: f"{v} — {VARIANT_HELP.get(v, '')}".rstrip(" —"),
        )
        preset = c2.selectbox(
            "Preset", PRESETS, help="default: tuned for this app; paper: the paper's settings"
        )
        epochs = c3.number_input("Epochs (max)", 1, 1000, 20, key="train_epochs")
        seed = c4.number_input("Seed", 0, 10_000, 0)
        go = st.form_submit_button("Train", type="primary", key="train_go")

    if go:
        from anchorrec.training.trainer import train

        with user_errors("Training"):
            config = preset_config(preset, variant=variant).replace(epochs=int(epochs))
            out = ws.new_model_dir(ds.fingerprint, variant)
            bar = st.progress(0.0, text="Starting…")
            chart = st.empty()
            history: list[dict] = []

            def on_epoch(record: dict) -> None:
                history.append(tables.epoch_row(record))
                bar.progress(tables.epoch_fraction(record), text=tables.epoch_text(record))
                chart.line_chart(
                    pd.DataFrame(history).set_index("epoch")[["valid recall@20"]], height=220
                )

            result = train(
                ds,
                variant,
                config,
                out_dir=out,
                seed=int(seed),
                device="auto",
                progress=False,
                on_epoch=on_epoch,
            )
            bar.progress(1.0, text=f"done: best epoch {result.best_epoch}")
            test = result.metrics.get("test", {})
            st.success(
                f"Saved {out.name}: test Recall@20 {test.get('recall@20', float('nan')):.4f}, "
                f"NDCG@20 {test.get('ndcg@20', float('nan')):.4f}. It is now in the variant toggle."
            )
            add_variant_next_run(out.name)
            st.button("Show it", type="primary")

    trained = [e for e in state.models if e.source == "workspace"]
    if trained:
        st.subheader("Trained in the app")
        st.dataframe(
            pd.DataFrame(
                [
                    {"name": e.name, "variant": e.variant, "preset": e.preset, "path": str(e.path)}
                    for e in trained
                ]
            ),
            hide_index=True,
            width="stretch",
        )


render()
