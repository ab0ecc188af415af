"""A Streamlit script (not a dashboard page) that draws the linked layout panels at Amazon
Clothing's size: 23,033 items in seven item-space panels and a wide joint panel of two spaces,
coloured by one of 30 categories, with the filter fields of a catalogue. A selection is
summarised under the panels as the dashboard's pages do ("Selection — N items").

``tests/app/test_browser_panels.py`` drives it in a real browser; ``?items=N`` draws fewer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anchorrec.ui import linked_panels  # noqa: E402

CLOTHING_ITEMS = 23_033
KEY = "panels"

n = int(st.query_params.get("items", CLOTHING_ITEMS))
rng = np.random.default_rng(0)
categories = np.array([f"category {i % 30:02d}" for i in range(n)], dtype=object)
segment = np.where(np.arange(n) % 5 == 0, "head", "tail").astype(object)
titles = np.array([f"product {i}" for i in range(n)], dtype=object)
centres = rng.normal(scale=6.0, size=(30, 2))
panels = []
for p in range(7):
    xy = centres[np.arange(n) % 30] + rng.normal(size=(n, 2))
    panels.append(linked_panels.Panel(f"space_{p}", f"space {p}", "", xy, np.arange(n)))
joint_xy = np.concatenate([rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + 3])
tags = np.repeat(np.array(["id_view", "final"]), n)
panels.append(
    linked_panels.Panel(
        "joint", "joint", "", joint_xy, np.tile(np.arange(n), 2), tags, wide=True, links=150
    )
)
st.title("Panels at Clothing's size")
taken = linked_panels.selection_items(st.session_state.get(KEY))
selected = taken[0] if taken else []
data = linked_panels.payload(
    panels,
    titles,
    categories,
    "category",
    selected=selected,
    filters={"category": categories, "popularity segment": segment},
    strata=categories,
)
linked_panels.show(data, key=KEY, on_change=lambda: None)
if selected:
    st.subheader(f"Selection — {len(selected)} items")
    st.caption(f"{len(set(categories[selected]))} categories")
