"""The sidebar's finder: a shopper or an item by internal id, by the shop's own id (an imported
catalogue's) or, for items, by title; the shop's ids of the current shopper and item."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from anchorrec.data.dataset import Dataset
from anchorrec.data.shop_ids import (
    find_users,
    item_label,
    item_shop_id,
    user_label,
    user_shop_id,
)
from anchorrec.ui import tables
from anchorrec.ui.images import item_title
from anchorrec.ui.text import plain

QUERY_KEY = "find_query"
_RESULT_KEY = "_find_result"


def find(ds: Dataset, query: str) -> tuple[list[int], list[int]]:
    """Shoppers (internal or shop id equal to ``query``) and items (an id equal to it, or a
    title containing it) that ``query`` finds."""
    if not query.strip():
        return [], []
    return find_users(ds, query), tables.search_items(ds, query)


def describe(ds: Dataset, query: str, users: list[int], items: list[int]) -> str:
    """What the finder found, in one line."""
    if not users and not items:
        return f"Nothing matches “{query.strip()}”."
    parts = []
    if users:
        parts.append(f"shopper {user_label(ds, users[0])}")
    if items:
        parts.append(f"item {item_label(ds, items[0])} {item_title(ds, items[0])}")
    more = f" ({len(items)} items match; the first is shown)" if len(items) > 1 else ""
    return "Showing " + " and ".join(parts) + more + "."


def _apply(
    ds: Dataset, select_user: Callable[[int], None], select_item: Callable[[int], None]
) -> None:
    query = str(st.session_state.get(QUERY_KEY) or "")
    users, items = find(ds, query)
    if users:
        select_user(users[0])
    if items:
        select_item(items[0])
    st.session_state[_RESULT_KEY] = describe(ds, query, users, items) if query.strip() else ""


def show_finder(
    ds: Dataset,
    user: int,
    item: int,
    select_user: Callable[[int], None],
    select_item: Callable[[int], None],
) -> None:
    """The shop's ids of the current shopper and item (when it has some) and the finder, whose
    first match ``select_user`` / ``select_item`` make current (the sidebar's own setters)."""
    own_user, own_item = user_shop_id(ds, user), item_shop_id(ds, item)
    if own_user or own_item:
        ids = [f"shopper {own_user}" if own_user else "", f"item {own_item}" if own_item else ""]
        st.sidebar.caption(plain("Shop's own ids: " + " · ".join(p for p in ids if p)))
    st.sidebar.text_input(
        "Find a shopper or item",
        key=QUERY_KEY,
        placeholder="an id, a shop id or a title",
        help="A shopper by id or the shop's own id; an item by id, shop id or title. The "
        "first match becomes the current shopper / item.",
        on_change=_apply,
        args=(ds, select_user, select_item),
    )
    if result := st.session_state.get(_RESULT_KEY):
        st.sidebar.caption(plain(result))
