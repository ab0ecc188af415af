"""Collapse and ID-dominance diagnostics of the sample's shipped models, side by side, and
whether they reproduce the paper's claim. Each report is also stored beside its model
(``diagnostics.json``, what the dashboard's Positional collapse page reads).

The paper's claim (docs/analysis.md#positional-collapse): direct alignment (AlignRec) is more
ID-dominant and less content-coherent than anchored alignment (AnchorRec): its final-space
neighbours share less text with the item and more co-interactions, and its final vectors sit
closer to the ID vectors. Each part is checked separately and reported either way.

    python -m bench.rebuild.variant_diagnostics [--models sample_data/wardrobe/models]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, peak_rss_mb, record  # noqa: E402

MODELS = ROOT / "sample_data" / "wardrobe" / "models"
VARIANTS = (
    "anchor",
    "direct",
    "none",
    "anchor-noproj",
    "anchor-noamp",
    "lightgcn",
    "ease",
    "popularity",
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(MODELS))
    args = ap.parse_args()
    from anchorrec.analysis.diagnostics import compare, diagnose, store_diagnostics
    from anchorrec.models.checkpoint import load_model

    reports = {}
    seconds = {}
    for variant in VARIANTS:
        model_dir = Path(args.models) / variant
        if (model_dir / "config.json").is_file():
            t0 = time.perf_counter()
            loaded = load_model(model_dir)
            reports[variant] = diagnose(loaded)
            seconds[variant] = round(time.perf_counter() - t0, 1)
            store_diagnostics(loaded, reports[variant])  # what Positional collapse shows
            print(f"{variant}: {seconds[variant]} s", flush=True)
    if not reports:
        raise SystemExit(f"none of {VARIANTS} under {args.models}")
    wide = compare(list(reports.values()))
    table = [
        {k: (v if isinstance(v, str) else round(float(v), 4)) for k, v in row.items()}
        for row in wide.to_dict(orient="records")
    ]
    claim = {}
    if {"anchor", "direct"} <= set(reports):
        a, d = reports["anchor"], reports["direct"]
        claim = {
            "direct_more_id_dominant": d.value("id_dominance") > a.value("id_dominance"),
            "anchor_neighbours_share_more_text": a.value("neighbour_text_cosine")
            > d.value("neighbour_text_cosine"),
            "anchor_neighbours_share_more_image": a.value("neighbour_image_cosine")
            > d.value("neighbour_image_cosine"),
            "direct_neighbours_more_co_interactions": d.value("neighbour_shared_users")
            > a.value("neighbour_shared_users"),
            "direct_final_closer_to_id": d.value("coembedding_displacement")
            < a.value("coembedding_displacement"),
        }
    record(
        "variant_diagnostics",
        {
            "variants": list(reports),
            "seconds": seconds,
            "table": table,
            "paper_claim": claim,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
