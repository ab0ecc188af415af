"""Measuring the structure planted in a sample dataset (reported in its DATASHEET.md).

Every number is computed from the files, beside its chance level: k-NN label purity of an
attribute in a feature space, the popularity Gini, and how closely each shopper group's
interactions follow its driver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anchorrec.data.dataset import Dataset
from anchorrec.data.features import l2_normalise_rows
from anchorrec.sample.shoppers import GROUPS, parse_drops
from anchorrec.stats import gini

#: Neighbours per item in the purity measure.
PURITY_K = 10
#: Cut-off of the one-signal recommenders' recall.
RECALL_K = 20
#: (attribute, feature space) pairs the datasheet reports: both-modality attributes in both
#: spaces, and each single-modality attribute in its own space and, as a control, the other.
PURITY_PAIRS: tuple[tuple[str, str], ...] = (
    ("category", "image"),
    ("category", "text"),
    ("colour", "image"),
    ("colour", "text"),
    ("pattern", "image"),
    ("pattern", "text"),
    ("shade", "image"),
    ("shade", "text"),
    ("occasion", "text"),
    ("occasion", "image"),
    ("collection", "text"),
    ("collection", "image"),
    ("drop", "image"),
    ("drop", "text"),
)
#: Pairs also reported after removing each category's mean (category dominates both spaces).
WITHIN_CATEGORY_PAIRS: tuple[tuple[str, str], ...] = (
    ("pattern", "image"),
    ("shade", "image"),
    ("colour", "image"),
    ("occasion", "text"),
    ("collection", "text"),
    ("pattern", "text"),
    ("occasion", "image"),
)


@dataclass(frozen=True)
class Purity:
    """Mean share of an item's k nearest neighbours (cosine) that share its ``attribute``."""

    attribute: str
    space: str
    purity: float
    chance: float
    within_category: bool = False


@dataclass(frozen=True)
class GroupBehaviour:
    """How one shopper group's interactions follow each driver, beside the base rate.

    ``*_match`` is the share of the group's interactions with an item matching the shopper's
    own visual (pattern and shade), textual (occasion and collection) or collaborative (drop)
    preference; ``*_base`` is the share of the catalogue that matches, averaged over shoppers.
    """

    group: str
    users: int
    interactions: int
    interactions_per_user: float
    visual_match: float
    visual_base: float
    textual_match: float
    textual_base: float
    collaborative_match: float
    collaborative_base: float
    mean_item_popularity_rank: float


@dataclass(frozen=True)
class GroupRecall:
    """Recall@k on test of four one-signal recommenders, averaged over one shopper group.

    ``image`` / ``text``: score = summed cosine similarity (in that feature space) to the
    shopper's train items; ``item_cf``: the same with items' train co-purchase vectors (IDs
    only); ``popularity``: train popularity.
    """

    group: str
    image: float
    text: float
    item_cf: float
    popularity: float


@dataclass(frozen=True)
class SampleSignals:
    n_users: int
    n_items: int
    n_interactions: int
    n_categories: int
    min_interactions_per_user: int
    max_interactions_per_user: int
    min_interactions_per_item: int
    popularity_gini: float
    top10pct_item_share: float
    purities: tuple[Purity, ...]
    groups: tuple[GroupBehaviour, ...]
    recalls: tuple[GroupRecall, ...] = ()

    def purity(self, attribute: str, space: str, within_category: bool = False) -> Purity:
        for p in self.purities:
            if (p.attribute, p.space, p.within_category) == (attribute, space, within_category):
                return p
        raise KeyError((attribute, space))

    def group(self, name: str) -> GroupBehaviour:
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(name)


def knn_purity(features: np.ndarray, labels: np.ndarray, k: int = PURITY_K) -> float:
    """Mean share of each row's ``k`` nearest other rows (cosine) with the same label."""
    x = l2_normalise_rows(features)
    labels = np.asarray(labels)
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    k = min(k, len(x) - 1)
    nn = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return float((labels[nn] == labels[:, None]).mean())


