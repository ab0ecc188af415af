"""The payload of the linked layout panels: every point names its item, colours keep every
level apart, and a selection from the browser is read by item id."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from anchorrec.ui import linked_panels
from anchorrec.ui.charts import MAX_LEVELS, SPACE_COLOURS
from anchorrec.ui.linked_panels import SCALE, Panel, payload, selection_items

ROOT = Path(__file__).resolve().parents[2]
TITLES = np.array([f"title {i}" for i in range(200)], dtype=object)


def _panel(space: str, ids, seed: int = 0, **kw) -> Panel:
    xy = np.random.default_rng(seed).normal(size=(len(ids), 2))
    return Panel(space, space, "", xy, np.asarray(ids), **kw)


def test_every_point_names_its_item_and_keeps_its_place():
    a = _panel("final", [150, 3, 77, 9], seed=1)
    b = _panel("id_view", [9, 3], seed=2)
    data = payload([a, b], TITLES)
    assert data["items"] == [3, 9, 77, 150]
    assert data["titles"] == ["title 3", "title 9", "title 77", "title 150"]
    for spec, panel in zip(data["panels"], (a, b), strict=True):
        assert [data["items"][r] for r in spec["rows"]] == panel.item_ids.tolist()
        x, y = np.array(spec["x"]), np.array(spec["y"])
        assert x.min() == 0 and x.max() == SCALE and y.min() == 0 and y.max() == SCALE
        # the order along each axis is the layout's (y flipped: the screen's grows downwards)
        assert (np.argsort(x, kind="stable") == np.argsort(panel.xy[:, 0], kind="stable")).all()
        assert (np.argsort(y, kind="stable") == np.argsort(-panel.xy[:, 1], kind="stable")).all()


def test_a_layout_of_one_point_or_with_gaps_still_draws():
    xy = np.array([[np.nan, 1.0], [2.0, 1.0]])
    data = payload([Panel("final", "final", "", xy, np.array([0, 1]))], TITLES)
    assert data["panels"][0]["x"] == [SCALE // 2, 0] and data["panels"][0]["y"] == [0, 0]


def test_selection_and_matches_are_kept_only_for_items_drawn():
    data = payload([_panel("final", [1, 2, 3])], TITLES, selected=[3, 99, 1], found=[2, 150])
    assert data["selected"] == [3, 1] and data["found"] == [2]


def test_colour_by_category_keeps_every_category_in_its_own_colour():
    n, levels = 140, 14  # the sample's 14 categories
    categories = np.array([f"category {i % levels:02d}" for i in range(n)], dtype=object)
    titles = np.array([f"t{i}" for i in range(n)], dtype=object)
    data = payload([_panel("final", np.arange(n))], titles, categories, "category")
    colour = data["colour"]
    assert colour["kind"] == "levels" and colour["legend"] == sorted(set(categories))
    assert len(set(colour["palette"])) == levels and "other" not in colour["legend"]
    for r, item in enumerate(data["items"]):  # each item's colour is its category's
        assert colour["legend"][colour["index"][r]] == categories[item]
        assert colour["text"][r] == categories[item]


def test_more_levels_than_colours_keep_the_most_frequent():
    values = np.array([f"v{i}" for i in range(60)] + ["v0"] * 30, dtype=object)
    colour = linked_panels.colouring(values, "brand", np.arange(len(values)))
    assert len(colour["legend"]) == MAX_LEVELS and "other" in colour["legend"]
    assert "v0" in colour["legend"]


def test_a_numeric_colouring_is_a_scale_with_missing_values_grey():
    values = np.linspace(0.0, 10.0, 50)
    values[7] = np.nan
    colour = linked_panels.colouring(values, "popularity", np.arange(50))
    assert colour["kind"] == "scale" and colour["range"] == [0.0, 10.0]
    assert colour["index"][0] == 0 and colour["index"][-1] == linked_panels.SCALE_STEPS - 1
    assert colour["palette"][colour["index"][7]] == linked_panels.MISSING_COLOUR
    assert colour["text"][7] == "missing" and colour["text"][-1] == "10"
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colour["palette"])
    assert linked_panels.colouring(None, "", np.arange(3))["kind"] == "none"


def test_a_joint_layout_colours_points_by_their_space():
    tags = np.array(["anchor_id", "anchor_image", "anchor_id", "anchor_text"])
    panel = _panel("anchor_domain", [5, 5, 6, 6], tags=tags, wide=True, heading="Anchor domain")
    (spec,) = payload([panel], TITLES)["panels"]
    assert spec["tag_names"] == ["anchor_id", "anchor_image", "anchor_text"]
    assert spec["tags"] == [0, 1, 0, 2]
    assert spec["tag_colours"] == [SPACE_COLOURS[n] for n in spec["tag_names"]]
    assert spec["wide"] and spec["heading"] == "Anchor domain"


@pytest.mark.parametrize(
    "state, items",
    [
        ({"selection": {"items": [7, "3", 7, None], "gesture": "box", "seq": 2}}, [7, 3]),
        ({"selection": {"items": [], "gesture": "clear", "seq": 3}}, []),
    ],
)
def test_a_selection_from_the_browser_is_read_by_item_id(state, items):
    ids, _ = selection_items(state)
    assert ids == items


@pytest.mark.parametrize("state", [None, {}, {"selection": None}, {"selection": {"items": 3}}])
def test_anything_else_reads_as_no_selection(state):
    assert selection_items(state) is None


def test_the_same_items_again_are_a_new_gesture():
    first = selection_items({"selection": {"items": [1], "gesture": "click", "seq": 1}})
    again = selection_items({"selection": {"items": [1], "gesture": "click", "seq": 2}})
    assert first[0] == again[0] and first[1] != again[1]


def test_catalogue_text_reaches_the_page_as_text_only():
    script = (ROOT / "anchorrec/ui/linked_panels/panels.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script


def test_the_component_files_are_installed_with_the_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["anchorrec.ui"]
    ui = ROOT / "anchorrec" / "ui"
    for path in (ui / "linked_panels").iterdir():
        assert any(path.match(str(ui / g)) for g in globs), path
