"""The tables and summaries the pages show, built from library results with pandas alone.

Nothing here imports Streamlit, so every table is tested on its own (tests/ui/test_tables.py).
The shopper and item tables live in :mod:`anchorrec.ui.catalogue_tables` (re-exported here).
Pages draw what these functions return and read columns by the names documented here; none
of them picks attribution columns by prefix (``phi_``, ``share_``, ``branch_share_``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anchorrec.analysis.attribution import PLAYER_WORDS, READINGS, UserExplanation, WhatIf
from anchorrec.analysis.audit import COLD_MAX_INTERACTIONS, AuditResult
from anchorrec.analysis.audit import mean_share_by_item as mean_share_by_item
from anchorrec.analysis.diagnostics_report import DiagnosticsReport, compare, compare_with_intervals
from anchorrec.data.dataset import Dataset
from anchorrec.models.config import LEGACY_MASK
from anchorrec.ui.catalogue_tables import (  # the shopper and item tables
    NOT_ATTRIBUTES as NOT_ATTRIBUTES,
)
from anchorrec.ui.catalogue_tables import (
    breakdown_columns as breakdown_columns,
)
from anchorrec.ui.catalogue_tables import (
    colour_options as colour_options,
)
from anchorrec.ui.catalogue_tables import (
    colour_values as colour_values,
)
from anchorrec.ui.catalogue_tables import (
    group_of as group_of,
)
from anchorrec.ui.catalogue_tables import (
    item_attributes as item_attributes,
)
from anchorrec.ui.catalogue_tables import (
    item_description as item_description,
)
from anchorrec.ui.catalogue_tables import (
    planted_groups as planted_groups,
)
from anchorrec.ui.catalogue_tables import (
    search_items as search_items,
)
from anchorrec.ui.catalogue_tables import (
    selection_breakdown as selection_breakdown,
)
from anchorrec.ui.catalogue_tables import (
    selection_table as selection_table,
)
from anchorrec.ui.catalogue_tables import (
    shopper_profile as shopper_profile,
)
from anchorrec.ui.catalogue_tables import (
    shoppers_of as shoppers_of,
)
from anchorrec.ui.text import plain

#: Attribution readings: share of the score (input level), what ranks it (the rank game),
#: branch of the model (see anchorrec.analysis.attribution.readings).
LEVELS = READINGS
#: Accuracy columns of the Overview's variants table (test split, from metrics.json).
ACCURACY = ("recall@10", "recall@20", "ndcg@10", "ndcg@20")
#: (metric, label, meaning) of the Overview's collapse headline.
HEADLINE = (
    (
        "coembedding_displacement",
        "ID→final displacement",
        "≈0 means the final vectors sit on the ID vectors (collapse); null 1",
    ),
    (
        "id_dominance",
        "ID share of the score",
        "the ID input's share of the score over the top-10 lists (score game, not what ranks "
        "them); null 1/inputs",
    ),
    ("effective_rank", "effective rank (final)", "directions the final space really uses"),
)
#: How the diagnostics table names each metric.
METRIC_TITLES = {
    "effective_rank": "Effective rank",
    "uniformity": "Uniformity",
    "alignment": "Alignment",
    "linear_cka": "Linear CKA",
    "knn_overlap": "kNN overlap@10",
    "neighbour_text_cosine": "Neighbours' text cosine",
    "neighbour_image_cosine": "Neighbours' image cosine",
    "neighbour_shared_users": "Users shared with neighbours",
    "neighbour_two_hop_share": "Neighbours within two hops",
    "coembedding_displacement": "ID → final displacement",
    "branch_variance_share": "Share of the final space's variance",
    "branch_magnitude": "Branch magnitude in the scores",
    "id_dominance": "ID dominance",
}
#: How the diagnostics table names each space (pairs are joined with " ~ ").
SPACE_TITLES = {
    "raw_image": "raw picture features",
    "raw_text": "raw product text features",
    "raw_fused": "raw fused features",
    "id_view": "ID view",
    "image_view": "picture view",
    "text_view": "text view",
    "fused_view": "fused view",
    "final": "final vectors",
    "anchor_id": "anchor: ID",
    "anchor_fused": "anchor: fused",
    "anchor_image": "anchor: picture",
    "anchor_text": "anchor: text",
    "anchor_mixup": "anchor: mixup",
    "top-10": "top-10 lists",
}
#: What bench/rebuild/variant_diagnostics.py measured on the shipped models (2-core machine under
#: a load average of about 30 from other jobs, 2026-12-01).
DIAGNOSTICS_TIME = (
    "On the bundled sample (1,289 items) they took 56.0 to 734.1 s per model on a 2-core "
    "machine busy with other jobs (load average about 30); an idle machine is several times "
    "faster."
)
METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
#: The parameters the Compute-layouts panel asks for: (key, label, lowest, highest, type).
LAYOUT_PARAMETERS: dict[str, list[tuple[str, str, float, float, type]]] = {
    "pca": [("seed", "Seed", 0, 10_000, int)],
    "tsne": [("perplexity", "Perplexity", 2.0, 100.0, float), ("seed", "Seed", 0, 10_000, int)],
    "umap": [
        ("n_neighbors", "Neighbours", 2, 200, int),
        ("min_dist", "Min. distance", 0.0, 1.0, float),
        ("seed", "Seed", 0, 10_000, int),
    ],
}
#: What bench/speed/projection_time.py measured (2-core machine, nothing else running,
#: 2026-12-08, 64-d vectors, bench/results/projection_time.jsonl); the UI quotes no other
#: duration.
LAYOUT_TIMES = (
    "Measured on an idle 2-core machine (nothing else running). 5,000 items: UMAP 35.6 s on its "
    "first run in a process (compiling), 6.4 s after; t-SNE 18.3 s. 23,033 items (Amazon "
    "Clothing's size): UMAP 12.5 s, t-SNE 48.1 s. Computed once, then cached on disk beside "
    "the model."
)


# ------------------------------------------------------------------------------ attribution
@dataclass(frozen=True)
class LevelAttribution:
    """One level of a top-``k``'s attribution: ``signed`` and ``shares`` have one row per
    recommended item (in rank order) and one column per name in ``names``."""

    level: str
    names: tuple[str, ...]
    signed: pd.DataFrame
    shares: pd.DataFrame


def level_attribution(exp: UserExplanation, level: str) -> LevelAttribution:
    """The input-level (``players``) or branch-level (``branches``) values of ``exp``."""
    if level == "input":
        names, signed, share = exp.players, "phi_", "share_"
    elif level == "branch":
        names, signed, share = exp.branches, "branch_", "branch_share_"
    elif level == "rank" and exp.rank is not None:
        names, signed, share = exp.players, "rphi_", "rshare_"
    else:
        raise ValueError(f"unknown attribution level {level!r}; use one of {LEVELS}")
    t = exp.items.reset_index(drop=True)
    return LevelAttribution(
        level,
        tuple(names),
        pd.DataFrame({n: t[f"{signed}{n}"].to_numpy() for n in names}),
        pd.DataFrame({n: t[f"{share}{n}"].to_numpy() for n in names}),
    )


def share_column(name: str) -> str:
    """The column of a top-``k`` table holding ``name``'s share of the score."""
    return f"{name} share"


