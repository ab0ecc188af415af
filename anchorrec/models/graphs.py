"""The sparse graphs the models propagate over (docs/models.md#graphs).

- the normalised bipartite user–item graph Â = D^{-1/2} A D^{-1/2} of the train split, and
  its U×I block R̂;
- the item–item kNN graphs S_m: top-k cosine similarity per row (self included), edge value
  the cosine, symmetric normalisation D^{-1/2} S D^{-1/2}. Built in row blocks, so a
  100k-item catalogue never materialises the full I×I similarity matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

#: Most similarity entries held at once while building a kNN graph (≈128 MB of float32).
KNN_BLOCK_ENTRIES = 1 << 25


class _SparseMatmul(torch.autograd.Function):
    """``A @ x`` whose backward is one product with the precomputed ``Aᵀ`` (no re-transpose)."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, a_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.a_t = a_t
        return a @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        # under autocast the incoming gradient can be bfloat16, which cuSPARSE will not multiply
        # with a float32 matrix; x (hence its gradient) is float32 like the matrix
        return None, None, ctx.a_t @ grad.to(ctx.a_t.dtype).contiguous()


class SparseGraph:
    """A fixed sparse matrix (CSR) with its transpose, for differentiable propagation.

    ``row_sums`` / ``col_sums`` and ``nnz`` serve the smoothness loss, which is a quadratic
    form of the graph (no per-edge gathers).
    """

    def __init__(self, m: sp.spmatrix, device: torch.device | str = "cpu") -> None:
        csr = sp.csr_matrix(m, dtype=np.float32)
        csr.sort_indices()
        self.shape = csr.shape
        self.nnz = int(csr.nnz)
        self.matrix = _to_csr_tensor(csr, device)
        t = csr.T.tocsr()
        t.sort_indices()
        symmetric = (abs(csr - t) > 0).nnz == 0 if csr.shape[0] == csr.shape[1] else False
        self.transpose = self.matrix if symmetric else _to_csr_tensor(t, device)
        self.row_sums = torch.from_numpy(np.asarray(csr.sum(axis=1)).ravel().astype(np.float32)).to(
            device
        )
        self.col_sums = torch.from_numpy(np.asarray(csr.sum(axis=0)).ravel().astype(np.float32)).to(
            device
        )
        self.dtype = torch.float32

    def mm(self, x: torch.Tensor) -> torch.Tensor:
        """``self @ x``, differentiable in ``x``."""
        x = x.to(self.dtype)
        if not x.requires_grad:
            return self.matrix @ x
        return _SparseMatmul.apply(self.matrix, self.transpose, x)

    def tmm(self, x: torch.Tensor) -> torch.Tensor:
        """``selfᵀ @ x``, differentiable in ``x`` (the stored transpose; no re-transpose)."""
        x = x.to(self.dtype)
        if not x.requires_grad:
            return self.transpose @ x
        return _SparseMatmul.apply(self.transpose, self.matrix, x)


def _to_csr_tensor(csr: sp.csr_matrix, device: torch.device | str) -> torch.Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only CSR @ dense
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(csr.data.astype(np.float32)),
            size=csr.shape,
            device=device,
        )


def _sym_normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    """D^{-1/2} M D^{-1/2} with D the row sums of ``m`` (rows summing to ≤ 0 get weight 0)."""
    deg = np.asarray(m.sum(axis=1)).ravel()
    inv = np.zeros_like(deg, dtype=np.float64)
    pos = deg > 0
    inv[pos] = deg[pos] ** -0.5
    d = sp.diags(inv)
    out = (d @ m @ d).tocsr().astype(np.float32)
    out.sort_indices()
    return out


