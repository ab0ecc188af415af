"""The content kNN graphs of a model, stored beside it so that a load does not rebuild them.

A multimodal model propagates over one top-``k`` cosine kNN graph per view of its item
features (:mod:`anchorrec.models.graphs`). Built exactly, that is an I×I similarity product:
minutes at Amazon Clothing's 23,033 items on a CPU, and a model loaded in a fresh process
(a server, the command line) built it again on its first forward pass. The top-``k`` rows of
every view (values and columns; the normalised graph follows from them in milliseconds) are
written to :data:`~anchorrec.models.model_dir.GRAPHS_FILE` when the model is saved or
prepared, and read on load.

Each view's rows are tagged with a key of what they are computed from: the dataset's
fingerprint, the view, ``k``, the shape of its input and whether the fused input is derived
(:func:`graph_key`). A file written for other data, or damaged, is ignored and the graph is
rebuilt as before, so a model directory without the file (older ones) still loads.

Above about 100,000 items the exact build is slow even on a GPU; :func:`approximate_rows`
(pynndescent's nearest-neighbour descent, installed with umap-learn) builds the rows instead,
as an opt-in, and :func:`recall` measures the share of the exact neighbours it found on a
sample of rows. The exact graph stays the default: the graph is part of the model.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from anchorrec.fileio import atomic_write_bytes
from anchorrec.models.model_dir import GRAPHS_FILE, ModelDir

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

#: Bump when the rows' meaning changes (a stored file of another rule is ignored).
RULE = "knn-rows-v1"
#: Catalogues above this many items may opt into the approximate build.
APPROXIMATE_ABOVE = 100_000
#: Rows whose exact neighbours measure an approximate graph's recall.
RECALL_SAMPLE = 2_000

Rows = tuple[np.ndarray, np.ndarray]


class GraphModel(Protocol):
    """What a model offers for its graphs to be stored (``MultimodalRecommender``)."""

    def graph_inputs(self) -> dict[str, np.ndarray]: ...

    def graph_rows(self) -> dict[str, Rows]: ...

    def adopt_graph_rows(self, rows: Mapping[str, Rows]) -> None: ...


def graph_key(dataset_fingerprint: str, view: str, k: int, features: np.ndarray) -> str:
    """What a view's rows are computed from, hashed (see the module's docstring)."""
    blob = json.dumps(
        [RULE, dataset_fingerprint, view, int(k), list(features.shape), str(features.dtype)]
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def _keys(model: GraphModel, dataset_fingerprint: str, k: int) -> dict[str, str]:
    return {
        view: graph_key(dataset_fingerprint, view, k, x) for view, x in model.graph_inputs().items()
    }


def encode_rows(rows: Mapping[str, Rows], keys: Mapping[str, str], meta: dict[str, Any]) -> bytes:
    """The ``.npz`` bytes of ``rows`` (per view: ``<view>.values``, ``<view>.columns``)."""
    arrays: dict[str, Any] = {}  # (savez's keywords are typed loosely)
    for view, (values, columns) in rows.items():
        arrays[f"{view}.values"] = np.asarray(values, dtype=np.float32)
        arrays[f"{view}.columns"] = np.asarray(columns, dtype=np.int32)
    info = {"rule": RULE, "keys": {v: keys[v] for v in rows}, **meta}
    arrays["meta"] = np.asarray(json.dumps(info, sort_keys=True))
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # not compressed: the columns barely compress, and reading is faster
    return buf.getvalue()


def decode_rows(path: Path, keys: Mapping[str, str], n_items: int) -> dict[str, Rows]:
    """The rows of ``path`` whose key is the one expected, checked; {} when the file is
    missing, damaged or of another rule (the caller then rebuilds)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"][()]))
            if meta.get("rule") != RULE:
                return {}
            out: dict[str, Rows] = {}
            for view, key in keys.items():
                if meta.get("keys", {}).get(view) != key or f"{view}.values" not in z.files:
                    continue
                values = z[f"{view}.values"]
                columns = z[f"{view}.columns"].astype(np.int64)
                fine = (
                    values.ndim == 2
                    and values.shape == columns.shape
                    and values.shape[0] == n_items
                    and (columns.size == 0 or (columns.min() >= 0 and columns.max() < n_items))
                    and bool(np.isfinite(values).all())
                )
                if fine:
                    out[view] = (values, columns)
            return out
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return {}


def read_meta(path: Path) -> dict[str, Any]:
    """The stored file's description (rule, keys, ``approximate``, ``recall``)."""
    with np.load(path, allow_pickle=False) as z:
        return dict(json.loads(str(z["meta"][()])))


