"""Why a routed item (a new arrival ranked by the cold-start path) scores what it does.

A routed item's score is not the model's ID-gated score, so the input attribution of the
model (which would read "ID 100 %" for an item placed by its content) is the wrong game for
it. Its own game is exact and simple. For the ``content`` mechanism,

    score(u, i) = β_u + α_u · Σ_{j ∈ train(u)} (1/|train(u)|) · [w · cos_image(j, i)
                                                                + (1 − w) · cos_text(j, i)]

so every past purchase j contributes an image part and a text part, and they add up, with
the shopper's calibration offset β_u, to the score exactly. The ``taste`` mechanism is the
same sum over centred features with the shopper's own weight w_u in place of w. For the
``generator``
mechanism the score splits exactly into an image part and a text part
(``α_u h_u · G v_i`` over the two halves of v_i); no single purchase owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from anchorrec.data.items import item_title
from anchorrec.errors import ConfigError
from anchorrec.models.cold_start import (
    GENERATOR,
    calibrated,
    content_parts,
    content_vectors,
    history_weights,
)

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset
    from anchorrec.models.base import Embeddings
    from anchorrec.models.checkpoint import LoadedModel

#: Past purchases listed per explanation.
TOP_PURCHASES = 5


@dataclass(frozen=True)
class ContentReason:
    """One shopper's score of one routed item, split exactly (see the module docstring).

    ``purchases`` are the shopper's train items, ``image`` / ``text`` their contributions
    (content mechanism; empty for the generator, whose split is ``image_total`` /
    ``text_total`` only). ``offset`` + ``image_total`` + ``text_total`` = ``score``.
    """

    user: int
    item: int
    mechanism: str
    score: float
    offset: float
    image_total: float
    text_total: float
    purchases: np.ndarray
    image: np.ndarray
    text: np.ndarray

    @property
    def image_share(self) -> float:
        """Image's share of the content part, |image| / (|image| + |text|)."""
        total = abs(self.image_total) + abs(self.text_total)
        return abs(self.image_total) / total if total else 0.0

    def table(self, ds: Dataset | None = None, top: int = TOP_PURCHASES) -> pd.DataFrame:
        """The past purchases that contribute most: item, title, image, text, total."""
        total = self.image + self.text
        order = np.argsort(-total, kind="stable")[:top]
        items = self.purchases[order]
        return pd.DataFrame(
            {
                "past purchase": items,
                "title": [
                    (item_title(ds.items, int(j)) if ds is not None else None) or f"item {int(j)}"
                    for j in items
                ],
                "image": self.image[order],
                "text": self.text[order],
                "total": total[order],
            }
        )

    def sentence(self, ds: Dataset | None = None) -> str:
        """One line for a page or the CLI, labelled as the cold-start game."""
        head = (
            f"Ranked by its photo and copy (the cold-start path's content scorer, exact): "
            f"{self.image_share:.0%} image, {1 - self.image_share:.0%} text"
        )
        if self.mechanism == GENERATOR or not len(self.purchases):
            return head + " (content → embedding generator; no single past purchase owns it)."
        best = self.table(ds, 2)
        names = " and ".join(
            f"{t} ({v:+.3f})" for t, v in zip(best["title"], best["total"], strict=True)
        )
        return f"{head}; it most resembles past purchases {names} (score points)."


def explain_routed(
    loaded: LoadedModel, users: np.ndarray, item: int, emb: Embeddings | None = None
) -> list[ContentReason]:
    """:class:`ContentReason` of ``item`` for each of ``users`` (``item`` must be routed);
    ``emb``: the model's own embeddings, when the caller keeps them."""
    cold = loaded.cold_start
    if cold is None:
        raise ConfigError("this model ranks without a cold-start path: nothing is routed.")
    ds = loaded.dataset
    emb = loaded.model.eval_embeddings() if emb is None else emb
    users = np.atleast_1d(np.asarray(users, dtype=np.int64))
    parts = content_parts(cold, ds) if cold.mechanism != GENERATOR else None
    raw, aff, routed = calibrated(cold, emb, ds, rows=users, parts=parts)
    if not routed[int(item)]:
        raise ConfigError(f"item {item} has purchases enough to be ranked by the model itself.")
    n_img = ds.features["image"].shape[1]
    weights = history_weights(ds.train)
    content = content_vectors(ds.features, cold.image_weight) if parts is None else None
    out = []
    for u in users:
        a, b = float(aff.alpha[u]), float(aff.beta[u])
        if parts is not None:
            row = weights[int(u)]
            js, r = row.indices, row.data
            a_img, a_txt = a * float(parts.w_image[u]), a * float(parts.w_text[u])
            img = a_img * r * (parts.image[js] @ parts.image[int(item)])
            txt = a_txt * r * (parts.text[js] @ parts.text[int(item)])
            img_total, txt_total = float(img.sum()), float(txt.sum())
        else:
            assert cold.generator is not None and content is not None
            q = raw.users[int(u)]
            g = cold.generator
            img_total = a * float(q @ (content[int(item), :n_img] @ g[:n_img]))
            txt_total = a * float(q @ (content[int(item), n_img:] @ g[n_img:]))
            js, img, txt = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        out.append(
            ContentReason(
                int(u),
                int(item),
                cold.mechanism,
                b + img_total + txt_total,
                b,
                img_total,
                txt_total,
                np.asarray(js, np.int64),
                np.asarray(img, np.float64),
                np.asarray(txt, np.float64),
            )
        )
    return out
