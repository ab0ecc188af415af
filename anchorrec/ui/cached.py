"""Cached results for the pages: each dataset, model, coalition cache, projection and report is
built once per process (``st.cache_resource`` / ``st.cache_data``).

Heavy objects (datasets, models, coalition caches, spaces, reports) live in
``st.cache_resource`` — shared, never mutated afterwards. Every key is made of plain values
(paths, fingerprints, file stamps); objects that cannot be hashed (a ``Dataset``, a
``LoadedModel``, anything holding torch tensors) are passed with a leading underscore so
Streamlit does not hash them. A file stamp (mtime and size of ``config.json``) in each key
makes a retrained model (written atomically under the same name) load afresh.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from anchorrec.data.dataset import Dataset
from anchorrec.models.model_dir import ModelDir

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel


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
    from anchorrec.models.cold_start import COLD_START_FILE

    md = ModelDir(model_dir)
    return f"{file_stamp(md.config)}|{md.store().stamp(COLD_START_FILE)}"


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def _load_model(model_dir: str, fingerprint: str, stamp: str, _dataset: Dataset) -> Any:
    from anchorrec.models.checkpoint import load_model

    return load_model(model_dir, _dataset, device="cpu")


def load_model(model_dir: str | Path, dataset: Dataset) -> Any:
    """The ``LoadedModel`` of ``model_dir`` on ``dataset`` (eval mode; never mutate it)."""
    return _load_model(str(model_dir), dataset.fingerprint, model_stamp(model_dir), dataset)


@st.cache_resource(show_spinner="Running the model once per coalition of inputs…", max_entries=32)
def _coalitions(
    model_dir: str, fingerprint: str, stamp: str, game: str, _loaded: LoadedModel
) -> Any:
    from anchorrec.analysis.attribution import coalition_cache

    # the mean game's cache is read from / written to the model's store (what `prepare` wrote);
    # the background game's is about 8x larger and kept in memory only
    return coalition_cache(_loaded, game=game, persist=game == "mean")


def coalitions(loaded: LoadedModel, game: str = "mean") -> Any:
    """The model's coalition cache of ``game`` (2^n forward passes, once per draw in the
    background game): the mean game's read from the model's store when ``prepare`` (or an
    earlier visit) wrote it, else computed and stored; once per model and game per process."""
    d = str(loaded.model_dir)
    return _coalitions(d, loaded.dataset.fingerprint, model_stamp(d), game, loaded)


@st.cache_resource(show_spinner="Computing the model's embedding spaces…", max_entries=32)
def _spaces(model_dir: str, fingerprint: str, stamp: str, _loaded: LoadedModel) -> Any:
    from anchorrec.analysis.spaces import model_spaces

    return model_spaces(_loaded)


def spaces(loaded: LoadedModel) -> dict[str, Any]:
    """Every named space of the model (one forward pass, once per model per process)."""
    d = str(loaded.model_dir)
    return _spaces(d, loaded.dataset.fingerprint, model_stamp(d), loaded)


@st.cache_data(show_spinner="Evaluating every test user…", max_entries=64)
def _per_user_metrics(
    model_dir: str, fingerprint: str, stamp: str, _loaded: LoadedModel
) -> dict[str, Any]:
    from anchorrec.evaluation.stored import stored_per_user_metrics

    return stored_per_user_metrics(_loaded, "test", k=20)


def per_user_metrics(loaded: LoadedModel) -> dict[str, Any]:
    """Each test user's Recall@20 and NDCG@20 (for paired comparisons between variants)."""
    d = str(loaded.model_dir)
    return _per_user_metrics(d, loaded.dataset.fingerprint, model_stamp(d), loaded)


@st.cache_data(show_spinner="Comparing with the reference…", max_entries=64)
def _stored_differences(
    models: tuple[tuple[str, str, str], ...], reference: str, _per_user: dict[str, Any]
) -> Any:
    from anchorrec.evaluation import compare_to_reference

    return compare_to_reference(_per_user, reference)


