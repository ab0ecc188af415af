"""The shop's own ids of an imported catalogue: kept by the import, read back, labelled, found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anchorrec.data import shop_ids
from anchorrec.data.catalog import import_catalog
from tests.data.malformed.corpus import write_valid_catalog


def test_an_imported_catalogue_keeps_and_finds_the_shops_item_and_shopper_ids(tmp_path: Path):
    p = write_valid_catalog(tmp_path / "cat")
    inter = pd.read_csv(p["interactions"])
    inter["user_id"] = inter["user_id"].replace({"U3": "=cmd"})  # a formula, if written raw
    inter.to_csv(p["interactions"], index=False)
    ds = import_catalog(
        p["items"], p["interactions"], p["images"], p["out"], k_core=3, device="cpu", progress=False
    )
    items = shop_ids.item_shop_ids(ds)
    assert list(items) == pd.read_csv(p["items"])["item_id"].tolist()  # I0..I5, catalogue order
    users = shop_ids.user_shop_ids(ds)
    assert sorted(users) == sorted(["U0", "U1", "U2", "=cmd", "U4", "U5"])  # the quote is gone
    formula = list(users).index("=cmd")
    # the map on disk is the spreadsheet-safe one; labels and search use the shop's own text
    assert "'=cmd" in (p["out"] / shop_ids.USER_MAP_FILE).read_text(encoding="utf-8")
    assert shop_ids.user_label(ds, formula) == f"{formula} (shop =cmd)"
    assert shop_ids.find_users(ds, "=CMD") == [formula]
    assert shop_ids.item_label(ds, 2) == "#2 (shop I2)"
    assert shop_ids.find_items(ds, "i4") == [4]
    assert shop_ids.find_items(ds, "#1") == [1]  # an internal id, as the labels write it
    table = shop_ids.with_shop_ids(pd.DataFrame({"item": [5, 0], "x": [1, 2]}), ds, "item")
    assert list(table.columns) == ["item", "shop id", "x"] and list(table["shop id"]) == [
        "I5",
        "I0",
    ]


def test_a_dataset_without_shop_ids_is_labelled_by_its_own_ids():
    from tests.conftest import make_tiny_dataset

    ds = make_tiny_dataset(n_users=5, n_items=8, seed=0)
    assert shop_ids.item_shop_ids(ds) is None and shop_ids.user_shop_ids(ds) is None
    assert shop_ids.item_label(ds, 3) == "#3" and shop_ids.user_label(ds, 4) == "4"
    assert shop_ids.find_items(ds, "3") == [3] and shop_ids.find_items(ds, "30") == []
    assert shop_ids.find_users(ds, "x") == []
    frame = pd.DataFrame({"item": [1]})
    assert shop_ids.with_shop_ids(frame, ds, "item") is frame
