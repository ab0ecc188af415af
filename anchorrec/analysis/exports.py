"""What leaves the studio for other tools: a space for Embedding Atlas or the TensorFlow
Projector, the final vectors, a faiss index over them.

Every export is a directory written atomically (nothing appears unless all of it is written)
with an ``export.json`` that states what it holds and the model it came from: the model
fingerprint (:attr:`LoadedModel.fingerprint`), the dataset fingerprint, the variant.

* **space** — ``space.parquet``: one row per item of the layout (``item_id``, ``x``, ``y``,
  ``neighbors`` = ``{"ids": [...], "distances": [...]}`` of its 10 nearest items by cosine in
  the full space, then the item's metadata and train popularity), the table Embedding Atlas
  reads (``embedding-atlas space.parquet --x x --y y --neighbors neighbors``); and
  ``vecs.tsv`` + ``meta.tsv`` for the TensorFlow Projector (vectors without a header; the
  metadata with one header line, one row per vector).
* **vectors** — ``user_vectors.npy`` / ``item_vectors.npy`` (float32, the vectors that rank:
  score = user · item) with ``user_ids.csv`` / ``item_ids.csv`` (row → internal id, and the
  original id when the dataset has one).
* **index** — ``items.faiss``: an exact inner-product index (``IndexFlatIP``) over the item
  vectors, plus the vectors; :func:`index_top_k` ranks with it as ``recommend`` does (train
  items excluded), so both give the same top-K.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.errors import ConfigError
from anchorrec.fileio import atomic_dir, check_output_dir

if TYPE_CHECKING:
    import scipy.sparse as sp

    from anchorrec.analysis.projection import Projection
    from anchorrec.analysis.spaces import Space
    from anchorrec.models.checkpoint import LoadedModel

EXPORT_FILE = "export.json"
SPACE_FILE = "space.parquet"
VECS_FILE, META_FILE = "vecs.tsv", "meta.tsv"
USER_VECTORS, ITEM_VECTORS = "user_vectors.npy", "item_vectors.npy"
USER_IDS, ITEM_IDS = "user_ids.csv", "item_ids.csv"
INDEX_FILE = "items.faiss"
NEIGHBOURS = 10
FAISS_HINT = "pip install faiss-cpu  (or: pip install 'anchorrec-studio[faiss]')"


def export_record(loaded: LoadedModel, what: str, files: list[str], **extra: Any) -> dict[str, Any]:
    """The ``export.json`` of an export: what, which files, and the model it came from."""
    return {
        "what": what,
        "files": sorted(files),
        "model_fingerprint": loaded.fingerprint,
        "model_dir": str(loaded.model_dir) if loaded.model_dir is not None else None,
        "variant": loaded.variant,
        "dataset": loaded.dataset.name,
        "dataset_fingerprint": loaded.dataset.fingerprint,
        "time": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        **extra,
    }


def _write_record(folder: Path, record: dict[str, Any]) -> None:
    (folder / EXPORT_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


# ------------------------------------------------------------------------------ vectors
def final_vectors(loaded: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """The user and item vectors that rank (``recommend`` scores ``user · item``), float32:
    through the model's cold-start path when one is attached (its augmented vectors score the
    routed new arrivals by their content; ``--cold-start off`` gives the published ones)."""
    import torch

    from anchorrec.models.cold_start import ranking_embeddings

    with torch.no_grad():
        emb = ranking_embeddings(loaded)
    users = emb.users.detach().to("cpu", torch.float32).numpy()
    items = emb.items.detach().to("cpu", torch.float32).numpy()
    return np.ascontiguousarray(users), np.ascontiguousarray(items)


def _id_table(frame: pd.DataFrame | None, n: int, col: str) -> pd.DataFrame:
    out = pd.DataFrame({"row": np.arange(n), f"{col}_id": np.arange(n)})
    original = f"original_{col}_id"
    if frame is not None and original in frame.columns:
        out[original] = frame[original].astype(str).to_numpy()
    return out


def _write_vectors(folder: Path, loaded: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    users, items = final_vectors(loaded)
    ds = loaded.dataset
    np.save(folder / USER_VECTORS, users)
    np.save(folder / ITEM_VECTORS, items)
    _id_table(ds.users, len(users), "user").to_csv(folder / USER_IDS, index=False)
    _id_table(ds.items, len(items), "item").to_csv(folder / ITEM_IDS, index=False)
    return users, items


def export_vectors(
    loaded: LoadedModel, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Any]:
    """Write the final user and item vectors with their ids; returns the ``export.json``."""
    out = Path(out_dir)
    check_output_dir(out, overwrite=overwrite)
    files = [USER_VECTORS, ITEM_VECTORS, USER_IDS, ITEM_IDS, EXPORT_FILE]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        users, items = _write_vectors(tmp, loaded)
        record = export_record(
            loaded, "vectors", files, score="user_vectors[u] · item_vectors[i]", dim=users.shape[1]
        )
        _write_record(tmp, record)
    return record


# ------------------------------------------------------------------------------ index
def _faiss() -> Any:
    try:
        import faiss
    except ImportError:
        raise ConfigError(
            f"the faiss index needs faiss-cpu, which is not installed: {FAISS_HINT}"
        ) from None
    return faiss


def build_index(items: np.ndarray) -> Any:
    """An exact inner-product faiss index over the item vectors (row = item id)."""
    faiss = _faiss()
    index = faiss.IndexFlatIP(items.shape[1])
    index.add(np.ascontiguousarray(items, dtype=np.float32))
    return index


def index_top_k(
    index: Any,
    user_vectors: np.ndarray,
    users: np.ndarray,
    k: int,
    exclude: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item ids and scores of ``users`` from a faiss index, the ``exclude`` items
    (a user × item matrix, e.g. the train split) left out, as ``recommend`` ranks.

    Each user asks for ``k`` plus its number of excluded items, so at least ``k`` remain;
    equal scores are ordered by item id. Missing places (fewer items than ``k``) are -1.
    """
    users = np.asarray(users, dtype=np.int64)
    seen = np.zeros(len(users), dtype=np.int64)
    if exclude is not None:
        seen = np.diff(exclude.indptr)[users]
    depth = int(min(index.ntotal, k + (seen.max() if len(seen) else 0)))
    scores, ids = index.search(np.ascontiguousarray(user_vectors[users], dtype=np.float32), depth)
    top = np.full((len(users), k), -1, dtype=np.int64)
    top_scores = np.full((len(users), k), -np.inf, dtype=np.float32)
    for row, user in enumerate(users):
        cand, sc = ids[row], scores[row]
        ok = cand >= 0
        if exclude is not None:
            banned = exclude.indices[exclude.indptr[user] : exclude.indptr[user + 1]]
            ok &= ~np.isin(cand, banned)
        cand, sc = cand[ok], sc[ok]
        order = np.lexsort((cand, -sc))[:k]
        top[row, : len(order)] = cand[order]
        top_scores[row, : len(order)] = sc[order]
    return top, top_scores


