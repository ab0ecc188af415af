"""The cold-start path on the pages: the switch, warm vs new accuracy, marked new arrivals.

The product ranks through each model's stored cold-start path by default
(:mod:`anchorrec.models.cold_start`); the switch gives the published ranking (the model as the
paper trains it). Every figure here is computed by the library and cached per model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from anchorrec.models.cold_start_store import stored_report
from anchorrec.ui.show import table
from anchorrec.ui.text import md

if TYPE_CHECKING:
    from anchorrec.data.dataset import Dataset
    from anchorrec.models.base import Embeddings
    from anchorrec.models.checkpoint import LoadedModel

SWITCH_HELP = (
    "On (the default): products with little purchase history (new arrivals) are ranked by "
    "their photo and copy through each model's cold-start path, fitted on the valid split and "
    "stored beside the model. Off: the published ranking, where every view is gated by the "
    "item's ID embedding and a new arrival is almost never shown."
)
CAVEATS = (
    "Caveats: the sample's content-driven shoppers were drawn in the same feature spaces the "
    "content scorer reads, and 40 % of its test purchases are new arrivals, so *all items* "
    "overstates what a shop would see; warm and new are the figures to read."
)

PATH_WORDS = (
    "*path* is the mechanism kept on valid: *content* scores a new arrival by how much its "
    "photo and copy resemble the shopper's past purchases; *taste* does the same with each "
    "shopper's own image/text weight, read from how alike their past purchases look or read; "
    "*generator* maps its content to an item embedding learnt from the warm items."
)


def cold_start_switch(key: str) -> bool:
    """The page's switch (shared across pages through the session)."""
    return st.toggle("Cold-start path", value=True, key=f"cold_start_{key}", help=SWITCH_HELP)


def ranked_as(loaded: LoadedModel, on: bool) -> LoadedModel:
    """``loaded`` as the switch says."""
    from anchorrec.models.cold_start import with_cold_start

    return with_cold_start(loaded, on)


def warm_new_table(models: dict[str, Path]) -> pd.DataFrame:
    """Test Recall@20 of each model (label → model folder): warm items and new arrivals,
    published and with the cold-start path, and the cost to warm items, as recorded when
    the path was fitted (read from the model folder; no model is loaded)."""
    rows: list[dict[str, Any]] = []
    for label, path in models.items():
        rep = stored_report(path)
        test = (rep or {}).get("test")
        if not rep or not test:  # an ID-only model, or no path fitted yet: nothing to show
            continue
        off, on = test["published"], test["cold start"]
        rows.append(
            {
                "model": label,
                "warm, published": off["warm"]["recall@20"],
                "warm, cold start": on["warm"]["recall@20"],
                "cost to warm": on["warm"]["recall@20"] - off["warm"]["recall@20"],
                "new, published": off["new"]["recall@20"],
                "new, cold start": on["new"]["recall@20"],
                "path": rep["name"],
            }
        )
    return pd.DataFrame(rows)


def show_warm_new(models: dict[str, Path]) -> None:
    """The Overview's warm vs new-arrival table (test Recall@20, mask train)."""
    frame = warm_new_table(models)
    if frame.empty:
        return
    st.subheader("New arrivals and warm items")
    fmt = {c: "%.4f" for c in frame.columns if c not in ("model", "path")}
    table(frame, key="ov_warm_new", formats=fmt)
    st.caption(
        "Test Recall@20 (mask train) on new arrivals and on the other (warm) items, in the same "
        "top-20 lists, as recorded when each model's cold-start path was fitted (on valid); "
        "*cost to warm* is what the path takes from warm items. " + PATH_WORDS + " " + CAVEATS
    )


def show_cold_items(ds: Dataset, results: dict[str, Any]) -> None:
    """The Audit's cold items: how often the explained (published) lists recommend them, and
    what the lists the shop shows through the cold-start path hold."""
    from anchorrec.analysis.audit import COLD_MAX_INTERACTIONS
    from anchorrec.analysis.shown_lists import ShownLists
    from anchorrec.ui import tables
    from anchorrec.ui.images import item_title
    from anchorrec.ui.text import plain

    st.subheader("Cold items")
    for name, r in results.items():
        cold = tables.cold_items(r)
        st.markdown(
            f"**{plain(name)}**: {cold.in_catalogue} cold items (≤{COLD_MAX_INTERACTIONS} train "
            f"interactions) in the catalogue; {cold.recommended} of them recommended, in "
            f"{cold.recommendations:,} of {cold.total:,} recommendations ({cold.share:.2%}) of "
            "the published lists explained above."
        )
        shown = r.summary.get("shown_lists")
        if shown:
            st.markdown(plain(ShownLists(**shown).sentence()))
        if len(cold.top):
            top = cold.top.assign(title=[item_title(ds, int(i)) for i in cold.top["item"]])
            table(top[["item", "title", "times recommended"]], f"audit_cold_{name}")


def show_marked_list(loaded: LoadedModel, on: bool, user: int, k: int, key: str) -> None:
    """``user``'s top-``k`` as the product ranks it (through the cold-start path when ``on``),
    new arrivals marked; the ranking embeddings are computed once per model."""
    from anchorrec.models.cold_start import ROUTED_LABEL, routed_mask, with_cold_start
    from anchorrec.models.recommend import recommend
    from anchorrec.ui import cached

    ranked = with_cold_start(loaded, on)
    emb = cached.of(loaded).ranking_embeddings(on)
    routed = routed_mask(ranked)
    recs = recommend(loaded, [user], k, embeddings=emb, routed=routed)
    frame = pd.DataFrame(
        {
            "rank": [r.rank for r in recs],
            "item": [r.item for r in recs],
            "title": [r.title for r in recs],
            "new arrival": ["★ " + ROUTED_LABEL if r.new_arrival else "" for r in recs],
        }
    )
    table(frame, key=key)
    new = [r for r in recs if r.new_arrival]
    if new and st.button("Why these new arrivals?", key=f"{key}_why"):  # on request: each
        own = cached.of(loaded).ranking_embeddings(False)  # costs the path's own game
        for r in new:
            why = routed_reason(ranked, user, r.item, own)
            st.caption(md("★ #{} {}: {}", r.rank, r.title, why))
    if new:
        st.caption(
            "A new arrival's score is the cold-start path's, not the model's: its *why* is the "
            "content scorer's exact split (image and text parts of its resemblance to the "
            "shopper's past purchases). Every other item keeps the model's score, explained "
            "above."
        )


def routed_reason(loaded: LoadedModel, user: int, item: int, emb: Embeddings | None = None) -> str:
    """One line: why the cold-start path ranks ``item`` for ``user`` (its own game)."""
    import numpy as np

    from anchorrec.analysis.cold_explain import explain_routed

    reason = explain_routed(loaded, np.array([user]), int(item), emb)[0]
    return reason.sentence(loaded.dataset)