def entry_differences(state: Any, entries: list[Any], reference: str) -> list[Any]:
    """Every model entry against the one labelled ``reference``: test Recall@20 / NDCG@20
    with paired intervals (``PairedDifference`` list), cached. Each model's per-user metrics
    are read from its store without loading the model (only a model that lacks them is
    loaded): the Overview of a large catalogue no longer loads every model to compare them."""
    per_user = {e.label: entry_per_user(state, e) for e in entries}
    key = tuple(
        (e.label, str(e.path), state.dataset.fingerprint + model_stamp(e.path)) for e in entries
    )
    return _stored_differences(key, reference, per_user)


def segment_metrics(loaded: LoadedModel, column: str = "group") -> dict[str, dict[str, float]]:
    """Test Recall@20 / NDCG@20 and user count of each segment of users by ``users.csv``'s
    ``column`` (value → metrics), from the model's cached per-user metrics."""
    from anchorrec.evaluation.segments import segment_means, user_segments

    return segment_means(per_user_metrics(loaded), user_segments(loaded.dataset, column))


def entry_segment_metrics(
    state: Any, entry: Any, column: str = "group"
) -> dict[str, dict[str, float]]:
    """:func:`segment_metrics` of a model entry, read from its stored per-user metrics without
    loading the model (only a model that lacks them is loaded): Overview's first run stays
    free of torch."""
    from anchorrec.evaluation.segments import segment_means, user_segments

    return segment_means(entry_per_user(state, entry), user_segments(state.dataset, column))


def entry_per_user(state: Any, entry: Any) -> dict[str, Any]:
    """The stored per-user test metrics of a model entry, read without loading the model; a
    model that lacks them is loaded and evaluated once (:func:`per_user_metrics`)."""
    from anchorrec.evaluation.stored import read_per_user_metrics

    found = read_per_user_metrics(str(entry.path))
    return found if found is not None else per_user_metrics(state.loaded(entry))


@st.cache_resource(show_spinner=False, max_entries=64)
def _stored_diagnostics(model_dir: str, stamp: str, store_stamp: str) -> Any:
    from anchorrec.analysis.diagnostics import read_diagnostics

    return read_diagnostics(model_dir)


def stored_diagnostics(model_dir: str | Path) -> Any:
    """The model's stored :class:`DiagnosticsReport`, or None when not computed yet (cheap)."""
    from anchorrec.analysis.diagnostics import DIAGNOSTICS_FILE

    stamps = ModelDir(model_dir).store().stamp(DIAGNOSTICS_FILE)
    return _stored_diagnostics(str(model_dir), model_stamp(model_dir), stamps)


def compute_diagnostics(loaded: LoadedModel) -> Any:
    """Compute the model's diagnostics (seconds for about a thousand items on an idle machine) and store them."""
    from anchorrec.analysis.diagnostics import store_diagnostics

    return store_diagnostics(loaded)


#: Seconds between two updates of a progress bar (each is a message the browser redraws).
PROGRESS_EVERY_S = 0.3
#: Audits computed in this process (key → AuditResult), the oldest dropped past 32. Not an
#: ``st.cache_resource``: the audit draws its progress bar while it runs, which Streamlit
#: forbids inside a cached function.
_AUDITS: dict[tuple[str, str, str, int, str], Any] = {}
_AUDITS_MAX = 32
_AUDITS_LOCK = threading.Lock()


def audit(loaded: LoadedModel, k: int = 10, game: str = "mean") -> Any:
    """The model's :class:`AuditResult` over every user's top-``k`` under ``game``, computed
    once per model, K and game per process, with a progress bar that counts the users."""
    from anchorrec.analysis.audit import audit as _audit

    d = str(loaded.model_dir)
    key = (d, loaded.dataset.fingerprint, model_stamp(d), int(k), game)
    with _AUDITS_LOCK:
        found = _AUDITS.get(key)
    if found is not None:
        return found
    label = f"Attributing every user's top-{k} ({loaded.variant})"
    bar = st.progress(0.0, text=label)

    shown = [time.monotonic()]

    def progress(done: int, total: int) -> None:  # a few updates a second, not one per chunk
        if time.monotonic() - shown[0] < PROGRESS_EVERY_S:
            return
        shown[0] = time.monotonic()
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label}: {done:,} of {total:,}")

    try:
        coalitions(loaded, game)  # the stored cache, so the audit never rebuilds it
        result = _audit(loaded, k=int(k), game=game, progress=progress)
    finally:
        bar.empty()
    with _AUDITS_LOCK:
        _AUDITS[key] = result
        while len(_AUDITS) > _AUDITS_MAX:
            _AUDITS.pop(next(iter(_AUDITS)))
    return result