def export_index(
    loaded: LoadedModel, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Any]:
    """Write a faiss index of the item vectors beside the vectors and ids."""
    faiss = _faiss()
    out = Path(out_dir)
    check_output_dir(out, overwrite=overwrite)
    files = [INDEX_FILE, USER_VECTORS, ITEM_VECTORS, USER_IDS, ITEM_IDS, EXPORT_FILE]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        _, items = _write_vectors(tmp, loaded)
        faiss.write_index(build_index(items), str(tmp / INDEX_FILE))
        record = export_record(
            loaded,
            "index",
            files,
            index="faiss IndexFlatIP (exact inner product) over item_vectors; row = item id",
            usage="search user_vectors[u] for k + (u's train items), drop those, keep k "
            "(anchorrec.analysis.exports.index_top_k)",
        )
        _write_record(tmp, record)
    return record


# ------------------------------------------------------------------------------ space
def _cosine_neighbours(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest other rows by cosine: (row indices, distances 1 − cos)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    k = min(k, len(x) - 1)
    ids = np.zeros((len(x), max(k, 0)), dtype=np.int64)
    dist = np.zeros((len(x), max(k, 0)), dtype=np.float32)
    if k <= 0:
        return ids, dist
    for start in range(0, len(x), 2048):
        sims = unit[start : start + 2048] @ unit.T
        rows = np.arange(start, start + len(sims))
        sims[rows - start, rows] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(sims, part, axis=1)
        order = np.lexsort((part, -vals), axis=1)
        ids[start : start + len(sims)] = np.take_along_axis(part, order, axis=1)
        dist[start : start + len(sims)] = 1.0 - np.take_along_axis(vals, order, axis=1)
    return ids, dist


def space_table(loaded: LoadedModel, space: Space, projection: Projection) -> pd.DataFrame:
    """The Embedding Atlas table of a layout: ``item_id``, ``x``, ``y``, ``neighbors``, the
    item's metadata and train popularity; rows by item id."""
    order = np.argsort(projection.item_ids, kind="stable")
    rows = projection.item_ids[order].astype(np.int64)
    xy = projection.xy[order]
    ids, dist = _cosine_neighbours(space.matrix[rows], NEIGHBOURS)
    neighbours = [
        {"ids": rows[i].tolist(), "distances": d.astype(float).tolist()}
        for i, d in zip(ids, dist, strict=True)
    ]
    table = pd.DataFrame(
        {
            "item_id": rows,
            "x": xy[:, 0].astype(float),
            "y": xy[:, 1].astype(float),
            "neighbors": neighbours,
        }
    )
    ds = loaded.dataset
    table["popularity"] = ds.item_popularity()[rows]
    if ds.items is not None:
        meta = ds.items.drop(columns=["item_id"], errors="ignore").iloc[rows].reset_index(drop=True)
        for col in meta.columns:
            if col not in table.columns:
                table[col] = meta[col].to_numpy()
    return table


def _tsv_cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def export_space(
    loaded: LoadedModel,
    out_dir: str | Path,
    space: str = "final",
    method: str = "umap",
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write one item space's layout for Embedding Atlas (Parquet) and the TensorFlow
    Projector (TSV). The cached layout is used when the model has one, else it is computed."""
    from anchorrec.analysis.projection import ProjectionCache, project_space
    from anchorrec.analysis.spaces import item_spaces, model_spaces
    from anchorrec.models.model_dir import ModelDir

    spaces = item_spaces(model_spaces(loaded))
    if space not in spaces:
        raise ConfigError(
            f"--space {space!r}: the {loaded.variant} model has the item spaces "
            f"{', '.join(spaces)}."
        )
    out = Path(out_dir)
    check_output_dir(out, overwrite=overwrite)
    projection = None
    if loaded.model_dir is not None:
        folder = ModelDir(loaded.model_dir).store().write_folder
        projection = ProjectionCache(folder, loaded.fingerprint).get(space, method)
    if projection is None:
        projection = project_space(spaces[space], method)
    table = space_table(loaded, spaces[space], projection)
    record_extra = {
        "space": space,
        "method": method,
        "rows": len(table),
        "trustworthiness": projection.trustworthiness,
        "embedding_atlas": f"embedding-atlas {SPACE_FILE} --x x --y y --neighbors neighbors",
        "neighbors": f"{NEIGHBOURS} nearest items by cosine in the {space} space; ids are item_id",
    }
    files = [SPACE_FILE, VECS_FILE, META_FILE, EXPORT_FILE]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        record = export_record(loaded, "space", files, **record_extra)
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(table, preserve_index=False)
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), b"anchorrec": json.dumps(record).encode()}
        )
        pq.write_table(arrow, tmp / SPACE_FILE)
        vectors = spaces[space].matrix[table["item_id"].to_numpy()]
        np.savetxt(tmp / VECS_FILE, vectors, delimiter="\t", fmt="%.6g")
        meta = table.drop(columns=["x", "y", "neighbors"])
        lines = ["\t".join(_tsv_cell(c) for c in meta.columns)]
        lines += ["\t".join(_tsv_cell(v) for v in row) for row in meta.itertuples(index=False)]
        (tmp / META_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        _write_record(tmp, record)
    return record


def read_space(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A ``space.parquet`` and the export record stored in its metadata."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(b"anchorrec", b"{}"))
    return table.to_pandas(), meta
