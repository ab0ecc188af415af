"""The pages' caches: a thin, typed adapter over the library.

Each dataset is loaded once per version, and each model once per version into one
:class:`~anchorrec.analysis.model_analysis.ModelAnalysis` — the single cache entry per model
(``st.cache_resource``) that computes and keeps everything derived from it (per-user metrics,
spaces, coalition caches of each game, audits, diagnostics, reliance, layouts), reading what
``prepare`` stored first. Results that a page reads without loading a model (stored
diagnostics and reliance, layouts, the training log, ``metrics.json``) are cached by the
stamps of their files.

Every key is made of plain values (paths, fingerprints, file stamps); objects that cannot be
hashed (a ``Dataset``) are passed with a leading underscore so Streamlit does not hash them. A
file stamp (mtime and size of ``config.json``) in each key makes a retrained model (written
atomically under the same name) load afresh.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from anchorrec.data.dataset import Dataset
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.analysis.attribution import CoalitionCache
    from anchorrec.analysis.audit import AuditResult
    from anchorrec.analysis.diagnostics_report import DiagnosticsReport
    from anchorrec.analysis.model_analysis import ModelAnalysis
    from anchorrec.analysis.projection import Projection
    from anchorrec.analysis.reliance import Reliance
    from anchorrec.analysis.spaces import Space
    from anchorrec.evaluation.significance import PairedDifference
    from anchorrec.models.checkpoint import LoadedModel
    from anchorrec.ui.state import AppState
    from anchorrec.workspace import ModelEntry

#: A JSON document (``metrics.json``, a layout's index entry): whatever the file holds.
Json = dict[str, Any]
#: One test user's metric values (``recall@20`` / ``ndcg@20`` → one value per user).
PerUser = dict[str, np.ndarray]


def file_stamp(path: str | Path) -> str:
    """``mtime_ns:size`` of ``path`` (``missing`` when absent): a cache key that changes on rewrite."""
    try:
        st_ = os.stat(path)
    except OSError:
        return "missing"
    return f"{st_.st_mtime_ns}:{st_.st_size}"


def dataset_stamp(directory: str | Path) -> str:
    """A stamp over the dataset directory's top-level files (names, sizes and mtimes)."""
    directory = Path(directory)
    try:
        files = sorted(p for p in directory.iterdir() if p.is_file())
    except OSError:
        return "missing"
    return "|".join(f"{p.name}:{file_stamp(p)}" for p in files)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=8)
def _load_dataset(path: str, stamp: str) -> Dataset:
    from anchorrec.data.mmrec import load_mmrec

    return load_mmrec(path)


def load_dataset(path: str | Path) -> Dataset:
    """The MMRec dataset at ``path`` (validated by ``load_mmrec``), loaded once per version."""
    return _load_dataset(str(path), dataset_stamp(path))


def model_stamp(model_dir: str | Path) -> str:
    """Changes with the model's config and with its stored cold-start path (a path fitted
    while the app runs is picked up on the next run)."""
    from anchorrec.models.cold_start_store import COLD_START_FILE  # no torch: a stored name

    md = ModelDir(model_dir)
    return f"{file_stamp(md.config)}|{md.store().stamp(COLD_START_FILE)}"


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def _analysis(model_dir: str, fingerprint: str, stamp: str, _dataset: Dataset) -> ModelAnalysis:
    from anchorrec.analysis.model_analysis import ModelAnalysis
    from anchorrec.models.checkpoint import load_model

    return ModelAnalysis(load_model(model_dir, _dataset, device="cpu"))


def analysis(model_dir: str | Path, dataset: Dataset) -> ModelAnalysis:
    """The :class:`ModelAnalysis` of ``model_dir`` on ``dataset``: one per model version per
    process, shared by every session and page."""
    return _analysis(str(model_dir), dataset.fingerprint, model_stamp(model_dir), dataset)


def of(loaded: LoadedModel) -> ModelAnalysis:
    """The cached :class:`ModelAnalysis` of ``loaded``."""
    assert loaded.model_dir is not None, "the pages load models from directories"
    return analysis(loaded.model_dir, loaded.dataset)


def load_model(model_dir: str | Path, dataset: Dataset) -> LoadedModel:
    """The ``LoadedModel`` of ``model_dir`` on ``dataset`` (eval mode; never mutate it)."""
    return analysis(model_dir, dataset).loaded


