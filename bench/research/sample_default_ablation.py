"""Why the ``default`` preset deviates from ``paper``: AnchorRec on the sample, one change at a time.

Rows (same seed and budget): ``paper`` (released computation), ``default``, and ``default``
with one of its deviations undone: the released item–item propagation (3 layers, Z = S³z),
the alignment InfoNCE over the whole batch, the image view left out of the score, the raw
(unreduced) features.
Test Recall@20 / NDCG@20 of the best valid epoch, and the median training seconds per epoch.

    python -m bench.research.sample_default_ablation [--epochs 60] [--patience 10] [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE_DIR = ROOT / "sample_data" / "boutique"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--lr", type=float, default=5e-3, help="learning rate (released grid 1e-4…5e-3)"
    )
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument(
        "--rows",
        nargs="+",
        default=[
            "paper",
            "default",
            "default-released-propagation",
            "default-full-batch-align",
            "default-no-image-score",
            "default-raw-features",
        ],
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    budget = {"epochs": args.epochs, "patience": args.patience, "learning_rate": args.lr}
    configs = {
        "paper": preset_config("paper", **budget),
        "default": preset_config("default", **budget),
        "default-no-image-score": preset_config(
            "default", score_modalities=("fused", "text"), **budget
        ),
        "default-raw-features": preset_config("default", feature_dim=None, **budget),
        "default-released-propagation": preset_config(
            "default", modality_layers=3, modality_layer_mean=False, **budget
        ),
        "default-full-batch-align": preset_config("default", align_batch=None, **budget),
    }
    ds = load_mmrec(SAMPLE_DIR)
    rows = {}
    for name in args.rows:
        result = train(ds, "anchor", configs[name], seed=args.seed, device="cpu", progress=False)
        test = result.metrics["test"]
        rows[name] = {
            "best_epoch": result.best_epoch,
            "recall@20": round(test["recall@20"], 4),
            "ndcg@20": round(test["ndcg@20"], 4),
            "median_train_s_per_epoch": round(
                statistics.median(r["train_seconds"] for r in result.log), 3
            ),
        }
        print(name, rows[name], flush=True)
    record(
        "sample_default_ablation",
        {
            "dataset": "sample_data/boutique",
            "fingerprint": ds.fingerprint,
            "seed": args.seed,
            **budget,
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
