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
    # 1/τ scales the B×d side, not the B×B logits (one B×B pass less, same values)
    logits = (F.normalize(x, dim=1) / temperature) @ F.normalize(y, dim=1).T
    return F.cross_entropy(logits, torch.arange(x.shape[0], device=x.device))


def cosine_matrix(x: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarity of the rows of ``x``."""
    xn = F.normalize(x, dim=1)
    return xn @ xn.T


def similarity_preservation(
    z: torch.Tensor, features: torch.Tensor, items: torch.Tensor
) -> torch.Tensor:
    """Lsim(Z, cos(x_P)) = ‖Z Zᵀ − sg(S)‖_F / B with S_kl = cos(x_{P_k}, x_{P_l}).

    Computed without any B×B matrix: with N the L2-normalised x_P (S = N Nᵀ),
    ‖Z Zᵀ − N Nᵀ‖² = ‖ZᵀZ‖² − 2‖ZᵀN‖² + ‖NᵀN‖², three small Gram matrices (the last one, a
    constant, on the cheaper side of N). Squares are summed in float64, so the difference
    loses nothing to cancellation. Every shape is fixed by the batch (no ``torch.unique``), so
    the step can be captured as a CUDA graph.
    """
    b = z.shape[0]
    with torch.no_grad():
        n_p = F.normalize(features[items].float(), dim=1)
        if n_p.shape[1] <= n_p.shape[0]:  # ‖NᵀN‖² (d×d)
            const = (n_p.T @ n_p).double().pow(2).sum()
        else:  # ‖N Nᵀ‖² (B×B)
            const = (n_p @ n_p.T).double().pow(2).sum()
    zz = (z.T @ z).double().pow(2).sum()
    zn = (z.T @ n_p.to(z.dtype)).double().pow(2).sum()
    sq = (zz - 2 * zn + const).clamp_min(1e-12)
    return (sq.sqrt() / b).to(z.dtype)


def uniformity_margin(
    users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float
) -> torch.Tensor:
    """UIM: mean ReLU(m + (1 − cos(sg(h_u), h_i⁺)) − (1 − cos(sg(h_u), h_i⁻)))."""
    u = users.detach()
    d_pos = 1 - F.cosine_similarity(u, pos, dim=1)
    d_neg = 1 - F.cosine_similarity(u, neg, dim=1)
    return F.relu(margin + d_pos - d_neg).mean()