def player_word(name: str) -> str:
    """A merchandiser's word for an input (``picture``), else the name itself (a branch)."""
    return PLAYER_WORDS.get(name, name)


#: One-word column headers of the inputs (a top-K table's share columns are narrow).
PLAYER_SHORT = {"id": "history", "image": "picture", "text": "text", "fused": "fused"}


def player_short(name: str) -> str:
    return PLAYER_SHORT.get(name, name)


def later_marks(items: Iterable[int], later: Mapping[int, str]) -> list[str]:
    """``✓ valid`` / ``✓ test`` for each item bought later (held out), else blank."""
    return [f"✓ {later[int(i)]}" if int(i) in later else "" for i in items]


def later_hits(items: Iterable[int], later: Mapping[int, str]) -> int:
    """How many of ``items`` the shopper bought later (the hits a list recovers)."""
    return sum(int(i) in later for i in items)


def top_k_table(
    exp: UserExplanation,
    level: str,
    later: Mapping[int, str],
    title: Callable[[int], str],
    image: Callable[[int], str | None],
) -> pd.DataFrame:
    """One row per recommended item: ``image`` (a data URI), ``rank``, ``title``, one
    ``"<name> share"`` column per player or branch, ``bought later``, ``score``, ``item``."""
    att = level_attribution(exp, level)
    t = exp.items.reset_index(drop=True)
    items = [int(i) for i in t["item"]]
    return pd.DataFrame(
        {
            "image": [image(i) for i in items],
            "rank": t["rank"].to_numpy(),
            "title": [title(i) for i in items],
            **{share_column(n): att.shares[n].to_numpy() for n in att.names},
            "bought later": later_marks(items, later),
            "score": t["score"].to_numpy(),
            "item": np.asarray(items, dtype=np.int64),
        }
    )


