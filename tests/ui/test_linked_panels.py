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


def _sent(data, **kw):
    """The header and arrays the browser reads from ``data``'s binary payload."""
    return linked_panels.decode(linked_panels.encode(data, **kw))


def test_every_point_names_its_item_and_keeps_its_place():
    a = _panel("final", [150, 3, 77, 9], seed=1)
    b = _panel("id_view", [9, 3], seed=2)
    header, arrays = _sent(payload([a, b], TITLES))
    items = arrays["items"].tolist()
    assert items == [3, 9, 77, 150]
    titles = bytes(arrays["title"]).decode("utf-8")
    at = arrays["title_at"]
    assert [titles[at[r] : at[r + 1]] for r in range(4)] == [f"title {i}" for i in items]
    for n, (spec, panel) in enumerate(zip(header["layout"]["panels"], (a, b), strict=True)):
        rows = arrays[f"p{n}.rows"]
        assert spec["n"] == len(rows) and [items[r] for r in rows] == panel.item_ids.tolist()
        x, y = arrays[f"p{n}.x"].astype(int), arrays[f"p{n}.y"].astype(int)
        assert x.min() == 0 and x.max() == SCALE and y.min() == 0 and y.max() == SCALE
        # the order along each axis is the layout's (y flipped: the screen's grows downwards)
        assert (np.argsort(x, kind="stable") == np.argsort(panel.xy[:, 0], kind="stable")).all()
        assert (np.argsort(y, kind="stable") == np.argsort(-panel.xy[:, 1], kind="stable")).all()


def test_a_layout_of_one_point_or_with_gaps_still_draws():
    xy = np.array([[np.nan, 1.0], [2.0, 1.0]])
    _, arrays = _sent(payload([Panel("final", "final", "", xy, np.array([0, 1]))], TITLES))
    assert arrays["p0.x"].tolist() == [int(np.rint(SCALE / 2)), 0]  # a gap: the middle
    assert arrays["p0.y"].tolist() == [0, 0]


def test_selection_and_matches_are_kept_only_for_items_drawn():
    data = payload([_panel("final", [1, 2, 3])], TITLES, selected=[3, 99, 1], found=[2, 150])
    _, arrays = _sent(data)
    assert arrays["selected"].tolist() == [3, 1] and arrays["found"].tolist() == [2]


def test_a_rerun_sends_only_the_look_once_the_layout_was_sent():
    panels = [_panel("final", np.arange(120)), _panel("id_view", np.arange(120), seed=3)]
    first = payload(panels, TITLES, selected=[4])
    again = payload(panels, TITLES, np.arange(200) % 3, "third", selected=[5, 6])
    assert first.key == again.key  # the layout is the same; only the look changed
    whole = linked_panels.encode(again)
    look = linked_panels.encode(again, with_layout=False)
    assert len(look) < len(whole) / 3
    header, arrays = linked_panels.decode(look)
    assert header["layout"] is None and header["key"] == first.key
    assert "p0.x" not in arrays and "items" not in arrays
    assert arrays["selected"].tolist() == [5, 6] and len(arrays["colour"]) == 120
    moved = payload([_panel("final", np.arange(120), seed=9), panels[1]], TITLES)
    assert moved.key != first.key


def test_the_layout_travels_again_only_when_new_or_asked_for():
    assert linked_panels.needs_layout(None, None, "k1")
    assert not linked_panels.needs_layout({"selection": {}}, "k1", "k1")
    assert linked_panels.needs_layout({}, "k1", "k2")
    assert linked_panels.needs_layout({"need": "k1"}, "k1", "k1")


def test_the_payload_is_far_smaller_than_json_at_clothing_size():
    n = 23_033
    rng = np.random.default_rng(0)
    titles = np.array([f"a product title number {i}" for i in range(n)], dtype=object)
    panels = [Panel(f"s{p}", "", "", rng.normal(size=(n, 2)), np.arange(n)) for p in range(8)]
    data = payload(panels, titles, rng.random(n), "popularity")
    blob = linked_panels.encode(data)
    points = 8 * n
    assert len(blob) < 10 * points + 40 * n  # ~8 bytes a point, the titles once
    assert data.meta["sampled_from"] == 0 and data.meta["n_items"] == n


def test_above_the_budget_every_panel_keeps_one_stratified_sample():
    n = 1_000
    strata = np.array(["rare"] * 10 + ["common"] * (n - 10), dtype=object)
    titles = np.array([f"t{i}" for i in range(n)], dtype=object)
    panels = [_panel(s, np.arange(n), seed=i) for i, s in enumerate(("a", "b", "c"))]
    data = payload(panels, titles, strata=strata, budget=600)
    header, arrays = _sent(data)
    items = arrays["items"]
    assert len(items) == 200 and header["layout"]["sampled_from"] == n
    assert (strata[items] == "rare").sum() == 2  # in proportion (10 of 1,000), not lost
    for i in range(3):  # the same items in every panel, each at its own place
        rows = arrays[f"p{i}.rows"]
        assert sorted(items[rows].tolist()) == items.tolist()
        assert np.array_equal(arrays[f"p{i}.x"], linked_panels._scaled(panels[i].xy[:, 0])[items])


