"""One rule for an item's title, picture and encoder text."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from anchorrec.data.items import (
    display_title,
    display_titles,
    encoder_texts,
    item_image_path,
    item_title,
)
from tests.conftest import make_tiny_dataset


def test_title_prefers_title_then_name_and_skips_blanks():
    items = pd.DataFrame({"title": ["Red dress", " ", np.nan], "name": ["x", "Hat", "Cap"]})
    assert item_title(items, 0) == "Red dress"
    assert item_title(items, 1) == "Hat"  # blank title -> name
    assert item_title(items, 2) == "Cap"  # missing title -> name
    assert item_title(None, 0) is None
    assert item_title(pd.DataFrame({"other": [1]}), 0) is None


def test_display_title_names_an_untitled_item_by_its_id():
    ds = dataclasses.replace(make_tiny_dataset(), items=None)
    assert display_title(ds, 3) == "item 3"


def test_every_title_at_once_follows_the_one_item_rule():
    base = make_tiny_dataset(n_items=5)
    items = pd.DataFrame(
        {"title": ["Red dress", " ", np.nan, "", "Belt"], "name": ["x", "Hat", "Cap", None, "y"]}
    )
    for frame in (items, items[["name"]], None):
        ds = dataclasses.replace(base, items=frame)
        assert display_titles(ds) == [display_title(ds, i) for i in range(ds.n_items)]
    assert display_titles(dataclasses.replace(base, items=items))[3] == "item 3"


def test_encoder_text_joins_non_empty_parts_in_order():
    items = pd.DataFrame(
        {
            "title": ["Red dress", "Hat", ""],
            "category": ["Dresses", "", np.nan],
            "description": ["Cotton, knee length.", "Wool.", ""],
        }
    )
    assert encoder_texts(items) == ["Red dress. Dresses. Cotton, knee length.", "Hat. Wool.", ""]
    assert encoder_texts(pd.DataFrame({"title": ["A"]})) == ["A"]  # absent columns are empty


def test_a_picture_outside_the_dataset_is_no_picture(tmp_path):
    (tmp_path / "ok.jpg").write_bytes(b"x")
    (tmp_path.parent / "secret.jpg").write_bytes(b"x")
    images = ["ok.jpg", "../secret.jpg", "missing.jpg", ""]
    base = make_tiny_dataset()
    items = pd.DataFrame({"image": (images * base.n_items)[: base.n_items]})
    ds = dataclasses.replace(base, items=items, path=tmp_path)
    assert item_image_path(ds, 0) == (tmp_path / "ok.jpg").resolve()
    assert item_image_path(ds, 1) is None
    assert item_image_path(ds, 2) is None
    assert item_image_path(ds, 3) is None
