"""Recommendations: a shopper's history, each variant's top-K with pictures and attribution."""

from __future__ import annotations

import streamlit as st

from anchorrec.analysis.attribution import (
    DEFAULT_READING,
    READINGS,
    explain_user,
    reading_maths,
    reading_name,
)
from anchorrec.data.shop_ids import item_label
from anchorrec.ui import cached, prepared
from anchorrec.ui.attribution_views import show_top_k, show_whatif, why_dialog
from anchorrec.ui.cold_start_views import cold_start_switch, show_marked_list
from anchorrec.ui.errors import user_errors
from anchorrec.ui.games import game_switch
from anchorrec.ui.images import item_title
from anchorrec.ui.neighbours import show_neighbours
from anchorrec.ui.shoppers import pick_categories, pick_shopper, show_history
from anchorrec.ui.state import require_dataset, require_models
from anchorrec.ui.text import plain

LEVEL_HELP = (
    "Three readings of each recommendation, each an exact Shapley value. "
    + " ".join(f"**{reading_name(r).capitalize()}**: {reading_maths(r)}" for r in READINGS)
    + " The *Why this recommendation?* dialog shows them side by side and says why they differ."
)


def render() -> None:
    state = require_dataset()
    entries = require_models(state)
    ds = state.dataset
    st.title("Recommendations")
    pick = st.columns([1, 2, 1, 2])
    user = pick_shopper(ds, state.user, pick)
    k = pick[2].slider("Top-K", 5, 20, 10, key="rec_k")
    within = pick_categories(ds, k, pick[3])
    show_history(ds, user)
    level = st.radio(
        "Reading",
        READINGS,
        index=READINGS.index(DEFAULT_READING),
        format_func=lambda r: reading_name(r).capitalize(),
        horizontal=True,
        key="rec_level",
        help=LEVEL_HELP,
    )
    game = game_switch("rec_game")
    st.caption(
        f"Bars: how much each part raised (right of 0) or lowered (left) the item's {'top-' + str(k) + ' place' if level == 'rank' else 'score'}; shares: its part of the whole."
    )
    later = ds.held_out_items(user)
    if later:
        st.caption(
            f"**Bought later**: this shopper's {len(later)} held-out purchases (the valid and test splits, which training never saw) are marked in each list: the hits a variant recovers."
        )
    entries = prepared.ready(state, entries, prepared.COALITIONS, "rec_prepare", game=game)
    explained = {}
    for col, e in zip(st.columns(len(entries)), entries, strict=True):
        with col, user_errors(f"Model {e.name}", stop=False):
            st.markdown(f"#### {plain(e.label)}")
            cache = cached.coalitions(state.loaded(e), game)
            explained[e.name] = (e, cache, explain_user(cache, user, k, within=within))
            show_top_k(ds, e, explained[e.name][2], level, later, k)
    if explained:
        why = st.columns([1, 2, 1])
        name = why[0].selectbox(
            "Explain a recommendation of",
            list(explained),
            format_func=lambda n: explained[n][0].label,
            key="rec_why_model",
        )
        e, cache, exp = explained[name]
        ranks = dict(zip(exp.items["item"].astype(int), exp.items["rank"].astype(int), strict=True))
        item = why[1].selectbox(
            "Item",
            list(ranks),
            key="rec_why_item",
            format_func=lambda i: f"#{ranks[i]} — {item_title(ds, i)} ({item_label(ds, i)})",
        )
        if why[2].button("Why this recommendation?", key="rec_why", icon=":material/help:"):
            why_dialog(ds, e.label, cache, exp, int(item), state.loaded(e), within=within)
    st.subheader("The lists the shop shows")
    st.caption(
        "Above: the published ranking, explained. Here: each list as the product ranks it, new arrivals (ranked by photo and copy) marked."
    )
    on = cold_start_switch("rec")
    for col, e in zip(st.columns(len(entries)), entries, strict=True):
        with col, user_errors(f"Model {e.name}", stop=False):
            show_marked_list(state.loaded(e), on, user, k, f"rec_marked_{e.name}")
    st.subheader("What if an input were removed?")
    st.caption(
        "Each input is dropped in turn and the shopper's whole catalogue re-ranked. Rank-flip rate: the share of today's top-K that leaves the top-K."
    )
    for col, (e, cache, exp) in zip(
        st.columns(len(explained) or 1), explained.values(), strict=False
    ):
        with col:
            show_whatif(ds, e, cache, exp, k, within=within)
    st.subheader("Similar items")
    first = explained.get(entries[0].name)
    options = list(
        dict.fromkeys([state.item, *(first[2].items["item"].astype(int) if first else [])])
    )
    chosen = st.selectbox(
        "Item",
        options,
        format_func=lambda i: f"{item_label(ds, i)} {item_title(ds, i)}",
        key="rec_similar_item",
    )
    with user_errors(f"Model {entries[0].name}", stop=False):
        st.caption(f"Nearest items by cosine in each space of {plain(entries[0].label)}.")
        show_neighbours(ds, cached.spaces(state.loaded(entries[0])), int(chosen), "similar_")


render()
