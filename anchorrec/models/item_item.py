"""Item–item baselines researchers expect beside any new model: EASE, item-kNN and RP3β.

Each learns an I×I weight matrix W from the binary train matrix X (U×I) in closed form and
scores ``score(u, j) = Σ_i X_ui W_ij``. That is the dot product of the :class:`Recommender`
contract with the user vector ``X_u`` (the user's train row) and the item vector ``W[:, j]``,
so evaluation, comparison, attribution (one player, ``id``), the audit and the dashboard treat
them like every other model. W is computed once by :meth:`fit` (the trainer calls it; there is
no gradient training) and saved in ``model.safetensors`` like any weight.

- **EASE** (Steck 2019): P = (XᵀX + λI)⁻¹, W = I − P·diagMat(1/diag(P)), i.e.
  W_ij = −P_ij / P_jj off the diagonal and 0 on it.
- **item-kNN** (cosine with shrinkage): W_ij = x_i·x_j / (‖x_i‖‖x_j‖ + shrink) over the item
  columns x of X, zero diagonal, and for every target item j only its ``knn_neighbours``
  largest W_ij kept (the neighbourhood of j).
- **RP3β** (Paudel et al. 2017): the 3-step random walk item → user → item with transition
  probabilities raised to α, W_ij = Σ_u (X_iu/deg_i)^α (X_uj/deg_u)^α, then divided by
  pop_j^β (popularity penalty), zero diagonal, and for every source item i only its
  ``knn_neighbours`` largest W_ij kept.

Scaling (docs/comparisons.md, "How the baselines scale"): W and the item vectors are dense
I×I float32 (4·I² bytes), and the user vectors are the dense U×I train matrix. EASE's fit
also holds the Gram matrix and its inverse, three I×I float64 matrices at its peak; beyond
:data:`EASE_MAX_ITEMS` items (24 GiB of them) it refuses with a clear error instead of
running out of memory. item-kNN and RP3β build W in column blocks, but keep it dense too and
refuse beyond :data:`DENSE_MAX_ITEMS`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch

from anchorrec.data.dataset import Dataset
from anchorrec.errors import ConfigError
from anchorrec.models.base import ID, Background, Batch, Embeddings, Recommender
from anchorrec.models.config import ModelConfig

#: memory the documented limits are computed for
MEMORY_BUDGET_BYTES = 24 * 1024**3
#: EASE's fit holds three I×I float64 matrices (Gram, inverse, W): 24·I² bytes ≤ 24 GiB
EASE_MAX_ITEMS = int((MEMORY_BUDGET_BYTES / 24) ** 0.5)  # 32,768
#: item-kNN and RP3β hold W and one working copy, I×I float32: 8·I² bytes ≤ 24 GiB
DENSE_MAX_ITEMS = int((MEMORY_BUDGET_BYTES / 8) ** 0.5)  # 56,755
#: columns of W computed at once by the neighbourhood models (bounds their working memory)
COLUMN_BLOCK = 2048


def _binary(train: sp.csr_matrix) -> sp.csr_matrix:
    x = sp.csr_matrix(train, dtype=np.float64, copy=True)
    x.data[:] = 1.0
    x.eliminate_zeros()
    return x


def ease_weights(train: sp.csr_matrix, lam: float) -> np.ndarray:
    """EASE's W (I×I float32) for the binary train matrix and λ."""
    n_items = train.shape[1]
    if n_items > EASE_MAX_ITEMS:
        raise ConfigError(
            f"EASE inverts an items × items matrix: {n_items:,} items would need "
            f"{24 * n_items**2 / 1024**3:.0f} GiB (three {n_items:,}² float64 matrices); it is "
            f"limited to {EASE_MAX_ITEMS:,} items (24 GiB). Use itemknn or rp3beta, or filter "
            "rare items out of the dataset."
        )
    x = _binary(train)
    gram = torch.from_numpy((x.T @ x).toarray())
    gram.diagonal().add_(lam)
    p = torch.cholesky_inverse(torch.linalg.cholesky(gram))
    del gram
    w = p.div_(-p.diagonal()[None, :])  # W_ij = −P_ij / P_jj
    w.fill_diagonal_(0.0)
    return w.numpy().astype(np.float32)


def _check_dense(n_items: int, name: str) -> None:
    if n_items > DENSE_MAX_ITEMS:
        raise ConfigError(
            f"{name} keeps a dense items × items matrix: {n_items:,} items would need "
            f"{8 * n_items**2 / 1024**3:.0f} GiB; it is limited to {DENSE_MAX_ITEMS:,} items "
            "(24 GiB)."
        )


def _keep_top(w: np.ndarray, k: int, axis: int) -> np.ndarray:
    """``w`` with only the ``k`` largest entries of every column (axis 0) or row (axis 1)."""
    n = w.shape[axis]
    if k >= n:
        return w
    drop = np.argpartition(-w, k, axis=axis)
    drop = drop[k:, :] if axis == 0 else drop[:, k:]
    np.put_along_axis(w, drop, 0.0, axis=axis)
    return w


