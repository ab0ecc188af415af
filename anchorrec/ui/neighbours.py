"""The nearest items of one item in every named space of a model, one tab per space."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from anchorrec.analysis.spaces import SPACE_ORDER, neighbours
from anchorrec.data.dataset import Dataset
from anchorrec.ui.images import item_title, thumbnail_uri

#: Neighbours listed per space.
NEIGHBOURS_SHOWN = 6


def show_neighbour_tabs(ds: Dataset, spaces: dict[str, Any], item: int, key_prefix: str) -> None:
    """A tab per space of ``spaces`` (in :data:`SPACE_ORDER`), each a table of the nearest
    items to ``item`` by cosine, with pictures and titles. Table keys are ``key_prefix + space``.
    """
    names = [s for s in SPACE_ORDER if s in spaces]
    tabs = st.tabs([s.replace("_", " ") for s in names])
    for tab, s in zip(tabs, names, strict=True):
        nb = neighbours(spaces[s], int(item), k=NEIGHBOURS_SHOWN)
        tab.dataframe(
            pd.DataFrame(
                {
                    "image": [thumbnail_uri(ds, int(i)) for i in nb["item"]],
                    "item": nb["item"],
                    "title": [item_title(ds, int(i)) for i in nb["item"]],
                    "cosine": nb["cosine"],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "image": st.column_config.ImageColumn("", width="small"),
                "cosine": st.column_config.NumberColumn(format="%.3f"),
            },
            key=f"{key_prefix}{s}",
        )
