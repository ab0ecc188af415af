"""The shopper and item tables the pages show (profiles, search, selections, colours), built
from a :class:`Dataset` with pandas alone (tested in tests/ui/test_tables.py).

Split from :mod:`anchorrec.ui.tables`, which re-exports every name here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from anchorrec.data import shop_ids
from anchorrec.data.dataset import Dataset

#: Item columns that are not attributes (shown elsewhere or not at all).
NOT_ATTRIBUTES = ("item_id", "title", "description", "image", shop_ids.ITEM_COLUMN)


# ------------------------------------------------------------------------------ shoppers
def planted_groups(ds: Dataset) -> list[str]:
    """The values of ``users.csv``'s ``group`` column (empty when there is none)."""
    if ds.users is None or "group" not in ds.users.columns:
        return []
    return sorted(ds.users["group"].astype(str).unique())


def shoppers_of(ds: Dataset, group: str | None, limit: int = 500) -> list[int]:
    """Up to ``limit`` shopper ids, of ``group`` when given (None: every shopper)."""
    if group is None or ds.users is None or "group" not in ds.users.columns:
        return list(range(min(ds.n_users, limit)))
    users = ds.users.loc[ds.users["group"].astype(str) == group, "user_id"]
    return [int(u) for u in users.to_numpy()[:limit]]


def group_of(ds: Dataset, user: int) -> str | None:
    """The planted group of ``user`` (None when the dataset has none)."""
    if ds.users is None or "group" not in ds.users.columns:
        return None
    return str(ds.users["group"].iloc[int(user)])


def _readable(value: Any) -> str:
    if _is_number(value) and not float(value).is_integer():
        return f"{float(value):.2f}"
    return str(value)


def _present(value: Any) -> bool:
    return not (value is None or (isinstance(value, float) and math.isnan(value)) or value == "")


def shopper_profile(ds: Dataset, user: int, limit: int = 8) -> str:
    """``users.csv``'s row of ``user`` in words, e.g. ``visual shopper · drivers: visual 80%,
    textual 12% · likes: pattern monogram, shade classic``.

    ``group`` names the shopper; ``w_<driver>`` columns (driver weights) are listed as
    percentages, largest first; ``pref_<kind>`` columns as what the shopper likes; any other
    column as ``name value``.
    """
    if ds.users is None:
        return ""
    row = ds.users.iloc[int(user)]
    cols = [c for c in ds.users.columns if c != "user_id" and _present(row[c])]
    parts = []
    if "group" in cols:
        parts.append(f"{row['group']} shopper")
    weights = {c[2:]: float(row[c]) for c in cols if c.startswith("w_") and _is_number(row[c])}
    if weights:
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])
        parts.append("drivers: " + ", ".join(f"{k} {v:.0%}" for k, v in ranked))
    likes = [f"{c[5:]} {row[c]}" for c in cols if c.startswith("pref_")]
    if likes:
        parts.append("likes: " + ", ".join(likes[:limit]))
    used = {"group", *(f"w_{k}" for k in weights), *(c for c in cols if c.startswith("pref_"))}
    rest = [f"{str(c).replace('_', ' ')} {_readable(row[c])}" for c in cols if c not in used]
    return " · ".join([*parts, *rest[:limit]])


def _is_number(value: Any) -> bool:
    """A number, or text that reads as one (users.csv may be read as text)."""
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------ items
def item_attributes(ds: Dataset, item: int, limit: int = 10) -> dict[str, Any]:
    """``items.csv``'s attributes of ``item`` (category and the like), without title/text."""
    if ds.items is None:
        return {}
    row = ds.items.iloc[int(item)]
    cols = [c for c in ds.items.columns if c not in NOT_ATTRIBUTES]
    return {c: row[c] for c in cols[:limit]}


def item_description(ds: Dataset, item: int) -> str:
    if ds.items is None or "description" not in ds.items.columns:
        return ""
    value = ds.items["description"].iloc[int(item)]
    return value if isinstance(value, str) else ""


def search_items(ds: Dataset, query: str, limit: int = 500) -> list[int]:
    """Items whose id (internal, ``items.csv``'s ``item_id``, or an imported catalogue's own
    id) equals ``query`` or whose title contains it (case-insensitive); empty for an empty
    query."""
    q = query.strip().lower()
    if not q:
        return []
    found: list[int] = shop_ids.find_items(ds, q)
    if ds.items is not None:
        for col in ("item_id", "title", "name"):
            if col in ds.items.columns:
                text = ds.items[col].astype(str).str.lower()
                hits = text == q if col == "item_id" else text.str.contains(q, regex=False)
                found += [int(i) for i in np.flatnonzero(hits.to_numpy())]
    return list(dict.fromkeys(found))[:limit]


def selection_table(ds: Dataset, items: Sequence[int]) -> pd.DataFrame:
    """One row per selected item: ``item``, ``shop id`` (an imported catalogue's own id),
    ``title``, its attributes and ``train interactions`` (what the selection summary lists and
    exports)."""
    ids = [int(i) for i in items]
    popularity = ds.item_popularity()
    rows = []
    for i in ids:
        title = None
        if ds.items is not None:
            for col in ("title", "name"):
                if col in ds.items.columns and isinstance(ds.items[col].iloc[i], str):
                    title = ds.items[col].iloc[i]
                    break
        rows.append(
            {
                "item": i,
                "title": title or f"item {i}",
                **item_attributes(ds, i),
                "train interactions": int(popularity[i]),
            }
        )
    return shop_ids.with_shop_ids(pd.DataFrame(rows), ds, "item")


def selection_breakdown(ds: Dataset, items: Sequence[int], column: str) -> pd.DataFrame:
    """``<column>``, ``items`` and ``share`` of the selection, most common first."""
    if ds.items is None or column not in ds.items.columns or not len(items):
        return pd.DataFrame(columns=[column, "items", "share"])
    values = ds.items[column].iloc[[int(i) for i in items]].astype(str)
    counts = values.value_counts()
    return pd.DataFrame(
        {column: counts.index, "items": counts.to_numpy(), "share": counts.to_numpy() / len(values)}
    )


def breakdown_columns(ds: Dataset, max_levels: int = 24) -> list[str]:
    """The item columns worth a breakdown: category first, then attributes with few values."""
    if ds.items is None:
        return []
    cols = [c for c in ds.items.columns if c not in NOT_ATTRIBUTES]
    few = [c for c in cols if ds.items[c].nunique() <= max_levels]
    return sorted(few, key=lambda c: c != "category")


def colour_options(ds: Dataset) -> list[str]:
    """What the layout panels can be coloured by."""
    options = []
    if ds.items is not None and "category" in ds.items.columns:
        options.append("category")
    options += ["popularity", "ID share"]
    if ds.items is not None:
        skip = {*NOT_ATTRIBUTES, "category"}
        options += [f"attribute: {c}" for c in ds.items.columns if c not in skip]
    return options


def colour_values(ds: Dataset, option: str) -> tuple[np.ndarray, str]:
    """The per-item values and legend title of a colour option other than ``ID share``."""
    if option == "popularity":
        return np.log1p(ds.item_popularity()), "log(1+train interactions)"
    if option == "category" or option.startswith("attribute: "):
        column = option.split(": ", 1)[-1]
        if ds.items is None or column not in ds.items.columns:
            raise KeyError(f"items.csv has no column {column!r}")
        return ds.items[column].to_numpy(), column
    raise KeyError(f"unknown colour option {option!r}")
