"""A catalogue above the layout's budget: its layout is a seeded sample, the page says so, and
a selected point still names the right item id; a Clothing-sized one is drawn whole."""

from __future__ import annotations

import numpy as np

from anchorrec.analysis.projection import (
    JOINT_MAX_POINTS,
    MAX_POINTS,
    project_joint,
    project_space,
)
from anchorrec.analysis.spaces import Space
from anchorrec.ui import linked_panels, prepared

N_ITEMS = 30_000  # above the budget
CLOTHING = 23_033  # Amazon Clothing's catalogue


def _space(name: str, seed: int, n: int = N_ITEMS) -> Space:
    rng = np.random.default_rng(seed)
    return Space(name, rng.standard_normal((n, 3)).astype(np.float32), name)


def test_a_selected_point_of_a_sampled_layout_maps_to_its_item_id():
    proj = project_space(_space("final", 0), "pca")
    assert len(proj.item_ids) == MAX_POINTS < N_ITEMS
    assert len(np.unique(proj.item_ids)) == MAX_POINTS
    assert proj.item_ids.max() > MAX_POINTS  # a sample of the whole catalogue, not its start
    titles = np.array([f"item {i}" for i in range(N_ITEMS)], dtype=object)
    panel = linked_panels.Panel("final", "final", "", proj.xy, proj.item_ids)
    data = linked_panels.payload([panel], titles)
    header, arrays = linked_panels.decode(linked_panels.encode(data))
    rows, items = arrays["p0.rows"], arrays["items"]
    at, text = arrays["title_at"], bytes(arrays["title"]).decode("utf-8")
    picked = [0, 7, 12_345, MAX_POINTS - 1]
    # point k of the panel is the layout's row k: its item, its title, its position
    assert [int(items[rows[p]]) for p in picked] == proj.item_ids[picked].tolist()
    assert [text[at[rows[p]] : at[rows[p] + 1]] for p in picked] == [
        f"item {i}" for i in proj.item_ids[picked]
    ]
    x = arrays["p0.x"].astype(float)
    low, high = proj.xy[:, 0].min(), proj.xy[:, 0].max()
    expected = (proj.xy[picked, 0] - low) / (high - low) * linked_panels.SCALE
    assert np.allclose(x[picked], expected, atol=0.5)


def test_a_clothing_sized_catalogue_is_drawn_whole():
    proj = project_space(_space("final", 4, CLOTHING), "pca")
    assert (
        len(proj.item_ids) == CLOTHING and prepared.sample_notice(CLOTHING, proj.item_ids) is None
    )
    joint = project_joint(
        "coembedding", [_space("a", 5, CLOTHING), _space("b", 6, CLOTHING)], "pca"
    )
    assert len(np.unique(joint.item_ids)) == CLOTHING


def test_the_page_says_how_many_items_a_layout_shows():
    proj = project_space(_space("final", 1), "pca")
    note = prepared.sample_notice(N_ITEMS, proj.item_ids)
    assert note is not None
    assert f"{MAX_POINTS:,} of {N_ITEMS:,} items" in note and "seeded sample" in note
    caption = prepared.sample_caption("The final vectors.", proj.item_ids, N_ITEMS)
    assert caption.startswith("The final vectors.") and f"{MAX_POINTS:,} of" in caption
    # a joint layout of two spaces samples half its budget of items, each drawn twice
    joint = project_joint("coembedding", [_space("a", 2), _space("b", 3)], "pca")
    shown = JOINT_MAX_POINTS // 2
    assert f"{shown:,} of {N_ITEMS:,}" in prepared.sample_notice(N_ITEMS, joint.item_ids)


def test_a_layout_of_every_item_has_no_notice():
    ids = np.arange(1_000)
    assert prepared.sample_notice(1_000, ids) is None
    assert prepared.sample_caption("text", ids, 1_000) == "text"
