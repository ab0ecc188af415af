"""Recommendations: a shopper's history, each variant's top-K with pictures and attribution."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from anchorrec.analysis.attribution import (
    PLAYER_WORDS,
    describe_recommendation,
    explain_user,
    whatif,
)
from anchorrec.analysis.history import because_you_bought
from anchorrec.ui import charts, loaders
from anchorrec.ui.errors import user_errors
from anchorrec.ui.images import (
    item_image_path,
    item_title,
    show_item_card,
    thumbnail,
    thumbnail_uri,
)
from anchorrec.ui.neighbours import show_neighbour_tabs
from anchorrec.ui.state import require_dataset, require_models, select_user

HISTORY_MAX = 12

state = require_dataset()
entries = require_models(state)
ds = state.dataset

st.title("Recommendations")


# ------------------------------------------------------------------------------ who
pick = st.columns([1, 2, 1])
if ds.users is not None and "group" in ds.users.columns:
    groups = ["all shoppers", *sorted(ds.users["group"].astype(str).unique())]
    group = pick[0].selectbox(
        "Planted group",
        groups,
        key="rec_group",
        help="users.csv column group (the sample's planted driver)",
    )
    pool = (
        ds.users["user_id"].to_numpy()
        if group == "all shoppers"
        else ds.users.loc[ds.users["group"].astype(str) == group, "user_id"].to_numpy()
    )
else:
    pool = range(ds.n_users)
pool = [int(u) for u in list(pool)[:500]]
if state.user not in pool:
    pool = [state.user, *pool]


def _set_user() -> None:
    select_user(st.session_state["rec_user"])


st.session_state["rec_user"] = state.user
pick[1].selectbox(
    "Shopper",
    pool,
    key="rec_user",
    on_change=_set_user,
    help="Or type any user id in the sidebar.",
)
k = pick[2].slider("Top-K", 5, 20, 10, key="rec_k")
user = state.user

hist = ds.train.indices[ds.train.indptr[user] : ds.train.indptr[user + 1]]
extra = ""
if ds.users is not None:
    row = ds.users.iloc[user]
    extra = " · ".join(f"{c}: {row[c]}" for c in ds.users.columns if c not in ("user_id",))[:300]
st.markdown(f"**Shopper {user}** — {len(hist)} past purchases (train). {extra}")
if len(hist):
    shown = hist[-HISTORY_MAX:]
    cols = st.columns(HISTORY_MAX)
    for col, i in zip(cols, shown, strict=False):
        with col:
            path = item_image_path(ds, int(i))
            data = thumbnail(str(path), 120) if path is not None else None
            if data:
                st.image(data, width="stretch")
            st.caption(f"#{int(i)} {item_title(ds, int(i))}")

# ------------------------------------------------------------------------------ top-K
level = st.radio(
    "Attribution",
    ["input", "branch"],
    format_func={
        "input": "Input level — ID / image / text (what the score owes each input)",
        "branch": "Branch level — the model's additive branches",
    }.get,
    horizontal=True,
    key="rec_level",
    help="Exact Shapley values. Input level removes an input everywhere it reaches the score "
    "(features → catalogue mean, its item graph → every item equally similar, ID → mean "
    "embedding). Branch level "
    "splits h_u·h_i along the model's branches; AnchorRec gates every modality branch by the ID "
    "embedding, so the two levels differ. Negative = pushed the item down.",
)
st.caption(
    "Bars: signed Shapley values (they add up to score − baseline at input level, to the score at "
    "branch level). Shares: |φ| / Σ|φ|."
)

later = ds.held_out_items(user)
if later:
    st.caption(
        f"**Bought later**: this shopper's {len(later)} held-out purchases (the valid and test "
        "splits, which training never saw) are marked in each list: the hits a variant recovers."
    )

explanations = {}
cols = st.columns(len(entries))
for col, e in zip(cols, entries, strict=True):
    with col:
        st.markdown(f"#### {e.label}")
        with user_errors(f"Model {e.name}", stop=False):
            loaded = state.loaded(e)
            cache = loaders.coalitions(loaded)
            exp = explain_user(cache, user, k)
            explanations[e.name] = (cache, exp)
            t = exp.items
            names = exp.players if level == "input" else exp.branches
            prefix, share_prefix = (
                ("phi_", "share_") if level == "input" else ("branch_", "branch_share_")
            )
            table = pd.DataFrame(
                {
                    "image": [thumbnail_uri(ds, int(i)) for i in t["item"]],
                    "rank": t["rank"],
                    "bought later": [
                        f"✓ {later[int(i)]}" if int(i) in later else "" for i in t["item"]
                    ],
                    "item": t["item"],
                    "title": [item_title(ds, int(i)) for i in t["item"]],
                    "score": t["score"],
                    **{f"{n} share": t[f"{share_prefix}{n}"] for n in names},
                }
            )
            if later:
                hits = sum(int(i) in later for i in t["item"])
                st.caption(f"{hits} of {len(later)} later purchases in this top-{k}")
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                row_height=56,
                height=56 * (len(table) + 1) + 3,
                column_config={
                    "image": st.column_config.ImageColumn("", width="small"),
                    "item": st.column_config.NumberColumn(width="small"),
                    "title": st.column_config.TextColumn(width="medium"),
                    "score": st.column_config.NumberColumn(format="%.3f", width="small"),
                    "bought later": st.column_config.TextColumn(
                        "later",
                        width="small",
                        help="bought later: a held-out purchase (valid or test split)",
                    ),
                    **{
                        f"{n} share": st.column_config.ProgressColumn(
                            f"{n} share", min_value=0.0, max_value=1.0, format="percent"
                        )
                        for n in names
                    },
                },
                key=f"rec_table_{e.name}",
            )
            labels = [f"{r}. #{i}" for r, i in zip(t["rank"], t["item"], strict=True)]
            st.plotly_chart(
                charts.attribution_stack(t, names, prefix, labels),
                width="stretch",
                key=f"rec_bars_{e.name}",
            )
            if level == "input":
                st.caption(
                    f"Baseline v(∅) = {exp.baseline:.3f}: the score with every input removed."
                )


# ------------------------------------------------------------------------------ why (dialog)
@st.dialog("Why this recommendation?", width="large")
def why_dialog(model_name: str, item: int) -> None:
    cache, exp = explanations[model_name]
    row = exp.items.loc[exp.items["item"] == item].iloc[0]
    left, right = st.columns([1, 2])
    with left:
        show_item_card(ds, item, size=240)
    with right:
        label = next(e.label for e in entries if e.name == model_name)
        st.caption(f"Model {label} · exact input-level Shapley values (baseline + Σφ = score)")
        st.markdown(describe_recommendation(row, exp.players))
        st.dataframe(
            pd.DataFrame(
                {
                    "input": [PLAYER_WORDS.get(p, p) for p in exp.players],
                    "signed φ": [row[f"phi_{p}"] for p in exp.players],
                    "share": [row[f"share_{p}"] for p in exp.players],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "signed φ": st.column_config.NumberColumn(format="%+.3f"),
                "share": st.column_config.ProgressColumn(
                    "share", min_value=0.0, max_value=1.0, format="percent"
                ),
            },
        )
        w = whatif(cache, user, k)
        ranks = w.table.loc[w.table["item"] == item].iloc[0]
        st.markdown(
            "Rank without each input: "
            + ", ".join(
                f"{PLAYER_WORDS.get(p, p)} → #{int(ranks[f'rank_without_{p}'])}"
                for p in exp.players
            )
            + f" (now #{int(row['rank'])})."
        )
        st.caption(
            "Branch level (the model's additive branches, gated by the ID embedding): "
            + ", ".join(f"{b} {row[f'branch_{b}']:+.3f}" for b in exp.branches)
        )
        entry = next(e for e in entries if e.name == model_name)
        because = because_you_bought(state.loaded(entry), user, item)
        if because is not None:
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


if explanations:
    why = st.columns([1, 2, 1])
    why_model = why[0].selectbox(
        "Explain a recommendation of",
        list(explanations),
        format_func=lambda n: next(e.label for e in entries if e.name == n),
        key="rec_why_model",
    )
    why_items = explanations[why_model][1].items
    why_item = why[1].selectbox(
        "Item",
        [int(i) for i in why_items["item"]],
        format_func=lambda i: (
            f"#{int(why_items.loc[why_items['item'] == i, 'rank'].iloc[0])} — {item_title(ds, i)}"
        ),
        key="rec_why_item",
    )
    if why[2].button("Why this recommendation?", key="rec_why", icon=":material/help:"):
        why_dialog(why_model, int(why_item))

# ------------------------------------------------------------------------------ what-if
st.subheader("What if an input were removed?")
st.caption(
    "Each input is dropped in turn and the shopper's whole catalogue re-ranked. Rank-flip rate: "
    "the share of today's top-K that leaves the top-K."
)
cols = st.columns(len(entries))
for col, e in zip(cols, entries, strict=True):
    if e.name not in explanations:
        continue
    cache, exp = explanations[e.name]
    with col:
        st.markdown(f"**{e.label}**")
        w = whatif(cache, user, k)
        mcols = st.columns(len(w.flip_rate))
        for mc, (player, rate) in zip(mcols, w.flip_rate.items(), strict=True):
            mc.metric(f"without {player}", f"{rate:.0%}", help="rank-flip rate of the top-K")
        table = w.table.copy()
        table.insert(2, "title", [item_title(ds, int(i)) for i in table["item"]])
        st.dataframe(table, hide_index=True, width="stretch", key=f"whatif_{e.name}")

# ------------------------------------------------------------------------------ similar items
st.subheader("Similar items")
first = explanations.get(entries[0].name)
candidates = list(first[1].items["item"].astype(int)) if first else []
item = state.item
options = list(dict.fromkeys([item, *candidates]))
chosen = st.selectbox(
    "Item", options, format_func=lambda i: f"#{i} {item_title(ds, i)}", key="rec_similar_item"
)
e = entries[0]
with user_errors(f"Model {e.name}", stop=False):
    st.caption(f"Nearest items by cosine in each space of {e.label}.")
    show_neighbour_tabs(ds, loaders.spaces(state.loaded(e)), int(chosen), "similar_")
