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
and for ``id`` the user and item ID embeddings by their means. A model may also honour a
:class:`Background` draw (the background game): a removed input of item ``i`` then takes the
values of item ``background.items[i]`` (users likewise) instead of the mean, and an item graph
built only from removed inputs is the graph those drawn features induce.

A model whose user vector is linear in the user's history exposes it through
:meth:`Recommender.history_basis` (see :class:`HistoryBasis`), which "because you bought …"
attribution reads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from anchorrec.errors import ConfigError

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset
    from anchorrec.models.config import ModelConfig

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


@dataclass(frozen=True)
class Background:
    """One draw of the background game: which user and item lend their values to whom.

    ``users`` (length U) and ``items`` (length I) are permutations: a removed input of item
    ``i`` takes the values item ``items[i]`` has in the full model (users likewise). A
    permutation keeps the drawn catalogue a relabelling of the real one, so the item graph of
    drawn features is the real graph relabelled (``P S Pᵀ``), with no new kNN search.
    """

    users: np.ndarray
    items: np.ndarray

    @staticmethod
    def draw(n_users: int, n_items: int, rng: np.random.Generator) -> Background:
        return Background(rng.permutation(n_users), rng.permutation(n_items))

    def lend(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``users`` and ``items`` (one row each) with every row replaced by its drawn lender's."""
        return (
            users[torch.as_tensor(self.users, device=users.device)],
            items[torch.as_tensor(self.items, device=items.device)],
        )


@dataclass(frozen=True)
class HistoryBasis:
    """The user side of a model that is linear in each user's history.

    ``h_u = own[u] + Σ_j weights[u, j] · Σ_t terms[t][j]``: ``weights`` is a U×I sparse matrix
    whose row ``u`` is non-zero only on ``u``'s train items, ``terms[t]`` an I×d matrix per path
    (e.g. ``id`` for the LightGCN layers through the item, ``fused`` for the fused view), and
    ``own`` (U×d) the part of ``h_u`` that no history item owns (the user's own ID embedding).
    """

    own: np.ndarray
    weights: sp.csr_matrix
    terms: dict[str, np.ndarray]


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
    """Abstract base of every model (AnchorRec variants and baselines).

    The constructor sets, once, what every caller relies on: :attr:`config`,
    :attr:`n_users` and :attr:`n_items`; :attr:`device` follows the module. Each concrete class
    declares its :attr:`variant` name, whether it is :attr:`id_only` (reads no item features)
    and a one-line :attr:`description`; the registry derives its lists from them.
    """

    #: Variant name as used on the CLI and in config.json (``anchor``, ``lightgcn`` …).
    variant: ClassVar[str]
    #: True for a model that reads only the interactions (no item features).
    id_only: ClassVar[bool]
    #: One line saying what the model is, for the CLI's and the dashboard's lists.
    description: ClassVar[str]

    def __init__(self, dataset: Dataset, config: ModelConfig) -> None:
        super().__init__()
        if config.variant != self.variant:
            raise ConfigError(
                f"config is for variant {config.variant!r}, not {self.variant!r}; build it "
                f"with preset_config(preset, variant={self.variant!r})."
            )
        self.config = config
        self.n_users: int = dataset.n_users
        self.n_items: int = dataset.n_items
        # an empty, unsaved buffer: it moves with .to(), so `device` is always the module's
        self.register_buffer("_device_marker", torch.empty(0), persistent=False)

    _device_marker: torch.Tensor

    @property
    def device(self) -> torch.device:
        """Where the model's tensors live."""
        return self._device_marker.device

    @property
    @abstractmethod
    def players(self) -> tuple[str, ...]:
        """Input players this model reads, in display order (e.g. ``("id", "image", "text")``)."""

    @abstractmethod
    def compute_embeddings(
        self, drop: frozenset[str] = frozenset(), *, background: Background | None = None
    ) -> Embeddings:
        """Embeddings of all users and items, with the players in ``drop`` removed.

        A removed player takes its catalogue mean, or with ``background`` the values of the
        drawn users and items (a model that cannot raises :class:`ConfigError`).
        """

    @abstractmethod
    def loss(self, batch: Batch, epoch: int = 0) -> dict[str, torch.Tensor]:
        """Loss terms of one batch; key ``"total"`` is what the optimiser minimises."""

    def eval_embeddings(self) -> Embeddings:
        """:meth:`compute_embeddings` in eval mode (no dropout), the module's mode restored."""
        was_training = self.training
        self.eval()
        try:
            return self.compute_embeddings()
        finally:
            self.train(was_training)

    def fit(self) -> None:  # noqa: B027 - a hook; gradient-trained models need nothing here
        """Compute closed-form weights from the train split (called once by the trainer
        before the first epoch; a model with no trainable parameters is then final)."""

    def history_basis(self) -> HistoryBasis | None:
        """The user side as a sum over the history (None when the model is not linear in it)."""
        return None

    def place_items(
        self,
        features: dict[str, np.ndarray],
        items: np.ndarray | None = None,
        *,
        fresh: bool = True,
    ) -> Recommender:
        """A copy of this model whose catalogue holds items with the given content.

        ``features`` maps a modality (``image``, ``text``; ``fused`` only for a model whose
        fused input is not derived from the other two) to one raw feature row per placed
        item, in the offline encoders' space. With ``items`` None the rows are appended as
        new items ``n_items, n_items + 1, …``; otherwise they replace the content of
        ``items``. A ``fresh`` item is one the model has never seen: no interactions, and
        the ID embedding of an unseen item, the mean of the catalogue's other item ID
        embeddings (the rule input attribution uses for a removed ID). With ``fresh``
        False (edit mode) a replaced item keeps its interactions and its own ID embedding.

        Everything that reads item content is rebuilt with the placed items in the
        catalogue (kNN graphs, feature tables), so the copy scores them exactly as it would
        if they had been in the catalogue with no purchases. The copy is for scoring only.
        A model that reads no item content cannot score an item by its content:
        :class:`ConfigError`.
        """
        raise ConfigError(
            f"variant {self.variant!r} reads only the purchase history (no item content): it "
            "cannot rank an item it has never seen."
        )