def remove_group_means(features: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """L2-normalised rows minus the mean row of their group (e.g. their category)."""
    x = l2_normalise_rows(features)
    groups = np.asarray(groups)
    out = np.empty_like(x)
    for g in np.unique(groups):
        sel = groups == g
        out[sel] = x[sel] - x[sel].mean(axis=0)
    return out


def one_signal_recall(ds: Dataset, k: int = RECALL_K) -> tuple[GroupRecall, ...]:
    """Per shopper group, Recall@k of image-kNN, text-kNN, item-CF and popularity scorers."""
    if ds.users is None or "group" not in ds.users.columns:
        return ()
    train = ds.train.toarray()
    test = ds.test.toarray()
    scorers: dict[str, np.ndarray] = {}
    for space in ("image", "text"):
        if space in ds.features:
            x = l2_normalise_rows(ds.features[space])
            scorers[space] = train @ (x @ x.T)
    co = l2_normalise_rows(train.T)
    scorers["item_cf"] = train @ (co @ co.T)
    scorers["popularity"] = np.broadcast_to(train.sum(axis=0), train.shape)
    recall: dict[str, np.ndarray] = {}
    n_test = test.sum(axis=1)
    kk = min(k, ds.n_items - 1)
    for name, scores in scorers.items():
        masked = np.where(train > 0, -np.inf, scores)
        top = np.argpartition(-masked, kk - 1, axis=1)[:, :kk]
        hits = np.take_along_axis(test, top, axis=1).sum(axis=1)
        recall[name] = hits / np.maximum(n_test, 1)
    group = ds.users["group"].astype(str).to_numpy()
    out = []
    for name in GROUPS:
        sel = (group == name) & (n_test > 0)
        if not sel.any():
            continue
        out.append(
            GroupRecall(
                group=name,
                image=float(recall["image"][sel].mean()) if "image" in recall else float("nan"),
                text=float(recall["text"][sel].mean()) if "text" in recall else float("nan"),
                item_cf=float(recall["item_cf"][sel].mean()),
                popularity=float(recall["popularity"][sel].mean()),
            )
        )
    return tuple(out)


def chance_purity(labels: np.ndarray) -> float:
    """Expected purity of random neighbours: P(another item shares the label)."""
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    n = counts.sum()
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))


