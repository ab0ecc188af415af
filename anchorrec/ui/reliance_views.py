"""Modality reliance on the Positional collapse page: the accuracy of every coalition of inputs,
the variants side by side, read from what ``prepare`` stored beside each model.

:func:`reliance_table` and :func:`reliance_reading` are plain builders (tested without a
page); :func:`show_reliance` draws them, or a notice naming the command and a button that
measures the missing models once (the measurement is stored, never repeated on a page load).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from anchorrec.analysis.reliance import CoalitionAccuracy, Reliance
from anchorrec.ui import cached
from anchorrec.ui.errors import user_errors
from anchorrec.ui.games import GAME_RULES, game_label, game_switch
from anchorrec.ui.text import code, plain

#: How a row names an input.
INPUT_WORDS = {"id": "purchase history", "image": "picture", "text": "product text"}
ALL_INPUTS = "all inputs"
NO_INPUT = "none (every input removed)"
METRICS = ("recall", "ndcg")
#: The two metrics as the table's switch calls them (``k`` filled in).
METRIC_TITLES = {"recall": "Recall@{k}", "ndcg": "NDCG@{k}"}


def input_word(player: str) -> str:
    """``purchase history`` / ``picture`` / ``product text`` (else the input's name)."""
    return INPUT_WORDS.get(player, player.replace("_", " "))


def coalition_words(inputs: Sequence[str]) -> str:
    """A row's label: the inputs kept, in words (``none (…)`` when none is kept)."""
    return " + ".join(input_word(p) for p in inputs) if inputs else NO_INPUT


def _rows(r: Reliance) -> list[tuple[str, CoalitionAccuracy]]:
    """Each coalition of ``r`` under its row label: the first (the model as trained) is "all
    inputs" whatever its inputs are, so an ID-only model fills "all inputs" and "none"."""
    return [(ALL_INPUTS, r.rows[0]), *((coalition_words(c.inputs), c) for c in r.rows[1:])]


def _cell(c: CoalitionAccuracy, metric: str) -> str:
    value, low, high = (getattr(c, f"{metric}{s}") for s in ("", "_low", "_high"))
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def reliance_table(reliances: Mapping[str, Reliance], metric: str = "recall") -> pd.DataFrame:
    """Coalitions as rows (``inputs kept``: all inputs, each pair, each single input, none),
    one column per model (``reliances``: column name → its reliance), each cell the
    ``metric`` (``recall`` / ``ndcg``) with its 95% interval as ``0.587 [0.573, 0.601]``;
    blank where the model has no such coalition (an ID-only model: all inputs and none)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: use one of {METRICS}")
    group: dict[str, int] = {}  # 0 all inputs, 1 pairs (and larger), 2 singles, 3 none
    cells: dict[str, dict[str, str]] = {}
    for name, r in reliances.items():
        cells[name] = {}
        for label, c in _rows(r):
            n = len(c.inputs)
            group.setdefault(label, 0 if label == ALL_INPUTS else 3 if n == 0 else 2 - (n > 1))
            cells[name][label] = _cell(c, metric)
    labels = sorted(group, key=group.__getitem__)  # stable: first-seen order within a group
    return pd.DataFrame(
        {"inputs kept": labels, **{n: [cells[n].get(lab, "") for lab in labels] for n in cells}}
    )


def _span(values: Sequence[float], percent: bool = False) -> str:
    lo, hi = min(values), max(values)
    fmt = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.3f}")
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)}–{fmt(hi)}"


def reliance_reading(reliances: Mapping[str, Reliance], metric: str = "recall") -> str:
    """One line saying what the table shows: how much of its accuracy each multimodal model
    keeps with the purchase history alone and with its content inputs alone."""
    kept_id, kept_content, none = [], [], []
    title, words = "", set()
    for r in reliances.values():
        title = METRIC_TITLES[metric].format(k=r.k)
        content = tuple(p for p in r.players if p != "id")
        full = getattr(r.rows[0], metric)
        if "id" not in r.players or not content or not full > 0:
            continue
        words.add(coalition_words(content))
        kept_id.append(getattr(r.row("id"), metric) / full)
        kept_content.append(getattr(r.row(*content), metric) / full)
        none.append(getattr(r.row(), metric) / full)
    if not kept_id:
        return (
            "**Reading:** these models have one input (the purchase history), so the table can "
            "only set them against no input at all."
        )
    return (
        f"**Reading:** with the purchase history alone the multimodal models keep "
        f"{_span(kept_id, True)} of their {title} with every input; with "
        f"{words.pop() if len(words) == 1 else 'their content inputs'} alone "
        f"{_span(kept_content, True)}, against {_span(none, True)} with no input at "
        "all. The higher a row without the purchase history, the more a model uses its content."
    )


def reliance_caption(reliances: Mapping[str, Reliance], metric: str) -> str:
    """What the numbers are: split, metric, users, the removal rule of their game and the
    ranking's mask."""
    first = next(iter(reliances.values()))
    games = list(dict.fromkeys(r.game for r in reliances.values()))
    masks = ", ".join(dict.fromkeys(repr(r.mask) for r in reliances.values()))
    rules = "; ".join(f"**{game_label(g)}** game: a removed input {GAME_RULES[g]}" for g in games)
    return (
        f"{first.split.capitalize()} {METRIC_TITLES[metric].format(k=first.k)} of "
        f"{first.users:,} shoppers with only the row's inputs; every other input is removed by "
        f"the rule the attribution uses ({rules}). Ranking masks each shopper's {masks} items "
        "(MMRec's rule, as on the Overview). [low, high]: 95% bootstrap interval over shoppers. "
        "Blank: the model has no such input (an ID-only model has all inputs and none)."
    )


def show_reliance(state, entries: Sequence) -> None:
    """The reliance table of ``entries`` under the session's game, or how to measure it."""
    game = game_switch("collapse_game")
    if not state.dataset.test.nnz:
        st.info("This dataset has no test split, so there is no accuracy to measure.")
        return
    pairs = [(e, cached.stored_reliance(e.path, game)) for e in entries]
    missing = [e for e, r in pairs if r is None]
    if missing:
        names = ", ".join(e.label for e in missing)
        dirs = " ".join(f'"{e.path}"' for e in missing)
        st.info(
            f"The reliance of {plain(names)} under the {game_label(game)} game is not measured yet. "
            f"{code(f'python -m anchorrec prepare {dirs}')} stores it beside each model with everything "
            "else the dashboard reads; or measure it here (one ranking of the test split per "
            "coalition, stored, so this is done once)."
        )
        if st.button(f"Measure the reliance of {plain(names)}", key="reliance_compute"):
            for e in missing:
                with user_errors(f"Model {e.name}", stop=False), st.spinner(f"{plain(e.label)}…"):
                    cached.compute_reliance(state.loaded(e), game)
            st.rerun()  # read back from the store
    found = {e.label: r for e, r in pairs if r is not None}
    if not found:
        return
    metric = st.radio(
        "Accuracy",
        METRICS,
        format_func=lambda m: METRIC_TITLES[m].format(k=next(iter(found.values())).k),
        horizontal=True,
        key="reliance_metric",
    )
    st.dataframe(reliance_table(found, metric), hide_index=True, width="stretch", key="reliance")
    st.caption(reliance_caption(found, metric))
    st.markdown(reliance_reading(found, metric))
