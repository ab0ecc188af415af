"""Ranking: the top-K items of users under a model's embeddings, seen items masked out.

Both the recommendation API (:mod:`anchorrec.models.recommend`) and the evaluation
(:mod:`anchorrec.evaluation.metrics`) rank through :func:`top_k_items`, so what a shopper is
shown and what the metrics measure are the same list.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from anchorrec.models.base import Embeddings

#: most users scored per matrix product
USER_BATCH = 4096
#: bound on one block of scores (users × items float32), so 1M-item catalogues fit too
SCORE_BLOCK_BYTES = 256 * 1024**2


@torch.no_grad()
def top_k_items(
    embeddings: Embeddings,
    users: np.ndarray,
    k: int,
    mask: sp.csr_matrix | None = None,
    *,
    batch: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item ids and scores of ``users`` (len(users) × k), masked items excluded.

    Users are scored in blocks of ``batch`` (by default as many as keep one block of scores
    under :data:`SCORE_BLOCK_BYTES`, at most :data:`USER_BATCH`).
    """
    user_emb = embeddings.users
    item_t = embeddings.items.T.contiguous()
    k = min(k, item_t.shape[1])
    if batch is None:
        batch = max(1, min(USER_BATCH, SCORE_BLOCK_BYTES // (4 * max(1, item_t.shape[1]))))
    ids, scores = [], []
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        s = user_emb[torch.as_tensor(chunk, device=user_emb.device)] @ item_t
        if mask is not None:
            sub = mask[chunk].tocoo()
            if sub.nnz:
                rows = torch.as_tensor(sub.row, device=s.device, dtype=torch.long)
                cols = torch.as_tensor(sub.col, device=s.device, dtype=torch.long)
                s[rows, cols] = -torch.inf
        val, idx = torch.topk(s, k, dim=1)
        ids.append(idx.cpu().numpy())
        scores.append(val.float().cpu().numpy())
    if not ids:
        return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    return np.concatenate(ids), np.concatenate(scores)
