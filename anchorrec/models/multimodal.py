"""The AnchorRec family: one architecture, five alignment variants (docs/models.md).

Forward pass, for every modality view m:

    f^m = Linear(x^m);  z^m = E_i ⊙ σ(Linear(f^m));  Z^m_items = S_m^L z^m;  Z^m_users = R̂ Z^m_items
    H = mean_l Â^l [E_u; E_i]
    h = H + Σ_{m ∈ score modalities} Z^m   (+ λ_rec · D(P_mm(Z^mm_items)) on the items)

Variants differ only in their losses (and ``direct`` in its score, h = H + Z^mm):
``anchor`` (AnchorRec), ``none`` (λ₁ = λ₂ = 0), ``anchor-noamp`` (λ₂ = 0),
``anchor-noproj`` (AAL on H and Z^mm directly, no projection heads) and ``direct``
(AlignRec's alignment of Z^mm straight onto H).

Input players for attribution are ``id``, ``image``, ``text``, and ``fused`` only when the
dataset ships its own fused feature; otherwise the fused input x^mm is derived from image and
text by :func:`anchorrec.data.features.build_fused_features` and is rebuilt from the ablated
features when one of them is dropped.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from anchorrec.data.dataset import FUSED, IMAGE, TEXT, Dataset
from anchorrec.data.features import build_fused_features
from anchorrec.errors import ConfigError
from anchorrec.models import losses
from anchorrec.models.base import ID, Background, Batch, Embeddings, HistoryBasis, Recommender
from anchorrec.models.config import ModelConfig
from anchorrec.models.graphs import (
    ItemGraph,
    MeanGraph,
    PermutedGraph,
    SparseGraph,
    bipartite_lightgcn,
    extend_knn_rows,
    identity_graph,
    knn_from_rows,
    knn_graph,
    knn_rows,
    layer_mean,
    normalised_bipartite,
    propagate,
    smoothness,
    sum_in_order,
)

#: Space name of each modality's view and raw features.
VIEW_SPACE = {FUSED: "fused_view", TEXT: "text_view", IMAGE: "image_view"}
RAW_SPACE = {FUSED: "raw_fused", TEXT: "raw_text", IMAGE: "raw_image"}
RECOVER = "recover"
#: a shipped fused_feat.npy within this of build_fused_features(image, text) counts as derived
FUSED_MATCH_TOLERANCE = 1e-5


def mlp(d_in: int, d: int) -> nn.Sequential:
    """The 2-layer ReLU MLP of the projection domain (d_in → d → d).

    Weights Xavier-uniform and biases zero, as the released code initialises its projection
    heads and decoder.
    """
    net = nn.Sequential(nn.Linear(d_in, d), nn.ReLU(), nn.Linear(d, d))
    for layer in (net[0], net[2]):
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    return net


#: Set while a model is rebuilt to load a checkpoint (:func:`bases_from_checkpoint`).
_BASES_FROM_CHECKPOINT = contextvars.ContextVar("bases_from_checkpoint", default=False)


@contextlib.contextmanager
def bases_from_checkpoint() -> Iterator[None]:
    """Models built inside take their reduced-feature bases from the checkpoint they are about
    to load (``load_state_dict``) instead of computing them.

    The basis of a table is a saved buffer: computing it again (a truncated SVD of each feature
    table) on every load was thrown away by ``load_state_dict``, and it was most of the time a
    fresh server's first page took (about 10 CPU-s per multimodal model on the sample). A
    checkpoint without the basis fails the strict load, as before.
    """
    token = _BASES_FROM_CHECKPOINT.set(True)
    try:
        yield
    finally:
        _BASES_FROM_CHECKPOINT.reset(token)


@dataclass
class _Forward:
    """Intermediates of one full forward pass."""

    features: dict[str, torch.Tensor]
    #: the frozen inputs (= ``features`` unless the tables are trainable): P_v, P_t and the
    #: similarity targets read these, as the released code reads v_feat / t_feat
    frozen: dict[str, torch.Tensor]
    #: None (and ``view_users`` empty) in the training pass that sums the user side at once
    id_users: torch.Tensor | None
    id_items: torch.Tensor
    view_users: dict[str, torch.Tensor]
    view_items: dict[str, torch.Tensor]
    recover: torch.Tensor | None
    users: torch.Tensor
    #: every item, or with ``item_rows`` only those rows (in that order)
    items: torch.Tensor
    item_rows: torch.Tensor | None = None
    #: Z^mm and the anchor P_mm(Z^mm) on ``item_rows`` (what the recover branch computed)
    fused_rows: torch.Tensor | None = None
    anchor_rows: torch.Tensor | None = None


class MultimodalRecommender(Recommender):
    """Shared architecture of ``anchor``, ``none``, ``anchor-noamp``, ``anchor-noproj``, ``direct``."""

    variant: ClassVar[str] = "anchor"
    id_only: ClassVar[bool] = False
    #: modality views this variant computes
    views: ClassVar[tuple[str, ...]] = (FUSED, TEXT, IMAGE)
    #: projection heads P_id, P_mm, P_v, P_t exist
    has_projection: ClassVar[bool] = True
    #: the decoded anchor (λ_rec · D(P_mm(Z^mm))) is added to the items
    has_recover: ClassVar[bool] = True
    aal_on: ClassVar[bool] = True
    amp_on: ClassVar[bool] = True
    #: item graph of a view whose inputs are all removed: ``"mean"`` (J/n, the graph the
    #: catalogue-mean features induce) or ``"identity"`` (the first rule, kept to measure
    #: why it was replaced: docs/analysis.md#why-the-mean-graph-not-the-identity)
    removed_graph: str = "mean"

    def __init__(self, dataset: Dataset, config: ModelConfig) -> None:
        super().__init__(dataset, config)
        missing = [m for m in (IMAGE, TEXT) if m not in dataset.features]
        if missing:
            raise ConfigError(
                f"dataset {dataset.name!r} has no {' or '.join(missing)} features; the "
                f"{self.variant!r} variant needs image and text (train lightgcn or mf instead)."
            )
        self._train = dataset.train
        d = config.embedding_dim
        raw = {IMAGE: dataset.features[IMAGE], TEXT: dataset.features[TEXT]}
        derived = build_fused_features(raw[IMAGE], raw[TEXT])
        shipped = dataset.features.get(FUSED)
        #: the fused input is build_fused_features(image, text) (absent, or shipped but equal to
        #: it); otherwise it is an opaque feature and a player of its own
        self.fused_is_derived = shipped is None or (
            shipped.shape == derived.shape
            and np.allclose(
                shipped, derived, rtol=FUSED_MATCH_TOLERANCE, atol=FUSED_MATCH_TOLERANCE
            )
        )
        raw[FUSED] = derived if self.fused_is_derived else shipped
        #: frozen numpy copies of the input features (graphs and derived fused are built from them)
        self._raw = {m: np.ascontiguousarray(x, dtype=np.float32) for m, x in raw.items()}
        self.tables_for = self._table_modalities()

        self.user_id = nn.Parameter(nn.init.xavier_uniform_(torch.empty(self.n_users, d)))
        self.item_id = nn.Parameter(nn.init.xavier_uniform_(torch.empty(self.n_items, d)))
        #: fraction of each reduced table's energy (Σ‖x‖²) its top directions keep
        self.feature_energy: dict[str, float] = {}
        for m in self.tables_for:
            width = self._raw[m].shape[1]
            if config.trainable_features:
                self.register_parameter(
                    f"feat_{m}", nn.Parameter(torch.from_numpy(self._raw[m].copy()))
                )
                self.register_buffer(
                    f"frozen_{m}", torch.from_numpy(self._raw[m].copy()), persistent=False
                )
                continue
            if config.feature_dim is not None and width > config.feature_dim:
                if _BASES_FROM_CHECKPOINT.get():  # load_state_dict brings the saved basis
                    rank = min(config.feature_dim, *self._raw[m].shape)
                    basis = torch.zeros(width, rank)
                else:
                    basis = self._principal_basis(m, config.feature_dim)
                self.register_buffer(f"basis_{m}", basis)
            self.register_buffer(f"feat_{m}", self._to_input(m, self._raw[m]), persistent=False)
        widths = {m: self._table(m).shape[1] for m in self.tables_for}  # type: ignore[union-attr]
        self.encoder = nn.ModuleDict({m: nn.Linear(widths[m], d) for m in self.views})
        self.gate = nn.ModuleDict({m: nn.Linear(d, d) for m in self.views})
        if self.has_projection:
            self.proj_id = mlp(d, d)
            self.proj_fused = mlp(d, d)
            self.proj_image = mlp(widths[IMAGE], d)
            self.proj_text = mlp(widths[TEXT], d)
        if self.has_recover:
            self.decoder = mlp(d, d)
        self._graph_cache: dict[tuple[frozenset[str], str, str], dict[str, ItemGraph]] = {}
        #: each view's unnormalised top-k rows (values, columns) of the full inputs' kNN graph
        self._knn_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._bipartite: dict[str, tuple[SparseGraph, SparseGraph]] = {}
        #: modality -> (frozen table, its version, the table L2-normalised row-wise)
        self._unit_cache: dict[str, tuple[torch.Tensor, int, torch.Tensor]] = {}

    # ------------------------------------------------------------------ reduced inputs
    def _principal_basis(self, m: str, rank: int) -> torch.Tensor:
        """Top-``rank`` right singular vectors of the (uncentred) feature table ``m``.

        Projecting on them keeps inner products, hence the cosines the losses read, up to the
        discarded energy (recorded in :attr:`feature_energy`).
        """
        x = torch.from_numpy(self._raw[m])
        rank = min(rank, *x.shape)
        _, _, v = torch.svd_lowrank(x, q=min(rank + 10, *x.shape), niter=3)
        basis = v[:, :rank].contiguous()
        self._record_energy(m, basis)
        return basis

    def _record_energy(self, m: str, basis: torch.Tensor) -> None:
        x = torch.from_numpy(self._raw[m])
        kept = (x @ basis.to(x.device)).pow(2).sum() / x.pow(2).sum().clamp_min(1e-12)
        self.feature_energy[m] = float(kept)

    def _to_input(self, m: str, x: np.ndarray) -> torch.Tensor:
        """Raw features of ``m`` as the model reads them (projected on its basis if reduced)."""
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        basis = getattr(self, f"basis_{m}", None)
        if basis is not None:
            t = t.to(basis.device) @ basis
        return t.to(self.device)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # type: ignore[override]
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        if not self.config.trainable_features:  # reduced tables follow the loaded bases
            for m in self.tables_for:
                setattr(self, f"feat_{m}", self._to_input(m, self._raw[m]))
                basis = getattr(self, f"basis_{m}", None)
                if basis is not None:
                    self._record_energy(m, basis)
        return result

    # ------------------------------------------------------------------ structure
    def _table_modalities(self) -> tuple[str, ...]:
        """Feature tables the forward pass and losses read (image/text also feed P_v, P_t)."""
        return (FUSED, TEXT, IMAGE)

    @property
    def score_views(self) -> tuple[str, ...]:
        return tuple(m for m in self.config.score_modalities if m in self.views)

    @property
    def players(self) -> tuple[str, ...]:
        return (ID, IMAGE, TEXT) if self.fused_is_derived else (ID, IMAGE, TEXT, FUSED)

    def _sources(self, modality: str) -> set[str]:
        """The players a modality's input is built from."""
        if modality == FUSED and self.fused_is_derived:
            return {IMAGE, TEXT}
        return {modality}

    # ------------------------------------------------------------------ inputs
    def _table(self, m: str) -> torch.Tensor | None:
        return getattr(self, f"feat_{m}", None)

    def _source_numpy(
        self, m: str, drop: frozenset[str], background: Background | None = None
    ) -> np.ndarray:
        """Current raw values of input ``m``, numpy; when ``m`` is dropped its catalogue mean,
        or with ``background`` the values of the drawn items."""
        table = self._table(m)
        trainable = table is not None and self.config.trainable_features
        x = table.detach().float().cpu().numpy() if trainable else self._raw[m]
        if m in drop:
            if background is not None:
                return x[np.asarray(background.items)]
            x = np.broadcast_to(x.mean(0, keepdims=True), x.shape)
        return x

    def _features(
        self,
        drop: frozenset[str],
        background: Background | None = None,
        frozen: bool = False,
    ) -> dict[str, torch.Tensor]:
        """The input of every table modality with the players in ``drop`` removed (a removed
        input takes the mean, or with ``background`` the drawn items' values).

        With ``frozen`` the frozen raw copies of trainable tables are read instead of the
        tables (for frozen tables the two are the same).
        """
        out: dict[str, torch.Tensor] = {}
        for m in self.tables_for:
            table = getattr(self, f"frozen_{m}", None) if frozen else None
            table = self._table(m) if table is None else table
            assert table is not None
            src = self._sources(m)
            if not src & drop:
                out[m] = table
            elif m == FUSED and self.fused_is_derived:
                out[m] = self._to_input(m, self._raw_numpy(m, drop, background))
            elif background is not None:
                out[m] = table[torch.as_tensor(background.items, device=table.device)]
            else:
                out[m] = table.mean(0, keepdim=True).expand_as(table)
        return out

    def _raw_numpy(
        self, m: str, drop: frozenset[str], background: Background | None = None
    ) -> np.ndarray:
        """Raw input ``m`` with ``drop`` removed (a derived fused input rebuilt from the rest)."""
        if m == FUSED and self.fused_is_derived:
            if not self._sources(m) & drop:
                return self._source_numpy(m, frozenset())
            return build_fused_features(
                self._source_numpy(IMAGE, drop, background),
                self._source_numpy(TEXT, drop, background),
            )
        return self._source_numpy(m, drop, background)

    def _background_graphs(
        self, drop: frozenset[str], background: Background
    ) -> dict[str, ItemGraph]:
        """Item graphs of one background draw: a view whose every source is dropped gets the
        real graph relabelled by the draw; a derived view with some sources dropped, the kNN
        graph of its rebuilt input (not cached: it changes with every draw)."""
        drop = frozenset(p for p in drop if p != ID)
        full = self._graphs(frozenset())
        graphs: dict[str, ItemGraph] = {}
        for m in self.views:
            src = self._sources(m)
            if src <= drop:
                graphs[m] = PermutedGraph(full[m], background.items, self.device)
            elif src & drop:
                graphs[m] = SparseGraph(
                    knn_graph(self._raw_numpy(m, drop, background), self.config.knn_k, self.device),
                    self.device,
                )
            else:
                graphs[m] = full[m]
        return graphs

    def _graphs(self, drop: frozenset[str]) -> dict[str, ItemGraph]:
        """Item–item graph of every view for coalition ``drop`` (built lazily, cached, not saved).

        A view whose every source is dropped gets the :class:`MeanGraph` (the graph its
        catalogue-mean features induce); a derived fused view with one source dropped gets the
        kNN graph of the fused input rebuilt from the rest.
        """
        drop = frozenset(p for p in drop if p != ID)
        key = (drop, str(self.device), self.removed_graph)
        if key not in self._graph_cache:
            graphs: dict[str, ItemGraph] = {}
            for m in self.views:
                src = self._sources(m)
                if src <= drop and self.removed_graph == "identity":
                    graphs[m] = SparseGraph(identity_graph(self.n_items), self.device)
                elif src <= drop:
                    graphs[m] = MeanGraph(self.n_items)
                elif src & drop:  # a derived input with some sources removed: rebuild it
                    graphs[m] = SparseGraph(
                        knn_graph(self._raw_numpy(m, drop), self.config.knn_k, self.device),
                        self.device,
                    )
                elif drop:
                    graphs[m] = self._graphs(frozenset())[m]
                else:
                    graphs[m] = SparseGraph(knn_from_rows(*self._knn_rows(m)), self.device)
            self._graph_cache[key] = graphs
        return self._graph_cache[key]

    def _interaction_graphs(self) -> tuple[torch.Tensor, torch.Tensor]:
        key = str(self.device)
        if key not in self._bipartite:
            a_hat, r_hat = normalised_bipartite(self._train)
            self._bipartite[key] = (
                SparseGraph(a_hat, self.device),
                SparseGraph(r_hat, self.device),
            )
        return self._bipartite[key]

    # ------------------------------------------------------------------ unseen items
    def place_items(
        self,
        features: dict[str, np.ndarray],
        items: np.ndarray | None = None,
        *,
        fresh: bool = True,
    ) -> MultimodalRecommender:
        """See :meth:`Recommender.place_items`. What changes in the copy:

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
        needs = (IMAGE, TEXT) if self.fused_is_derived else (IMAGE, TEXT, FUSED)
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
            width = self._raw[m].shape[1]
            if x.shape[1] != width:
                raise ConfigError(
                    f"this model's {m} features are {width}-d but the placed item's are "
                    f"{x.shape[1]}-d: the catalogue's {m} features were not made by the encoder "
                    "that encoded the new item, so it cannot be placed among them (import the "
                    "catalogue with the offline encoders to preview new products)."
                )
        n = self.n_items
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
        clone = self._clone()
        clone.n_items = n + (n_new if items is None else 0)

        def put(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            if items is None:
                return np.concatenate([old, new.astype(old.dtype)])
            out = old.copy()
            out[where] = new
            return out

        for m in needs:
            clone._raw[m] = np.ascontiguousarray(put(self._raw[m], rows[m]), dtype=np.float32)
        if self.fused_is_derived:
            clone._raw[FUSED] = build_fused_features(clone._raw[IMAGE], clone._raw[TEXT])
        with torch.no_grad():
            for m in self.tables_for:
                if self.config.trainable_features:
                    table = self._table(m).detach().cpu().numpy()  # type: ignore[union-attr]
                    value = torch.from_numpy(put(table, clone._raw[m][where]))
                    setattr(clone, f"feat_{m}", nn.Parameter(value.to(self.device)))
                    setattr(
                        clone, f"frozen_{m}", torch.from_numpy(clone._raw[m].copy()).to(self.device)
                    )
                else:
                    setattr(clone, f"feat_{m}", clone._to_input(m, clone._raw[m]))
            e = self.item_id.detach()
            mean = e[torch.as_tensor(keep, device=e.device)].mean(0, keepdim=True)
            if items is None:
                e_new = torch.cat([e, mean.expand(n_new, -1)])
            else:
                e_new = e.clone()
                if fresh:
                    e_new[torch.as_tensor(where, device=e.device)] = mean
            clone.item_id = nn.Parameter(e_new)
        train = self._train.tocsr()
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
            for m in self.views:
                clone._knn_cache[m] = extend_knn_rows(
                    *self._knn_rows(m), clone._raw[m], self.config.knn_k, self.device
                )
        return clone

    def graph_neighbours(self, item: int) -> dict[str, np.ndarray]:
        """The other items in ``item``'s row of each view's kNN graph, heaviest edge first."""
        out = {}
        for m, graph in self._graphs(frozenset()).items():
            assert isinstance(graph, SparseGraph)
            crow = graph.matrix.crow_indices()
            lo, hi = int(crow[item]), int(crow[item + 1])
            cols = graph.matrix.col_indices()[lo:hi].cpu().numpy()
            vals = graph.matrix.values()[lo:hi].cpu().numpy()
            keep = cols != item
            cols, vals = cols[keep], vals[keep]
            out[m] = cols[np.lexsort((cols, -vals))].astype(np.int64)
        return out

    def _clone(self) -> MultimodalRecommender:
        """A deep copy without the cached graphs (the copy builds its own)."""
        caches = (self._graph_cache, self._bipartite, self._knn_cache, self._unit_cache)
        self._graph_cache, self._bipartite, self._knn_cache, self._unit_cache = {}, {}, {}, {}
        try:
            return copy.deepcopy(self)
        finally:
            self._graph_cache, self._bipartite, self._knn_cache, self._unit_cache = caches

    def _knn_rows(self, m: str) -> tuple[np.ndarray, np.ndarray]:
        """The top-k rows of view ``m``'s kNN graph of the full inputs (computed once)."""
        if m not in self._knn_cache:
            self._knn_cache[m] = knn_rows(self._raw[m], self.config.knn_k, self.device)
        return self._knn_cache[m]

    # the hooks of anchorrec.models.stored_graphs (graphs stored beside the model)
    def graph_inputs(self) -> dict[str, np.ndarray]:
        """The input each view's kNN graph of the full inputs is built from."""
        return {m: self._raw[m] for m in self.views}

    def graph_rows(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every view's top-k rows (computed now if not yet)."""
        return {m: self._knn_rows(m) for m in self.views}

    def adopt_graph_rows(self, rows: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Use stored top-k rows instead of computing them (graphs built from others go)."""
        self._knn_cache.update(rows)
        self._graph_cache.clear()

    def invalidate_graphs(self) -> None:
        """Forget the cached graphs (they are rebuilt on the next forward pass)."""
        self._graph_cache.clear()
        self._knn_cache.clear()
        self._bipartite.clear()
        self._unit_cache.clear()

    # ------------------------------------------------------------------ forward
    def _forward(
        self,
        drop: frozenset[str] = frozenset(),
        background: Background | None = None,
        *,
        branches: bool = True,
        item_rows: torch.Tensor | None = None,
    ) -> _Forward:
        """The forward pass; with ``branches=False`` (training, no player removed) the user
        side is computed as one sum, ``h_u = H_u + R̂ Σ_m Z^m`` with a single product with R̂
        (linear in the views), and ``id_users`` / ``view_users`` are left out.

        With ``item_rows`` (the batch's items) the final item embeddings are computed on those
        rows only: the recover branch λ_rec·D(P_mm(Z^mm)) is row-wise, so its rows are the
        same values, and the rows the loss does not read get no gradient either way."""
        cfg = self.config
        e_u, e_i = self.user_id, self.item_id
        if ID in drop and background is None:
            e_u = e_u.mean(0, keepdim=True).expand_as(e_u)
            e_i = e_i.mean(0, keepdim=True).expand_as(e_i)
        _, r_hat = self._interaction_graphs()
        fused_users = not branches and not drop and background is None
        id_e_i = e_i
        if ID in drop and background is not None:  # the drawn items' ID values in the views
            e_i = e_i[torch.as_tensor(background.items, device=e_i.device)]
        feats = self._features(drop, background)
        frozen = self._features(drop, background, frozen=True) if cfg.trainable_features else feats
        graphs = (
            self._graphs(drop) if background is None else self._background_graphs(drop, background)
        )
        view_users: dict[str, torch.Tensor] = {}
        view_items: dict[str, torch.Tensor] = {}
        for m in self.views:
            z = e_i * torch.sigmoid(self._gate_input(m, feats[m], fused_users))
            if cfg.modality_layer_mean:
                view_items[m] = layer_mean(graphs[m], z, cfg.modality_layers)
            else:
                view_items[m] = propagate(graphs[m], z, cfg.modality_layers)
            if not fused_users:
                view_users[m] = propagate(r_hat, view_items[m], 1)
        score = [view_items[m] for m in self.score_views]
        view_sum = sum_in_order(score) if score else None
        if fused_users:
            users, h_i = bipartite_lightgcn(r_hat, e_u, id_e_i, cfg.id_layers, view_sum)
            h_u = None
        else:
            h_u, h_i = bipartite_lightgcn(r_hat, e_u, id_e_i, cfg.id_layers)
            if ID in drop and background is not None:  # the drawn users' and items' ID values
                h_u, h_i = background.lend(h_u, h_i)
            elif ID in drop:  # the interaction graph is part of the ID player: no degree signal
                h_u = h_u.mean(0, keepdim=True).expand_as(h_u)
                h_i = h_i.mean(0, keepdim=True).expand_as(h_i)
            score_users = [view_users[m] for m in self.score_views]
            users = h_u + sum_in_order(score_users) if score_users else h_u
        items = h_i + view_sum if view_sum is not None else h_i
        fused = view_items[FUSED]
        fused_rows = anchor_rows = None
        if item_rows is not None:
            items = items[item_rows]
            fused = fused_rows = fused[item_rows]
        recover = None
        if self.has_recover:
            anchor = self.proj_fused(fused) if self.has_projection else fused
            recover = cfg.recover_lambda * self.decoder(anchor)
            items = items + recover
            if item_rows is not None and self.has_projection:
                anchor_rows = anchor
        return _Forward(
            feats,
            frozen,
            h_u,
            h_i,
            view_users,
            view_items,
            recover,
            users,
            items,
            item_rows,
            fused_rows,
            anchor_rows,
        )

    def _gate_input(self, m: str, x: torch.Tensor, composed: bool = False) -> torch.Tensor:
        """``gate_m(encoder_m(x))``; ``composed`` (training) applies the two affine maps as one,
        ``(x Wₑᵀ + bₑ) W_gᵀ + b_g = x (W_g Wₑ)ᵀ + (W_g bₑ + b_g)``: the same value and
        gradients up to float rounding, without the I×d encoder output and its d×d product
        with the gate (forward and backward). Embeddings for ranking and analysis apply them
        one after the other, so they do not move with the training path's rounding."""
        enc, gate = self.encoder[m], self.gate[m]
        if not composed:
            return gate(enc(x))
        weight = gate.weight @ enc.weight
        bias = F.linear(enc.bias, gate.weight, gate.bias)
        return F.linear(x, weight, bias)

    @torch.no_grad()
    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        drop = frozenset(drop)
        unknown = drop - set(self.players)
        if unknown:
            raise ConfigError(
                f"cannot drop {sorted(unknown)}: this model's players are {self.players}."
            )
        fw = self._forward(drop, background)
        user_branches = {ID: fw.id_users} | {m: fw.view_users[m] for m in self.score_views}
        item_branches = {ID: fw.id_items} | {m: fw.view_items[m] for m in self.score_views}
        if fw.recover is not None:
            item_branches[RECOVER] = fw.recover
        spaces = {
            RAW_SPACE[m]: torch.from_numpy(
                np.ascontiguousarray(self._raw_numpy(m, drop, background))
            )
            for m in (IMAGE, TEXT, FUSED)
        }
        spaces["id_view"] = fw.id_items
        spaces.update({VIEW_SPACE[m]: fw.view_items[m] for m in self.views})
        spaces["final"] = fw.items
        if self.has_projection:
            spaces["anchor_id"] = self.proj_id(fw.id_items)
            spaces["anchor_fused"] = self.proj_fused(fw.view_items[FUSED])
            spaces["anchor_image"] = self.proj_image(fw.frozen[IMAGE])
            spaces["anchor_text"] = self.proj_text(fw.frozen[TEXT])
            spaces["anchor_mixup"] = self._mixup(spaces["anchor_image"], spaces["anchor_text"])
        return Embeddings(fw.users, fw.items, user_branches, item_branches, spaces)

    @torch.no_grad()
    def history_basis(self) -> HistoryBasis:
        """``h_u = E_u/(L+1) + Σ_{j ∈ history(u)} R̂_uj (T_j + Σ_m Z^m_j)``, exactly.

        Every LightGCN path of length l ≥ 1 from user u starts at one of u's train items j
        (weight Â_uj = R̂_uj), so ``(Â^l E)_u = Σ_j R̂_uj (Â^{l−1} E)_j`` and the ID view
        splits by that first hop: ``T_j = 1/(L+1) Σ_{l=1..L} (Â^{l−1} E)_j``. The modality
        views' user side is ``R̂ Z^m`` already. What no history item owns is the user's own
        embedding ``E_u/(L+1)`` (the l = 0 layer).
        """
        a_hat, r_hat = self._interaction_graphs()
        layers = self.config.id_layers
        x = torch.cat([self.user_id, self.item_id])
        through = torch.zeros_like(self.item_id)
        for _ in range(layers):
            through = through + x[self.n_users :]
            x = a_hat.mm(x)
        fw = self._forward()
        terms = {ID: _cpu(through / (layers + 1))}
        terms.update({m: _cpu(fw.view_items[m]) for m in self.score_views})
        weights = normalised_bipartite(self._train)[1]
        return HistoryBasis(_cpu(self.user_id / (layers + 1)), weights, terms)

    def _mixup(self, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        w = self.config.mixup_image
        return w * image + (1 - w) * text

    # ------------------------------------------------------------------ losses
    #: the losses read only the summed user side (``direct`` also reads its branches)
    loss_reads_user_branches: ClassVar[bool] = False

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        cfg = self.config
        n_pos = len(batch.pos_items)
        rows = torch.cat([batch.pos_items, batch.neg_items])
        fw = self._forward(branches=self.loss_reads_user_branches, item_rows=rows)
        hu = fw.users[batch.users]
        hp, hn = fw.items.split_with_sizes([n_pos, len(batch.neg_items)])
        terms = {
            "bpr": losses.bpr(hu, hp, hn),
            "l2": cfg.l2_weight * losses.l2_penalty(hu, hp, hn, rows=self._l2_rows(hu)),
        }
        terms.update(self._alignment_terms(fw, batch, hu, hp, hn))
        terms["total"] = sum(terms.values(), torch.zeros((), device=self.device))
        return terms

    def _alignment_terms(
        self, fw: _Forward, batch: Batch, hu: torch.Tensor, hp: torch.Tensor, hn: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Weighted loss terms beyond BPR and L2 (AnchorRec's UIM, AAL, AMP, smoothness)."""
        cfg = self.config
        pos = batch.pos_items
        # the batch's rows of Z^mm (and of the anchor) as the recover branch computed them
        z_mm = fw.view_items[FUSED][pos] if fw.fused_rows is None else fw.fused_rows[: len(pos)]
        out = {"uim": cfg.uim_weight * losses.uniformity_margin(hu, hp, hn, cfg.uim_margin)}
        if self.aal_on and cfg.aal_weight > 0:
            head = pos[: cfg.align_batch]
            out["aal"] = cfg.aal_weight * self._aal(fw, head, z_mm[: cfg.align_batch])
        if self.amp_on and cfg.amp_weight > 0:
            groups = losses.batch_groups(pos)  # the batch's distinct items, found once

            def lsim(z: torch.Tensor, m: str) -> torch.Tensor:
                return losses.similarity_preservation(
                    z, fw.frozen[m], pos, unit=self._unit_table(m, fw.frozen[m]), groups=groups
                )

            amp = lsim(z_mm, FUSED)
            amp = amp + cfg.amp_text_weight * lsim(fw.view_items[TEXT][pos], TEXT)
            amp = amp + cfg.amp_image_weight * lsim(fw.view_items[IMAGE][pos], IMAGE)
            out["amp"] = cfg.amp_weight * amp
        if cfg.smooth_weight > 0:
            out["smooth"] = cfg.smooth_weight * self._smoothness(fw.view_items[FUSED])
        return out

    def _aal(self, fw: _Forward, pos: torch.Tensor, z_mm: torch.Tensor) -> torch.Tensor:
        """AAL: anchor ↔ ID view, and sg(anchor) ↔ mixup of the projected raw image and text."""
        tau = self.config.temperature
        if not self.has_projection:  # ablation: align Z^mm and H directly, no heads
            mix = self._mixup(fw.view_items[IMAGE][pos], fw.view_items[TEXT][pos])
            return losses.info_nce(z_mm, fw.id_items[pos], tau) + losses.info_nce(
                z_mm.detach(), mix, tau
            )
        # P_mm(Z^mm) of the batch's rows (positives first) where the recover branch has it
        rows = fw.anchor_rows
        anchor = self.proj_fused(z_mm) if rows is None else rows[: len(pos)]
        if self.config.project_batch_only:
            p_v = self.proj_image(fw.frozen[IMAGE][pos])
            p_t = self.proj_text(fw.frozen[TEXT][pos])
        else:  # the released computation: project every item, then read the batch
            p_v = self.proj_image(fw.frozen[IMAGE])[pos]
            p_t = self.proj_text(fw.frozen[TEXT])[pos]
        return losses.info_nce(anchor, self.proj_id(fw.id_items[pos]), tau) + losses.info_nce(
            anchor.detach(), self._mixup(p_v, p_t), tau
        )

    def _unit_table(self, m: str, table: torch.Tensor) -> torch.Tensor | None:
        """The reduced, frozen table of ``m`` L2-normalised row-wise, computed once and kept
        while the table is the same tensor, unchanged (the similarity targets read its rows
        every step). None for the raw tables (``trainable_features``): no copy of those."""
        if self.config.trainable_features or table.requires_grad:
            return None
        cache = self._unit_cache
        hit = cache.get(m)
        if hit is not None and hit[0] is table and hit[1] == table._version:
            return hit[2]
        with torch.no_grad():
            unit = F.normalize(table.float(), dim=1)
        cache[m] = (table, table._version, unit)
        return unit

    def _l2_rows(self, hu: torch.Tensor) -> int:
        """What the L2 term divides by: the configured batch size (released) or the rows."""
        return self.config.train.batch_size if self.config.l2_configured_batch else hu.shape[0]

    def _smoothness(self, z_mm: torch.Tensor) -> torch.Tensor:
        """mean over the edges (i, j) of S_mm of w_ij ‖Z_i − Z_j‖²."""
        return smoothness(self._graphs(frozenset())[FUSED], z_mm)


def _cpu(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


class AnchorRec(MultimodalRecommender):
    """AnchorRec: every modality aligned to the anchor P_mm inside the projection domain."""

    variant = "anchor"
    description = "AnchorRec: each modality aligned to the anchor P_mm in a projection domain"


class NoAlignment(MultimodalRecommender):
    """The AnchorRec architecture with λ₁ = λ₂ = 0 (no alignment)."""

    variant = "none"
    description = "the AnchorRec architecture without alignment losses"
    aal_on = False
    amp_on = False


class AnchorNoAmp(MultimodalRecommender):
    """Ablation: AnchorRec without AMP (λ₂ = 0)."""

    variant = "anchor-noamp"
    description = "ablation: AnchorRec without similarity preservation (AMP)"
    amp_on = False


class AnchorNoProj(MultimodalRecommender):
    """Ablation: AAL applied to H and Z^mm directly; no projection heads.

    Without heads the raw image and text (of different widths) cannot be mixed, so the second
    AAL term aligns sg(Z^mm) to the mixup of the image and text *views* 0.25·Z^v + 0.75·Z^t.
    The decoder of the recover branch reads Z^mm directly.
    """

    variant = "anchor-noproj"
    description = "ablation: AnchorRec's alignment on H and Z^mm directly, no projection heads"
    has_projection = False


class DirectAlignment(MultimodalRecommender):
    """AlignRec-style: Z^mm aligned straight onto the ID view H; h = H + Z^mm."""

    variant = "direct"
    description = "AlignRec-style: the fused view aligned straight onto the ID view"
    views = (FUSED,)
    has_projection = False
    has_recover = False
    loss_reads_user_branches = True

    def _table_modalities(self) -> tuple[str, ...]:
        return (FUSED,)

    @property
    def score_views(self) -> tuple[str, ...]:
        return (FUSED,)

    def _alignment_terms(
        self, fw: _Forward, batch: Batch, hu: torch.Tensor, hp: torch.Tensor, hn: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        cfg = self.config
        pos, users = batch.pos_items, batch.users
        tau = cfg.direct_temperature
        z_items = fw.view_items[FUSED][pos]
        head, head_users = pos[: cfg.align_batch], users[: cfg.align_batch]
        align = losses.info_nce(
            z_items[: cfg.align_batch], fw.id_items[head], tau
        ) + losses.info_nce(fw.view_users[FUSED][head_users], fw.id_users[head_users], tau)
        return {
            "align": cfg.direct_alpha * align,
            "cos": cfg.direct_cos_weight * (1 - F.cosine_similarity(hu, hp, dim=1)).mean(),
            "sim": cfg.direct_gamma
            * losses.similarity_preservation(z_items, fw.frozen[FUSED], pos),
        }
