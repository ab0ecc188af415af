"""Drawing a variant's recommendations with their attribution: the top-K table and bars, the
"why this recommendation" dialog and the what-if view (the Recommendations page's parts).

Every input-level number is labelled with the game of the result it comes from
(``exp.attribution.game``, ``cache.game``), so a share never appears under the wrong game's
name whatever the switch says."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from anchorrec.analysis.attribution import (
    DEFAULT_READING,
    UserExplanation,
    describe_rank,
    describe_recommendation,
    reading_maths,
    reading_name,
    whatif,
)
from anchorrec.analysis.attribution.readings import INPUT_VERSUS_BRANCH
from anchorrec.analysis.history import because_you_bought
from anchorrec.data.dataset import Dataset
from anchorrec.data.shop_ids import SHOP_ID, with_shop_ids
from anchorrec.models.checkpoint import LoadedModel
from anchorrec.ui import charts, tables
from anchorrec.ui.games import game_label, game_note
from anchorrec.ui.images import item_title, show_item_card, thumbnail_uri
from anchorrec.ui.text import plain
from anchorrec.workspace import ModelEntry


def show_top_k(
    ds: Dataset, e: ModelEntry, exp: UserExplanation, level: str, later: dict[int, str], k: int
) -> None:
    """A variant's top-``k`` as a compact table (picture, rank, title, shares first, so they fit
    beside another variant's at 1280 px) and the signed bars of each item, titled."""
    att = tables.level_attribution(exp, level)
    game = exp.attribution.game
    note = {
        "input": f"|φ|/Σ|φ| of the score · {game_note(game)}",
        "rank": f"each input's part of the top-{k} place · {game_note(game)}",
        "branch": "a closed form: the same under either removal rule",
    }[level]
    st.caption(f"**{reading_name(level).capitalize()}** · {note}", help=reading_maths(level, k))
    table = tables.top_k_table(
        exp, level, later, lambda i: item_title(ds, i), lambda i: thumbnail_uri(ds, i)
    )
    table = with_shop_ids(table, ds, "item")  # an imported catalogue's own ids
    own = [SHOP_ID] if SHOP_ID in table else []
    if later:
        st.caption(
            f"{tables.later_hits(table['item'], later)} of {len(later)} later purchases in this top-{k}"
        )
    shares = {
        tables.share_column(n): st.column_config.ProgressColumn(
            tables.player_short(n),
            min_value=0.0,
            max_value=1.0,
            format="percent",
            width=56,
            help=f"{tables.player_word(n)}: {reading_name(level)} — {reading_maths(level, k)}",
        )
        for n in att.names
    }
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        row_height=48,
        height=48 * (len(table) + 1) + 3,
        column_order=["image", "rank", *own, "title", *shares, "bought later"],  # score, id: data
        column_config={
            "image": st.column_config.ImageColumn("", width=44),
            "rank": st.column_config.NumberColumn("#", width=30),
            "title": st.column_config.TextColumn(width=110),
            SHOP_ID: st.column_config.TextColumn("shop id", width=56),
            "bought later": st.column_config.TextColumn(
                "✓", width=40, help="bought later: a held-out purchase (valid or test split)"
            ),
            **shares,
        },
        key=f"rec_table_{e.name}",
    )
    labels = [f"{r}. {t[:28]}" for r, t in zip(table["rank"], table["title"], strict=True)]
    fig = charts.attribution_stack(
        att.signed, labels, words={n: tables.player_word(n) for n in att.names}
    )
    st.plotly_chart(fig, width="stretch", key=f"rec_bars_{e.name}")
    if level == "input":
        st.caption(
            f"With every input removed the score would be {exp.baseline:.3f} (v(∅), "
            f"{game_note(game)})."
        )


