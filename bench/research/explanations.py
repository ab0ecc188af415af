"""The figures of docs/explanations.md, from the sample's shipped models.

For every shipped variant: modality reliance (test Recall@20 / NDCG@20 of every coalition of
inputs) under both attribution games, the mean input-level shares of the top-10 lists under
both games, and the diagnostics with their intervals (stored beside each model as well, as
the dashboard's Positional collapse page reads them). Prints the Markdown tables and appends
one record to bench/results/explanations.jsonl.

    .venv/bin/python -m bench.research.explanations [--models DIR] [--variants anchor,direct]
        [--no-store] [--no-diagnostics]

``--models`` defaults to the bundled sample's models folder (the photo sample); variants that
are not there are skipped. Reliance ranks with the default mask (train items only, MMRec's
rule), recorded in each reliance result. ``--no-diagnostics`` skips computing the diagnostics
(minutes per model) and takes each model's stored report instead (``diagnostics.json``, written
by ``prepare``; only one for this model in the current format is read); the record says which
(``diagnostics_source``), and without a stored report for every variant the Markdown has no
diagnostics tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR  # noqa: E402
from bench.common.benchlib import ROOT, git_revision, peak_rss_mb, record  # noqa: E402

MODELS = SAMPLE_DATASET_DIR / MODELS_DIR
#: The graph-embedding variants. The item-item baselines (ease, popularity) are left out: they
#: have one input (ID), so nothing to compare, and their models take no background draws.
VARIANTS = ("anchor", "direct", "none", "anchor-noproj", "anchor-noamp", "lightgcn")
SHARE_K = 10
#: The diagnostics rows the docs show (the record keeps them all).
DOC_ROWS: tuple[tuple[str, str], ...] = (
    ("id_dominance", "top-10"),
    ("neighbour_text_cosine", "final"),
    ("neighbour_image_cosine", "final"),
    ("neighbour_shared_users", "final"),
    ("neighbour_two_hop_share", "final"),
    ("coembedding_displacement", "id_view~final"),
    ("linear_cka", "final~id_view"),
    ("knn_overlap", "final~id_view"),
    ("branch_variance_share", "id"),
    ("branch_variance_share", "fused"),
    ("branch_variance_share", "recover"),
    ("branch_magnitude", "id"),
    ("branch_magnitude", "fused"),
    ("branch_magnitude", "text"),
    ("branch_magnitude", "image"),
    ("branch_magnitude", "recover"),
    ("effective_rank", "final"),
    ("uniformity", "final"),
)


def run_variant(model_dir: Path, store: bool, diagnostics: bool = True) -> dict:
    from anchorrec.analysis.attribution import GAMES, attribute, coalition_cache, top_k_lists
    from anchorrec.analysis.diagnostics import diagnose, read_diagnostics, store_diagnostics
    from anchorrec.analysis.reliance import reliance
    from anchorrec.models.checkpoint import load_model

    loaded = load_model(model_dir)
    out: dict = {"variant": loaded.variant, "seconds": {}}
    for game in GAMES:
        t0 = time.perf_counter()
        cache = coalition_cache(loaded, game=game)
        out["seconds"][f"cache_{game}"] = round(time.perf_counter() - t0, 1)
        if len(cache.players) > 1:
            out[f"reliance_{game}"] = reliance(loaded, game=game).to_json()
        users, items, ranks = top_k_lists(cache, SHARE_K, np.arange(cache.n_users))
        shares = attribute(cache, users, items, ranks=ranks, standardised=False)
        out[f"shares_{game}"] = {
            p: float(shares.shares[m].mean()) for m, p in enumerate(cache.players)
        }
        out[f"efficiency_error_{game}"] = shares.efficiency_error()
        print(f"{loaded.variant} {game}: done", flush=True)
    if diagnostics:
        t0 = time.perf_counter()
        report = diagnose(loaded)
        out["seconds"]["diagnose"] = round(time.perf_counter() - t0, 1)
        out["diagnostics"] = report.to_json()
        out["diagnostics_source"] = "computed"
        if store:
            store_diagnostics(loaded, report)
        print(f"{loaded.variant} diagnostics: {out['seconds']['diagnose']} s", flush=True)
    elif (stored := read_diagnostics(model_dir)) is not None:  # this model's, current format
        out["diagnostics"] = stored.to_json()
        out["diagnostics_source"] = "stored"
    print("ROW " + json.dumps(out), flush=True)  # each variant's figures, as soon as they exist
    return out


def markdown(rows: list[dict], stamp: str) -> str:
    """The reliance, shares and diagnostics tables of docs/explanations.md."""
    from anchorrec.analysis.diagnostics import (
        DiagnosticsReport,
        compare_with_intervals,
        report_from_json,
    )

    lines = []
    for game in ("mean", "background"):
        have = [r for r in rows if f"reliance_{game}" in r]
        if not have:
            continue
        labels = [c["label"] for c in have[0][f"reliance_{game}"]["coalitions"]]
        lines += [
            f"Test Recall@20 with only these inputs, {game} game ({stamp}):",
            "",
            "| inputs kept | " + " | ".join(r["variant"] for r in have) + " |",
            "|---|" + "---:|" * len(have),
        ]
        for label in labels:
            cells = []
            for r in have:
                c = next(c for c in r[f"reliance_{game}"]["coalitions"] if c["label"] == label)
                cells.append(f"{c['recall']:.3f} [{c['recall_low']:.3f}, {c['recall_high']:.3f}]")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        f"Mean |φ| share over every top-{SHARE_K} list ({stamp}):",
        "",
        "| variant | game | " + " | ".join(("id", "image", "text")) + " |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        for game in ("mean", "background"):
            s = r[f"shares_{game}"]
            lines.append(
                f"| {r['variant']} | {game} | "
                + " | ".join(f"{s[p]:.3f}" if p in s else "—" for p in ("id", "image", "text"))
                + " |"
            )
    lines.append("")
    if not all("diagnostics" in r for r in rows):
        return "\n".join(lines)
    if any(r.get("diagnostics_source") == "stored" for r in rows):
        stamp = f"the models' stored reports, read {stamp}"
    reports: list[DiagnosticsReport] = [report_from_json(r["diagnostics"]) for r in rows]
    wide = compare_with_intervals(reports)
    keep = wide[["metric", "space"]].apply(tuple, axis=1).isin(DOC_ROWS)
    wide = (
        wide[keep]
        .set_index(["metric", "space"])
        .loc[
            [k for k in DOC_ROWS if k in set(wide[keep][["metric", "space"]].apply(tuple, axis=1))]
        ]
        .reset_index()
    )
    cols = ["metric", "space", *[r.variant for r in reports], "null", "verdict"]
    lines += [
        f"Diagnostics, 95% bootstrap intervals over items (users for attribution rows) ({stamp}):",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for d in wide.to_dict(orient="records"):  # (variant names are not identifiers)
        lines.append("| " + " | ".join(str(d.get(c, "—")) for c in cols) + " |")
    lines.append("")
    lines += [
        f"Per-item ID → final displacement (64-d), quantiles 5/25/50/75/95 % ({stamp}):",
        "",
        "| variant | q05 | q25 | median | q75 | q95 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rep in reports:
        dist = rep.distributions.get("coembedding_displacement")
        if dist:
            lines.append(
                f"| {rep.variant} | " + " | ".join(f"{v:.3f}" for v in dist["values"]) + " |"
            )
    return "\n".join(lines) + "\n"


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (no machine's paths)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main() -> None:
    from anchorrec.analysis.reliance import DEFAULT_MASK

    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(MODELS))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--no-store", action="store_true")
    ap.add_argument("--no-diagnostics", action="store_true", help="skip the diagnostics")
    args = ap.parse_args()
    rows = []
    for variant in [v for v in args.variants.split(",") if v]:
        model_dir = Path(args.models) / variant
        if (model_dir / "config.json").is_file():
            rows.append(
                run_variant(model_dir, store=not args.no_store, diagnostics=not args.no_diagnostics)
            )
    if not rows:
        raise SystemExit(f"none of {args.variants} under {args.models}")
    import datetime as dt

    stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d}, rev {git_revision()}"
    print(markdown(rows, stamp))
    record(
        "explanations",
        {
            "models": _shown(Path(args.models)),
            "diagnostics": not args.no_diagnostics,
            "mask": DEFAULT_MASK,
            "runs": rows,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "load_avg_1m": round(os.getloadavg()[0], 1),
            "max_efficiency_error": float(
                np.max([r[f"efficiency_error_{g}"] for r in rows for g in ("mean", "background")])
            ),
        },
    )


if __name__ == "__main__":
    main()
