"""Shoppers with continuous tastes in the encoders' feature spaces, and their purchases.

Three kinds of shopper, each also partly led by popularity:

- **visual**: one or two seed photos; an item's appeal is
  ``Σ_s π_s · exp((cos_image(item, s) − 1) / τ_u)`` in the image feature space;
- **textual**: the same around one or two seed items in the text feature space;
- **collaborative**: one or two hidden co-purchase groups (random sets of items, unrelated to
  any content); appeal is 1 inside them and 0 outside.

``cos`` is the cosine of the mean-centred features, the spaces an image or text kNN sees.
Each purchase is a popularity purchase (chance ``w_popularity``, the item drawn in
proportion to its latent popularity) or a taste purchase (drawn in proportion to
``appeal · popularity^POPULARITY_TILT``). ``τ_u`` is the shopper's temperature: the global
``temperature`` times a log-normal spread; small τ makes content decide, a large τ makes it
irrelevant (every item equally appealing).

Time: the catalogue's old items are released before ``LATE_START``, the new arrivals in the
weeks after it. A shopper's purchases before ``LATE_START`` (train, in a chronological
split) are of old items; the last one or two (valid, test; more for heavy shoppers) happen
after it, where new arrivals are available and promoted (``new_arrival_boost``). Some
shoppers make one more early-late purchase that stays in train, so a new arrival has a few
(at most ``NEW_ARRIVAL_TRAIN_CAP``) train interactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the CLI reads TasteConfig's defaults for --help: keep this import light
    import pandas as pd

GROUPS: tuple[str, ...] = ("visual", "textual", "collaborative")
#: Days of the sample's year: old items are released in [0, OLD_RELEASE_END), new arrivals in
#: [LATE_START, LATE_START + NEW_RELEASE_DAYS); held-out purchases fall in [HELD_START, YEAR).
OLD_RELEASE_END = 240
LATE_START = 300
NEW_RELEASE_DAYS = 14
EXTRA_LATE_END = 306
HELD_START = 310
YEAR = 365
#: Exponent of latent popularity inside a taste purchase.
POPULARITY_TILT = 0.5
#: Most train interactions a new arrival gets (from the early-late purchases).
NEW_ARRIVAL_TRAIN_CAP = 2
#: Rows with a smaller norm (after centring) count as zero.
NORM_EPS = 1e-12
#: Spread (log-normal σ) of each shopper's temperature around the global one.
TEMPERATURE_SPREAD = 0.25


@dataclass(frozen=True)
class TasteConfig:
    """How the shoppers are drawn (every default is the shipped sample's)."""

    n_users: int = 4000
    #: Shares of visual, textual and collaborative shoppers.
    group_shares: tuple[float, float, float] = (0.35, 0.35, 0.30)
    temperature: float = 0.09
    #: Mean share of a shopper's purchases led by popularity (Beta-distributed per shopper).
    popularity_share: float = 0.2
    #: σ of the items' log-normal latent popularity.
    popularity_sigma: float = 1.5
    #: Purchases per shopper: MIN_PURCHASES + a geometric number with this success chance.
    purchase_p: float = 0.28
    min_purchases: int = 4
    max_purchases: int = 40
    #: Items per hidden co-purchase group, on average.
    items_per_group: int = 30
    #: How much likelier a new arrival is chosen in the late window than an old item.
    new_arrival_boost: float = 4.0
    #: Chance that a shopper makes one early-late purchase (it stays in train).
    extra_late_chance: float = 0.2
    #: Chance that a visual or textual shopper has two seeds rather than one.
    two_seed_chance: float = 0.4


def held_out_count(n: int) -> int:
    """How many of a shopper's ``n`` purchases a chronological MMRec split holds out."""
    if n < 3:
        return 0
    if n < 10:
        return 2
    return int(0.2 * n)


def chronological_split(users: np.ndarray, day: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Split labels (0 train / 1 valid / 2 test): each shopper's ``held`` purchases, which are
    their latest, are held out — the later half (rounded up) test, the rest valid, as MMRec
    divides a held-out set; every other purchase is train."""
    users = np.asarray(users, dtype=np.int64)
    labels = np.zeros(len(users), dtype=np.int8)
    idx = np.flatnonzero(held)
    order = idx[np.lexsort((day[idx], users[idx]))]
    sorted_users = users[order]
    starts: np.ndarray | list[int] = (
        np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]]) if len(order) else []
    )
    ends = np.r_[starts[1:], len(order)] if len(order) else []
    for s, e in zip(starts, ends, strict=True):
        n_valid = (e - s) // 2
        labels[order[s : s + n_valid]] = 1
        labels[order[s + n_valid : e]] = 2
    return labels


def centred_cosine(features: np.ndarray) -> np.ndarray:
    """Item × item cosine similarity of the mean-centred ``features``."""
    x = np.asarray(features, dtype=np.float64)
    c = (x - x.mean(axis=0, keepdims=True)).astype(np.float32)
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    unit = np.where(norm > NORM_EPS, c / np.maximum(norm, NORM_EPS), 0.0).astype(np.float64)
    return unit @ unit.T


@dataclass(frozen=True)
class Purchases:
    """Every drawn purchase (before the k-core), the shoppers and the items' hidden values."""

    user: np.ndarray
    item: np.ndarray
    day: np.ndarray  #: fractional day of the year
    held: np.ndarray  #: True for the shopper's planned held-out (latest) purchases
    users: pd.DataFrame
    co_purchase_group: np.ndarray  #: per item
    popularity: np.ndarray  #: per item, latent


def _join(values: np.ndarray | list, fmt: str = "{}") -> str:
    return " ".join(fmt.format(v) for v in values)


def _pick(
    rng: np.random.Generator,
    mask: np.ndarray,
    taste: np.ndarray,
    popularity: np.ndarray,
    boost: np.ndarray | None,
    w_pop: float,
    bought: np.ndarray,
) -> int:
    """One purchase among ``mask``: popularity-led with chance ``w_pop``, else taste-led."""
    led_by_pop = rng.random() < w_pop
    w = (popularity if led_by_pop else taste) * mask
    if boost is not None:
        w = w * boost
    if w.sum() <= 0:  # taste exhausted: fall back on popularity
        w = popularity * mask * (1.0 if boost is None else boost)
    item = int(rng.choice(len(w), p=w / w.sum()))
    bought[item] = True
    return item


def draw_purchases(
    image_feat: np.ndarray,
    text_feat: np.ndarray,
    release_day: np.ndarray,
    new_arrival: np.ndarray,
    config: TasteConfig,
    rng: np.random.Generator,
) -> Purchases:
    """Draw the shoppers and all their purchases (see the module docstring)."""
    import pandas as pd

    n_items = len(release_day)
    old = np.flatnonzero(~new_arrival)
    sims = {"visual": centred_cosine(image_feat), "textual": centred_cosine(text_feat)}
    popularity = np.exp(rng.normal(0.0, config.popularity_sigma, n_items))
    popularity /= popularity.mean()
    n_groups = max(2, n_items // config.items_per_group)
    co_group = rng.permutation(np.arange(n_items) % n_groups)
    tilt = popularity**POPULARITY_TILT
    boost = np.where(new_arrival, config.new_arrival_boost, 1.0)
    early_ok = ~new_arrival

    shares = np.asarray(config.group_shares, dtype=np.float64)
    groups = rng.choice(len(GROUPS), size=config.n_users, p=shares / shares.sum())
    pop_a = 2.0
    pop_b = pop_a * (1.0 - config.popularity_share) / max(config.popularity_share, 1e-9)
    rows: list[dict[str, object]] = []
    users_out, items_out, days_out, held_out = [], [], [], []
    new_train = np.zeros(n_items, dtype=np.int64)
    for u in range(config.n_users):
        group = GROUPS[groups[u]]
        w_pop = float(rng.beta(pop_a, pop_b)) if config.popularity_share > 0 else 0.0
        tau = float(config.temperature * np.exp(rng.normal(0.0, TEMPERATURE_SPREAD)))
        seeds: np.ndarray = np.zeros(0, dtype=np.int64)
        weights: np.ndarray = np.zeros(0)
        groups_u: np.ndarray = np.zeros(0, dtype=np.int64)
        if group in sims:
            k = 2 if rng.random() < config.two_seed_chance else 1
            seeds = rng.choice(old, size=k, replace=False)
            weights = np.array([1.0]) if k == 1 else np.array([w := rng.uniform(0.5, 0.8), 1 - w])
            s = sims[group][seeds]  # (k, n_items)
            appeal = (weights[:, None] * np.exp((s - 1.0) / tau)).sum(axis=0)
        else:
            k = 2 if rng.random() < config.two_seed_chance else 1
            groups_u = rng.choice(n_groups, size=k, replace=False)
            appeal = np.isin(co_group, groups_u).astype(np.float64)
        taste = appeal * tilt
        n = config.min_purchases + int(rng.geometric(config.purchase_p))
        n = min(n, config.max_purchases)
        held = held_out_count(n)
        extra = 1 if rng.random() < config.extra_late_chance else 0
        n_early = n - held - extra
        bought = np.zeros(n_items, dtype=bool)

        for _ in range(n_early):
            i = _pick(rng, early_ok & ~bought, taste, popularity, None, w_pop, bought)
            users_out.append(u)
            items_out.append(i)
            days_out.append(rng.uniform(release_day[i], LATE_START))
            held_out.append(False)
        for _ in range(extra):
            capped = ~new_arrival | (new_train < NEW_ARRIVAL_TRAIN_CAP)
            avail = capped & (release_day < EXTRA_LATE_END) & ~bought
            i = _pick(rng, avail, taste, popularity, boost, w_pop, bought)
            new_train[i] += int(new_arrival[i])
            users_out.append(u)
            items_out.append(i)
            days_out.append(rng.uniform(max(release_day[i], LATE_START), EXTRA_LATE_END))
            held_out.append(False)
        for _ in range(held):
            i = _pick(rng, ~bought, taste, popularity, boost, w_pop, bought)
            users_out.append(u)
            items_out.append(i)
            days_out.append(rng.uniform(max(release_day[i], HELD_START), YEAR))
            held_out.append(True)
        rows.append(
            {
                "group": group,
                "taste_space": {"visual": "image", "textual": "text"}.get(group, "co-purchase"),
                "seed_items": _join(seeds),
                "seed_weights": _join(weights, "{:.3f}"),
                "co_purchase_groups": _join(groups_u),
                "temperature": round(tau, 4) if group in sims else np.nan,
                "w_popularity": round(w_pop, 4),
                "planned_purchases": n,
            }
        )
    return Purchases(
        user=np.asarray(users_out, dtype=np.int64),
        item=np.asarray(items_out, dtype=np.int64),
        day=np.asarray(days_out, dtype=np.float64),
        held=np.asarray(held_out, dtype=bool),
        users=pd.DataFrame(rows),
        co_purchase_group=co_group,
        popularity=popularity,
    )