def test_a_stratified_sample_keeps_every_stratum_and_its_size():
    strata = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 2, dtype=object)
    picked = linked_panels.stratified_items(np.arange(802), strata, 80)
    assert len(picked) == 80 and len(np.unique(picked)) == 80
    counts = {s: int((strata[picked] == s).sum()) for s in "abc"}
    assert counts["c"] >= 1 and abs(counts["a"] - 50) <= 1 and abs(counts["b"] - 30) <= 1
    again = linked_panels.stratified_items(np.arange(802), strata, 80)
    assert np.array_equal(picked, again)  # seeded


def test_filter_fields_arrive_as_levels_and_codes():
    categories = np.array(["shoes", "bags", "shoes", "hats"] * 50, dtype=object)
    data = payload([_panel("final", [0, 1, 2, 3])], TITLES, filters={"category": categories})
    header, arrays = _sent(data)
    (field,) = header["layout"]["fields"]
    assert field == {"name": "category", "levels": ["bags", "hats", "shoes"]}
    assert [field["levels"][c] for c in arrays["f0"]] == ["shoes", "bags", "shoes", "hats"]


def test_colour_by_category_keeps_every_category_in_its_own_colour():
    n, levels = 140, 14  # the sample's 14 categories
    categories = np.array([f"category {i % levels:02d}" for i in range(n)], dtype=object)
    titles = np.array([f"t{i}" for i in range(n)], dtype=object)
    header, arrays = _sent(payload([_panel("final", np.arange(n))], titles, categories, "category"))
    colour = header["look"]["colour"]
    assert colour["kind"] == "levels" and colour["legend"] == sorted(set(categories))
    assert len(set(colour["palette"])) == levels and "other" not in colour["legend"]
    for r, item in enumerate(arrays["items"]):  # each item's colour is its category's
        assert colour["legend"][arrays["colour"][r]] == categories[item]


def test_more_levels_than_colours_keep_the_most_frequent():
    values = np.array([f"v{i}" for i in range(60)] + ["v0"] * 30, dtype=object)
    colour, _ = linked_panels.colouring(values, "brand", np.arange(len(values)))
    assert len(colour["legend"]) == MAX_LEVELS and "other" in colour["legend"]
    assert "v0" in colour["legend"]


def test_a_numeric_colouring_is_a_scale_with_missing_values_grey():
    values = np.linspace(0.0, 10.0, 50)
    values[7] = np.nan
    colour, arrays = linked_panels.colouring(values, "popularity", np.arange(50))
    index = arrays["colour"]
    assert colour["kind"] == "scale" and colour["range"] == [0.0, 10.0]
    assert index[0] == 0 and index[-1] == linked_panels.SCALE_STEPS - 1
    assert colour["palette"][index[7]] == linked_panels.MISSING_COLOUR
    assert np.isnan(arrays["colour_value"][7]) and arrays["colour_value"][-1] == 10.0
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colour["palette"])
    assert linked_panels.colouring(None, "", np.arange(3))[0]["kind"] == "none"


def test_a_joint_layout_colours_points_by_their_space():
    tags = np.array(["anchor_id", "anchor_image", "anchor_id", "anchor_text"])
    panel = _panel("anchor_domain", [5, 5, 6, 6], tags=tags, wide=True, heading="Anchor domain")
    header, arrays = _sent(payload([panel], TITLES))
    (spec,) = header["layout"]["panels"]
    assert spec["tag_names"] == ["anchor_id", "anchor_image", "anchor_text"]
    assert arrays["p0.tags"].tolist() == [0, 1, 0, 2]
    assert spec["tag_colours"] == [SPACE_COLOURS[n] for n in spec["tag_names"]]
    assert spec["wide"] and spec["heading"] == "Anchor domain"


def test_a_two_space_layout_joins_an_items_two_points():
    tags = np.array(["id_view", "id_view", "final", "final"])
    panel = _panel("coembedding", [5, 6, 6, 5], tags=tags, links=10)
    _, arrays = _sent(payload([panel], TITLES))
    assert arrays["p0.links"].reshape(-1, 2).tolist() == [[0, 3], [1, 2]]


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


def test_a_rerun_with_the_same_layout_reuses_it_and_a_change_rebuilds_it():
    xy = np.random.default_rng(4).normal(size=(50, 2))
    first = payload([Panel("final", "final", "", xy, np.arange(50))], TITLES)
    again = payload([Panel("final", "final", "", xy, np.arange(50).copy())], TITLES, selected=[3])
    assert again.arrays is first.arrays and again.key == first.key  # built once
    assert again.look_arrays["selected"].tolist() == [3]
    other = payload([Panel("final", "final", "", xy * 2 + 1, np.arange(50))], TITLES)
    assert other.arrays is not first.arrays
    renamed = payload([Panel("final", "renamed", "", xy, np.arange(50))], TITLES)
    assert renamed.meta["panels"][0]["title"] == "renamed" and renamed.key != first.key