def coalitions(loaded: LoadedModel, game: str = "mean") -> CoalitionCache:
    """The model's coalition cache of ``game``: read from the model's store when ``prepare``
    (or an earlier visit, in any process) wrote it, else computed and stored."""
    return of(loaded).coalitions(game)


def spaces(loaded: LoadedModel) -> dict[str, Space]:
    """Every named space of the model (one forward pass, once per model per process)."""
    found = of(loaded)
    if found.computed("spaces"):
        return found.spaces
    with st.spinner("Computing the model's embedding spaces…"):
        return found.spaces


def per_user_metrics(loaded: LoadedModel) -> PerUser:
    """Each test user's Recall@20 and NDCG@20 (for paired comparisons between models)."""
    found = of(loaded)
    if found.computed("per_user_metrics"):
        return found.per_user_metrics
    with st.spinner("Evaluating every test user…"):
        return found.per_user_metrics


@st.cache_data(show_spinner="Comparing with the reference…", max_entries=64)
def _stored_differences(
    models: tuple[tuple[str, str, str], ...], reference: str, _per_user: dict[str, PerUser]
) -> list[PairedDifference]:
    from anchorrec.evaluation import compare_to_reference

    return compare_to_reference(_per_user, reference)


def entry_differences(
    state: AppState, entries: list[ModelEntry], reference: str
) -> list[PairedDifference]:
    """Every model entry against the one labelled ``reference``: test Recall@20 / NDCG@20
    with paired intervals, cached. Each model's per-user metrics are read from its store
    without loading the model (only a model that lacks them is loaded)."""
    assert state.dataset is not None
    per_user = {e.label: entry_per_user(state, e) for e in entries}
    key = tuple(
        (e.label, str(e.path), state.dataset.fingerprint + model_stamp(e.path)) for e in entries
    )
    return _stored_differences(key, reference, per_user)


def entry_segment_metrics(
    state: AppState, entry: ModelEntry, column: str = "group"
) -> dict[str, dict[str, float]]:
    """Test Recall@20 / NDCG@20 and user count of each segment of users by ``users.csv``'s
    ``column`` (value → metrics), from the model's stored per-user metrics without loading the
    model (only a model that lacks them is loaded): Overview's first run stays free of torch."""
    from anchorrec.evaluation.segments import segment_means, user_segments

    assert state.dataset is not None
    return segment_means(entry_per_user(state, entry), user_segments(state.dataset, column))


def entry_per_user(state: AppState, entry: ModelEntry) -> PerUser:
    """The stored per-user test metrics of a model entry, read without loading the model; a
    model that lacks them is loaded and evaluated once (:func:`per_user_metrics`)."""
    from anchorrec.evaluation.stored import read_per_user_metrics

    found = read_per_user_metrics(str(entry.path))
    return found if found is not None else per_user_metrics(state.loaded(entry))


@st.cache_resource(show_spinner=False, max_entries=64)
def _stored_diagnostics(model_dir: str, stamp: str, store_stamp: str) -> DiagnosticsReport | None:
    from anchorrec.analysis.diagnostics_report import read_diagnostics

    return read_diagnostics(model_dir)


def stored_diagnostics(model_dir: str | Path) -> DiagnosticsReport | None:
    """The model's stored :class:`DiagnosticsReport`, or None when not computed yet (cheap)."""
    from anchorrec.analysis.diagnostics_report import DIAGNOSTICS_FILE

    stamps = ModelDir(model_dir).store().stamp(DIAGNOSTICS_FILE)
    return _stored_diagnostics(str(model_dir), model_stamp(model_dir), stamps)


def compute_diagnostics(loaded: LoadedModel) -> DiagnosticsReport:
    """Compute the model's diagnostics (seconds for about a thousand items on an idle
    machine) and store them."""
    return of(loaded).diagnostics()


#: Seconds between two updates of a progress bar (each is a message the browser redraws).
PROGRESS_EVERY_S = 0.3


def audit(loaded: LoadedModel, k: int = 10, game: str = "mean") -> AuditResult:
    """The model's :class:`AuditResult` over every user's top-``k`` under ``game``, computed
    once per model, K and game per process, with a progress bar that counts the users (not
    an ``st.cache_resource``: Streamlit forbids drawing inside a cached function)."""
    found = of(loaded)
    if found.computed("audit", int(k), game):
        return found.audit(k, game)
    label = f"Attributing every user's top-{k} ({loaded.variant})"
    bar = st.progress(0.0, text=label)
    shown = [time.monotonic()]

    def progress(done: int, total: int) -> None:  # a few updates a second, not one per chunk
        if time.monotonic() - shown[0] < PROGRESS_EVERY_S:
            return
        shown[0] = time.monotonic()
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label}: {done:,} of {total:,}")

    try:
        return found.audit(k, game, progress)
    finally:
        bar.empty()