def attach_stored_graphs(model: object, model_dir: str | Path, dataset_fingerprint: str) -> int:
    """Give ``model`` the stored rows of every view it has; returns how many views were read
    (0 for a model without content graphs or without a usable file)."""
    if not hasattr(model, "adopt_graph_rows"):
        return 0
    path = ModelDir(model_dir).store().find(GRAPHS_FILE)
    if path is None:
        return 0
    k = int(model.config.knn_k)  # type: ignore[attr-defined]
    keys = _keys(model, dataset_fingerprint, k)  # type: ignore[arg-type]
    rows = decode_rows(path, keys, int(model.n_items))  # type: ignore[attr-defined]
    if rows:
        model.adopt_graph_rows(rows)
    return len(rows)


def graphs_bytes(model: object, dataset_fingerprint: str) -> bytes | None:
    """The file to store beside ``model`` (its graphs computed now if not yet), or None for a
    model without content graphs."""
    if not hasattr(model, "graph_rows"):
        return None
    k = int(model.config.knn_k)  # type: ignore[attr-defined]
    keys = _keys(model, dataset_fingerprint, k)  # type: ignore[arg-type]
    rows = model.graph_rows()
    return encode_rows(rows, keys, {"approximate": False})


def store_graphs(loaded: LoadedModel, *, approximate: bool = False, seed: int = 0) -> Path | None:
    """Write the content graphs of a loaded model to its store (``prepare`` does); with
    ``approximate`` (opt-in, for catalogues above :data:`APPROXIMATE_ABOVE` items) build them
    by nearest-neighbour descent and record each view's recall against the exact graph."""
    if not hasattr(loaded.model, "graph_rows") or loaded.model_dir is None:
        return None
    model: GraphModel = loaded.model  # type: ignore[assignment]  # checked just above
    fingerprint = loaded.dataset.fingerprint
    k = int(loaded.model.config.knn_k)
    keys = _keys(model, fingerprint, k)
    store = ModelDir(loaded.model_dir).store()
    existing = store.find(GRAPHS_FILE)
    if existing is not None and not approximate:
        have = decode_rows(existing, keys, int(loaded.model.n_items))
        if set(have) == set(keys):
            return existing
    meta: dict[str, Any] = {"approximate": approximate}
    if approximate:
        inputs = model.graph_inputs()
        rows = {v: approximate_rows(x, k, seed=seed) for v, x in inputs.items()}
        meta["recall"] = {v: recall(inputs[v], rows[v][1], k, seed=seed) for v in inputs}
        model.adopt_graph_rows(rows)
    else:
        rows = model.graph_rows()
    return store.write_bytes(GRAPHS_FILE, encode_rows(rows, keys, meta))


def write_beside(model: object, dataset_fingerprint: str, folder: Path) -> None:
    """Write the graphs file into ``folder`` (a model directory being saved)."""
    blob = graphs_bytes(model, dataset_fingerprint)
    if blob is not None:
        atomic_write_bytes(folder / GRAPHS_FILE, blob)


# ------------------------------------------------------------------------------ approximate
def approximate_rows(features: np.ndarray, k: int, *, seed: int = 0) -> Rows:
    """Each row's top-``k`` cosines and columns, itself first, by nearest-neighbour descent
    (what :func:`anchorrec.models.graphs.knn_rows` computes exactly)."""
    from pynndescent import NNDescent  # lazy: numba compiles on first use

    x = np.ascontiguousarray(features, dtype=np.float32)
    n = len(x)
    k = min(k, n)
    norms = np.linalg.norm(x, axis=1)
    index = NNDescent(x, metric="cosine", n_neighbors=max(k, 2), random_state=seed)
    columns, distances = index.neighbor_graph
    columns = np.asarray(columns[:, :k], dtype=np.int64)
    values = (1.0 - np.asarray(distances[:, :k], dtype=np.float64)).astype(np.float32)
    # itself first, with the weight the exact build gives it (1, or 0 for a zero row)
    own = np.arange(n)
    for r in np.flatnonzero(columns[:, 0] != own):
        rest = [c for c in columns[r] if c != r][: k - 1]
        vals = [v for c, v in zip(columns[r], values[r], strict=True) if c != r][: k - 1]
        columns[r] = [r, *rest]
        values[r] = [0.0, *vals]
    values[:, 0] = (norms > 0).astype(np.float32)
    return values, columns


def recall(features: np.ndarray, columns: np.ndarray, k: int, *, seed: int = 0) -> float:
    """Share of the exact top-``k`` neighbours (itself left out) that ``columns`` holds, on a
    seeded sample of :data:`RECALL_SAMPLE` rows."""
    from anchorrec.stats import sample_rows

    x = np.ascontiguousarray(features, dtype=np.float32)
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    rows = sample_rows(len(x), RECALL_SAMPLE, seed)
    k = min(k, len(x))
    sims = unit[rows] @ unit.T
    sims[np.arange(len(rows)), rows] = -np.inf
    exact = np.argpartition(-sims, k - 2, axis=1)[:, : k - 1] if k > 1 else np.zeros((len(rows), 0))
    found = 0
    for i, r in enumerate(rows):
        found += len(set(exact[i].tolist()) & set(columns[r, 1:].tolist()))
    return found / max(exact.size, 1)
