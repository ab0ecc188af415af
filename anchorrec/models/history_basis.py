"""The user side of a multimodal model as a sum over each shopper's history.

"Because you bought …" attribution reads it (:class:`anchorrec.models.base.HistoryBasis`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from anchorrec.models.base import ID, HistoryBasis
from anchorrec.models.graphs import normalised_bipartite

if TYPE_CHECKING:
    from anchorrec.models.multimodal import MultimodalRecommender


@torch.no_grad()
def history_basis(model: MultimodalRecommender) -> HistoryBasis:
    """``h_u = E_u/(L+1) + Σ_{j ∈ history(u)} R̂_uj (T_j + Σ_m Z^m_j)``, exactly.

    Every LightGCN path of length l ≥ 1 from user u starts at one of u's train items j
    (weight Â_uj = R̂_uj), so ``(Â^l E)_u = Σ_j R̂_uj (Â^{l−1} E)_j`` and the ID view
    splits by that first hop: ``T_j = 1/(L+1) Σ_{l=1..L} (Â^{l−1} E)_j``. The modality
    views' user side is ``R̂ Z^m`` already. What no history item owns is the user's own
    embedding ``E_u/(L+1)`` (the l = 0 layer).
    """
    a_hat, r_hat = model._interaction_graphs()
    layers = model.config.id_layers
    x = torch.cat([model.user_id, model.item_id])
    through = torch.zeros_like(model.item_id)
    for _ in range(layers):
        through = through + x[model.n_users :]
        x = a_hat.mm(x)
    fw = model._forward()
    terms = {ID: _cpu(through / (layers + 1))}
    terms.update({m: _cpu(fw.view_items[m]) for m in model.score_views})
    weights = normalised_bipartite(model._train)[1]
    return HistoryBasis(_cpu(model.user_id / (layers + 1)), weights, terms)


def _cpu(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()
