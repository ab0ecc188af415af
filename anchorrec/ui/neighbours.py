"""One item up close: its picture, text and attributes, and its nearest items in every named
space of a model, one space at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from anchorrec.analysis.spaces import SPACE_ORDER, neighbours
from anchorrec.data.dataset import Dataset
from anchorrec.data.shop_ids import item_shop_id, with_shop_ids
from anchorrec.ui import tables
from anchorrec.ui.images import item_image_path, item_title, thumbnail, thumbnail_uri
from anchorrec.ui.text import plain

#: Neighbours listed per space.
NEIGHBOURS_SHOWN = 6
#: The space whose neighbours are shown first: the one the model ranks with.
FIRST_SPACE = "final"


def show_neighbours(ds: Dataset, spaces: dict[str, Any], item: int, key_prefix: str) -> None:
    """The nearest items to ``item`` by cosine in one space of ``spaces`` at a time (picked
    above the table, in :data:`SPACE_ORDER`; the final space first), with pictures and titles.

    One table is built and drawn, not one per space: thirteen tables with pictures took most
    of a selection's rerun and of the browser's redraw. The control's key is
    ``key_prefix + "space"``, the table's ``key_prefix + <space>``.
    """
    names = [s for s in SPACE_ORDER if s in spaces]
    if not names:
        return
    default = FIRST_SPACE if FIRST_SPACE in names else names[0]
    picked = st.segmented_control(
        "Space",
        names,
        default=default,
        format_func=lambda s: s.replace("_", " "),
        key=f"{key_prefix}space",
        label_visibility="collapsed",
    )
    s = picked if picked in names else default  # clicking the picked one again unpicks it
    nb = neighbours(spaces[s], int(item), k=NEIGHBOURS_SHOWN)
    table = pd.DataFrame(
        {
            "image": [thumbnail_uri(ds, int(i)) for i in nb["item"]],
            "item": nb["item"],
            "title": [item_title(ds, int(i)) for i in nb["item"]],
            "cosine": nb["cosine"],
        }
    )
    st.dataframe(
        with_shop_ids(table, ds, "item"),
        hide_index=True,
        width="stretch",
        column_config={
            "image": st.column_config.ImageColumn("", width="small"),
            "cosine": st.column_config.NumberColumn(format="%.3f"),
        },
        key=f"{key_prefix}{s}",
    )


def show_item_inspector(
    ds: Dataset, item: int, model: str, spaces: Callable[[], dict[str, Any]]
) -> None:
    """The item's picture, title, description, attributes and popularity on the left; its
    neighbours in each space of ``model`` (``spaces()``, called only here) on the right."""
    left, right = st.columns([1, 2])
    with left:
        path = item_image_path(ds, item)
        data = thumbnail(str(path), 320) if path is not None else None
        if data:
            st.image(data, width=240)
        st.markdown(f"**{plain(item_title(ds, item))}**")  # catalogue text: never Markdown
        if own := item_shop_id(ds, item):
            st.caption(plain(f"shop id {own}"))
        if description := tables.item_description(ds, item):
            st.markdown(plain(description))
        attrs = tables.item_attributes(ds, item)
        if attrs:
            st.caption(plain(" · ".join(f"{k}: {v}" for k, v in attrs.items())))
        st.caption(f"{int(ds.item_popularity()[item])} train interactions")
    with right:
        st.markdown(f"**Nearest neighbours in each space** ({model}, cosine)")
        show_neighbours(ds, spaces(), item, "nb_")