def item_row(exp: UserExplanation, item: int) -> pd.Series:
    """The explanation row of ``item`` (KeyError when it is not in the top-``k``)."""
    rows = exp.items.loc[exp.items["item"] == int(item)]
    if rows.empty:
        raise KeyError(f"item {item} is not in user {exp.user}'s top-{len(exp.items)}")
    return rows.iloc[0]


#: The Why dialog's columns, each named after its game (see attribution.readings).
WHY_SHARE, WHY_SIGNED, WHY_RANK = "share of the score", "score φ", "what ranks it"


def why_table(exp: UserExplanation, item: int) -> pd.DataFrame:
    """``input`` (in words), its ``share of the score`` and signed ``score φ`` (the score
    game) and, when the explanation has the rank game, ``what ranks it`` (each input's part
    of the item's top-k place) of one recommended item."""
    row = item_row(exp, item)
    table: dict[str, list[str] | list[float]] = {
        "input": [player_word(p) for p in exp.players],
        WHY_SHARE: [float(row[f"share_{p}"]) for p in exp.players],
        WHY_SIGNED: [float(row[f"phi_{p}"]) for p in exp.players],
    }
    if exp.rank is not None:
        # a value that is 0 up to float rounding reads 0, not -0.000
        rank = [float(row[f"rphi_{p}"]) for p in exp.players]
        table[WHY_RANK] = [0.0 if abs(v) < 1e-12 else v for v in rank]
    return pd.DataFrame(table)


def branch_values(exp: UserExplanation, item: int) -> dict[str, float]:
    """Signed branch-level values of one recommended item (they add up to its score)."""
    row = item_row(exp, item)
    return {b: float(row[f"branch_{b}"]) for b in exp.branches}


def ranks_without(w: WhatIf, item: int) -> dict[str, int]:
    """``item``'s rank with each input removed (player → new rank)."""
    rows = w.table.loc[w.table["item"] == int(item)]
    if rows.empty:
        raise KeyError(f"item {item} is not in user {w.user}'s top-{w.k}")
    return {p: int(rows.iloc[0][f"rank_without_{p}"]) for p in w.flip_rate}


def removal_ties_everything(players: Sequence[str]) -> bool:
    """True when a model has one input only: removing it leaves every item the same score
    (the baseline), so the ranks "without" it are an arbitrary order, not an answer."""
    return len(players) == 1


def whatif_table(w: WhatIf, title: Callable[[int], str]) -> pd.DataFrame:
    """``rank``, ``item``, ``title`` and ``without <input>`` (the new rank; inputs named as in
    :data:`PLAYER_SHORT`) per item."""
    t = w.table.reset_index(drop=True)
    out = pd.DataFrame({"rank": t["rank"], "item": t["item"]})
    out["title"] = [title(int(i)) for i in t["item"]]
    for p in w.flip_rate:
        out[f"without {player_short(p)}"] = t[f"rank_without_{p}"].to_numpy()
    return out


# ------------------------------------------------------------------------------ overview
def modalities_table(ds: Dataset) -> pd.DataFrame:
    """``modality`` and ``dimensions`` of each item feature."""
    return pd.DataFrame(
        [{"modality": k, "dimensions": int(v.shape[1])} for k, v in ds.features.items()],
        columns=["modality", "dimensions"],
    )


def dataset_figures(ds: Dataset) -> dict[str, str]:
    """The dataset card's headline figures, formatted (label → text)."""
    return {
        "Users": f"{ds.n_users:,}",
        "Items": f"{ds.n_items:,}",
        "Interactions": f"{ds.n_interactions:,}",
        "Sparsity": f"{ds.sparsity:.2%}",
        "Per shopper": f"{ds.n_interactions / max(ds.n_users, 1):.1f}",
    }


def dataset_facts(ds: Dataset, directory: Any) -> list[str]:
    """The dataset card's lines (Markdown)."""
    facts = [
        f"Split: {ds.train.nnz:,} train / {ds.valid.nnz:,} valid / {ds.test.nnz:,} test "
        "interactions",
        f"Directory: `{directory}`",
        f"Fingerprint: `{ds.fingerprint}`",
    ]
    if ds.items is not None:
        facts.append(f"Item metadata: {plain(', '.join(map(str, ds.items.columns[:12])))}")
        if "category" in ds.items.columns:
            facts.append(f"Categories: {ds.items['category'].nunique()}")
    if ds.users is not None and "group" in ds.users.columns:
        groups = ds.users["group"].value_counts()
        facts.append(
            "Planted shopper groups: " + ", ".join(f"{plain(g)} ({n})" for g, n in groups.items())
        )
    return facts


