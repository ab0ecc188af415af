"""ID-only baselines: LightGCN, matrix factorisation, popularity, and the item–item models
EASE, item-kNN and RP3β (:mod:`anchorrec.models.item_item`)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from anchorrec.data.dataset import Dataset
from anchorrec.errors import ConfigError
from anchorrec.models import losses
from anchorrec.models.base import ID, Background, Batch, Embeddings, HistoryBasis, Recommender
from anchorrec.models.config import ModelConfig
from anchorrec.models.graphs import SparseGraph, lightgcn, normalised_bipartite


class _IdModel(Recommender):
    """Shared parts of the ID-embedding baselines; the one player is ``id``."""

    id_only = True

    def __init__(self, dataset: Dataset, config: ModelConfig) -> None:
        super().__init__(dataset, config)
        d = config.embedding_dim
        self.user_id = nn.Parameter(nn.init.xavier_uniform_(torch.empty(self.n_users, d)))
        self.item_id = nn.Parameter(nn.init.xavier_uniform_(torch.empty(self.n_items, d)))

    @property
    def players(self) -> tuple[str, ...]:
        return (ID,)

    def _ego(self, drop: frozenset[str]) -> tuple[torch.Tensor, torch.Tensor]:
        e_u: torch.Tensor = self.user_id
        e_i: torch.Tensor = self.item_id
        if ID in drop:
            e_u = e_u.mean(0, keepdim=True).expand_as(e_u)
            e_i = e_i.mean(0, keepdim=True).expand_as(e_i)
        return e_u, e_i

    def _final(self, drop: frozenset[str]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        drop = frozenset(drop)
        if drop - {ID}:
            raise ConfigError(f"cannot drop {sorted(drop - {ID})}: this model's only player is id.")
        if ID in drop and background is not None:  # the drawn users' and items' values
            users, items = (t.detach() for t in self._final(frozenset()))
            users, items = background.lend(users, items)
        else:
            users, items = (t.detach() for t in self._final(drop))
        return Embeddings(
            users, items, {ID: users}, {ID: items}, {"id_view": items, "final": items}
        )

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        users, items = self._final(frozenset())
        hu, hp, hn = users[batch.users], items[batch.pos_items], items[batch.neg_items]
        eu, ep, en = (
            self.user_id[batch.users],
            self.item_id[batch.pos_items],
            self.item_id[batch.neg_items],
        )
        terms = {
            "bpr": losses.bpr(hu, hp, hn),
            "l2": self.config.l2_weight
            * losses.l2_penalty(
                eu,
                ep,
                en,
                rows=self.config.train.batch_size if self.config.l2_configured_batch else None,
            ),
        }
        terms["total"] = terms["bpr"] + terms["l2"]
        return terms


class MatrixFactorisation(_IdModel):
    """BPR-MF: score = E_u · E_i."""

    variant = "mf"
    description = "BPR matrix factorisation: score = E_u · E_i"

    def _final(self, drop: frozenset[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self._ego(drop)

    @torch.no_grad()
    def history_basis(self) -> HistoryBasis:
        """E_u is a free parameter: no part of the user vector is owned by a history item."""
        weights = sp.csr_matrix((self.n_users, self.n_items), dtype=np.float32)
        return HistoryBasis(self.user_id.detach().cpu().float().numpy(), weights, {})


class LightGCN(_IdModel):
    """LightGCN: H = mean_l Â^l [E_u; E_i] over ``config.id_layers`` layers."""

    variant = "lightgcn"
    description = "LightGCN: ID embeddings propagated over the interaction graph"

    def __init__(self, dataset: Dataset, config: ModelConfig) -> None:
        super().__init__(dataset, config)
        self._train = dataset.train
        self._graph: dict[str, SparseGraph] = {}

    def _final(self, drop: frozenset[str]) -> tuple[torch.Tensor, torch.Tensor]:
        key = str(self.user_id.device)
        if key not in self._graph:
            self._graph[key] = SparseGraph(normalised_bipartite(self._train)[0], key)
        e_u, e_i = self._ego(drop)
        h = lightgcn(self._graph[key], torch.cat([e_u, e_i]), self.config.id_layers)
        h_u, h_i = h[: self.n_users], h[self.n_users :]
        if ID in drop:  # the interaction graph is part of the ID player
            h_u = h_u.mean(0, keepdim=True).expand_as(h_u)
            h_i = h_i.mean(0, keepdim=True).expand_as(h_i)
        return h_u, h_i

    @torch.no_grad()
    def history_basis(self) -> HistoryBasis:
        """``H_u = E_u/(L+1) + Σ_j R̂_uj T_j``, split by the first hop of every path (see
        :meth:`MultimodalRecommender.history_basis`)."""
        self._final(frozenset())  # builds the graph on this device
        a_hat = self._graph[str(self.user_id.device)]
        layers = self.config.id_layers
        x = torch.cat([self.user_id, self.item_id])
        through = torch.zeros_like(self.item_id)
        for _ in range(layers):
            through = through + x[self.n_users :]
            x = a_hat.mm(x)
        cpu = lambda t: t.detach().cpu().float().numpy()  # noqa: E731
        weights = normalised_bipartite(self._train)[1]
        return HistoryBasis(
            cpu(self.user_id / (layers + 1)), weights, {ID: cpu(through / (layers + 1))}
        )


class Popularity(Recommender):
    """Most-popular baseline as a dot product: user vector 1, item vector = train popularity."""

    popularity: torch.Tensor

    variant = "popularity"
    id_only = True
    description = "most popular items first (train interaction counts)"

    def __init__(self, dataset: Dataset, config: ModelConfig) -> None:
        super().__init__(dataset, config)
        pop = dataset.item_popularity().astype(np.float32)[:, None]
        self.register_buffer("popularity", torch.from_numpy(pop))

    @property
    def players(self) -> tuple[str, ...]:
        return ()

    @torch.no_grad()
    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        if drop:
            raise ConfigError("the popularity baseline has no input players to drop.")
        users = torch.ones(self.n_users, 1, device=self.popularity.device)
        return Embeddings(
            users,
            self.popularity,
            {"popularity": users},
            {"popularity": self.popularity},
            {"final": self.popularity},
        )

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        zero = torch.zeros((), device=self.popularity.device)
        return {"total": zero}
