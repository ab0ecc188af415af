"""Loss functions shared by the models (docs/models.md#losses)."""

from __future__ import annotations

import functools
import operator

import torch
import torch.nn.functional as F


def bpr(users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """−mean log σ(h_u·h_i⁺ − h_u·h_i⁻)."""
    return -F.logsigmoid((users * pos).sum(1) - (users * neg).sum(1)).mean()


def l2_penalty(*matrices: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """½ Σ‖m‖² / B over the given batch matrices (B = ``rows``, default the rows of the first;
    the released code passes its configured batch size, also for a short last batch)."""
    total = functools.reduce(operator.add, (m.pow(2).sum() for m in matrices))
    return 0.5 * total / (matrices[0].shape[0] if rows is None else rows)


def info_nce(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """−mean_k log softmax_j(cos(x_k, y_j)/τ)[k]: one direction, in-batch negatives."""
    # 1/τ scales the B×d side, not the B×B logits (one B×B pass less, same values)
    logits = (F.normalize(x, dim=1) / temperature) @ F.normalize(y, dim=1).T
    return F.cross_entropy(logits, torch.arange(x.shape[0], device=x.device))


#: ``torch.unique(items, return_inverse=True, return_counts=True)``: the distinct batch items,
#: each row's index among them and their counts
Groups = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def batch_groups(items: torch.Tensor) -> Groups | None:
    """The distinct items of a batch for :func:`similarity_preservation` (found once and
    shared by its calls on the same batch); None while a CUDA graph is being captured."""
    if _capturing(items):
        return None
    uniq, inverse, counts = torch.unique(items, return_inverse=True, return_counts=True)
    return uniq, inverse, counts


def similarity_preservation(
    z: torch.Tensor,
    features: torch.Tensor,
    items: torch.Tensor,
    *,
    unit: torch.Tensor | None = None,
    groups: Groups | None = None,
) -> torch.Tensor:
    """Lsim(Z, cos(x_P)) = ‖Z Zᵀ − sg(S)‖_F / B with S_kl = cos(x_{P_k}, x_{P_l}).

    Computed without any B×B matrix: with N the L2-normalised x_P (S = N Nᵀ),
    ‖Z Zᵀ − N Nᵀ‖² = ‖ZᵀZ‖² − 2‖ZᵀN‖² + ‖NᵀN‖², three small Gram matrices over the distinct
    batch items u (weighted by their counts c_u, on the cheaper side of N):
    ZᵀN = Σ_u (Σ_{k: P_k = u} z_k) n_uᵀ and ‖NᵀN‖² = ‖Σ_u c_u n_u n_uᵀ‖², a constant. Squares
    are summed in float64, so the difference loses nothing to cancellation.

    ``unit`` is ``features`` already L2-normalised row-wise (frozen tables: normalised once,
    not every batch); ``groups`` is :func:`batch_groups` of ``items``, shared between calls.

    While a CUDA graph is being captured the distinct items cannot be found (``torch.unique``
    has a data-dependent shape), so every batch row is then its own group: the same value, a
    little more work.
    """
    b = z.shape[0]
    if groups is None:
        groups = batch_groups(items)
    with torch.no_grad():
        rows = items if groups is None else groups[0]
        n_u = unit[rows].float() if unit is not None else F.normalize(features[rows].float(), dim=1)
        w = None if groups is None else groups[2].to(n_u.dtype)
        if n_u.shape[1] <= n_u.shape[0]:  # ‖Σ_u c_u n_u n_uᵀ‖² (d×d)
            gram = (n_u if w is None else n_u * w[:, None]).T @ n_u
            const = gram.double().pow(2).sum()
        else:  # Σ_uv c_u c_v (n_u·n_v)² (U×U)
            gram = (n_u @ n_u.T).double().pow(2)
            const = gram.sum() if w is None else w.double() @ gram @ w.double()
    # Σ_{k: P_k = u} z_k: one row per distinct item
    z_u = z if groups is None else z.new_zeros(n_u.shape[0], z.shape[1]).index_add(0, groups[1], z)
    zz = (z.T @ z).double().pow(2).sum()
    zn = (z_u.T @ n_u.to(z.dtype)).double().pow(2).sum()
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