def variants_table(rows: Iterable[tuple[str, str | None, bool, Mapping[str, Any]]]) -> pd.DataFrame:
    """One row per model from ``(label, variant, usable, metrics.json)``: ``variant``,
    ``kind``, ``usable``, ``test <metric>`` for each of :data:`ACCURACY`, ``best epoch`` and
    ``mask`` (the items masked when ranking test; files written before it was recorded masked
    train and valid)."""
    out = []
    for label, variant, usable, met in rows:
        found = met.get("test")
        test = found if isinstance(found, dict) else {}
        row: dict[str, Any] = {"variant": label, "kind": variant or "?", "usable": usable}
        for k in ACCURACY:
            row[f"test {k}"] = test.get(k)
        row["best epoch"] = met.get("best_epoch")
        row["mask"] = met.get("mask", LEGACY_MASK) if met else None
        out.append(row)
    columns = ["variant", "kind", "usable", *(f"test {k}" for k in ACCURACY), "best epoch", "mask"]
    return pd.DataFrame(out, columns=columns)


def group_accuracy_table(
    by_variant: Mapping[str, Mapping[str, Mapping[str, float]]],
) -> pd.DataFrame:
    """``variant`` and ``"<Recall@20|NDCG@20> · <group>"`` columns, one row per variant, from
    ``{label: {group: {"recall@20", "ndcg@20", "users"}}}``."""
    cols = ["variant"]
    rows = []
    for label, groups in by_variant.items():
        row: dict[str, Any] = {"variant": label}
        for metric, key in (("Recall@20", "recall@20"), ("NDCG@20", "ndcg@20")):
            for group in sorted(groups):
                col = f"{metric} · {group}"
                row[col] = float(groups[group][key])
                if col not in cols:
                    cols.append(col)
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def headline_table(reports: Mapping[str, DiagnosticsReport]) -> pd.DataFrame:
    """``variant`` and one column per :data:`HEADLINE` label (NaN where not measured)."""
    rows = []
    for label, report in reports.items():
        row: dict[str, Any] = {"variant": label}
        for metric, title, _ in HEADLINE:
            try:
                row[title] = report.value(metric, "final" if metric == "effective_rank" else None)
            except KeyError:
                row[title] = math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["variant", *(t for _, t, _ in HEADLINE)])


# ------------------------------------------------------------------------------ collapse
def named_reports(pairs: Sequence[tuple[str, DiagnosticsReport]]) -> list[DiagnosticsReport]:
    """The reports of ``(model name, report)`` pairs, each named for the table.

    A report keeps its variant as its name unless two reports share one; then every report
    is named by its model directory. Reports are copied, never renamed in place: they are
    shared by every session through the cache.
    """
    variants = [r.variant for _, r in pairs]
    if len(set(variants)) == len(variants):
        return [r for _, r in pairs]
    return [dataclasses.replace(r, variant=name) for name, r in pairs]


def space_title(space: str) -> str:
    """``id_view~final (tsne)`` → ``ID view ~ final vectors (t-SNE)``."""
    base, _, method = space.partition(" (")
    words = " ~ ".join(SPACE_TITLES.get(p, p.replace("_", " ")) for p in base.split("~"))
    if method:
        m = method.rstrip(")")
        words += f" ({METHOD_TITLES.get(m, m)})"
    return words


def diagnostics_table(reports: Sequence[DiagnosticsReport]) -> pd.DataFrame:
    """Every diagnostic side by side: ``key`` (the metric's name in the library), ``metric``
    and ``space`` in words, one column per report's variant, ``null``, and ``verdict``:
    ``tie`` where every two variants' intervals overlap, else which pairs are apart."""
    wide = compare(list(reports))
    if wide.empty:
        return wide
    verdicts = {
        (r["metric"], r["space"]): r["verdict"]
        for r in compare_with_intervals(list(reports)).to_dict("records")
    }
    wide["verdict"] = [
        verdicts.get((m, sp), "") for m, sp in zip(wide["metric"], wide["space"], strict=True)
    ]
    out = wide.rename(columns={"metric": "key"})
    out.insert(1, "metric", [METRIC_TITLES.get(m, m.replace("_", " ")) for m in out["key"]])
    out["space"] = [space_title(s) for s in out["space"]]
    return out


