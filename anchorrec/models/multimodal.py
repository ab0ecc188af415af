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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
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
    identity_graph,
    knn_graph,
    layer_mean,
    lightgcn,
    normalised_bipartite,
    propagate,
    smoothness,
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
    id_users: torch.Tensor
    id_items: torch.Tensor
    view_users: dict[str, torch.Tensor]
    view_items: dict[str, torch.Tensor]
    recover: torch.Tensor | None
    users: torch.Tensor
    items: torch.Tensor


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
        self._bipartite: dict[str, tuple[SparseGraph, SparseGraph]] = {}

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
                    graphs[m] = SparseGraph(
                        knn_graph(self._raw[m], self.config.knn_k, self.device), self.device
                    )
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

    def invalidate_graphs(self) -> None:
        """Forget the cached graphs (they are rebuilt on the next forward pass)."""
        self._graph_cache.clear()
        self._bipartite.clear()

    # ------------------------------------------------------------------ forward
    def _forward(
        self, drop: frozenset[str] = frozenset(), background: Background | None = None
    ) -> _Forward:
        cfg = self.config
        e_u, e_i = self.user_id, self.item_id
        if ID in drop and background is None:
            e_u = e_u.mean(0, keepdim=True).expand_as(e_u)
            e_i = e_i.mean(0, keepdim=True).expand_as(e_i)
        a_hat, r_hat = self._interaction_graphs()
        h = lightgcn(a_hat, torch.cat([e_u, e_i]), cfg.id_layers)
        h_u, h_i = h[: self.n_users], h[self.n_users :]
        if ID in drop and background is not None:  # the drawn users' and items' ID values
            bu = torch.as_tensor(background.users, device=h.device)
            bi = torch.as_tensor(background.items, device=h.device)
            h_u, h_i, e_i = h_u[bu], h_i[bi], e_i[bi]
        elif ID in drop:  # the interaction graph is part of the ID player: no degree signal left
            h_u = h_u.mean(0, keepdim=True).expand_as(h_u)
            h_i = h_i.mean(0, keepdim=True).expand_as(h_i)
        feats = self._features(drop, background)
        frozen = self._features(drop, background, frozen=True) if cfg.trainable_features else feats
        graphs = (
            self._graphs(drop) if background is None else self._background_graphs(drop, background)
        )
        view_users, view_items = {}, {}
        for m in self.views:
            z = e_i * torch.sigmoid(self.gate[m](self.encoder[m](feats[m])))
            if cfg.modality_layer_mean:
                z_items = layer_mean(graphs[m], z, cfg.modality_layers)
            else:
                z_items = propagate(graphs[m], z, cfg.modality_layers)
            view_items[m] = z_items
            view_users[m] = propagate(r_hat, z_items, 1)
        users = h_u + sum((view_users[m] for m in self.score_views), torch.zeros_like(h_u))
        items = h_i + sum((view_items[m] for m in self.score_views), torch.zeros_like(h_i))
        recover = None
        if self.has_recover:
            anchor = (
                self.proj_fused(view_items[FUSED]) if self.has_projection else view_items[FUSED]
            )
            recover = cfg.recover_lambda * self.decoder(anchor)
            items = items + recover
        return _Forward(feats, frozen, h_u, h_i, view_users, view_items, recover, users, items)

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
    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        cfg = self.config
        fw = self._forward()
        hu, hp, hn = fw.users[batch.users], fw.items[batch.pos_items], fw.items[batch.neg_items]
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
        z_mm = fw.view_items[FUSED][pos]
        out = {"uim": cfg.uim_weight * losses.uniformity_margin(hu, hp, hn, cfg.uim_margin)}
        if self.aal_on and cfg.aal_weight > 0:
            head = pos[: cfg.align_batch]
            out["aal"] = cfg.aal_weight * self._aal(fw, head, z_mm[: cfg.align_batch])
        if self.amp_on and cfg.amp_weight > 0:
            amp = losses.similarity_preservation(z_mm, fw.frozen[FUSED], pos)
            amp = amp + cfg.amp_text_weight * losses.similarity_preservation(
                fw.view_items[TEXT][pos], fw.frozen[TEXT], pos
            )
            amp = amp + cfg.amp_image_weight * losses.similarity_preservation(
                fw.view_items[IMAGE][pos], fw.frozen[IMAGE], pos
            )
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
        anchor = self.proj_fused(z_mm)
        if self.config.project_batch_only:
            p_v = self.proj_image(fw.frozen[IMAGE][pos])
            p_t = self.proj_text(fw.frozen[TEXT][pos])
        else:  # the released computation: project every item, then read the batch
            p_v = self.proj_image(fw.frozen[IMAGE])[pos]
            p_t = self.proj_text(fw.frozen[TEXT])[pos]
        return losses.info_nce(anchor, self.proj_id(fw.id_items[pos]), tau) + losses.info_nce(
            anchor.detach(), self._mixup(p_v, p_t), tau
        )

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
