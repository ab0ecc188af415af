"""The AnchorRec family: one architecture, five alignment variants (docs/models.md).

The forward pass and the variants are written out in :class:`MultimodalRecommender`'s
docstring; the training objective lives in :mod:`anchorrec.models.multimodal_losses` and the
placement of unseen items in :mod:`anchorrec.models.placement`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from anchorrec.data.dataset import FUSED, IMAGE, TEXT, Dataset
from anchorrec.data.features import build_fused_features
from anchorrec.errors import ConfigError
from anchorrec.models import multimodal_losses, view_graphs
from anchorrec.models.base import ID, Background, Batch, Embeddings, HistoryBasis, Recommender
from anchorrec.models.checkpoint_bases import bases_come_from_checkpoint
from anchorrec.models.config import ModelConfig
from anchorrec.models.graphs import (
    ItemGraph,
    SparseGraph,
    bipartite_lightgcn,
    knn_rows,
    layer_mean,
    normalised_bipartite,
    propagate,
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
        assert isinstance(layer, nn.Linear)
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    return net


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
    r"""Shared architecture of ``anchor``, ``none``, ``anchor-noamp``, ``anchor-noproj``, ``direct``.

    Forward pass, for every modality view m:

    .. math::

        f^m = \mathrm{Linear}(x^m), \quad z^m = E_i \odot \sigma(\mathrm{Linear}(f^m)), \quad
        Z^m_{items} = S_m^L z^m, \quad Z^m_{users} = \hat R Z^m_{items}

        H = \frac{1}{L+1} \sum_{l=0}^{L} \hat A^l [E_u; E_i]

        h = H + \sum_{m \in \text{score modalities}} Z^m
        \quad (+\ \lambda_{rec} \cdot D(P_{mm}(Z^{mm}_{items})) \text{ on the items})

    and ``score(u, i) = h_u · h_i``. Variants differ only in their losses
    (:mod:`anchorrec.models.multimodal_losses`) and ``direct`` in its score, h = H + Z^mm:
    ``anchor`` (AnchorRec), ``none`` (λ₁ = λ₂ = 0), ``anchor-noamp`` (λ₂ = 0),
    ``anchor-noproj`` (AAL on H and Z^mm directly, no projection heads) and ``direct``
    (AlignRec's alignment of Z^mm straight onto H).

    Every view is gated by E_i, so an item without purchases can only rescale one fixed
    vector: such items are ranked by the cold-start path (:mod:`anchorrec.models.cold_start`).

    Input players for attribution: ``id``, ``image``, ``text``, and ``fused`` only when the
    dataset ships an opaque fused feature; else x^mm is derived from image and text
    (:func:`anchorrec.data.features.build_fused_features`) and rebuilt when one is dropped.
    """

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
        raw[FUSED] = derived if self.fused_is_derived or shipped is None else shipped
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
                if bases_come_from_checkpoint():  # load_state_dict brings the saved basis
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

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
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
        x = (
            table.detach().float().cpu().numpy()
            if table is not None and trainable
            else self._raw[m]
        )
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
        """See :func:`anchorrec.models.view_graphs.background_graphs`."""
        return view_graphs.background_graphs(self, drop, background)

    def _graphs(self, drop: frozenset[str]) -> dict[str, ItemGraph]:
        """See :func:`anchorrec.models.view_graphs.view_graphs` (cached, not saved)."""
        return view_graphs.view_graphs(self, drop)

    def _interaction_graphs(self) -> tuple[SparseGraph, SparseGraph]:
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
        """See :meth:`Recommender.place_items` and :func:`anchorrec.models.placement.place_items`."""
        from anchorrec.models.placement import place_items

        return place_items(self, features, items, fresh=fresh)

    def graph_neighbours(self, item: int) -> dict[str, np.ndarray]:
        """The other items in ``item``'s row of each view's kNN graph, heaviest edge first."""
        return view_graphs.graph_neighbours(self, item)

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
        e_u: torch.Tensor = self.user_id
        e_i: torch.Tensor = self.item_id
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
        assert isinstance(enc, nn.Linear) and isinstance(gate, nn.Linear)
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
        assert fw.id_users is not None  # the pass with branches computes the user side apart
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

    def history_basis(self) -> HistoryBasis:
        """See :func:`anchorrec.models.history_basis.history_basis` (exact)."""
        from anchorrec.models.history_basis import history_basis

        return history_basis(self)

    def _mixup(self, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        w = self.config.mixup_image
        return w * image + (1 - w) * text

    # ------------------------------------------------------------------ losses
    #: the losses read only the summed user side (``direct`` also reads its branches)
    loss_reads_user_branches: ClassVar[bool] = False

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        return multimodal_losses.multimodal_loss(self, batch)

    def _alignment_terms(
        self, fw: _Forward, batch: Batch, hu: torch.Tensor, hp: torch.Tensor, hn: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Weighted loss terms beyond BPR and L2 (AnchorRec's UIM, AAL, AMP, smoothness)."""
        return multimodal_losses.anchor_terms(self, fw, batch, hu, hp, hn)

    def _unit_table(self, m: str, table: torch.Tensor) -> torch.Tensor | None:
        """See :func:`anchorrec.models.multimodal_losses.unit_table`."""
        return multimodal_losses.unit_table(self, m, table)


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
        return multimodal_losses.direct_terms(self, fw, batch, hu, hp, hn)
