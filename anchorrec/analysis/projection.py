"""2-D layouts of embedding spaces (PCA, t-SNE, UMAP), aligned, scored and cached on disk.

* Seeded: the same space, method and parameters give the same layout.
* Aligned: every item space's layout is Procrustes-aligned (rotation, reflection, scale,
  shift) onto the layout of the ``final`` space by the same method, so switching spaces in
  the dashboard does not spin the picture. Joint layouts (the anchor domain, the Figure-1
  co-embedding) put several spaces in one projection instead.
* Scored: the trustworthiness of every layout (sklearn.manifold.trustworthiness, 10
  neighbours) on a seeded sample of at most :data:`TRUST_SAMPLE` rows.
* Sampled: a space above :data:`MAX_POINTS` items (more than Amazon Clothing's 23,033) is
  projected on a seeded uniform sample of :data:`MAX_POINTS` items (seed :data:`SAMPLE_SEED`);
  the stored ``item_ids`` say which. A joint layout of ``s`` spaces samples
  ``JOINT_MAX_POINTS // s`` items, the same in every space.
* Cached: ``<model_dir>/projections/<key>.npz`` (float32 ``xy``, int32 ``item_ids``, the
  ``tags`` of joint layouts, ``trustworthiness``, and ``meta`` as a JSON string), written
  atomically and readable with ``allow_pickle=False``; ``index.json`` maps space and method
  to the file and records the model fingerprint and the parameters of each entry.

UMAP is imported only when a UMAP layout is computed (a cold ``import umap`` takes ~15 s).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from anchorrec.analysis.geometry import procrustes_align, sample_rows
from anchorrec.analysis.spaces import ANCHOR_SPACES, COEMBEDDING_SPACES, Space, item_spaces
from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.fileio import atomic_write_bytes, atomic_write_json
from anchorrec.models.model_dir import PROJECTIONS_DIR, ModelDir

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel

METHODS: tuple[str, ...] = ("pca", "tsne", "umap")
MAX_POINTS = 25_000
#: Rows of a joint layout (all its spaces together): a two-space Figure 1 of 25,000 items.
JOINT_MAX_POINTS = 2 * MAX_POINTS
SAMPLE_SEED = 0
TRUST_SAMPLE = 2_000
TRUST_NEIGHBOURS = 10
REFERENCE_SPACE = "final"
INDEX_FILE = "index.json"

#: Names of the joint layouts.
ANCHOR_DOMAIN = "anchor_domain"
COEMBEDDING = "coembedding"

#: Default parameters per method (the cache key includes them).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "pca": {"seed": 0},
    "tsne": {"seed": 0, "perplexity": 30.0, "max_iter": 750},
    "umap": {"seed": 0, "n_neighbors": 15, "min_dist": 0.1},
}


@dataclass(frozen=True)
class Projection:
    """A 2-D layout: ``xy`` row ``r`` is item ``item_ids[r]`` (of space ``tags[r]`` if joint)."""

    space: str
    method: str
    xy: np.ndarray
    item_ids: np.ndarray
    trustworthiness: float
    tags: np.ndarray | None = None
    tag_names: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def tag_labels(self) -> np.ndarray | None:
        """The space name of every row of a joint layout (None for a single space)."""
        if self.tags is None:
            return None
        return np.asarray(self.tag_names)[self.tags]


# --------------------------------------------------------------------------- computing
def _params(method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    if method not in METHODS:
        raise ConfigError(
            f"projection method {method!r} is unknown; use one of {', '.join(METHODS)}."
        )
    merged = dict(DEFAULT_PARAMS[method])
    merged.update(params or {})
    return merged


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(axis=0)
    scale = np.sqrt((x**2).sum(axis=1).mean())
    return x / scale if scale > 0 else x


def embed_2d(x: np.ndarray, method: str, params: dict[str, Any] | None = None) -> np.ndarray:
    """Project the rows of ``x`` to 2-D with ``method`` (seeded); the result is centred."""
    p = _params(method, params)
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if n < 3:
        return np.zeros((n, 2), dtype=np.float64)
    if x.shape[1] < 2:  # a one-number space (popularity's): that number is its exact layout
        xy = np.zeros((n, 2), dtype=np.float64)
        xy[:, : x.shape[1]] = x
        return xy - xy.mean(axis=0)
    if method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=p["seed"]).fit_transform(x)
    elif method == "tsne":
        perplexity = min(float(p["perplexity"]), max(1.0, (n - 1) / 3.0))
        xy = _tsne(x, perplexity, int(p["max_iter"]), int(p["seed"]))
    else:
        import umap  # lazy: a cold import costs ~15 s

        n_neighbors = min(int(p["n_neighbors"]), n - 1)
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=n_neighbors,
            min_dist=float(p["min_dist"]),
            metric="cosine",
            random_state=p["seed"],
            init="spectral" if n > n_neighbors + 2 else "random",
        )
        with warnings.catch_warnings():  # a seeded UMAP is single-threaded; it says so each time
            warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
            xy = reducer.fit_transform(x)
    xy = np.asarray(xy, dtype=np.float64)
    return xy - xy.mean(axis=0)


#: Iterations of t-SNE's early exaggeration phase (part of ``max_iter``, as scikit-learn counts).
EXAGGERATION_ITER = 250


def _tsne(x: np.ndarray, perplexity: float, max_iter: int, seed: int) -> np.ndarray:
    """t-SNE by openTSNE (FFT-accelerated gradients, approximate neighbours on large inputs:
    several times faster than scikit-learn's at 10,000 points, as trustworthy); scikit-learn's
    where openTSNE is not installed. ``max_iter`` counts the exaggeration phase too."""
    try:
        from openTSNE import TSNE
    except ImportError:  # pragma: no cover - openTSNE is a requirement
        from sklearn.manifold import TSNE as SkTSNE

        return np.asarray(
            SkTSNE(
                n_components=2,
                perplexity=perplexity,
                max_iter=max_iter,
                init="pca",
                random_state=seed,
                metric="cosine",
            ).fit_transform(x)
        )
    early = min(EXAGGERATION_ITER, max_iter)
    model = TSNE(
        n_components=2,
        perplexity=perplexity,
        early_exaggeration_iter=early,
        n_iter=max(max_iter - early, 1),
        initialization="pca",
        metric="cosine",
        random_state=seed,
        n_jobs=1,
    )
    return np.asarray(model.fit(x))


def layout_trustworthiness(x: np.ndarray, xy: np.ndarray, *, seed: int = 0) -> float:
    """sklearn's trustworthiness (10 neighbours) on a seeded sample of ≤ TRUST_SAMPLE rows."""
    from sklearn.manifold import trustworthiness

    rows = sample_rows(len(x), TRUST_SAMPLE, seed)
    k = min(TRUST_NEIGHBOURS, (len(rows) - 1) // 2)
    if k < 1:
        return 1.0
    return float(trustworthiness(np.asarray(x)[rows], np.asarray(xy)[rows], n_neighbors=k))


def project_space(
    space: Space,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    reference: Projection | None = None,
) -> Projection:
    """Layout of one item space (sampled above MAX_POINTS), aligned onto ``reference`` if given."""
    p = _params(method, params)
    t0 = time.perf_counter()
    rows = sample_rows(space.n_rows, MAX_POINTS, SAMPLE_SEED)
    x = space.matrix[rows]
    xy = embed_2d(x, method, p)
    if (
        reference is not None
        and len(reference.item_ids) == len(rows)
        and (reference.item_ids == rows).all()
    ):
        xy = procrustes_align(xy, reference.xy)
    trust = layout_trustworthiness(x, xy)
    return Projection(
        space.name,
        method,
        xy.astype(np.float32),
        rows.astype(np.int32),
        trust,
        params=p,
        seconds=time.perf_counter() - t0,
    )


def project_joint(
    name: str, spaces: Sequence[Space], method: str, params: dict[str, Any] | None = None
) -> Projection:
    """One projection of several item spaces of equal width, rows tagged with their space.

    Each space is standardised (centred, unit RMS norm) first so none dominates by scale.
    """
    p = _params(method, params)
    if not spaces:
        raise ConfigError(f"joint layout {name!r}: the model exposes none of its spaces.")
    dims = {s.dim for s in spaces}
    if len(dims) != 1:
        raise ConfigError(f"joint layout {name!r} needs spaces of one width, got {sorted(dims)}.")
    t0 = time.perf_counter()
    rows = sample_rows(spaces[0].n_rows, JOINT_MAX_POINTS // len(spaces), SAMPLE_SEED)
    stacked = np.concatenate([_standardise(s.matrix[rows]) for s in spaces]).astype(np.float32)
    xy = embed_2d(stacked, method, p)
    trust = layout_trustworthiness(stacked, xy)
    tags = np.repeat(np.arange(len(spaces), dtype=np.int8), len(rows))
    return Projection(
        name,
        method,
        xy.astype(np.float32),
        np.tile(rows, len(spaces)).astype(np.int32),
        trust,
        tags=tags,
        tag_names=tuple(s.name for s in spaces),
        params=p,
        seconds=time.perf_counter() - t0,
    )


def joint_layouts(spaces: dict[str, Space]) -> dict[str, list[Space]]:
    """The joint layouts a model supports: its anchor domain and the Figure-1 co-embedding."""
    out: dict[str, list[Space]] = {}
    anchor = [spaces[s] for s in ANCHOR_SPACES if s in spaces]
    if len(anchor) >= 2:
        out[ANCHOR_DOMAIN] = anchor
    if all(s in spaces for s in COEMBEDDING_SPACES):
        out[COEMBEDDING] = [spaces[s] for s in COEMBEDDING_SPACES]
    return out


# --------------------------------------------------------------------------- the disk cache
def cache_key(fingerprint: str, space: str, method: str, params: dict[str, Any]) -> str:
    blob = json.dumps(
        {"fp": fingerprint, "space": space, "method": method, "params": params}, sort_keys=True
    )
    return f"{space}__{method}__{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def _encode(proj: Projection, fingerprint: str) -> bytes:
    meta = {
        "space": proj.space,
        "method": proj.method,
        "params": proj.params,
        "fingerprint": fingerprint,
        "trustworthiness": proj.trustworthiness,
        "tag_names": list(proj.tag_names),
        "seconds": proj.seconds,
        "max_points": MAX_POINTS,
        "sample_seed": SAMPLE_SEED,
    }
    arrays: dict[str, Any] = {  # (savez's keywords are typed loosely)
        "xy": proj.xy.astype(np.float32),
        "item_ids": proj.item_ids.astype(np.int32),
        "trustworthiness": np.asarray(proj.trustworthiness, dtype=np.float64),
        "meta": np.asarray(json.dumps(meta, sort_keys=True)),
    }
    if proj.tags is not None:
        arrays["tags"] = proj.tags.astype(np.int8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _decode(path: Path) -> Projection:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"][()]))
        tags = z["tags"].copy() if "tags" in z.files else None
        return Projection(
            space=meta["space"],
            method=meta["method"],
            xy=z["xy"].copy(),
            item_ids=z["item_ids"].copy(),
            trustworthiness=float(z["trustworthiness"][()]),
            tags=tags,
            tag_names=tuple(meta.get("tag_names", ())),
            params=meta["params"],
            seconds=float(meta.get("seconds", 0.0)),
        )


def _read_index(folder: Path) -> dict[str, Any]:
    path = folder / INDEX_FILE
    if not path.is_file():
        return {"entries": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{path} is not valid JSON ({exc}); delete it and rerun `anchorrec project`."
        ) from exc


class ProjectionCache:
    """The ``projections/`` folder of one model directory."""

    def __init__(self, model_dir: str | Path, fingerprint: str) -> None:
        self.folder = Path(model_dir) / PROJECTIONS_DIR
        self.fingerprint = fingerprint

    def path(self, space: str, method: str, params: dict[str, Any]) -> Path:
        return self.folder / f"{cache_key(self.fingerprint, space, method, params)}.npz"

    def get(
        self, space: str, method: str, params: dict[str, Any] | None = None
    ) -> Projection | None:
        path = self.path(space, method, _params(method, params))
        return _decode(path) if path.is_file() else None

    def put(self, proj: Projection) -> Path:
        path = self.path(proj.space, proj.method, proj.params)
        atomic_write_bytes(path, _encode(proj, self.fingerprint))
        index = _read_index(self.folder)
        entry_key = f"{proj.space}/{proj.method}"
        index.setdefault("entries", {})[entry_key] = {
            "file": path.name,
            "fingerprint": self.fingerprint,
            "params": proj.params,
            "trustworthiness": proj.trustworthiness,
            "points": len(proj.item_ids),
            "seconds": round(proj.seconds, 3),
        }
        index["fingerprint"] = self.fingerprint
        atomic_write_json(self.folder / INDEX_FILE, index)
        return path

    def prune(self) -> list[Path]:
        """Delete projection files that no index entry references (old fingerprints)."""
        if not self.folder.is_dir():
            return []
        keep = {e["file"] for e in _read_index(self.folder).get("entries", {}).values()}
        removed = [p for p in self.folder.glob("*.npz") if p.name not in keep]
        for p in removed:
            p.unlink()
        return removed


def compute_projections(
    spaces: dict[str, Space],
    methods: Sequence[str] = METHODS,
    *,
    cache: ProjectionCache | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    log: Any = None,
) -> dict[tuple[str, str], Projection]:
    """Every item space and joint layout of a model under every method (cache hits reused).

    The ``final`` layout is computed first and every other item space is aligned onto it.
    """
    out: dict[tuple[str, str], Projection] = {}
    items = item_spaces(spaces)
    joints = joint_layouts(items)
    for method in methods:
        p = _params(method, (params or {}).get(method))
        order = sorted(items, key=lambda n: n != REFERENCE_SPACE)
        reference: Projection | None = None
        for name in order:
            proj = cache.get(name, method, p) if cache else None
            if proj is None:
                proj = project_space(items[name], method, p, reference=reference)
                if cache:
                    cache.put(proj)
                if log:
                    log(
                        f"{method:5s} {name:14s} {proj.seconds:6.1f}s trustworthiness {proj.trustworthiness:.3f}"
                    )
            if name == REFERENCE_SPACE:
                reference = proj
            out[(name, method)] = proj
        for name, members in joints.items():
            proj = cache.get(name, method, p) if cache else None
            if proj is None:
                proj = project_joint(name, members, method, p)
                if cache:
                    cache.put(proj)
                if log:
                    log(
                        f"{method:5s} {name:14s} {proj.seconds:6.1f}s trustworthiness {proj.trustworthiness:.3f}"
                    )
            out[(name, method)] = proj
    return out


def precompute_projections(
    loaded: LoadedModel,
    methods: Sequence[str] = METHODS,
    *,
    model_dir: str | Path | None = None,
    log: Any = None,
) -> dict[tuple[str, str], Projection]:
    """Compute and cache every projection of a loaded model in ``<model_dir>/projections/``."""
    from anchorrec.analysis.spaces import model_spaces

    directory = Path(model_dir) if model_dir is not None else loaded.model_dir
    if directory is None:
        raise ConfigError("precompute_projections needs the model directory (model_dir=...).")
    # the model's derived store: the directory itself, or the workspace when it is read-only
    cache = ProjectionCache(ModelDir(directory).store().write_folder, loaded.fingerprint)
    out = compute_projections(model_spaces(loaded), methods, cache=cache, log=log)
    cache.prune()
    return out


def available_projections(model_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The index of cached layouts: ``{"<space>/<method>": {file, trustworthiness, …}}``."""
    return dict(_read_index(Path(model_dir) / PROJECTIONS_DIR).get("entries", {}))


def load_projection_record(model_dir: str | Path, space: str, method: str) -> Projection:
    """The cached :class:`Projection` of ``space`` by ``method`` (no model is loaded)."""
    folder = Path(model_dir) / PROJECTIONS_DIR
    entry = available_projections(model_dir).get(f"{space}/{method}")
    if entry is None or not (folder / entry["file"]).is_file():
        raise CheckpointError(
            f"{folder}: no cached {method} layout of space {space!r}; "
            f"run `python -m anchorrec project {model_dir}` first."
        )
    current = ModelDir(model_dir).fingerprint()
    if current and entry.get("fingerprint") != current:
        raise CheckpointError(
            f"{folder / INDEX_FILE}: the {method} layout of {space!r} was computed for another "
            f"version of this model (fingerprint {entry.get('fingerprint')}, now {current}); "
            f"rerun `python -m anchorrec project {model_dir}`."
        )
    return _decode(folder / entry["file"])


def load_projection(
    model_dir: str | Path, space: str, method: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(xy, item_ids, trustworthiness)`` of a cached layout (see :func:`load_projection_record`)."""
    proj = load_projection_record(model_dir, space, method)
    return proj.xy, proj.item_ids, proj.trustworthiness


def layout_times(entries: dict[str, dict[str, Any]], methods: Sequence[str] = METHODS) -> str:
    """What each method's layouts of one model took, from its index ``entries``
    (``{"<space>/<method>": {"seconds": …, "points": …}}``): one phrase per method."""
    names = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
    parts = []
    for method in methods:
        done = [e for key, e in entries.items() if key.endswith(f"/{method}") and "seconds" in e]
        if not done:
            parts.append(f"{names.get(method, method)}: not computed yet")
            continue
        seconds = sum(float(e["seconds"]) for e in done)
        points = max(int(e.get("points", 0)) for e in done)
        parts.append(
            f"{names.get(method, method)}: {seconds:,.1f} s for {len(done)} "
            f"layout{'' if len(done) == 1 else 's'} "
            f"(up to {points:,} points)"
        )
    return "Layout time on this model: " + "; ".join(parts) + "."
