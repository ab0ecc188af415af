"""Loss functions shared by the models (MODEL.md, "Losses")."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bpr(users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """−mean log σ(h_u·h_i⁺ − h_u·h_i⁻)."""
    return -F.logsigmoid((users * pos).sum(1) - (users * neg).sum(1)).mean()


def l2_penalty(*rows: torch.Tensor) -> torch.Tensor:
    """½ Σ‖row‖² / B over the given batch matrices (B = rows of the first)."""
    total = sum(r.pow(2).sum() for r in rows)
    return 0.5 * total / rows[0].shape[0]


def info_nce(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """−mean_k log softmax_j(cos(x_k, y_j)/τ)[k]: one direction, in-batch negatives."""
    logits = F.normalize(x, dim=1) @ F.normalize(y, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(x.shape[0], device=x.device))


def cosine_matrix(x: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarity of the rows of ``x``."""
    xn = F.normalize(x, dim=1)
    return xn @ xn.T


def batch_cosine_target(features: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """cos(x_P) of the batch items ``items``, computed once per distinct item (exact).

    A batch repeats popular items; the Gram matrix of the distinct rows is gathered back to
    the batch, which saves (1 − distinct/B)² of the matrix product on wide features.
    """
    with torch.no_grad():
        uniq, inverse = torch.unique(items, return_inverse=True)
        gram = cosine_matrix(features[uniq])
        return gram[inverse][:, inverse]


def similarity_preservation(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Lsim(Z, S) = ‖Z Zᵀ − sg(S)‖_F / B."""
    return torch.linalg.matrix_norm(z @ z.T - target.detach()) / z.shape[0]


def uniformity_margin(
    users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float
) -> torch.Tensor:
    """UIM: mean ReLU(m + (1 − cos(sg(h_u), h_i⁺)) − (1 − cos(sg(h_u), h_i⁻)))."""
    u = users.detach()
    d_pos = 1 - F.cosine_similarity(u, pos, dim=1)
    d_neg = 1 - F.cosine_similarity(u, neg, dim=1)
    return F.relu(margin + d_pos - d_neg).mean()
