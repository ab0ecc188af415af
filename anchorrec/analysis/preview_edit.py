"""Edit mode of the new-product preview: an existing item with a new copy or photo.

:func:`edited_product` encodes only what changes; :func:`preview_edit` ranks the edited
item (its purchases and ID embedding kept) for every shopper, before and after, the way the
product ranks (through the cold-start path when the item is routed by it).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.analysis.preview import (
    CATEGORY_COLUMN,
    DEFAULT_K,
    ProductFeatures,
    _check_item,
    check_copy,
    item_ranks,
    placed_model,
    product_text,
    read_photo,
    segment_table,
)
from anchorrec.data.dataset import IMAGE, TEXT, Dataset
from anchorrec.models.cold_start import ranking_embeddings

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel


def edited_product(
    ds: Dataset,
    item: int,
    *,
    title: str | None = None,
    description: str | None = None,
    category: str | None = None,
    image: str | os.PathLike[str] | bytes | None = None,
    device: str = "cpu",
) -> ProductFeatures:
    """Item ``item``'s content with the given fields changed (the rest as in the catalogue).

    Only what changes is encoded again: an unchanged photo keeps the catalogue's image row,
    an unchanged copy its text row, so an edit that changes nothing is the item itself.
    """
    _check_item(ds, item)
    row = ds.items.iloc[int(item)] if ds.items is not None else pd.Series(dtype=object)

    def old(column: str) -> str:
        value = row.get(column) if column in row else None
        return (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )

    new_title = old("title") if title is None else title
    new_desc = old("description") if description is None else description
    new_cat = old(CATEGORY_COLUMN) if category is None else category
    copy_changed = any(v is not None for v in (title, description, category))
    if copy_changed:
        new_title, new_desc = check_copy(new_title, new_desc)
    feats = {m: np.asarray(ds.features[m][int(item)][None], np.float32) for m in (IMAGE, TEXT)}
    text = product_text(new_title, new_desc, new_cat or None)
    if copy_changed:
        from anchorrec.encoders.text import TextEncoder

        feats[TEXT] = TextEncoder(device).encode([text])
    if image is not None:
        from anchorrec.encoders.image import ImageEncoder

        feats[IMAGE] = ImageEncoder(device).encode_images([read_photo(image)])
    return ProductFeatures(feats, new_title, new_desc, new_cat or None, text)


@dataclass(frozen=True)
class EditPreview:
    """An existing item with changed content: its rank before and after for every shopper.

    ``table`` has one row per shopper of its current audience (rank ≤ ``k`` before):
    ``user``, ``rank_before``, ``rank_after``, ``change`` (positive = moved up) and
    ``stays`` (still in the top-``k``). ``entered`` are the shoppers it newly reaches.
    """

    variant: str
    item: int
    k: int
    can_change: bool
    reason: str = ""
    ranks_before: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ranks_after: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    entered: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    segments_before: pd.DataFrame = field(default_factory=pd.DataFrame)
    segments_after: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> dict[str, Any]:
        if not self.can_change:
            return {"variant": self.variant, "item": self.item, "reason": self.reason}
        t = self.table
        return {
            "variant": self.variant,
            "item": self.item,
            "k": self.k,
            "audience_before": int(len(t)),
            "stay": int(t["stays"].sum()) if len(t) else 0,
            "leave": int((~t["stays"]).sum()) if len(t) else 0,
            "enter": int(len(self.entered)),
            "audience_after": int(((self.ranks_after > 0) & (self.ranks_after <= self.k)).sum()),
            "median_change": float(t["change"].median()) if len(t) else 0.0,
        }


def preview_edit(
    loaded: LoadedModel, item: int, product: ProductFeatures, k: int = DEFAULT_K
) -> EditPreview:
    """Item ``item`` with ``product``'s content (its purchases and ID embedding kept)."""
    ds = loaded.dataset
    _check_item(ds, item)
    if loaded.model.id_only:
        return EditPreview(
            loaded.variant,
            int(item),
            k,
            False,
            f"{loaded.variant} reads only the purchase history: a new copy or photo changes "
            "nothing it ranks by.",
        )
    emb = ranking_embeddings(loaded)
    _, before = item_ranks(emb.users, emb.items, ds.train, int(item))
    placed = placed_model(loaded, product, np.array([int(item)]), fresh=False)
    emb2 = ranking_embeddings(placed)
    _, after = item_ranks(emb2.users, emb2.items, placed.dataset.train, int(item))
    current = np.flatnonzero((before > 0) & (before <= k))
    table = pd.DataFrame(
        {
            "user": current,
            "rank_before": before[current],
            "rank_after": after[current],
            "change": before[current] - after[current],
            "stays": (after[current] > 0) & (after[current] <= k),
        }
    )
    entered = np.flatnonzero((after > 0) & (after <= k) & ~((before > 0) & (before <= k)))
    return EditPreview(
        loaded.variant,
        int(item),
        k,
        True,
        ranks_before=before,
        ranks_after=after,
        table=table,
        entered=entered,
        segments_before=segment_table(ds, before, k),
        segments_after=segment_table(ds, after, k),
    )
