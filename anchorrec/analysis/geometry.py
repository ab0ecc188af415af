"""Geometry of embedding spaces: collapse, similarity of two spaces, neighbourhoods.

Every function takes numpy matrices with one row per item and returns a plain float (or a
small tuple). Large inputs are evaluated on a seeded row sample (``max_rows``), documented
per function; every estimate is reproducible.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

from anchorrec.stats import sample_rows as sample_rows

#: Rows used for the pairwise estimates (uniformity, CKA, kNN queries) on large catalogues.
DEFAULT_MAX_ROWS = 4000

#: Temperature t of the uniformity loss, log E exp(−t‖x̃ − ỹ‖²) (Wang & Isola, 2020).
UNIFORMITY_T = 2.0


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def effective_rank(x: np.ndarray) -> float:
    """``exp(−Σ p log p)`` with ``p = σ / Σσ`` over the singular values of the centred ``x``.

    Between 1 (all rows on a line) and ``rank(x)`` (all directions used equally).
    """
    x = np.asarray(x, dtype=np.float64)
    sigma = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    sigma = sigma[sigma > sigma.max(initial=0.0) * 1e-12]
    if sigma.size == 0:
        return 1.0
    p = sigma / sigma.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def uniformity(x: np.ndarray, *, max_rows: int | None = DEFAULT_MAX_ROWS, seed: int = 0) -> float:
    """``log mean exp(−2‖x̃ − ỹ‖²)`` over pairs of distinct L2-normalised rows.

    Lower is more uniform on the sphere (≈ −4 for isotropic 64-d vectors); 0 means every row
    points the same way (collapse).
    """
    xn = _normalise(np.asarray(x)[sample_rows(len(x), max_rows, seed)])
    n = len(xn)
    if n < 2:
        return 0.0
    sq = np.clip(2.0 - 2.0 * (xn @ xn.T), 0.0, None)
    iu = np.triu_indices(n, k=1)
    return float(logsumexp(-UNIFORMITY_T * sq[iu]) - np.log(len(iu[0])))


def alignment(x: np.ndarray, y: np.ndarray) -> float:
    """Mean ``‖x̃_i − ỹ_i‖²`` over positive pairs (row ``i`` of both, L2-normalised); 0 = identical."""
    return float(((_normalise(x) - _normalise(y)) ** 2).sum(axis=1).mean())


def alignment_null(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """:func:`alignment` of ``x`` against a row-shuffled ``y`` (pairs that are not positives)."""
    perm = np.random.default_rng(seed).permutation(len(y))
    return alignment(x, np.asarray(y)[perm])


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA ``‖YᵀX‖_F² / (‖XᵀX‖_F ‖YᵀY‖_F)`` of the column-centred ``x`` and ``y``.

    Invariant to rotations and isotropic scaling of either space; 1 = same geometry.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    cross = np.linalg.norm(y.T @ x) ** 2
    denom = np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
    return float(cross / denom) if denom > 0 else 0.0


def cka_permutation_null(
    x: np.ndarray, y: np.ndarray, *, n_permutations: int = 10, seed: int = 0
) -> tuple[float, float]:
    """Mean and 95th percentile of CKA(x, y[π]) over random row permutations π.

    What CKA gives two spaces whose rows do not correspond (unrelated 64-d spaces ≈ 0.06).
    """
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    vals = [linear_cka(x, y[rng.permutation(len(y))]) for _ in range(n_permutations)]
    return float(np.mean(vals)), float(np.quantile(vals, 0.95))


def knn_indices(
    x: np.ndarray, k: int, queries: np.ndarray | None = None, *, chunk: int = 1024
) -> np.ndarray:
    """Indices of the ``k`` nearest rows (cosine, self excluded) of each query row, nearest first."""
    xn = _normalise(x).astype(np.float32)
    queries = np.arange(len(xn)) if queries is None else np.asarray(queries, dtype=np.int64)
    k = min(k, len(xn) - 1)
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        sims = xn[q] @ xn.T
        sims[np.arange(len(q)), q] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        out[start : start + len(q)] = np.take_along_axis(part, order, axis=1)
    return out


def knn_overlap(
    a: np.ndarray,
    b: np.ndarray,
    k: int = 10,
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    seed: int = 0,
) -> float:
    """Mean ``|N_k^A(i) ∩ N_k^B(i)| / k`` over (a seeded sample of) the rows; 1 = same neighbours."""
    queries = sample_rows(len(a), max_rows, seed)
    na = knn_indices(a, k, queries)
    nb = knn_indices(b, k, queries)
    k = na.shape[1]
    if k == 0:
        return 0.0
    hits = [len(np.intersect1d(r1, r2, assume_unique=True)) for r1, r2 in zip(na, nb, strict=True)]
    return float(np.mean(hits) / k)


def knn_overlap_chance(n_rows: int, k: int = 10) -> float:
    """Expected :func:`knn_overlap` of two unrelated spaces: ``k / (N − 1)``."""
    return min(k, n_rows - 1) / (n_rows - 1) if n_rows > 1 else 0.0


def co_interaction_counts(train: sp.spmatrix) -> np.ndarray:
    """For each item, the number of other items sharing at least one train user (2-hop items)."""
    r = sp.csr_matrix(train, dtype=np.float32)
    r.data[:] = 1.0
    co = (r.T @ r).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    return np.diff(co.indptr).astype(np.int64)


def mean_neighbour_cosine(
    features: np.ndarray, rows: np.ndarray, neighbours: np.ndarray
) -> np.ndarray:
    """Mean cosine of ``features[rows[i]]`` with ``features[neighbours[i, :]]`` (one value per row)."""
    fn = _normalise(features)
    return np.einsum("id,ikd->ik", fn[rows], fn[neighbours]).mean(axis=1)


def procrustes_align(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``source`` rotated/reflected, scaled and shifted to best match ``reference`` (rows paired)."""
    from scipy.linalg import orthogonal_procrustes

    src = np.asarray(source, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    mu_s, mu_r = src.mean(axis=0), ref.mean(axis=0)
    a, b = src - mu_s, ref - mu_r
    rotation, scale = orthogonal_procrustes(a, b)
    norm = (a**2).sum()
    s = scale / norm if norm > 0 else 1.0
    return (a @ rotation) * s + mu_r
