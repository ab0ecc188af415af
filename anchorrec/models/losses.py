"""Loss functions shared by the models (docs/models.md#losses)."""

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
    constant, over the distinct batch items weighted by their counts, on the cheaper side of
    N). Squares are summed in float64, so the difference loses nothing to cancellation.

    While a CUDA graph is being captured the distinct items cannot be found (``torch.unique``
    has a data-dependent shape), so the constant is then summed over every batch row: the same
    value, a little more work.
    """
    b = z.shape[0]
    with torch.no_grad():
        if _capturing(items):
            n_p = F.normalize(features[items].float(), dim=1)
            n_u, w = n_p, None
        else:
            uniq, inverse, counts = torch.unique(items, return_inverse=True, return_counts=True)
            n_u = F.normalize(features[uniq].float(), dim=1)
            w = counts.to(n_u.dtype)
            n_p = n_u[inverse]
        if n_u.shape[1] <= n_u.shape[0]:  # ‖Σ_u c_u n_u n_uᵀ‖² (d×d)
            gram = (n_u if w is None else n_u * w[:, None]).T @ n_u
            const = gram.double().pow(2).sum()
        else:  # Σ_uv c_u c_v (n_u·n_v)² (U×U)
            gram = (n_u @ n_u.T).double().pow(2)
            const = gram.sum() if w is None else w.double() @ gram @ w.double()
    zz = (z.T @ z).double().pow(2).sum()
    zn = (z.T @ n_p.to(z.dtype)).double().pow(2).sum()
    sq = (zz - 2 * zn + const).clamp_min(1e-12)
    return (sq.sqrt() / b).to(z.dtype)


def _capturing(t: torch.Tensor) -> bool:
    """Whether ``t``'s CUDA stream is being captured into a CUDA graph."""
    return t.is_cuda and torch.cuda.is_current_stream_capturing()


def uniformity_margin(
    users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float
) -> torch.Tensor:
    """UIM: mean ReLU(m + (1 − cos(sg(h_u), h_i⁺)) − (1 − cos(sg(h_u), h_i⁻)))."""
    u = users.detach()
    d_pos = 1 - F.cosine_similarity(u, pos, dim=1)
    d_neg = 1 - F.cosine_similarity(u, neg, dim=1)
    return F.relu(margin + d_pos - d_neg).mean()
