"""The item–item graphs of a multimodal model's views, for any coalition of players.

Each modality view m propagates its gated item embeddings over ``S_m``, the kNN graph of its
input. Removing a player (input attribution) changes the graphs built from it; these
functions build (and cache on the model) the graphs of a coalition or a background draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from anchorrec.models.base import ID, Background
from anchorrec.models.graphs import (
    ItemGraph,
    MeanGraph,
    PermutedGraph,
    SparseGraph,
    identity_graph,
    knn_from_rows,
    knn_graph,
)

if TYPE_CHECKING:
    from anchorrec.models.multimodal import MultimodalRecommender


def view_graphs(model: MultimodalRecommender, drop: frozenset[str]) -> dict[str, ItemGraph]:
    """Item–item graph of every view for coalition ``drop`` (built lazily, cached, not saved).

    A view whose every source is dropped gets the :class:`MeanGraph` (the graph its
    catalogue-mean features induce); a derived fused view with one source dropped gets the
    kNN graph of the fused input rebuilt from the rest.
    """
    drop = frozenset(p for p in drop if p != ID)
    key = (drop, str(model.device), model.removed_graph)
    if key not in model._graph_cache:
        graphs: dict[str, ItemGraph] = {}
        for m in model.views:
            src = model._sources(m)
            if src <= drop and model.removed_graph == "identity":
                graphs[m] = SparseGraph(identity_graph(model.n_items), model.device)
            elif src <= drop:
                graphs[m] = MeanGraph(model.n_items)
            elif src & drop:  # a derived input with some sources removed: rebuild it
                graphs[m] = SparseGraph(
                    knn_graph(model._raw_numpy(m, drop), model.config.knn_k, model.device),
                    model.device,
                )
            elif drop:
                graphs[m] = view_graphs(model, frozenset())[m]
            else:
                graphs[m] = SparseGraph(knn_from_rows(*model._knn_rows(m)), model.device)
        model._graph_cache[key] = graphs
    return model._graph_cache[key]


def background_graphs(
    model: MultimodalRecommender, drop: frozenset[str], background: Background
) -> dict[str, ItemGraph]:
    """Item graphs of one background draw: a view whose every source is dropped gets the
    real graph relabelled by the draw; a derived view with some sources dropped, the kNN
    graph of its rebuilt input (not cached: it changes with every draw)."""
    drop = frozenset(p for p in drop if p != ID)
    full = view_graphs(model, frozenset())
    graphs: dict[str, ItemGraph] = {}
    for m in model.views:
        src = model._sources(m)
        if src <= drop:
            base = full[m]
            assert not isinstance(base, PermutedGraph)  # the full graphs are never permuted
            graphs[m] = PermutedGraph(base, background.items, model.device)
        elif src & drop:
            graphs[m] = SparseGraph(
                knn_graph(model._raw_numpy(m, drop, background), model.config.knn_k, model.device),
                model.device,
            )
        else:
            graphs[m] = full[m]
    return graphs


def graph_neighbours(model: MultimodalRecommender, item: int) -> dict[str, np.ndarray]:
    """The other items in ``item``'s row of each view's kNN graph, heaviest edge first."""
    out = {}
    for m, graph in view_graphs(model, frozenset()).items():
        assert isinstance(graph, SparseGraph)
        crow = graph.matrix.crow_indices()
        lo, hi = int(crow[item]), int(crow[item + 1])
        cols = graph.matrix.col_indices()[lo:hi].cpu().numpy()
        vals = graph.matrix.values()[lo:hi].cpu().numpy()
        keep = cols != item
        cols, vals = cols[keep], vals[keep]
        out[m] = cols[np.lexsort((cols, -vals))].astype(np.int64)
    return out