@st.cache_resource(show_spinner=False, max_entries=128)
def _stored_reliance(model_dir: str, game: str, stamp: str, store_stamp: str) -> Reliance | None:
    from anchorrec.analysis.reliance import read_reliance

    return read_reliance(model_dir, game)


def stored_reliance(model_dir: str | Path, game: str = "mean") -> Reliance | None:
    """The model's stored :class:`Reliance` under ``game``, or None when not measured yet
    (cheap: the page never measures it on its own)."""
    from anchorrec.analysis.reliance import reliance_file

    stamps = ModelDir(model_dir).store().stamp(reliance_file(game))
    return _stored_reliance(str(model_dir), game, model_stamp(model_dir), stamps)


def compute_reliance(loaded: LoadedModel, game: str = "mean") -> Reliance:
    """Measure the model's reliance under ``game`` and store it beside the model."""
    return of(loaded).reliance(game)


def compute_layouts(
    loaded: LoadedModel, method: str, params: dict[str, object] | None = None
) -> int:
    """Compute (or reuse) every layout of ``loaded`` by ``method`` and store them (the model
    directory, or its workspace fallback when read-only); the number now at hand."""
    return of(loaded).layouts(method, params)


def id_share_by_item(loaded: LoadedModel, k: int = 10, game: str = "mean") -> np.ndarray | None:
    """Each item's mean input-level ID share under ``game`` over the top-``k`` lists it appears
    in (NaN: never; None: the model has no ID input)."""
    audit(loaded, k, game)  # with its progress bar
    return of(loaded).id_share_by_item(k, game)


@st.cache_resource(show_spinner=False, max_entries=512)
def _projection(model_dir: str, space: str, method: str, stamp: str) -> Projection:
    from anchorrec.analysis.projection import load_projection_record

    return load_projection_record(model_dir, space, method)


def projection(model_dir: str | Path, space: str, method: str) -> Projection:
    """A cached layout read from ``<model_dir>/projections/`` (CheckpointError if absent)."""
    from anchorrec.analysis.projection import INDEX_FILE, PROJECTIONS_DIR

    stamp = file_stamp(Path(model_dir) / PROJECTIONS_DIR / INDEX_FILE)
    return _projection(str(model_dir), space, method, stamp)


def available_projections(model_dir: str | Path) -> dict[str, tuple[Path, Json]]:
    """``{"<space>/<method>": (folder, entry)}`` of the current layouts stored for a model
    (:func:`anchorrec.analysis.derived.current_layouts`): a retrained model's are left out,
    so the page offers to compute them instead of failing."""
    from anchorrec.analysis.derived import current_layouts

    return current_layouts(model_dir)


@st.cache_data(show_spinner=False, max_entries=64)
def _train_log(model_dir: str, stamp: str) -> pd.DataFrame:
    from anchorrec.errors import AnchorRecError
    from anchorrec.models.model_info import read_train_log

    try:
        records = read_train_log(model_dir)
    except AnchorRecError:  # a damaged log: no curve, the rest of the page still draws
        return pd.DataFrame()
    rows = []
    for rec in records:
        row = {"epoch": rec.get("epoch"), "seconds": rec.get("seconds")}
        for part in ("loss", "valid"):
            values = rec.get(part)
            for k, v in (values if isinstance(values, dict) else {}).items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    row[f"{part}_{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def train_log(model_dir: str | Path) -> pd.DataFrame:
    """``train_log.jsonl`` as a table: ``epoch``, ``loss_<term>``, ``valid_<metric>``."""
    return _train_log(str(model_dir), file_stamp(ModelDir(model_dir).log))


@st.cache_data(show_spinner=False, max_entries=64)
def _metrics(model_dir: str, stamp: str) -> Json:
    import json

    from anchorrec.fileio import read_regular_file

    path = ModelDir(model_dir).metrics
    try:
        data = json.loads(read_regular_file(path).decode("utf-8"))  # never blocks on a FIFO
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def metrics(model_dir: str | Path) -> Json:
    """``metrics.json`` of a model directory without loading the model ({} when unreadable)."""
    return _metrics(str(model_dir), file_stamp(ModelDir(model_dir).metrics))
