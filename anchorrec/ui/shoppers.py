"""The Recommendations page's controls and header: which shopper (by planted group, internal id
or the shop's own id), their purchase history, and which categories the top-K is taken in."""

from __future__ import annotations

import numpy as np
import streamlit as st

from anchorrec.data.dataset import Dataset
from anchorrec.data.shop_ids import item_label, item_shop_ids, user_label, user_shop_ids
from anchorrec.ui import tables
from anchorrec.ui.images import item_image_path, item_title, thumbnail
from anchorrec.ui.state import select_user
from anchorrec.ui.text import plain

HISTORY_MAX = 12
ALL = "all shoppers"
#: items.csv column the top-K can be restricted to.
CATEGORY = "category"


def pick_shopper(ds: Dataset, current: int, where) -> int:
    """A planted group (choosing one selects one of its shoppers) and the shopper, labelled
    with the shop's own id when the catalogue was imported (type either id to find one)."""
    groups = tables.planted_groups(ds)
    group = None
    if groups:

        def _on_group() -> None:
            chosen = st.session_state["rec_group"]
            pool = tables.shoppers_of(ds, None if chosen == ALL else chosen)
            if pool and current not in pool:
                select_user(pool[0])
                st.session_state["rec_user"] = pool[0]

        group = where[0].selectbox(
            "Planted group",
            [ALL, *groups],
            key="rec_group",
            on_change=_on_group,
            help="users.csv column group",
        )
    pool = tables.shoppers_of(ds, None if group in (None, ALL) else group)
    pool = pool if current in pool else [current, *pool]
    own = user_shop_ids(ds)
    st.session_state["rec_user"] = current
    where[1].selectbox(
        "Shopper",
        pool,
        key="rec_user",
        format_func=lambda u: user_label(ds, u, own),
        help="Type a shopper's id (or the shop's own id) to find them here; or type any id, "
        "or a shop id, in the sidebar.",
        on_change=lambda: select_user(st.session_state["rec_user"]),
    )
    return current


def show_history(ds: Dataset, user: int) -> None:
    """The shopper's header (ids, profile) and their latest purchases as pictures."""
    hist = ds.user_items(user)
    profile = tables.shopper_profile(ds, user)
    head = plain(user_label(ds, user))
    st.markdown(f"**Shopper {head}** — {len(hist)} past purchases. {plain(profile)}")
    own = item_shop_ids(ds)
    for col, i in zip(st.columns(HISTORY_MAX), hist[-HISTORY_MAX:], strict=False):
        path = item_image_path(ds, int(i))
        data = thumbnail(str(path), 120) if path is not None else None
        if data:
            col.image(data, width="stretch")
        col.caption(f"{plain(item_label(ds, int(i), own))} {plain(item_title(ds, int(i)))}")


def categories(ds: Dataset) -> list[str]:
    """The catalogue's categories (empty when items.csv has no ``category`` column)."""
    if ds.items is None or CATEGORY not in ds.items.columns:
        return []
    return sorted(ds.items[CATEGORY].dropna().astype(str).unique())


def category_mask(ds: Dataset, chosen: list[str]) -> np.ndarray | None:
    """Boolean mask of the items of the ``chosen`` categories (None: no filter)."""
    if not chosen or ds.items is None or CATEGORY not in ds.items.columns:
        return None
    return ds.items[CATEGORY].astype(str).isin(set(chosen)).to_numpy()


def pick_categories(ds: Dataset, k: int, where) -> np.ndarray | None:
    """A category filter; the mask of the items it keeps (None: every item). The top-K is
    taken among those items, and the page says so."""
    options = categories(ds)
    if not options:
        return None
    chosen = where.multiselect(
        "Only these categories",
        options,
        key="rec_categories",
        placeholder="every category",
        help="The top-K is taken among the items of these categories (the filter applies "
        "before the top-K): each list is the K best-scored unseen items of these categories.",
    )
    mask = category_mask(ds, chosen)
    if mask is not None:
        st.caption(
            f"**Top-{k} within {', '.join(plain(c) for c in chosen)}** "
            f"({int(mask.sum())} items): the filter applies before the top-K, so each list "
            f"holds the {k} best-scored unseen items of these categories, and the what-if "
            "ranks count only these items."
        )
    return mask