def itemknn_weights(train: sp.csr_matrix, k: int, shrink: float) -> np.ndarray:
    """item-kNN's W: cosine with shrinkage, the ``k`` nearest items of every target column."""
    n_items = train.shape[1]
    _check_dense(n_items, "item-kNN")
    x = _binary(train).tocsc()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(0)).ravel())
    w = np.zeros((n_items, n_items), np.float32)
    for start in range(0, n_items, COLUMN_BLOCK):
        cols = slice(start, min(start + COLUMN_BLOCK, n_items))
        block = (x.T @ x[:, cols]).toarray()
        block /= norms[:, None] * norms[None, cols] + shrink + 1e-6
        idx = np.arange(cols.start, cols.stop)
        block[idx, idx - cols.start] = 0.0
        w[:, cols] = _keep_top(block, k, axis=0)
    return w


def rp3beta_weights(train: sp.csr_matrix, alpha: float, beta: float, k: int) -> np.ndarray:
    """RP3β's W: item → user → item walk probabilities^α, divided by pop_j^β, top-k per row."""
    n_items = train.shape[1]
    _check_dense(n_items, "RP3β")
    x = _binary(train)
    deg_u = np.asarray(x.sum(1)).ravel()
    deg_i = np.asarray(x.sum(0)).ravel()
    p_ui = sp.diags(1.0 / np.maximum(deg_u, 1.0)) @ x  # user → item
    p_iu = (sp.diags(1.0 / np.maximum(deg_i, 1.0)) @ x.T).tocsr()  # item → user
    p_ui.data **= alpha
    p_iu.data **= alpha
    penalty = 1.0 / np.power(np.maximum(deg_i, 1.0), beta)
    w = np.zeros((n_items, n_items), np.float32)
    p_ui = p_ui.tocsc()
    for start in range(0, n_items, COLUMN_BLOCK):
        cols = slice(start, min(start + COLUMN_BLOCK, n_items))
        block = (p_iu @ p_ui[:, cols]).toarray() * penalty[None, cols]
        idx = np.arange(cols.start, cols.stop)
        block[idx, idx - cols.start] = 0.0
        w[:, cols] = block
    for start in range(0, n_items, COLUMN_BLOCK):  # the k largest of every source row
        rows = slice(start, min(start + COLUMN_BLOCK, n_items))
        w[rows] = _keep_top(w[rows], k, axis=1)
    return w


class _ItemItemModel(Recommender):
    """Shared parts of the item–item baselines; the one player is ``id`` (the interactions)."""

    weights: torch.Tensor

    id_only: ClassVar[bool] = True

    def __init__(self, dataset: Dataset, config: ModelConfig) -> None:
        super().__init__(dataset, config)
        self._check_size(dataset.n_items)
        self._train = dataset.train
        self.register_buffer("weights", torch.zeros(self.n_items, self.n_items))
        self._user_rows: dict[str, torch.Tensor] = {}

    def _check_size(self, n_items: int) -> None:
        _check_dense(n_items, self.variant)

    def _weights(self) -> np.ndarray:
        raise NotImplementedError

    def fit(self) -> None:
        self.weights.copy_(torch.from_numpy(self._weights()))

    @property
    def players(self) -> tuple[str, ...]:
        return (ID,)

    def _users(self) -> torch.Tensor:
        """The dense binary train matrix X (U×I float32) on the model's device, cached."""
        key = str(self.device)
        if key not in self._user_rows:
            x = _binary(self._train).astype(np.float32).toarray()
            self._user_rows = {key: torch.from_numpy(x).to(self.device)}
        return self._user_rows[key]

    @torch.no_grad()
    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        drop = frozenset(drop)
        if drop - {ID}:
            raise ConfigError(f"cannot drop {sorted(drop - {ID})}: this model's only player is id.")
        users, items = self._users(), self.weights.T
        if ID in drop and background is not None:  # the drawn users' and items' values
            users, items = background.lend(users, items)
        elif ID in drop:  # without the interactions every user and item is the average one
            users = users.mean(0, keepdim=True).expand_as(users)
            items = items.mean(0, keepdim=True).expand_as(items)
        return Embeddings(users, items, {ID: users}, {ID: items}, {"final": items})

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        return {"total": torch.zeros((), device=self.device)}


class Ease(_ItemItemModel):
    """EASE: closed-form item–item regression, W = I − P·diagMat(1/diag(P)), P = (XᵀX + λI)⁻¹."""

    variant = "ease"
    description = "EASE: closed-form item–item regression (λ)"

    def _check_size(self, n_items: int) -> None:
        if n_items > EASE_MAX_ITEMS:
            ease_weights(sp.csr_matrix((1, n_items)), 1.0)  # raises the documented refusal

    def _weights(self) -> np.ndarray:
        return ease_weights(self._train, self.config.ease_lambda)


class ItemKnn(_ItemItemModel):
    """item-kNN: cosine similarity with shrinkage, ``knn_neighbours`` neighbours per item."""

    variant = "itemknn"
    description = "item-kNN: cosine item similarity with shrinkage (k, shrink)"

    def _weights(self) -> np.ndarray:
        return itemknn_weights(self._train, self.config.knn_neighbours, self.config.knn_shrink)


class Rp3Beta(_ItemItemModel):
    """RP3β: 3-step random walk item → user → item with a popularity penalty."""

    variant = "rp3beta"
    description = "RP3β: random-walk item similarity with a popularity penalty (α, β)"

    def _weights(self) -> np.ndarray:
        cfg = self.config
        return rp3beta_weights(self._train, cfg.rp3_alpha, cfg.rp3_beta, cfg.knn_neighbours)