def normalised_bipartite(train: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Â ((U+I)×(U+I)) and its user–item block R̂ (U×I) of the train interactions."""
    n_users, n_items = train.shape
    r = (train > 0).astype(np.float32).tocsr()
    a = sp.bmat([[None, r], [r.T, None]], format="csr", dtype=np.float32)
    a_hat = _sym_normalise(a)
    r_hat = a_hat[:n_users, n_users:].tocsr()
    return a_hat, r_hat


def knn_graph(features: np.ndarray, k: int, device: torch.device | str = "cpu") -> sp.csr_matrix:
    """Normalised top-``k`` cosine kNN graph of the rows of ``features`` (self included).

    Computed in blocks of rows so memory stays at ``KNN_BLOCK_ENTRIES`` similarity entries,
    on ``device`` (a GPU builds a 100k-item graph in seconds; the result is a scipy matrix).
    A row of zeros has cosine 0 with everything; it keeps itself with weight 0.
    """
    return knn_from_rows(*knn_rows(features, k, device))


def knn_rows(
    features: np.ndarray, k: int, device: torch.device | str = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's top-``k`` cosines and their columns, itself first (the graph before it is
    normalised: :func:`knn_from_rows`)."""
    with torch.autocast(device_type=torch.device(device).type, enabled=False):
        x = _unit_rows(features, device)
        n = x.shape[0]
        k = min(k, n)
        block = max(1, KNN_BLOCK_ENTRIES // max(n, 1))
        vals, cols = [], []
        for start in range(0, n, block):
            rows = x[start : start + block]
            sim = rows @ x.T
            # self always included: put it first whatever the numerics say
            local = torch.arange(sim.shape[0], device=x.device)
            sim[local, start + local] = torch.inf
            top_val, top_idx = torch.topk(sim, k, dim=1)
            top_val[:, 0] = (rows * rows).sum(1)
            cols.append(top_idx.cpu().numpy())
            vals.append(top_val.cpu().numpy())
    if not vals:
        return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
    return np.concatenate(vals).astype(np.float32), np.concatenate(cols).astype(np.int64)


def extend_knn_rows(
    values: np.ndarray,
    columns: np.ndarray,
    features: np.ndarray,
    k: int,
    device: torch.device | str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`knn_rows` of ``features`` whose first ``len(values)`` rows had ``values`` /
    ``columns``: only the similarities to the appended rows are computed.

    An old row's top-``k`` over the longer catalogue is the best ``k`` of its old top-``k``
    and its cosines to the new rows; a new row is searched against every row. The result is
    the one :func:`knn_rows` gives on ``features`` (up to the order of exactly tied cosines).
    """
    n_old = len(values)
    with torch.autocast(device_type=torch.device(device).type, enabled=False):
        x = _unit_rows(features, device)
        n = x.shape[0]
        k = min(k, n)
        new = x[n_old:]
        # old rows: merge the old top-k (itself first, kept first) with the new columns
        old_val = torch.as_tensor(values, device=x.device).clone()
        self_val = old_val[:, 0].clone()
        old_val[:, 0] = torch.inf
        cand_val = torch.cat([old_val, x[:n_old] @ new.T], dim=1)
        extra = torch.arange(n_old, n, device=x.device).expand(n_old, n - n_old)
        cand_col = torch.cat([torch.as_tensor(columns, device=x.device), extra], dim=1)
        top_val, pos = torch.topk(cand_val, k, dim=1)
        top_col = torch.gather(cand_col, 1, pos)
        top_val[:, 0] = self_val
        # new rows: against everything
        sim = new @ x.T
        local = torch.arange(n - n_old, device=x.device)
        sim[local, n_old + local] = torch.inf
        new_val, new_col = torch.topk(sim, k, dim=1)
        new_val[:, 0] = (new * new).sum(1)
        out_val = torch.cat([top_val, new_val]).cpu().numpy().astype(np.float32)
        out_col = torch.cat([top_col, new_col]).cpu().numpy().astype(np.int64)
    return out_val, out_col


def knn_from_rows(values: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
    """The normalised kNN graph of top-``k`` rows (:func:`knn_rows`)."""
    n, k = values.shape
    s = sp.csr_matrix(
        (values.reshape(-1), (np.repeat(np.arange(n), k), columns.reshape(-1))),
        shape=(n, n),
        dtype=np.float32,
    )
    return _sym_normalise(s)


def _unit_rows(features: np.ndarray, device: torch.device | str) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)).to(device)
    return torch.nn.functional.normalize(x, dim=1)


class MeanGraph:
    """The item–item graph of a removed input: every item as similar as every other.

    A removed input's features are all the catalogue mean, so every pair of items has the
    same cosine; the graph that induces is the complete one, whose symmetric normalisation is
    ``J / n``. One propagation step therefore gives every item the catalogue mean of ``z``: the
    branch keeps no item-specific signal of the removed input. Never materialised.
    """

    def __init__(self, n: int) -> None:
        self.shape = (n, n)
        self.dtype = torch.float32

    def mm(self, x: torch.Tensor) -> torch.Tensor:
        """``(J / n) @ x``: the column means of ``x`` on every row (differentiable)."""
        x = x.to(self.dtype)
        return x.mean(0, keepdim=True).expand_as(x).contiguous()


def identity_graph(n: int) -> sp.csr_matrix:
    """The identity (propagation leaves z unchanged): the removed-input graph of the first rule."""
    return sp.identity(n, dtype=np.float32, format="csr")


class PermutedGraph:
    """The graph of features whose row ``i`` is row ``perm[i]`` of the features of ``graph``.

    A kNN graph depends on the features only through their pairwise cosines, so relabelling
    the rows relabels the graph: ``S' = P S Pᵀ`` with ``S'[i, j] = S[perm[i], perm[j]]`` (up
    to ties among equal cosines). ``S' x = (S x[perm⁻¹])[perm]``; never materialised.
    """

    def __init__(
        self, graph: SparseGraph | MeanGraph, perm: np.ndarray, device: torch.device | str
    ) -> None:
        self.graph = graph
        self.shape = graph.shape
        self.dtype = torch.float32
        self.perm = torch.as_tensor(np.asarray(perm, dtype=np.int64), device=device)
        self.inverse = torch.argsort(self.perm)

    def mm(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph.mm(x[self.inverse])[self.perm]


#: What :func:`propagate` accepts: a stored sparse graph, the implicit mean graph, or a
#: relabelled graph (the background game).
ItemGraph = SparseGraph | MeanGraph | PermutedGraph


def propagate(graph: ItemGraph, x: torch.Tensor, layers: int) -> torch.Tensor:
    """``graph^layers @ x`` (sparse × dense, differentiable in ``x``)."""
    x = x.to(graph.dtype)  # under autocast the dense side may be half precision
    for _ in range(layers):
        x = graph.mm(x)
    return x


def layer_mean(graph: ItemGraph, x: torch.Tensor, layers: int) -> torch.Tensor:
    """mean over l = 0..layers of graph^l x (LightGCN's layer combination)."""
    x = x.to(graph.dtype)  # under autocast the dense side may be half precision
    out = x
    for _ in range(layers):
        x = graph.mm(x)
        out = out + x
    return out / (layers + 1)


def lightgcn(a_hat: SparseGraph, ego: torch.Tensor, layers: int) -> torch.Tensor:
    """mean over l = 0..layers of Â^l ego (LightGCN's layer combination)."""
    return layer_mean(a_hat, ego, layers)


def bipartite_lightgcn(
    r_hat: SparseGraph,
    users: torch.Tensor,
    items: torch.Tensor,
    layers: int,
    extra: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`lightgcn` over Â = [[0, R̂], [R̂ᵀ, 0]] without forming Â: ``(H_u, H_i)``.

    ``Â [u; i] = [R̂ i; R̂ᵀ u]``, so layer l is ``u_l = R̂ i_{l−1}``, ``i_l = R̂ᵀ u_{l−1}``:
    the same sums as the products with Â (its user rows are R̂'s rows, in the same order),
    with no (U+I)-row concatenation, slices or their backward zero-fills.

    With ``extra`` (I×d) the user side returned is ``H_u + R̂ extra``, and the last user
    layer shares that product: ``H_u + R̂ Y = Σ_{l<L} u_l/(L+1) + R̂ (i_{L−1}/(L+1) + Y)``
    (one product with R̂ instead of two; the same value up to float rounding).
    """
    us, its = [users], [items]
    for layer in range(1, layers + 1):
        its.append(r_hat.tmm(us[-1]))
        if layer < layers or extra is None:
            us.append(r_hat.mm(its[-2]))
    h_items = _mean(its)
    if extra is None:
        return _mean(us), h_items
    if layers == 0:
        return users + r_hat.mm(extra), h_items
    n = layers + 1
    return sum_in_order(us) / n + r_hat.mm(its[-2] / n + extra), h_items


def sum_in_order(xs: list[torch.Tensor]) -> torch.Tensor:
    """``x_0 + x_1 + …`` left to right, with no zero tensor to start from."""
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _mean(xs: list[torch.Tensor]) -> torch.Tensor:
    """(x_0 + … + x_L) / (L + 1), summed in order as :func:`layer_mean` sums its layers."""
    return sum_in_order(xs) / len(xs)


def smoothness(graph: SparseGraph, z: torch.Tensor) -> torch.Tensor:
    """mean over the edges (i, j) of w_ij ‖z_i − z_j‖², as a quadratic form.

    Σ w_ij ‖z_i − z_j‖² = Σ_i r_i‖z_i‖² + Σ_j c_j‖z_j‖² − 2 Σ_i z_i · (W z)_i with r, c the
    row and column sums of W. (Self-loops contribute 0 either way.)
    """
    sq = z.pow(2).sum(1)
    total = (graph.row_sums * sq).sum() + (graph.col_sums * sq).sum()
    total = total - 2 * (z * graph.mm(z)).sum()
    return total / max(graph.nnz, 1)
