"""The cold-start path on the pages: the switch, warm vs new accuracy, marked new arrivals.

The product ranks through each model's stored cold-start path by default
(:mod:`anchorrec.models.cold_start`); the switch gives the published ranking (the model as the
paper trains it). Every figure here is computed by the library and cached per model.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from anchorrec.evaluation.item_groups import warm_new_report
from anchorrec.models.checkpoint import LoadedModel
from anchorrec.models.cold_start import ROUTED_LABEL, with_cold_start
from anchorrec.models.recommend import recommend
from anchorrec.ui.show import table

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


def cold_start_switch(key: str) -> bool:
    """The page's switch (shared across pages through the session)."""
    return st.toggle("Cold-start path", value=True, key=f"cold_start_{key}", help=SWITCH_HELP)


def ranked_as(loaded: LoadedModel, on: bool) -> LoadedModel:
    """``loaded`` as the switch says."""
    return with_cold_start(loaded, on)


@st.cache_data(show_spinner="Ranking warm items and new arrivals…", max_entries=32)
def _report(fingerprint: str, on: bool, _loaded: LoadedModel) -> dict:
    return warm_new_report(_loaded, "test")


def warm_new_table(models: dict[str, LoadedModel]) -> pd.DataFrame:
    """Test Recall@20 of each model: warm items and new arrivals, published and with the
    cold-start path, and the cost to warm items."""
    rows = []
    for label, loaded in models.items():
        rep = _report(loaded.fingerprint, loaded.cold_start is not None, loaded)
        off = rep["published"]
        on = rep.get("cold start", off)
        rows.append(
            {
                "model": label,
                "warm, published": off["warm"]["recall@20"],
                "warm, cold start": on["warm"]["recall@20"],
                "cost to warm": on["warm"]["recall@20"] - off["warm"]["recall@20"],
                "new, published": off["new"]["recall@20"],
                "new, cold start": on["new"]["recall@20"],
                "path": loaded.cold_start.name if loaded.cold_start is not None else "none stored",
            }
        )
    return pd.DataFrame(rows)


def show_warm_new(models: dict[str, LoadedModel]) -> None:
    """The Overview's warm vs new-arrival table (test Recall@20, mask train)."""
    content = {k: m for k, m in models.items() if not m.model.id_only}
    if not content:
        return
    st.subheader("New arrivals and warm items")
    frame = warm_new_table(content)
    fmt = {c: "%.4f" for c in frame.columns if c not in ("model", "path")}
    table(frame, key="ov_warm_new", formats=fmt)
    st.caption(
        "Test Recall@20 (mask train) on new arrivals and on the other (warm) items, in the same "
        "top-20 lists; *cost to warm* is what the cold-start path takes from warm items. " + CAVEATS
    )


def show_marked_list(loaded: LoadedModel, user: int, k: int, key: str) -> None:
    """``user``'s top-``k`` as the product ranks it, new arrivals marked."""
    recs = recommend(loaded, [user], k)
    frame = pd.DataFrame(
        {
            "rank": [r.rank for r in recs],
            "item": [r.item for r in recs],
            "title": [r.title for r in recs],
            "new arrival": ["★ " + ROUTED_LABEL if r.new_arrival else "" for r in recs],
        }
    )
    table(frame, key=key)