# ------------------------------------------------------------------------------ audit
def audit_summary_table(results: Mapping[str, AuditResult]) -> pd.DataFrame:
    """One row per variant: ``users``, ``recommendations``, ``"<input> share"``,
    ``exposure Gini`` and ``coverage``."""
    rows = []
    for name, r in results.items():
        overall = r.shares[r.shares["kind"] == "all"].iloc[0]
        row: dict[str, Any] = {
            "variant": name,
            "users": int(r.summary["users"]),
            "recommendations": int(r.summary["recommendations"]),
        }
        for p in r.players:
            row[share_column(p)] = float(overall[f"share_{p}"])
        row["exposure Gini"] = float(r.summary["exposure_gini"])
        row["coverage"] = float(r.summary["coverage"])
        rows.append(row)
    return pd.DataFrame(rows)


def segment_kinds(result: AuditResult) -> list[str]:
    """The kinds of segment an audit has besides the overall row (user group, category…)."""
    return [k for k in dict.fromkeys(result.shares["kind"]) if k != "all"]


def segment_shares(result: AuditResult, kind: str | None) -> pd.DataFrame:
    """``label`` (``segment (n=…)``) and one share column per input, overall row first."""
    seg = result.shares[result.shares["kind"].isin(["all", kind])]
    out = pd.DataFrame({"label": seg["segment"].astype(str) + " (n=" + seg["n"].astype(str) + ")"})
    for p in result.players:
        out[p] = seg[f"share_{p}"].to_numpy()
    return out.reset_index(drop=True)


EXPOSURE_BY = {"popularity bucket": "popularity_bucket", "category": "item_category"}


def exposure_shares(results: Mapping[str, AuditResult], by: str) -> pd.DataFrame:
    """``<by>``, ``share of recommendations`` and ``variant``: how each variant's
    recommendations split over popularity buckets or categories (empty when unknown)."""
    col = EXPOSURE_BY[by]
    frames = []
    for name, r in results.items():
        recs = r.recommendations
        if col not in recs:
            continue
        share = recs[col].astype(str).value_counts(normalize=True)
        frames.append(
            share.rename("share of recommendations")
            .rename_axis(by)
            .reset_index()
            .assign(variant=name)
        )
    if not frames:
        return pd.DataFrame(columns=[by, "share of recommendations", "variant"])
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class ColdItems:
    """Cold items (≤ :data:`COLD_MAX_INTERACTIONS` train interactions) in one audit."""

    in_catalogue: int
    recommended: int  # distinct cold items recommended at least once
    recommendations: int  # recommendations of a cold item
    total: int  # every recommendation
    top: pd.DataFrame  # item, times recommended (most recommended first, ≤ 10)

    @property
    def share(self) -> float:
        return self.recommendations / max(self.total, 1)


def cold_items(result: AuditResult, top: int = 10) -> ColdItems:
    recs = result.recommendations
    cold = recs[recs["cold"].astype(str).str.startswith("cold")]
    counts = cold.groupby("item").size().sort_values(ascending=False).head(top)
    return ColdItems(
        int((result.exposure["popularity"] <= COLD_MAX_INTERACTIONS).sum()),
        int(cold["item"].nunique()),
        len(cold),
        len(recs),
        pd.DataFrame({"item": counts.index.astype(np.int64), "times recommended": counts.values}),
    )


# ------------------------------------------------------------------------------ training
def epoch_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """``epoch``, ``loss`` and ``valid recall@20`` of one ``on_epoch`` record."""
    return {
        "epoch": int(record["epoch"]),
        "loss": float(record["loss"]["total"]),
        "valid recall@20": (record.get("valid") or {}).get("recall@20"),
    }


def epoch_fraction(record: Mapping[str, Any]) -> float:
    """How far training is (0–1) after this epoch."""
    return min(1.0, int(record["epoch"]) / max(1, int(record["epochs"])))


def epoch_text(record: Mapping[str, Any]) -> str:
    """``epoch 3/20 · loss 0.6931 · valid Recall@20 0.1234 · best epoch 2``."""
    recall = (record.get("valid") or {}).get("recall@20", math.nan)
    return (
        f"epoch {record['epoch']}/{record['epochs']} · loss {record['loss']['total']:.4f} · "
        f"valid Recall@20 {recall:.4f} · best epoch {record['best_epoch']}"
    )
