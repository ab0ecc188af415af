"""The Overview's words and its two additions: the protocol's seed mean ± sd beside each
shipped model's test figure, and the accuracy game beside the accuracy by shopper group."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from anchorrec.analysis.accuracy_game import NEEDS_HELD_OUT
from anchorrec.models.seed_spread import seed_spread
from anchorrec.ui import show
from anchorrec.ui.accuracy_views import group_columns, stored_accuracy_game

WHERE_TO_START = (
    "**Merchandiser** — *what does a shopper see, and why?*  \n"
    "Open **Recommendations**, pick a shopper (or a planted group), compare the variants' "
    "top-10 with pictures; each bar is labelled with its reading: the **share of the score** "
    "each input supplies (the default), **what ranks it**, or the **branch of the model**. "
    "*What if* drops an input and shows the new ranks.",
    "**Researcher** — *does content survive, or do IDs swamp it?*  \n"
    "**Positional collapse** puts the ID view and the final vectors in one plot "
    "(the paper's Figure 1) and lists every diagnostic with its interval beside its chance "
    "level. **Embedding spaces** shows each space aligned, with one selection drawn in all.",
    "**Auditor** — *is the evidence exact and exportable?*  \n"
    "**Audit** aggregates exact, additive Shapley shares by shopper group, category, "
    "popularity and cold items, which input earns each segment's hits, and exposure "
    "concentration; download the CSV and a self-contained HTML report.",
)
#: The column the variants table gains, and what it says.
SEEDS_COLUMN = "test recall@20, seed mean ± sd"
SEEDS_HELP = (
    "The tuning protocol's test Recall@20 over retrainings of the same configuration (each "
    "model's tuning.json). The figures beside it are this one model's (one training run); the "
    "comparison below compares these runs, with intervals over shoppers, not over seeds."
)


def with_seed_spread(table: pd.DataFrame, paths: Sequence[Path | None]) -> pd.DataFrame:
    """``table`` (one row per model, in ``paths``' order) with :data:`SEEDS_COLUMN` beside
    ``test recall@20`` ("" where the model has no tuning record)."""
    spreads = [seed_spread(p) if p is not None else None for p in paths]
    out = table.copy()
    at = (
        list(out.columns).index("test recall@20") + 1
        if "test recall@20" in out
        else len(out.columns)
    )
    out.insert(at, SEEDS_COLUMN, [s.text() if s else "" for s in spreads])
    return out


def show_group_accuracy_game(selected: Sequence[Any], game: str) -> None:
    """Beside the accuracy by group: picture − text of the accuracy game per planted group
    (stored games only; nothing is measured here)."""
    found = {e.label: g for e in selected if (g := stored_accuracy_game(e.path, game)) is not None}
    if not found:
        st.caption(
            "Which input earns each group's hits (the accuracy game): measure it on *Audit* "
            "or *Positional collapse*."
        )
        return
    table = group_columns(found)
    show.table(table, "overview_accuracy_game")
    st.caption(
        "picture − text: the accuracy game's image value minus its text value (test Recall@20 "
        f"earned per shopper, mean over the group, 95% interval). It {NEEDS_HELD_OUT}."
    )
