"""The lists the shop shows, beside the ones the audit explains.

The audit attributes the model's own ranking (its ID-gated game): that is what drives the
model. A shop with the cold-start path on shows other lists: new arrivals are ranked by their
photo and copy (:mod:`anchorrec.models.cold_start`). An auditor needs both, so this module
reads the shown lists for the same shoppers and reports how much of them the path placed
(slots, distinct items), their exposure (Gini of recommendation counts, coverage) against the
published lists', and, for the slots the path placed, how much of the content score was image
and how much text, in the content scorer's own exact split
(:mod:`anchorrec.analysis.cold_explain`: ``score = β_u + image part + text part``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from anchorrec.stats import gini

if TYPE_CHECKING:
    from anchorrec.models.base import Embeddings
    from anchorrec.models.checkpoint import LoadedModel


@dataclass(frozen=True)
class ShownLists:
    """The top-``k`` lists the shop shows (cold-start path on) for ``users`` shoppers."""

    ranked_by: str
    k: int
    users: int
    recommendations: int
    #: slots taken by items the path ranks by content, and how many distinct items they are
    routed_slots: int
    routed_items: int
    #: most train purchases of an item the path ranks by content
    threshold: int
    #: the same count in the published lists of the same shoppers
    published_routed_slots: int
    exposure_gini: float
    coverage: float
    published_exposure_gini: float
    published_coverage: float
    #: mean image share |image| / (|image| + |text|) over the routed slots (None: none, or a
    #: generator path, whose split has no per-purchase parts but is still exact)
    image_share: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self) -> str:
        """One line for the CLI, the report and the page."""
        share = (
            ""
            if self.image_share is None
            else f"; the path's score of those slots was {self.image_share:.0%} image, "
            f"{1 - self.image_share:.0%} text (its own exact split)"
        )
        return (
            f"The lists the shop shows ({self.ranked_by}): {self.routed_slots:,} of "
            f"{self.recommendations:,} top-{self.k} slots ({self.routed_slots / max(1, self.recommendations):.1%}) "
            f"go to {self.routed_items:,} products with at most {self.threshold} train "
            "purchases, ranked by photo and copy "
            f"(published ranking: {self.published_routed_slots:,}){share}. Exposure Gini "
            f"{self.exposure_gini:.3f} (published {self.published_exposure_gini:.3f}), coverage "
            f"{self.coverage:.1%} (published {self.published_coverage:.1%})."
        )


def shown_lists(
    loaded: LoadedModel,
    k: int,
    users: np.ndarray | None = None,
    ranking: Callable[[bool], Embeddings] | None = None,
) -> ShownLists | None:
    """:class:`ShownLists` of ``loaded`` for ``users`` (all by default); None when it ranks
    without a cold-start path (none fitted, switched off, or an ID-only model). ``ranking``
    gives the ranking embeddings with the path on or off when the caller keeps them."""
    import torch

    from anchorrec.data.dataset import IMAGE
    from anchorrec.models.cold_start import (
        GENERATOR,
        ranking_embeddings,
        routed_mask,
        with_cold_start,
    )
    from anchorrec.models.ranking import top_k_items

    cold = loaded.cold_start
    if cold is None or loaded.model.id_only:
        return None
    ds = loaded.dataset
    users = np.arange(ds.n_users) if users is None else np.asarray(users, dtype=np.int64)
    routed = routed_mask(loaded)
    if ranking is None:

        def ranking(on: bool) -> Embeddings:
            return ranking_embeddings(with_cold_start(loaded, on))

    shown, _ = top_k_items(ranking(True), users, k, ds.train)
    published, _ = top_k_items(ranking(False), users, k, ds.train)
    hit = routed[shown]
    image_share = None
    if hit.any() and cold.mechanism != GENERATOR:
        # the routed part of the ranking embeddings is [α_u q_u | β_u] against [v_i | 1], with
        # q_u and v_i image first: the image and text parts are two dot products (exact)
        own_width = int(ranking(False).users.shape[1])
        n_img = int(ds.features[IMAGE].shape[1])
        on = ranking(True)
        rows, cols = np.nonzero(hit)
        u = torch.as_tensor(users[rows], device=on.users.device)
        i = torch.as_tensor(shown[rows, cols], device=on.items.device)
        img_cols = slice(own_width, own_width + n_img)
        txt_cols = slice(own_width + n_img, on.users.shape[1] - 1)
        img = (on.users[u, img_cols] * on.items[i, img_cols]).sum(1).abs().double().cpu().numpy()
        txt = (on.users[u, txt_cols] * on.items[i, txt_cols]).sum(1).abs().double().cpu().numpy()
        total = img + txt
        ok = total > 0
        image_share = float((img[ok] / total[ok]).mean()) if ok.any() else None

    def exposure(lists: np.ndarray) -> tuple[float, float]:
        counts = np.bincount(lists.ravel(), minlength=ds.n_items)
        return float(gini(counts)), float((counts > 0).mean())

    gini_on, coverage_on = exposure(shown)
    gini_off, coverage_off = exposure(published)
    return ShownLists(
        ranked_by=f"cold-start path, {cold.name}",
        k=int(shown.shape[1]),
        users=len(users),
        recommendations=int(shown.size),
        routed_slots=int(hit.sum()),
        routed_items=int(np.unique(shown[hit]).size),
        threshold=int(cold.threshold),
        published_routed_slots=int(routed[published].sum()),
        exposure_gini=gini_on,
        coverage=coverage_on,
        published_exposure_gini=gini_off,
        published_coverage=coverage_off,
        image_share=image_share,
    )