@st.cache_resource(show_spinner=False, max_entries=128)
def _stored_reliance(model_dir: str, game: str, stamp: str, store_stamp: str) -> Any:
    from anchorrec.analysis.reliance import read_reliance

    return read_reliance(model_dir, game)


def stored_reliance(model_dir: str | Path, game: str = "mean") -> Any:
    """The model's stored :class:`Reliance` under ``game``, or None when not measured yet
    (cheap: the page never measures it on its own)."""
    from anchorrec.analysis.reliance import reliance_file

    stamps = ModelDir(model_dir).store().stamp(reliance_file(game))
    return _stored_reliance(str(model_dir), game, model_stamp(model_dir), stamps)


def compute_reliance(loaded: LoadedModel, game: str = "mean") -> Any:
    """Measure the model's reliance under ``game`` (its coalition cache and one ranking of the
    test split per coalition) and store it beside the model."""
    from anchorrec.analysis.reliance import store_reliance

    coalitions(loaded, game)  # the page's cached copy, reused by the measurement
    return store_reliance(loaded, game)


@st.cache_resource(show_spinner=False, max_entries=512)
def _projection(model_dir: str, space: str, method: str, stamp: str) -> Any:
    from anchorrec.analysis.projection import load_projection_record

    return load_projection_record(model_dir, space, method)


def projection(model_dir: str | Path, space: str, method: str) -> Any:
    """A cached layout read from ``<model_dir>/projections/`` (CheckpointError if absent)."""
    from anchorrec.analysis.projection import INDEX_FILE, PROJECTIONS_DIR

    stamp = file_stamp(Path(model_dir) / PROJECTIONS_DIR / INDEX_FILE)
    return _projection(str(model_dir), space, method, stamp)


def available_projections(model_dir: str | Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """``{"<space>/<method>": (folder, entry)}`` of the current layouts cached for a model.

    Layouts of another version of the model (a retrained directory) are left out, so the page
    offers to compute them instead of failing.

    Looks in the model directory and in its workspace fallback (read-only installs); the
    workspace's entry wins when both have one (it was computed later, in the app).
    """
    from anchorrec.analysis.projection import available_projections as _available
    from anchorrec.errors import AnchorRecError

    try:
        current = ModelDir(Path(model_dir)).fingerprint()
    except (AnchorRecError, OSError):
        current = None
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for folder in ModelDir(model_dir).store().folders:
        try:
            entries = _available(folder)
        except AnchorRecError:
            continue
        for key, entry in entries.items():
            if current is None or entry.get("fingerprint") == current:  # skip stale layouts
                found[key] = (folder, entry)
    return found


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
def _metrics(model_dir: str, stamp: str) -> dict[str, Any]:
    import json

    from anchorrec.fileio import read_regular_file

    path = ModelDir(model_dir).metrics
    try:
        data = json.loads(read_regular_file(path).decode("utf-8"))  # never blocks on a FIFO
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def metrics(model_dir: str | Path) -> dict[str, Any]:
    """``metrics.json`` of a model directory without loading the model ({} when unreadable)."""
    return _metrics(str(model_dir), file_stamp(ModelDir(model_dir).metrics))


def compute_layouts(loaded: LoadedModel, method: str, params: dict[str, Any] | None = None) -> int:
    """Compute (or reuse) every layout of ``loaded`` by ``method`` and cache them on disk.

    Written to the model directory, or to its workspace fallback when that is read-only.
    Returns the number of layouts now available for ``method``.
    """
    from anchorrec.analysis.projection import ProjectionCache, compute_projections

    store = ModelDir(loaded.model_dir).store()
    cache = ProjectionCache(store.write_folder, loaded.fingerprint)
    out = compute_projections(
        spaces(loaded), [method], cache=cache, params={method: dict(params or {})}
    )
    return len(out)


def id_share_by_item(loaded: LoadedModel, k: int = 10, game: str = "mean") -> Any:
    """Each item's mean input-level ID share under ``game`` over the top-``k`` lists it appears
    in (NaN: never; None: the model has no ID input)."""
    from anchorrec.ui.tables import mean_share_by_item

    return mean_share_by_item(audit(loaded, k, game), "id", loaded.dataset.n_items)
