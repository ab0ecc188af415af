"""LightGCN on the real Amazon Baby 5-core graph: test Recall@20 / NDCG@20 of the best epoch.

Published LightGCN on MMRec's Baby split reports Recall@20 ≈ 0.07–0.08. The shared copy uses
another random 8:1:1 split (../shared/data/amazon_baby_5core/SOURCE.md), so the figure is
comparable in size, not digit for digit.

    python -m bench.research.lightgcn_baby [--epochs 60] [--lr 5e-3] [--l2 1e-4] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.babylib import load_baby  # noqa: E402
from bench.common.benchlib import peak_rss_mb, record  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--l2", type=float, default=1e-4)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    ds = load_baby(with_features=False)
    cfg = preset_config(
        "default",
        variant="lightgcn",
        epochs=args.epochs,
        learning_rate=args.lr,
        l2_weight=args.l2,
        patience=args.patience,
    )
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = train(
        ds,
        "lightgcn",
        cfg,
        seed=0,
        device="cpu",
        progress=False,
        on_epoch=lambda r: print(
            f"epoch {r['epoch']} loss {r['loss']['total']:.4f} "
            f"valid recall@20 {r['valid']['recall@20']:.4f} ({r['seconds']:.1f}s)",
            flush=True,
        ),
    )
    wall = time.perf_counter() - t0
    test = result.metrics["test"]
    record(
        "lightgcn_baby",
        {
            "dataset": "amazon_baby_5core (shared split, not MMRec's)",
            "epochs_run": len(result.log),
            "best_epoch": result.best_epoch,
            "lr": args.lr,
            "l2_weight": args.l2,
            "test_recall@20": round(test["recall@20"], 4),
            "test_ndcg@20": round(test["ndcg@20"], 4),
            "valid_recall@20": round(result.metrics["valid"]["recall@20"], 4),
            "median_train_s_per_epoch": round(
                sorted(r["train_seconds"] for r in result.log)[len(result.log) // 2], 2
            ),
            "wall_s": round(wall, 1),
            "threads": torch.get_num_threads(),
            "load_avg_1min_before": round(load_before, 2),
            "load_avg_1min_after": round(os.getloadavg()[0], 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
