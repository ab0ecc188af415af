"""What ``python -m anchorrec prepare`` stores for a model, and what a page does without it.

A page needs results that ``prepare`` computes and keeps beside the model, each declared once
in the registry :mod:`anchorrec.analysis.derived`: the test users' per-user metrics
(Overview's comparison), the collapse diagnostics (Positional collapse), the coalition cache of
each attribution game (Recommendations, Audit, the ID-share colour), the reliance and the 2-D
layouts (Embedding spaces, Figure 1). When one is missing a page computes it inline only while
the catalogue is small enough for that to take seconds (:data:`INLINE_MAX_ITEMS`, each
result's limit in the registry, set from the costs measured in docs/dashboard.md); above that the page says what is missing, names the
command, and offers to run ``prepare`` as a background job
(:mod:`anchorrec.training.prepare_jobs`): it goes on when the user leaves the page, and every
session shows its progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from anchorrec.analysis import derived
from anchorrec.data.dataset import Dataset
from anchorrec.training import prepare_jobs
from anchorrec.ui.text import code, code_block, plain
from anchorrec.workspace import ModelEntry

if TYPE_CHECKING:
    from anchorrec.ui.state import AppState

PER_USER, DIAGNOSTICS, COALITIONS, RELIANCE, LAYOUTS = (
    derived.PER_USER,
    derived.DIAGNOSTICS,
    derived.COALITIONS,
    derived.RELIANCE,
    derived.LAYOUTS,
)
#: The largest catalogue (items) for which a page still computes a missing result itself (a
#: page may spend seconds, not minutes): each result's own limit in the registry
#: (:data:`anchorrec.analysis.derived.RESULTS`), gathered here so a test can lower them; a
#: result registered later uses its declared limit.
INLINE_MAX_ITEMS: dict[str, int] = {r.key: r.inline_max_items for r in derived.RESULTS.values()}
REFRESH_S = 2.0


def is_missing(kind: str, entry: ModelEntry, dataset: Dataset, **params: str) -> bool:
    """Whether the registered result ``kind`` (for ``params``; any value of a parameter left
    out) is absent from the model's store: file checks, no model loaded. A result that needs
    a test split is never missing from a dataset without one."""
    if derived.get(kind).needs_test and dataset.test.nnz == 0:
        return False
    return not derived.is_stored(kind, entry.path, params)


def inline_ok(kind: str, n_items: int) -> bool:
    """Whether a page may compute ``kind`` itself for a catalogue of ``n_items``."""
    limit = INLINE_MAX_ITEMS.get(kind)
    return n_items <= (derived.get(kind).inline_max_items if limit is None else limit)


def needs_prepare(
    entries: list[ModelEntry], kind: str, dataset: Dataset, **params: str
) -> list[ModelEntry]:
    """The models lacking ``kind`` whose catalogue is too large to compute it on a visit."""
    if inline_ok(kind, dataset.n_items):
        return []
    return [e for e in entries if e.usable and is_missing(kind, e, dataset, **params)]


def available(
    entries: list[ModelEntry], kind: str, dataset: Dataset, **params: str
) -> list[ModelEntry]:
    """The models a page may use for ``kind`` now (prepared, or small enough to compute)."""
    blocked = needs_prepare(entries, kind, dataset, **params)
    return [e for e in entries if e not in blocked]


def comparable(state: AppState, entries: list[ModelEntry]) -> list[ModelEntry]:
    """The models Overview may compare now (per-user metrics at hand); a notice for the rest."""
    return ready(state, entries, PER_USER, "overview_prepare", stop=False)


def group_metrics(
    state: AppState, entries: list[ModelEntry]
) -> dict[str, dict[str, dict[str, float]]]:
    """Accuracy by shopper group (label → group → metrics) of the models whose per-user
    metrics are at hand (Overview)."""
    from anchorrec.ui.cached import entry_segment_metrics

    assert state.dataset is not None
    return {
        e.label: entry_segment_metrics(state, e, "group")
        for e in available(entries, PER_USER, state.dataset)
    }


def prepare_command(entries: list[ModelEntry]) -> str:
    return "python -m anchorrec prepare " + " ".join(str(e.path) for e in entries)


def ready(
    state: AppState,
    entries: list[ModelEntry],
    kind: str,
    key: str,
    *,
    stop: bool = True,
    **params: str,
) -> list[ModelEntry]:
    """The models a page may use for ``kind`` (under ``params``, e.g. ``game="background"``)
    now; a notice (command, background button, progress) for the others. With ``stop`` the
    page stops when none is left."""
    assert state.dataset is not None
    blocked = needs_prepare(entries, kind, state.dataset, **params)
    if blocked:
        show_notice(state, blocked, kind, key)
    left = [e for e in entries if e not in blocked]
    if stop and not left:
        st.stop()
    return left


def show_notice(state: AppState, entries: list[ModelEntry], kind: str, key: str) -> None:
    """Say that ``kind`` of ``entries`` is not prepared; progress of a running job, or the
    command and a button that starts ``prepare`` in the background."""
    running = [j for j in _jobs(entries) if j.status() == "running"]
    if running:
        _progress(running[0].name)
        return
    assert state.dataset is not None
    shown = ", ".join(f"**{plain(e.label)}**" for e in entries)
    n = state.dataset.n_items
    st.info(
        f"{derived.get(kind).words} of {shown} {'is' if len(entries) == 1 else 'are'} not prepared yet. "
        f"With {n:,} items computing {'it' if kind != LAYOUTS else 'them'} here would take "
        "minutes, so this page does not: run\n\n"
        f"{code(prepare_command(entries))}\n\n"
        "in a terminal, or start it here in the background (it goes on when you leave the "
        "page, and every session sees its progress).",
        icon=":material/hourglass_empty:",
    )
    failed = [j for j in _jobs(entries) if j.status() == "failed"]
    if failed:
        st.warning(f"The last background run failed:\n\n{code_block(failed[0].log_tail())}")
    if st.button("Prepare in the background", key=key, icon=":material/play_arrow:"):
        prepare_jobs.start_prepare_job([e.path for e in entries], dataset_dir=state.dataset_dir)
        st.rerun()


def _jobs(entries: list[ModelEntry]) -> list[prepare_jobs.PrepareJob]:
    found = []
    for e in entries:
        job = prepare_jobs.job_for(e.path)
        if job is not None and job not in found:
            found.append(job)
    return found


@st.fragment(run_every=REFRESH_S)
def _progress(name: str) -> None:
    job = prepare_jobs.read_prepare_job(prepare_jobs.jobs_root() / name)
    if job is None:
        return
    if job.status() != "running":
        st.rerun(scope="app")  # done (or failed): the page reads the store again
    fraction, step = job.progress()
    models = ", ".join(Path(d).name for d in job.model_dirs)
    st.progress(fraction, text=f"Preparing {models} in the background: {step}")


def inline_methods(methods: tuple[str, ...], n_items: int) -> tuple[str, ...]:
    """The layout methods a page may compute itself at ``n_items`` (PCA always: seconds on the
    :data:`~anchorrec.analysis.projection.MAX_POINTS`-point sample; t-SNE and UMAP only on small catalogues)."""
    if inline_ok(LAYOUTS, n_items):
        return methods
    return tuple(m for m in methods if m == "pca")


def no_layouts(state: AppState, entry: ModelEntry) -> None:
    """Embedding spaces without any layout of ``entry``: how to get them."""
    assert state.dataset is not None
    if inline_ok(LAYOUTS, state.dataset.n_items):
        st.info(
            f"No layout of **{plain(entry.name)}** yet: use *Compute layouts* (PCA is the quickest) "
            f"or run {code(f'python -m anchorrec prepare {entry.path}')}."
        )
    else:
        show_notice(state, [entry], LAYOUTS, "spaces_prepare_layouts")


def sample_notice(n_items: int, item_ids: np.ndarray) -> str | None:
    """What a layout of ``item_ids`` (a seeded sample when the catalogue has more than
    ``MAX_POINTS`` items) says about it; None when it shows every item."""
    shown = len(np.unique(item_ids))
    if shown >= n_items:
        return None
    return (
        f"Showing {shown:,} of {n_items:,} items, a seeded sample (the same items in every "
        "panel of a layout); a selection still names the items by their ids."
    )


def sample_caption(text: str, item_ids: np.ndarray, n_items: int) -> str:
    """A panel's caption ``text``, with the sample notice when the layout is sampled."""
    note = sample_notice(n_items, item_ids)
    return f"{text} **{note}**" if note else text
