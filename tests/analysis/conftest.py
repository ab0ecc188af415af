"""A small but real recommender implementing the contract, for the analysis tests.

``GatedTinyRecommender`` has AnchorRec's shape on tiny data: ID embeddings propagated over
the interaction graph, modality branches gated by the item ID embedding and propagated over
a feature kNN graph, and an anchor-domain projection. Removing a player follows the
contract: its features become the catalogue mean, its item graph the mean graph J/n, and for
``id`` the ID embeddings their means; under a background draw they become the drawn items'
(users') values and the relabelled graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from torch import nn

from anchorrec.data.dataset import Dataset
from anchorrec.models.base import (
    ID,
    PLAYER_IMAGE,
    PLAYER_TEXT,
    Background,
    Batch,
    Embeddings,
    Recommender,
)
from anchorrec.models.checkpoint import LoadedModel
from anchorrec.models.config import ModelConfig
from tests.conftest import make_tiny_dataset


def _normalised_adjacency(train) -> torch.Tensor:
    n_users, n_items = train.shape
    r = torch.tensor(train.toarray(), dtype=torch.float32)
    a = torch.zeros(n_users + n_items, n_users + n_items)
    a[:n_users, n_users:] = r
    a[n_users:, :n_users] = r.T
    deg = a.sum(1).clamp(min=1.0)
    d = deg.pow(-0.5)
    return d[:, None] * a * d[None, :]


def _knn_graph(x: torch.Tensor, k: int = 5) -> torch.Tensor:
    xn = torch.nn.functional.normalize(x, dim=1)
    sim = xn @ xn.T
    top = sim.topk(min(k, len(x)), dim=1)
    s = torch.zeros_like(sim).scatter_(1, top.indices, top.values.clamp(min=0))
    s = (s + s.T) / 2
    d = s.sum(1).clamp(min=1e-8).pow(-0.5)
    return d[:, None] * s * d[None, :]


class GatedTinyRecommender(Recommender):
    variant: ClassVar[str] = "tiny"
    id_only: ClassVar[bool] = False
    description: ClassVar[str] = "a gated two-modality model for the analysis tests"

    def __init__(self, dataset: Dataset, dim: int = 8, seed: int = 0) -> None:
        super().__init__(dataset, ModelConfig(variant=self.variant))
        torch.manual_seed(seed)
        self.dataset = dataset
        self.user_emb = nn.Parameter(torch.randn(self.n_users, dim) * 0.3)
        self.item_emb = nn.Parameter(torch.randn(self.n_items, dim) * 0.3)
        self.modalities = (PLAYER_IMAGE, PLAYER_TEXT)
        self.proj = nn.ModuleDict(
            {m: nn.Linear(dataset.features[m].shape[1], dim) for m in self.modalities}
        )
        self.gate = nn.ModuleDict({m: nn.Linear(dim, dim) for m in self.modalities})
        self.anchor = nn.ModuleDict({m: nn.Linear(dim, dim) for m in (ID, *self.modalities)})
        self.register_buffer("adj", _normalised_adjacency(dataset.train))
        for m in self.modalities:
            x = torch.tensor(dataset.features[m])
            self.register_buffer(f"x_{m}", x)
            self.register_buffer(f"graph_{m}", _knn_graph(x))
        r = torch.tensor(dataset.train.toarray(), dtype=torch.float32)
        self.register_buffer("r_norm", r / r.sum(1, keepdim=True).clamp(min=1.0))

    @property
    def players(self) -> tuple[str, ...]:
        return (ID, PLAYER_IMAGE, PLAYER_TEXT)

    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        eu, ei = self.user_emb, self.item_emb
        bi = None if background is None else torch.as_tensor(background.items)
        if ID in drop and background is not None:
            eu, ei = eu[torch.as_tensor(background.users)], ei[bi]
        elif ID in drop:
            eu = eu.mean(0, keepdim=True).expand_as(eu)
            ei = ei.mean(0, keepdim=True).expand_as(ei)
        e = torch.cat([eu, ei])
        h = (e + self.adj @ e) / 2
        h_users, h_items = h[: self.n_users], h[self.n_users :]
        user_branches, item_branches = {ID: h_users}, {ID: h_items}
        spaces = {"id_view": h_items, "anchor_id": self.anchor[ID](h_items)}
        for m in self.modalities:
            x = getattr(self, f"x_{m}")
            graph = getattr(self, f"graph_{m}")
            if m in drop and bi is not None:
                x, graph = x[bi], graph[bi][:, bi]
            elif m in drop:
                x = x.mean(0, keepdim=True).expand_as(x)
                graph = torch.full((self.n_items, self.n_items), 1.0 / self.n_items)
            f = self.proj[m](x)
            z = ei * torch.sigmoid(self.gate[m](f))
            z_items = graph @ z
            item_branches[m] = z_items
            user_branches[m] = self.r_norm @ z_items
            spaces[f"raw_{m}"] = x
            spaces[f"{m}_view"] = z_items
            spaces[f"anchor_{m}"] = self.anchor[m](f)
        users = sum(user_branches.values())
        items = sum(item_branches.values())
        spaces["final"] = items
        return Embeddings(users, items, user_branches, item_branches, spaces)

    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        emb = self.compute_embeddings()
        u = emb.users[batch.users]
        pos = (u * emb.items[batch.pos_items]).sum(1)
        neg = (u * emb.items[batch.neg_items]).sum(1)
        bpr = -torch.nn.functional.logsigmoid(pos - neg).mean()
        return {"total": bpr, "bpr": bpr}


def train_briefly(model: GatedTinyRecommender, epochs: int = 30, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    train = model.dataset.train.tocoo()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for epoch in range(epochs):
        neg = rng.integers(0, model.n_items, size=train.nnz)
        batch = Batch(torch.tensor(train.row), torch.tensor(train.col), torch.tensor(neg))
        opt.zero_grad()
        model.loss(batch, epoch)["total"].backward()
        opt.step()


def FakeLoadedModel(  # noqa: N802 - builds the real handle, as load_model returns it
    model: Recommender,
    dataset: Dataset,
    model_dir: Path | None = None,
    metrics: dict[str, Any] | None = None,
) -> LoadedModel:
    """The :class:`LoadedModel` of an in-memory test model (no directory unless given)."""
    return LoadedModel(
        model=model,
        config=model.config,
        metrics=metrics or {},
        dataset=dataset,
        variant="tiny",
        model_dir=model_dir,
    )


@pytest.fixture(scope="session")
def tiny_model() -> FakeLoadedModel:
    ds = make_tiny_dataset(n_users=60, n_items=40)
    model = GatedTinyRecommender(ds)
    train_briefly(model)
    model.eval()
    return FakeLoadedModel(model=model, dataset=ds)