def measure_signals(ds: Dataset) -> SampleSignals:
    """Every datasheet number of a sample dataset (needs ``items``, ``users``, features)."""
    if ds.items is None or ds.users is None:
        raise ValueError("the sample's signals need items.csv and users.csv")
    items, users = ds.items, ds.users
    full = (ds.train + ds.valid + ds.test).tocsr()
    full.data[:] = 1.0
    per_user = np.diff(full.indptr)
    per_item = np.asarray(full.sum(axis=0)).ravel()

    purities = []
    for attribute, space in PURITY_PAIRS:
        if attribute in items.columns and space in ds.features:
            labels = items[attribute].astype(str).to_numpy()
            purities.append(
                Purity(
                    attribute, space, knn_purity(ds.features[space], labels), chance_purity(labels)
                )
            )

    category = items["category"].astype(str).to_numpy()
    for attribute, space in WITHIN_CATEGORY_PAIRS:
        if attribute in items.columns and space in ds.features:
            labels = items[attribute].astype(str).to_numpy()
            centred = remove_group_means(ds.features[space], category)
            purities.append(
                Purity(attribute, space, knn_purity(centred, labels), chance_purity(labels), True)
            )

    pattern = items["pattern"].to_numpy()
    shade = items["shade"].to_numpy()
    occasion = items["occasion"].to_numpy()
    collection = items["collection"].to_numpy()
    drop = pd.to_numeric(items["drop"]).to_numpy(np.int64)
    pop_rank = np.argsort(np.argsort(-per_item, kind="stable"), kind="stable") / max(
        len(per_item) - 1, 1
    )

    groups = []
    for name in GROUPS:
        members = users.index[users["group"] == name].to_numpy()
        stats = np.zeros((len(members), 6))
        n_inter = 0
        ranks = []
        for r, u in enumerate(members):
            row = users.iloc[u]
            bought = full.indices[full.indptr[u] : full.indptr[u + 1]]
            vis = (pattern == row["pref_pattern"]) & (shade == row["pref_shade"])
            txt = (occasion == row["pref_occasion"]) & (collection == row["pref_collection"])
            col = np.isin(drop, parse_drops(row["pref_drops"]))
            stats[r] = [
                vis[bought].mean(), vis.mean(), txt[bought].mean(), txt.mean(),
                col[bought].mean(), col.mean(),
            ]  # fmt: skip
            n_inter += len(bought)
            ranks.append(pop_rank[bought])
        mean = stats.mean(axis=0) if len(members) else np.zeros(6)
        groups.append(
            GroupBehaviour(
                group=name,
                users=int(len(members)),
                interactions=int(n_inter),
                interactions_per_user=float(n_inter / max(len(members), 1)),
                visual_match=float(mean[0]),
                visual_base=float(mean[1]),
                textual_match=float(mean[2]),
                textual_base=float(mean[3]),
                collaborative_match=float(mean[4]),
                collaborative_base=float(mean[5]),
                mean_item_popularity_rank=float(np.concatenate(ranks).mean()) if ranks else 0.0,
            )
        )

    top = np.sort(per_item)[::-1][: max(1, len(per_item) // 10)]
    return SampleSignals(
        n_users=ds.n_users,
        n_items=ds.n_items,
        n_interactions=int(full.nnz),
        n_categories=int(items["category"].nunique()),
        min_interactions_per_user=int(per_user.min()),
        max_interactions_per_user=int(per_user.max()),
        min_interactions_per_item=int(per_item.min()),
        popularity_gini=gini(per_item),
        top10pct_item_share=float(top.sum() / per_item.sum()),
        purities=tuple(purities),
        groups=tuple(groups),
        recalls=one_signal_recall(ds),
    )


def purity_table(signals: SampleSignals) -> str:
    """The purity rows as a Markdown table (attribute, what shows it, space, purity, chance)."""
    shows = {
        "category": "image + text",
        "colour": "image + text",
        "pattern": "image only",
        "shade": "image only",
        "occasion": "text only",
        "collection": "text only",
        "drop": "neither (hidden)",
    }
    lines = [
        f"| attribute | shown by | space | {PURITY_K}-NN purity | chance | ratio |",
        "|---|---|---|---:|---:|---:|",
    ]
    for p in signals.purities:
        space = f"{p.space}, category mean removed" if p.within_category else p.space
        lines.append(
            f"| {p.attribute} | {shows.get(p.attribute, '')} | {space} | {p.purity:.3f} | "
            f"{p.chance:.3f} | {p.purity / p.chance:.1f}× |"
        )
    return "\n".join(lines)


def group_table(signals: SampleSignals) -> str:
    """The shopper-group rows as a Markdown table (match share vs base rate per driver)."""
    lines = [
        "| group | users | interactions | per user | visual match (base) | "
        "textual match (base) | drop match (base) | mean popularity rank of items |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in signals.groups:
        lines.append(
            f"| {g.group} | {g.users} | {g.interactions} | {g.interactions_per_user:.1f} | "
            f"{g.visual_match:.3f} ({g.visual_base:.3f}) | "
            f"{g.textual_match:.3f} ({g.textual_base:.3f}) | "
            f"{g.collaborative_match:.3f} ({g.collaborative_base:.3f}) | "
            f"{g.mean_item_popularity_rank:.3f} |"
        )
    return "\n".join(lines)


def recall_table(signals: SampleSignals) -> str:
    """The one-signal recommenders' Recall@k per shopper group as a Markdown table."""
    lines = [
        "| group | image kNN | text kNN | item-CF (IDs only) | popularity |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in signals.recalls:
        lines.append(
            f"| {r.group} | {r.image:.3f} | {r.text:.3f} | {r.item_cf:.3f} | {r.popularity:.3f} |"
        )
    return "\n".join(lines)
