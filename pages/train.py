"""Train: a variant on the current dataset as a background run; the model joins the toggle."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from anchorrec import workspace as ws
from anchorrec.models.config import PRESETS
from anchorrec.models.registry import MULTIMODAL_VARIANTS, VARIANTS
from anchorrec.training.jobs import TrainingJob, cancel_job, find_jobs, resume_job, start_job
from anchorrec.ui import cached, tables
from anchorrec.ui.errors import user_errors
from anchorrec.ui.state import AppState, add_variant_next_run, require_dataset
from anchorrec.ui.text import code_block, plain

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
STATUS_WORDS = {
    "running": "running",
    "done": "done",
    "interrupted": "stopped (can be resumed)",
    "failed": "failed",
}
REFRESH_S = 2.0


def _start_form(state: AppState) -> None:
    ds = state.dataset
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
        with user_errors("Training"):
            out = ws.new_model_dir(ds.fingerprint, variant)
            start_job(
                state.dataset_dir, out, variant, preset=preset, epochs=int(epochs), seed=int(seed)
            )
            add_variant_next_run(out.name)  # it joins the comparison once saved
        st.rerun()  # the sidebar (drawn before this form) shows the run from now on


def _job(job: TrainingJob) -> None:
    status = job.status()
    records = job.records()
    head, act = st.columns([4, 1])
    head.markdown(f"**{plain(job.name)}** · {job.variant} ({job.preset}) · {STATUS_WORDS[status]}")
    if records:
        last = records[-1]
        head.progress(tables.epoch_fraction(last), text=tables.epoch_text(last))
        frame = pd.DataFrame([tables.epoch_row(r) for r in records]).set_index("epoch")
        if len(frame) > 1 and status != "done":
            head.line_chart(frame[["valid recall@20"]], height=160)
    elif status == "running":
        head.progress(0.0, text="Loading the data and the model…")
    if status == "running" and act.button("Cancel", key=f"cancel_{job.name}"):
        cancel_job(job)
    elif status == "interrupted" and act.button("Resume", key=f"resume_{job.name}", type="primary"):
        with user_errors("Resuming", stop=False):
            resume_job(job)
            add_variant_next_run(job.name)
    elif status == "failed":
        head.error(f"The run ended without a model:\n\n{code_block(job.log_tail())}")
    elif status == "done":
        test = cached.metrics(job.out_dir).get("test", {})
        head.caption(
            f"Saved: test Recall@20 {test.get('recall@20', float('nan')):.4f}, NDCG@20 {test.get('ndcg@20', float('nan')):.4f}; it is in the variant toggle."
        )


@st.fragment(run_every=REFRESH_S)
def _runs(models_dir, known: tuple[str, ...]) -> None:
    """Every run into this dataset's workspace, refreshed every few seconds (any session)."""
    jobs = find_jobs(models_dir)
    if not jobs:
        return
    st.subheader("Runs")
    st.caption(
        "Each run is a separate process: it goes on when you leave this page or close the tab, and any visitor sees it here."
    )
    for job in jobs:
        _job(job)
    finished = {j.name for j in jobs if j.status() == "done"} - set(known)
    if finished:
        st.rerun(scope="app")  # a model was saved: show it in the sidebar's toggle


def render() -> None:
    state = require_dataset()
    ds = state.dataset
    st.title("Train")
    target = ws.workspace_models_dir(ds.fingerprint)
    st.caption(
        f"Trains on **{plain(ds.name)}** ({ds.n_users:,} users, {ds.n_items:,} items) in the background "
        f"and writes the model atomically to the workspace `{plain(target)}`; when it completes it joins "
        "the variant toggle."
    )
    _start_form(state)
    known = tuple(e.name for e in state.models)  # a run saved since: rerun the whole page
    _runs(target, known)
    trained = [e for e in state.models if e.source == "workspace"]
    if trained:
        st.subheader("Trained in the app")
        rows = [
            {"name": e.name, "variant": e.variant, "preset": e.preset, "path": str(e.path)}
            for e in trained
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


render()
