"""Explanations a reader takes in: a shopper's top-k with its attribution, one sentence
per recommendation, and what-if re-rankings with an input removed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution.cache import as_cache
from anchorrec.analysis.attribution.game import CoalitionCache, _check_user
from anchorrec.analysis.attribution.rank_game import (
    SHARE_PREFIX,
    VALUE_PREFIX,
    RankAttribution,
    rank_values,
)
from anchorrec.analysis.attribution.values import Attribution, attribute

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel


# ---------------------------------------------------------------------- public explanations
@dataclass(frozen=True)
class UserExplanation:
    """The top-``k`` of one user with the attribution of every item.

    ``attribution`` is the typed result; :attr:`items` is its table (one row per recommended
    item: ``item``, ``rank``, ``score``, ``baseline`` (``v(∅)``), ``phi_<player>`` (signed
    input-level Shapley), ``share_<player>`` (``|φ|/Σ|φ|``), ``branch_<name>`` (signed
    branch-level Shapley) and ``branch_share_<name>``), and with ``rank`` the rank game's
    ``rphi_<player>`` / ``rshare_<player>`` ("what ranks it"). Per row
    ``baseline + Σ phi = score`` and ``Σ branch = score``.
    """

    user: int
    baseline: float
    players: tuple[str, ...]
    branches: tuple[str, ...]
    attribution: Attribution
    rank: RankAttribution | None = None

    @property
    def items(self) -> pd.DataFrame:
        table = self.attribution.to_frame(user_column=False)
        if self.rank is None:
            return table
        extra = self.rank.to_frame(user_column=False)
        cols = [
            c
            for c in extra.columns
            if c.startswith((VALUE_PREFIX, SHARE_PREFIX)) or c == "standing_none"
        ]
        return pd.concat([table, extra[cols].reset_index(drop=True)], axis=1)

    def to_json(self) -> dict[str, Any]:
        """The ``recommend --explain --json`` record of this user."""
        rows = [self.attribution.record(j) for j in range(len(self.attribution))]
        if self.rank is not None:
            for j, row in enumerate(rows):
                row["what_ranks_it"] = {
                    p: float(self.rank.values[m, j]) for m, p in enumerate(self.rank.players)
                }
        return {
            "user": int(self.user),
            "game": self.attribution.game,
            "baseline": float(self.baseline),
            "items": rows,
        }


def explain_items(
    source: CoalitionCache | LoadedModel, user: int, items: np.ndarray
) -> pd.DataFrame:
    """Attribution of ``user``'s score on each of ``items`` (any items, not only a top-k)."""
    return attribute(source, user, items).to_frame(user_column=False)


def explain_user(
    source: CoalitionCache | LoadedModel,
    user: int,
    k: int = 10,
    within: np.ndarray | None = None,
) -> UserExplanation:
    """The top-``k`` unseen items of ``user`` with input- and branch-level attribution and the
    rank game ("what ranks it", top-``k`` membership); ``within`` (a boolean mask over the items): the top-``k`` among those items only."""
    from anchorrec.analysis.one_thread import one_blas_thread

    cache = as_cache(source)
    _check_user(cache, user)
    with one_blas_thread():  # one user's products: the thread pool costs more than it saves
        items, _ = cache.ranking(user, k, within=within)
        result = attribute(cache, user, items, ranks=np.arange(1, len(items) + 1))
        baseline = (
            float(result.baseline[0])
            if len(result)
            else float(cache.coalition_values(user)[0].mean())
        )
        rank = rank_values(cache, user, items, k=k, within=within)
    return UserExplanation(user, baseline, cache.players, cache.branches, result, rank)


def explain_all_items(source: CoalitionCache | LoadedModel, user: int) -> pd.DataFrame:
    """Attribution of ``user`` against the whole catalogue (the < 50 ms path)."""
    cache = as_cache(source)
    _check_user(cache, user)
    phi, baseline = cache.input_values(user)
    table = {
        "item": np.arange(cache.n_items),
        "score": baseline + phi.sum(axis=0),
        "baseline": baseline,
    }
    for m, player in enumerate(cache.players):
        table[f"phi_{player}"] = phi[m]
    return pd.DataFrame(table)


