"""Synthetic shoppers with recorded driver mixes, and the interactions they make.

Every shopper has a ground-truth mix of four drivers (weights summing to 1):

- **visual**: prefers one pattern and one shade (attributes only the picture shows) and buys
  items that have both;
- **textual**: prefers one occasion and one collection (attributes only the copy says), and
  buys items that have both, with a further liking for one sustainability claim;
- **collaborative**: buys within one or two hidden drops (co-purchase groups no content
  reveals);
- **popularity**: buys by the catalogue's latent popularity.

A third of the shoppers are mostly visual, a third mostly textual and a third mostly
collaborative (the ``group`` column); each interaction first draws a driver from the mix,
then an item from that driver's choice set, so a shopper's history follows their drivers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anchorrec.sample.boutique_items import COLLECTIONS, OCCASIONS, PATTERNS, SHADES, SUSTAINABILITY

DRIVERS: tuple[str, ...] = ("visual", "textual", "collaborative", "popularity")
#: The groups: the driver that dominates a shopper's mix (popularity never does).
GROUPS: tuple[str, ...] = ("visual", "textual", "collaborative")
#: Dirichlet concentration of the dominant driver and of each other driver.
DOMINANT_CONCENTRATION = 12.0
OTHER_CONCENTRATION = 1.0
#: Within a driver's choice set, an item's chance grows as popularity ** this.
POPULARITY_TILT = 0.6
#: A textual shopper's liking for items with their preferred sustainability claim.
SUSTAINABILITY_BOOST = 3.0


@dataclass(frozen=True)
class InteractionRange:
    """How many interactions a shopper makes (inclusive bounds, drawn uniformly)."""

    low: int = 8
    high: int = 30


def generate_shoppers(n_users: int, n_drops: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per shopper: driver weights, group and the ground-truth preferences."""
    group = np.resize(np.arange(len(GROUPS)), n_users)
    rng.shuffle(group)
    weights = np.zeros((n_users, len(DRIVERS)))
    for u in range(n_users):
        alpha = np.full(len(DRIVERS), OTHER_CONCENTRATION)
        alpha[group[u]] = DOMINANT_CONCENTRATION
        w = rng.dirichlet(alpha)
        top = int(np.argmax(w))
        if top != group[u]:  # the group's driver is the largest weight by construction
            w[[top, group[u]]] = w[[group[u], top]]
        weights[u] = w
    weights = np.round(weights, 4)
    weights[:, -1] = np.round(1.0 - weights[:, :-1].sum(axis=1), 4)
    # The others rounded up can leave the last weight at -0.0001: the group's (largest) weight
    # gives it back instead, so every weight is a probability and they still sum to 1.
    short = np.flatnonzero(weights[:, -1] < 0)
    weights[short, group[short]] = np.round(weights[short, group[short]] + weights[short, -1], 4)
    weights[short, -1] = 0.0
    first_drop = rng.integers(0, n_drops, n_users)
    second_drop = np.where(
        rng.random(n_users) < 0.5, (first_drop + rng.integers(1, n_drops, n_users)) % n_drops, -1
    )
    frame = pd.DataFrame({"user_id": np.arange(n_users, dtype=np.int64)})
    for k, name in enumerate(DRIVERS):
        frame[f"w_{name}"] = weights[:, k]
    frame["group"] = [GROUPS[g] for g in group]
    frame["pref_pattern"] = rng.choice(PATTERNS, n_users)
    frame["pref_shade"] = rng.choice(list(SHADES), n_users)
    frame["pref_occasion"] = rng.choice(list(OCCASIONS), n_users)
    frame["pref_collection"] = rng.choice(list(COLLECTIONS), n_users)
    frame["pref_sustainability"] = rng.choice(list(SUSTAINABILITY), n_users)
    frame["pref_drops"] = [
        f"{a}" if b < 0 else f"{a};{b}" for a, b in zip(first_drop, second_drop, strict=True)
    ]
    return frame


def parse_drops(value: str) -> list[int]:
    """The drop ids of a ``pref_drops`` cell (``"3"`` or ``"3;17"``)."""
    return [int(v) for v in str(value).split(";") if v != ""]


def driver_choice_weights(items: pd.DataFrame, shopper: pd.Series) -> dict[str, np.ndarray]:
    """For one shopper, each driver's (unnormalised) weight over every item."""
    pop = items["popularity"].to_numpy(np.float64)
    tilt = pop**POPULARITY_TILT
    visual = (
        (items["pattern"].to_numpy() == shopper["pref_pattern"])
        & (items["shade"].to_numpy() == shopper["pref_shade"])
    ).astype(np.float64)
    textual = (
        (items["occasion"].to_numpy() == shopper["pref_occasion"])
        & (items["collection"].to_numpy() == shopper["pref_collection"])
    ).astype(np.float64)
    textual *= np.where(
        items["sustainability"].to_numpy() == shopper["pref_sustainability"],
        SUSTAINABILITY_BOOST,
        1.0,
    )
    collaborative = np.isin(items["drop"].to_numpy(), parse_drops(shopper["pref_drops"])).astype(
        np.float64
    )
    return {
        "visual": visual * tilt,
        "textual": textual * tilt,
        "collaborative": collaborative * tilt,
        "popularity": pop.copy(),
    }


def sample_interactions(
    items: pd.DataFrame,
    shoppers: pd.DataFrame,
    rng: np.random.Generator,
    counts: InteractionRange = InteractionRange(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(users, items, drivers)``: each shopper's distinct purchases and the driver of each.

    ``drivers`` holds an index into :data:`DRIVERS`. A driver whose choice set is exhausted
    (or empty) falls back to popularity.
    """
    out_u, out_i, out_d = [], [], []
    weight_cols = [f"w_{d}" for d in DRIVERS]
    for _, shopper in shoppers.iterrows():
        choice = driver_choice_weights(items, shopper)
        mix = shopper[weight_cols].to_numpy(np.float64)
        mix = mix / mix.sum()
        n = int(rng.integers(counts.low, counts.high + 1))
        taken = np.zeros(len(items), dtype=bool)
        for _ in range(n):
            d = int(rng.choice(len(DRIVERS), p=mix))
            w = np.where(taken, 0.0, choice[DRIVERS[d]])
            if w.sum() <= 0:
                d = DRIVERS.index("popularity")
                w = np.where(taken, 0.0, choice["popularity"])
            i = int(rng.choice(len(items), p=w / w.sum()))
            taken[i] = True
            out_u.append(int(shopper["user_id"]))
            out_i.append(i)
            out_d.append(d)
    return np.asarray(out_u, np.int64), np.asarray(out_i, np.int64), np.asarray(out_d, np.int8)


def iterative_k_core(users: np.ndarray, items: np.ndarray, k: int = 5) -> np.ndarray:
    """Mask of the interactions kept by the iterative ``k``-core (every user and item ≥ k)."""
    keep = np.ones(len(users), dtype=bool)
    while True:
        u_count = np.bincount(users[keep], minlength=users.max() + 1 if len(users) else 0)
        i_count = np.bincount(items[keep], minlength=items.max() + 1 if len(items) else 0)
        new_keep = keep & (u_count[users] >= k) & (i_count[items] >= k)
        if new_keep.sum() == keep.sum():
            return new_keep
        keep = new_keep
