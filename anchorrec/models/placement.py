"""Placing items the model has never seen in a multimodal model's catalogue.

The new-product preview and the past-launch study rank a product from its photo and copy
alone: :func:`place_items` returns a copy of the model whose catalogue holds it (see
:meth:`anchorrec.models.base.Recommender.place_items` for the contract).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from anchorrec.data.dataset import FUSED, IMAGE, TEXT
from anchorrec.data.features import build_fused_features
from anchorrec.errors import ConfigError
from anchorrec.models.graphs import extend_knn_rows

if TYPE_CHECKING:
    from anchorrec.models.multimodal import MultimodalRecommender


def place_items(
    model: MultimodalRecommender,
    features: dict[str, np.ndarray],
    items: np.ndarray | None = None,
    *,
    fresh: bool = True,
) -> MultimodalRecommender:
    """:meth:`Recommender.place_items` of a multimodal model. What changes in the copy:

    - the raw image and text rows (and the fused row, rebuilt from them when derived);
      the feature tables the forward pass reads follow them through the model's own
      reduction basis (a trainable table gets the raw rows, its value before training);
    - the item ID embedding of a fresh item: the mean of the ID embeddings of the items
      that keep theirs (appending the catalogue mean leaves the mean unchanged, so the
      attribution's removed ID is the same with or without the preview);
    - the train interactions of a fresh replaced item are removed (an appended one has
      none), so it is an isolated node of the interaction graph;
    - every item–item kNN graph is that of the new catalogue, so the placed item has its
      neighbours and may enter other items' neighbourhoods, exactly as if it had been in
      the catalogue when the graphs were built (appended rows extend the top-k rows of
      the catalogue's graphs: only their similarities to the new rows are computed).
    """
    needs = (IMAGE, TEXT) if model.fused_is_derived else (IMAGE, TEXT, FUSED)
    missing = [m for m in needs if m not in features]
    if missing:
        extra = (
            " (this model's fused input came with the dataset, it is not derived from image "
            "and text, so a placed item needs its own)"
            if FUSED in missing
            else ""
        )
        raise ConfigError(f"placing an item needs its {' and '.join(missing)} features{extra}.")
    rows = {m: np.atleast_2d(np.asarray(features[m], dtype=np.float32)) for m in needs}
    counts = {x.shape[0] for x in rows.values()}
    if len(counts) != 1:
        raise ConfigError(
            f"placed feature rows disagree in count: { {m: x.shape[0] for m, x in rows.items()} }."
        )
    n_new = counts.pop()
    for m, x in rows.items():
        width = model._raw[m].shape[1]
        if x.shape[1] != width:
            raise ConfigError(
                f"this model's {m} features are {width}-d but the placed item's are "
                f"{x.shape[1]}-d: the catalogue's {m} features were not made by the encoder "
                "that encoded the new item, so it cannot be placed among them (import the "
                "catalogue with the offline encoders to preview new products)."
            )
    n = model.n_items
    if items is None:
        where = np.arange(n, n + n_new)
        keep = np.arange(n)
    else:
        where = np.asarray(items, dtype=np.int64).ravel()
        if len(where) != n_new or len(np.unique(where)) != n_new:
            raise ConfigError(f"{n_new} feature rows need {n_new} distinct items, got {items}.")
        bad = where[(where < 0) | (where >= n)]
        if len(bad):
            raise ConfigError(f"item {int(bad[0])} does not exist (items 0..{n - 1}).")
        keep = np.setdiff1d(np.arange(n), where) if fresh else np.arange(n)
        if not len(keep):
            keep = np.arange(n)
    clone = model._clone()
    clone.n_items = n + (n_new if items is None else 0)

    def put(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        if items is None:
            return np.concatenate([old, new.astype(old.dtype)])
        out = old.copy()
        out[where] = new
        return out

    for m in needs:
        clone._raw[m] = np.ascontiguousarray(put(model._raw[m], rows[m]), dtype=np.float32)
    if model.fused_is_derived:
        clone._raw[FUSED] = build_fused_features(clone._raw[IMAGE], clone._raw[TEXT])
    with torch.no_grad():
        for m in model.tables_for:
            if model.config.trainable_features:
                table = model._table(m).detach().cpu().numpy()  # type: ignore[union-attr]
                value = torch.from_numpy(put(table, clone._raw[m][where]))
                setattr(clone, f"feat_{m}", nn.Parameter(value.to(model.device)))
                setattr(
                    clone, f"frozen_{m}", torch.from_numpy(clone._raw[m].copy()).to(model.device)
                )
            else:
                setattr(clone, f"feat_{m}", clone._to_input(m, clone._raw[m]))
        e = model.item_id.detach()
        mean = e[torch.as_tensor(keep, device=e.device)].mean(0, keepdim=True)
        if items is None:
            e_new = torch.cat([e, mean.expand(n_new, -1)])
        else:
            e_new = e.clone()
            if fresh:
                e_new[torch.as_tensor(where, device=e.device)] = mean
        clone.item_id = nn.Parameter(e_new)
    train = model._train.tocsr()
    if items is None:
        train = sp.hstack([train, sp.csr_matrix((train.shape[0], n_new), dtype=train.dtype)])
    elif fresh:
        mask = np.ones(n, dtype=train.dtype)
        mask[where] = 0
        train = train @ sp.diags(mask)
    train = sp.csr_matrix(train)
    train.eliminate_zeros()
    clone._train = train
    if items is None:  # appended rows: extend the kNN rows instead of searching afresh
        for m in model.views:
            clone._knn_cache[m] = extend_knn_rows(
                *model._knn_rows(m), clone._raw[m], model.config.knn_k, model.device
            )
    return clone