@st.dialog("Why this recommendation?", width="large")
def why_dialog(
    ds: Dataset,
    label: str,
    cache: Any,
    exp: UserExplanation,
    item: int,
    loaded: LoadedModel | None = None,
    within: Any = None,
) -> None:
    """Why ``item`` is recommended: its card, a sentence, each input's φ and share, its rank
    without each input, the branch-level values and, given the model, which past purchases
    account for the score."""
    left, right = st.columns([1, 2])
    with left:
        show_item_card(ds, item, size=240)
    row = tables.item_row(exp, item)
    k = len(exp.items)
    right.caption(
        f"Model {plain(label)} · {game_note(exp.attribution.game)} · exact Shapley values; "
        f"first the **{reading_name(DEFAULT_READING)}** (the default reading)"
    )
    right.markdown(describe_recommendation(row, exp.players))
    rank_words = describe_rank(row, exp.players, k)
    if rank_words:
        right.markdown(f"**{reading_name('rank').capitalize()}** — {rank_words}")
    right.dataframe(
        tables.why_table(exp, item),
        hide_index=True,
        width="stretch",
        column_config={
            tables.WHY_SHARE: st.column_config.ProgressColumn(
                tables.WHY_SHARE,
                min_value=0.0,
                max_value=1.0,
                format="percent",
                help=reading_maths("input", k),
            ),
            tables.WHY_SIGNED: st.column_config.NumberColumn(
                format="%+.3f", help="signed φ of the score game (negative: it lowered the score)"
            ),
            tables.WHY_RANK: st.column_config.NumberColumn(
                format="%+.3f", help=reading_maths("rank", k)
            ),
        },
    )
    if tables.removal_ties_everything(exp.players):
        right.markdown("Rank without its only input: none — every item would tie.")
    else:
        ranks = tables.ranks_without(whatif(cache, exp.user, len(exp.items), within), item)
        words = ", ".join(f"{tables.player_word(p)} → #{r}" for p, r in ranks.items())
        right.markdown(
            f"Rank without each input ({game_label(cache.game)} game): {words} "
            f"(now #{int(row['rank'])})."
        )
    branches = tables.branch_values(exp, item)
    right.caption(
        f"**{reading_name('branch').capitalize()}** (the model's additive branches): "
        + ", ".join(f"{b} {v:+.3f}" for b, v in branches.items()),
        help=reading_maths("branch", k),
    )
    right.caption(INPUT_VERSUS_BRANCH)
    if loaded is not None:
        show_because(ds, because_you_bought(loaded, exp.user, item))


def show_because(ds: Dataset, because: Any) -> None:
    """ "Because you bought …": each past purchase's exact part of the score, with pictures,
    and the part that belongs to no past purchase (None: the model has no such split)."""
    if because is None:
        return
    st.markdown("**Because you bought …**")
    st.dataframe(
        pd.DataFrame(
            {
                "image": [thumbnail_uri(ds, int(i)) for i in because.history] + [None],
                "past purchase": [item_title(ds, int(i)) for i in because.history]
                + ["no past purchase (the shopper's own ID embedding)"],
                "contribution": [*because.contributions.tolist(), because.unowned],
            }
        ),
        hide_index=True,
        width="stretch",
        row_height=48,
        column_config={
            "image": st.column_config.ImageColumn("", width="small"),
            "contribution": st.column_config.NumberColumn(format="%+.3f"),
        },
        key="why_because",
    )
    st.caption(
        f"Exact split of the score {because.score:.3f}: past purchases add "
        f"{because.explained:+.3f} (through the ID layers and the modality views), "
        f"{because.unowned:+.3f} belongs to no past purchase."
    )


def show_whatif(
    ds: Dataset, e: ModelEntry, cache: Any, exp: UserExplanation, k: int, within: Any = None
) -> None:
    """Each input's rank-flip rate and the ranks without it (among the items of ``within``,
    a mask, when given); on a model with one input, a sentence that removing it ties every
    item (no pseudo-ranks)."""
    st.markdown(f"**{plain(e.label)}** · {game_note(cache.game)}")
    if tables.removal_ties_everything(exp.players):
        only = tables.player_word(exp.players[0])
        st.info(
            f"{plain(e.label)} has one input ({only}): removing it leaves every item with the same "
            "score, so there is no ranking without it."
        )
        return
    w = whatif(cache, exp.user, k, within)
    for mc, (player, rate) in zip(st.columns(len(w.flip_rate)), w.flip_rate.items(), strict=True):
        mc.metric(
            f"without {tables.player_short(player)}",
            f"{rate:.0%}",
            help=f"Without the {tables.player_word(player)}: the share of today's top-K that "
            "leaves the top-K (rank-flip rate).",
        )
    table = with_shop_ids(tables.whatif_table(w, lambda i: item_title(ds, i)), ds, "item")
    without = [c for c in table.columns if c.startswith("without ")]
    st.caption("Each item's new rank without each input (now: #).")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_order=["rank", "title", *without, "item", *([SHOP_ID] if SHOP_ID in table else [])],
        column_config={
            "rank": st.column_config.NumberColumn("#", width=30),
            "title": st.column_config.TextColumn(width=130),
            "item": st.column_config.NumberColumn("id", width=40),
            **{
                c: st.column_config.NumberColumn(c.removeprefix("without "), width=64, help=c)
                for c in without
            },
        },
        key=f"whatif_{e.name}",
    )
