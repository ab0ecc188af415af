"""Each shipped model of the sample against lightgcn: paired bootstrap intervals over test users.

The Overview page shows the same table for any dataset. Here it is recorded for the bundled
sample's shipped models, so docs/results.md can quote it:

    python -m bench.research.paired_intervals [--dataset sample_data/boutique] [--reference lightgcn]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--dataset", type=Path, default=ROOT / "sample_data" / "boutique")
    ap.add_argument("--reference", default="lightgcn")
    args = ap.parse_args(argv)
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation import compare_to_reference, per_user_metrics
    from anchorrec.models.checkpoint import load_model

    ds = load_mmrec(args.dataset)
    per_user = {
        d.name: per_user_metrics(load_model(d, ds), ds, "test", k=20)
        for d in sorted((args.dataset / "models").iterdir())
        if (d / "config.json").is_file()
    }
    differences = compare_to_reference(per_user, args.reference)
    figures = {
        f"{d.model} {d.metric}": {
            "difference": round(d.difference, 4),
            "interval": [round(d.low, 4), round(d.high, 4)],
            "verdict": d.verdict,
        }
        for d in differences
    }
    for name, value in figures.items():
        print(name, value, flush=True)
    record(
        "paired_intervals",
        {
            "dataset": ds.name,
            "fingerprint": ds.fingerprint,
            "reference": args.reference,
            "users": differences[0].users if differences else 0,
            "level": 0.95,
            "differences": figures,
            "headline": ["reference", "differences"],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
