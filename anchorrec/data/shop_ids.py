"""The shop's own ids of an imported catalogue, beside the internal ones.

``python -m anchorrec import-catalog`` renumbers items and shoppers ``0..n-1`` (the models'
ids) and keeps the originals: items.csv column ``original_item_id`` (one per item) and
``user_id_map.csv`` (``original_id``, ``user_id``) in the dataset directory. Everything a
person reads or exports names an item or a shopper through :func:`item_label` /
:func:`user_label` (or the ``shop id`` columns of :func:`item_shop_ids`), and finds one by
either id (:func:`find_items`, :func:`find_users`). A dataset without the originals (the
MMRec datasets, the bundled samples) has only internal ids, and the labels are just those.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from anchorrec.fileio import FORMULA_PREFIXES

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset

#: items.csv column with the shop's own item id.
ITEM_COLUMN = "original_item_id"
#: Files of the import mapping the shop's ids to the internal ones.
ITEM_MAP_FILE = "item_id_map.csv"
USER_MAP_FILE = "user_id_map.csv"
#: Column name of the shop's ids in tables and CSV exports.
SHOP_ID = "shop id"


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _unneutralise(value: str) -> str:
    """The id as the shop wrote it: the map is written for spreadsheets, where a leading
    ``'`` keeps a formula-like id (``=A1``, ``-12``) from running."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def item_shop_ids(ds: Dataset) -> np.ndarray | None:
    """The shop's id of every item (text, by internal id); None when the catalogue has none."""
    if ds.items is None or ITEM_COLUMN not in ds.items.columns:
        return None
    return np.asarray([_text(v) for v in ds.items[ITEM_COLUMN]], dtype=object)


@functools.lru_cache(maxsize=16)
def _user_map(path: str, mtime_ns: int, n_users: int) -> tuple[str, ...] | None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"original_id", "user_id"} <= set(frame.columns):
        return None
    internal = pd.to_numeric(frame["user_id"], errors="coerce")
    ids = [""] * n_users
    for raw, u in zip(frame["original_id"], internal, strict=True):
        if u == u and 0 <= int(u) < n_users:
            ids[int(u)] = _unneutralise(raw.strip())
    return tuple(ids)


def user_shop_ids(ds: Dataset) -> np.ndarray | None:
    """The shop's id of every shopper (from ``user_id_map.csv``, or users.csv column
    ``original_user_id``); None when the dataset has none."""
    if ds.users is not None and "original_user_id" in ds.users.columns:
        return np.asarray([_text(v) for v in ds.users["original_user_id"]], dtype=object)
    if ds.path is None:
        return None
    path = Path(ds.path) / USER_MAP_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    ids = _user_map(str(path), mtime, ds.n_users)
    return None if ids is None else np.asarray(ids, dtype=object)


def item_shop_id(ds: Dataset, item: int) -> str:
    """The shop's own id of ``item`` ("" when it has none)."""
    ids = item_shop_ids(ds)
    return str(ids[int(item)]) if ids is not None else ""


def user_shop_id(ds: Dataset, user: int) -> str:
    """The shop's own id of ``user`` ("" when it has none)."""
    ids = user_shop_ids(ds)
    return str(ids[int(user)]) if ids is not None and int(user) < len(ids) else ""


def item_label(ds: Dataset, item: int, ids: np.ndarray | None = None) -> str:
    """``#12`` or, for an imported catalogue, ``#12 (shop SKU-9)``. ``ids``: the result of
    :func:`item_shop_ids`, when labelling many items."""
    ids = item_shop_ids(ds) if ids is None else ids
    own = ids[int(item)] if ids is not None else ""
    return f"#{int(item)} (shop {own})" if own else f"#{int(item)}"


def user_label(ds: Dataset, user: int, ids: np.ndarray | None = None) -> str:
    """``12`` or, for an imported catalogue, ``12 (shop C-042)``."""
    ids = user_shop_ids(ds) if ids is None else ids
    own = ids[int(user)] if ids is not None and int(user) < len(ids) else ""
    return f"{int(user)} (shop {own})" if own else f"{int(user)}"


def _matches(ids: np.ndarray | None, query: str) -> list[int]:
    if ids is None:
        return []
    q = query.lower()
    return [int(i) for i in np.flatnonzero([str(v).lower() == q for v in ids])]


def find_items(ds: Dataset, query: str) -> list[int]:
    """Items whose internal id or shop id equals ``query`` (case-insensitive), shop id first."""
    q = query.strip().lstrip("#")
    found = _matches(item_shop_ids(ds), q)
    if q.isdigit() and int(q) < ds.n_items:
        found.append(int(q))
    return list(dict.fromkeys(found))


def find_users(ds: Dataset, query: str) -> list[int]:
    """Shoppers whose internal id or shop id equals ``query`` (case-insensitive), shop id first."""
    q = query.strip()
    found = _matches(user_shop_ids(ds), q)
    if q.isdigit() and int(q) < ds.n_users:
        found.append(int(q))
    return list(dict.fromkeys(found))


def with_shop_ids(
    frame: pd.DataFrame, ds: Dataset, column: str, kind: str = "item", name: str = SHOP_ID
) -> pd.DataFrame:
    """``frame`` with a column ``name`` of the shop's ids right after its ``column`` of
    internal ids (items, or shoppers with ``kind="user"``); ``frame`` itself when the dataset
    has no shop ids."""
    ids = item_shop_ids(ds) if kind == "item" else user_shop_ids(ds)
    if ids is None or column not in frame.columns or name in frame.columns:
        return frame
    values = pd.to_numeric(frame[column], errors="coerce")
    own = [ids[int(v)] if v == v and 0 <= int(v) < len(ids) else "" for v in values]
    out = frame.copy()
    out.insert(out.columns.get_loc(column) + 1, name, own)
    return out


def with_user_and_item_shop_ids(frame: pd.DataFrame, ds: Dataset | None) -> pd.DataFrame:
    """``frame`` with ``shop user id`` after ``user`` and ``shop item id`` after ``item``
    (the audit's per-recommendation exports); unchanged without shop ids."""
    if ds is None:
        return frame
    frame = with_shop_ids(frame, ds, "user", kind="user", name="shop user id")
    return with_shop_ids(frame, ds, "item", name="shop item id")
