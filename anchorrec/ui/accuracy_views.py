"""The accuracy game on the pages: which input earns each segment's hits, with intervals.

Read from what ``store_accuracy_game`` wrote beside each model (never measured on a page load
unless the reader asks, once, with a button). Every place says that it needs held-out
purchases. :func:`segment_table` and :func:`group_columns` are plain builders, tested without
a page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from anchorrec.analysis.accuracy_game import (
    NEEDS_HELD_OUT,
    OVERALL,
    PLANTED,
    SEGMENT_KINDS,
    AccuracyGame,
    accuracy_game_file,
    read_accuracy_game,
    store_accuracy_game,
)
from anchorrec.models.model_dir import ModelDir
from anchorrec.ui.errors import user_errors
from anchorrec.ui.text import md

#: What the game is called wherever it is shown, and the maths for its tooltip.
TITLE = "Which input earns the hits"
MATHS = (
    "Per shopper, each input's exact Shapley value of the shopper's test {metric} with only "
    "some inputs kept (the 8 coalitions of the reliance table; the rest removed by the "
    "attribution's rule); per shopper the values add up to all inputs' {metric} minus no "
    "input's. Mean over the segment's shoppers, [low, high] a 95% bootstrap interval over "
    "them. Negative: the input costs the segment hits."
)
METRIC_TITLES = {"recall": "Recall@{k}", "ndcg": "NDCG@{k}"}
INPUT_WORDS = {"id": "history", "image": "picture", "text": "text", "fused": "fused"}


def _words(name: str) -> str:
    """``image − text`` → ``picture − text``."""
    return " − ".join(INPUT_WORDS.get(p, p) for p in name.split(" − "))


def _cell(value: float, low: float, high: float) -> str:
    return f"{value:+.4f} [{low:+.4f}, {high:+.4f}]"


def segment_table(game: AccuracyGame, kind: str, metric: str = "recall") -> pd.DataFrame:
    """One row per segment of ``kind``: ``segment``, ``shoppers``, then one column per input
    and per pair of inputs (``picture − text``), each cell ``value [low, high]``."""
    rows: dict[str, dict[str, Any]] = {}
    for r in game.rows:
        if r.kind != kind or r.metric != metric:
            continue
        row = rows.setdefault(r.segment, {"segment": r.segment, "shoppers": r.users})
        row[_words(r.input)] = _cell(r.value, r.low, r.high)
    return pd.DataFrame(list(rows.values()))


def group_columns(games: Mapping[str, AccuracyGame], metric: str = "recall") -> pd.DataFrame:
    """The Overview's addition to its group table: ``variant`` and one ``picture − text ·
    <group>`` column per planted group (``value [low, high]``)."""
    out = []
    for label, game in games.items():
        row: dict[str, Any] = {"variant": label}
        for r in game.rows:
            if r.kind == PLANTED and r.metric == metric and r.input == "image − text":
                row[f"picture − text · {r.segment}"] = _cell(r.value, r.low, r.high)
        out.append(row)
    return pd.DataFrame(out)


@st.cache_data(show_spinner=False, max_entries=256)
def _stored(model_dir: str, game: str, stamp: str) -> AccuracyGame | None:
    return read_accuracy_game(model_dir, game)


def stored_accuracy_game(model_dir: str | Path, game: str) -> AccuracyGame | None:
    """The model's stored accuracy game under ``game`` (None: not measured yet)."""
    stamp = ModelDir(model_dir).store().stamp(accuracy_game_file(game))
    return _stored(str(model_dir), game, stamp)


def caption(metric: str, k: int) -> str:
    title = METRIC_TITLES[metric].format(k=k)
    return f"It {NEEDS_HELD_OUT}. " + MATHS.format(metric=title)


def show_accuracy_game(state: Any, entries: Sequence[Any], game: str, key: str) -> None:
    """The accuracy game of ``entries`` by segment under ``game``, or how to measure it."""
    st.subheader(TITLE, help=MATHS.format(metric="Recall@20"))
    if not state.dataset.test.nnz:
        st.info(f"This dataset has no test split: the accuracy game {NEEDS_HELD_OUT}.")
        return
    from anchorrec.models.registry import MULTIMODAL_VARIANTS  # the page has torch already

    multimodal = [e for e in entries if e.variant in MULTIMODAL_VARIANTS]
    if not multimodal:
        st.caption("None of these models has more than one input, so there is no game to play.")
        return
    pairs = [(e, stored_accuracy_game(e.path, game)) for e in multimodal]
    missing = [e for e, g in pairs if g is None]
    if missing:
        names = ", ".join(e.label for e in missing)
        st.info(
            md(
                "The accuracy game of {} is not measured yet (one ranking of the test split per "
                "coalition of inputs, stored beside the model, so this is done once).",
                names,
            )
        )
        if st.button(md("Measure the accuracy game of {}", names), key=f"{key}_compute"):
            for e in missing:
                with user_errors(f"Model {e.name}", stop=False), st.spinner(md("{}…", e.label)):
                    store_accuracy_game(state.loaded(e), game)
            st.rerun()
    found = {e.label: g for e, g in pairs if g is not None}
    if not found:
        return
    first = next(iter(found.values()))
    kinds = [k for k in SEGMENT_KINDS if first.segments(k)]
    kind = st.radio("Segment", kinds, horizontal=True, key=f"{key}_kind") if kinds else OVERALL
    for col, (label, g) in zip(st.columns(len(found)), found.items(), strict=True):
        col.markdown(md("**{}** · test {}", label, METRIC_TITLES["recall"].format(k=g.k)))
        col.dataframe(segment_table(g, kind), hide_index=True, width="stretch")
    st.caption(caption("recall", first.k))