#: How a sentence names each input player.
PLAYER_WORDS = {
    "id": "purchase history (ID)",
    "image": "picture",
    "text": "product text",
    "fused": "fused image+text feature",
}


def describe_recommendation(row: Any, players: tuple[str, ...]) -> str:
    """One plain sentence on why an item sits where it does, from one ``explain_*`` row.

    ``row`` has ``item``, ``score``, ``baseline`` and ``phi_<player>`` (and ``rank`` when it
    comes from a top-k). Inputs are listed by signed Shapley value, largest first; the input
    with the largest ``|φ|`` is named as the largest share of the score (a statement about
    the score game, not about what ranks the item: see :func:`describe_rank`).
    """
    phi = {p: float(row[f"phi_{p}"]) for p in players}
    total = sum(abs(v) for v in phi.values())
    where = (
        f"ranked #{int(row['rank'])}" if "rank" in row and row["rank"] == row["rank"] else "scored"
    )
    parts = [
        f"its {PLAYER_WORDS.get(p, p)} {'raised' if v >= 0 else 'lowered'} it by {v:+.3f}"
        for p, v in sorted(phi.items(), key=lambda kv: -kv[1])
    ]
    text = (
        f"Item #{int(row['item'])} is {where} with score {float(row['score']):.3f} "
        f"({float(row['baseline']):.3f} with every input removed): " + "; ".join(parts) + "."
    )
    if total > 0:
        main = max(phi, key=lambda p: abs(phi[p]))
        text += (
            f" Its largest share of the score is the {PLAYER_WORDS.get(main, main)} "
            f"({abs(phi[main]) / total:.0%} of the total |φ|)."
        )
    return text


def _two_places(v: float) -> str:
    """``+0.42`` / ``-0.13``; a value that rounds to zero is ``0.00`` (never ``-0.00``)."""
    return "0.00" if round(v, 2) == 0 else f"{v:+.2f}"


def describe_rank(row: Any, players: tuple[str, ...], k: int) -> str:
    """One sentence on what ranks the item (the rank game), from one ``explain_user`` row
    with ``rphi_<player>`` columns ("" when the row has none)."""
    if not all(f"{VALUE_PREFIX}{p}" in row for p in players):
        return ""
    values = {p: float(row[f"{VALUE_PREFIX}{p}"]) for p in players}
    parts = [
        f"the {PLAYER_WORDS.get(p, p)} {_two_places(v)}"
        for p, v in sorted(values.items(), key=lambda kv: -kv[1])
    ]
    empty = float(row.get("standing_none", 1.0 - sum(values.values())))
    return (
        f"What put it in the top-{k}: of its place in the list (1 with every input, "
        f"{empty:.2f} with none) " + ", ".join(parts) + "."
    )


@dataclass(frozen=True)
class WhatIf:
    """Each top-``k`` item's rank with one input removed, and the top-``k`` rank-flip rate.

    ``table``: ``item``, ``rank`` and ``rank_without_<player>`` per recommended item.
    ``flip_rate[player]``: the share of the top-``k`` that leaves the top-``k`` when the
    player is removed (0 = the input changes nothing, 1 = a completely new list).
    """

    user: int
    k: int
    table: pd.DataFrame
    flip_rate: dict[str, float]


def whatif(
    source: CoalitionCache | LoadedModel,
    user: int,
    k: int = 10,
    within: np.ndarray | None = None,
) -> WhatIf:
    """Drop each input player in turn and re-rank ``user``'s catalogue (the items of
    ``within`` only, when given)."""
    cache = as_cache(source)
    _check_user(cache, user)
    items, _ = cache.ranking(user, k, within=within)
    table = pd.DataFrame({"item": items, "rank": np.arange(1, len(items) + 1)})
    flip: dict[str, float] = {}
    for player in cache.players:
        ranks = cache.ranks(user, drop=frozenset([player]), within=within)
        new_ranks = ranks[items]
        table[f"rank_without_{player}"] = new_ranks
        flip[player] = float(np.mean(new_ranks > k)) if len(items) else 0.0
    return WhatIf(user, k, table, flip)
