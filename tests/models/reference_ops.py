"""Dense building blocks of the reference implementations that the equivalence tests
(``test_default_equivalence.py``, ``test_paper_equivalence.py``) restate the models with:
plain formulas on dense matrices, one term at a time, reading parameters by name."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from anchorrec.models.base import Batch


def dense_knn(x: np.ndarray, k: int) -> torch.Tensor:
    """Top-k cosine per row (self first), symmetric normalisation by the row sums."""
    n = F.normalize(torch.from_numpy(x).double(), dim=1)
    sim = n @ n.T
    keep = torch.zeros_like(sim)
    for i in range(sim.shape[0]):
        row = sim[i].clone()
        row[i] = float("inf")
        idx = torch.topk(row, k).indices
        keep[i, idx] = sim[i, idx]
    deg = keep.sum(1)
    inv = torch.where(deg > 0, deg.clamp_min(1e-300) ** -0.5, torch.zeros_like(deg))
    return (inv[:, None] * keep * inv[None, :]).float()


def info_nce(x: torch.Tensor, y: torch.Tensor, tau: float) -> torch.Tensor:
    logits = F.cosine_similarity(x[:, None, :], y[None, :, :], dim=2) / tau
    return -torch.log_softmax(logits, dim=1).diagonal().mean()


def lsim(z: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
    """‖Z Zᵀ − cos(raw)‖_F / B with the target detached."""
    n = F.normalize(raw, dim=1)
    target = (n @ n.T).detach()
    return torch.linalg.matrix_norm(z @ z.T - target) / z.shape[0]


def mlp(p: dict[str, torch.Tensor], name: str, x: torch.Tensor) -> torch.Tensor:
    h = torch.relu(x @ p[f"{name}.0.weight"].T + p[f"{name}.0.bias"])
    return h @ p[f"{name}.2.weight"].T + p[f"{name}.2.bias"]


def linear(p: dict[str, torch.Tensor], name: str, x: torch.Tensor) -> torch.Tensor:
    return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]


def batches(dataset, n: int, rows: int, seed: int = 0) -> list[Batch]:
    """``n`` seeded batches of ``rows`` train interactions, each with a random negative."""
    rng = np.random.default_rng(seed)
    train = dataset.train.tocoo()
    out = []
    for _ in range(n):
        pick = rng.integers(0, train.nnz, size=rows)
        out.append(
            Batch(
                torch.from_numpy(train.row[pick].astype(np.int64)),
                torch.from_numpy(train.col[pick].astype(np.int64)),
                torch.from_numpy(rng.integers(0, dataset.n_items, rows).astype(np.int64)),
            )
        )
    return out
