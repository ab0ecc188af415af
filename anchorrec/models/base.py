"""The one contract every recommender honours.

The trainer, the evaluator, the analysis library and the dashboard only ever talk to a
:class:`Recommender`; none of them special-cases a variant.

Scores are always a dot product ``score(u, i) = users[u] · items[i]`` of the embeddings
returned by :meth:`Recommender.compute_embeddings`. Those embeddings are a sum of named
*branches* (for AnchorRec: ``id``, ``fused``, ``text``, and the item-only ``recover``), which
is what branch-level Shapley attribution needs, and the model also exposes the named item
*spaces* the dashboard projects (raw features, ID view, modality views, final, the anchor
domain).

Input-level attribution removes an input *player* (``id``, ``image``, ``text``, and
``fused`` when the dataset ships an opaque fused feature) by passing it in ``drop``:
its features are replaced by the catalogue mean, the item–item graph built only from it by
the graph those mean features induce (every item equally similar: the mean graph ``J/n``),
and for ``id`` the user and item ID embeddings by their means.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

#: Input players of input-level attribution.
ID = "id"
PLAYER_IMAGE = "image"
PLAYER_TEXT = "text"
PLAYER_FUSED = "fused"


@dataclass(frozen=True)
class Batch:
    """One BPR mini-batch of (user, positive item, negative item) triples on the model's device."""

    users: torch.Tensor
    pos_items: torch.Tensor
    neg_items: torch.Tensor


@dataclass
class Embeddings:
    """Everything a forward pass yields for all users and items.

    ``users`` (U×d) and ``items`` (I×d) rank: ``score = users @ items.T``.
    ``user_branches`` / ``item_branches`` map a branch name to its U×d / I×d contribution; the
    branches of a side sum to that side's embedding (a branch missing on one side is zero).
    ``spaces`` maps a space name (see :data:`anchorrec.analysis.spaces.SPACE_DESCRIPTIONS`) to an I×k item matrix.
    """

    users: torch.Tensor
    items: torch.Tensor
    user_branches: dict[str, torch.Tensor] = field(default_factory=dict)
    item_branches: dict[str, torch.Tensor] = field(default_factory=dict)
    spaces: dict[str, torch.Tensor] = field(default_factory=dict)


class Recommender(nn.Module, ABC):
    """Abstract base of every model (AnchorRec variants and baselines)."""

    #: Variant name as used on the CLI and in config.json (``anchor``, ``lightgcn`` …).
    variant: ClassVar[str]

    @property
    @abstractmethod
    def players(self) -> tuple[str, ...]:
        """Input players this model reads, in display order (e.g. ``("id", "image", "text")``)."""

    @abstractmethod
    def compute_embeddings(self, drop: frozenset[str] = frozenset()) -> Embeddings:
        """Embeddings of all users and items, with the players in ``drop`` removed."""

    @abstractmethod
    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        """Loss terms of one batch; key ``"total"`` is what the optimiser minimises."""

    def on_epoch_start(self, epoch: int) -> None:  # noqa: B027 - optional hook
        """Called by the trainer before each epoch (e.g. to refresh cached graphs)."""

    @torch.no_grad()
    def score_users(
        self, users: torch.Tensor, embeddings: Embeddings | None = None
    ) -> torch.Tensor:
        """Scores of ``users`` against all items (len(users) × I)."""
        emb = embeddings if embeddings is not None else self.compute_embeddings()
        return emb.users[users] @ emb.items.T
