"""Results table of the sample shop: Recall@20 / NDCG@20 of every variant and baseline.

Every model is trained with the same seed and budget (``--epochs`` maximum, early stopping
on valid Recall@20). ``--ship`` writes the AnchorRec-family models and LightGCN (the ID-only
comparison the dashboard offers) to
``sample_data/boutique/models/<variant>/`` (the models the app and the tests load); the
baselines go to a temporary directory. Without ``--ship`` the shipped models are evaluated
as they are and only the baselines are trained.

    python -m bench.rebuild.sample_results [--ship] [--epochs 60] [--preset default] [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE_DIR = ROOT / "sample_data" / "boutique"
SHIPPED = ("anchor", "direct", "none", "anchor-noproj", "anchor-noamp", "lightgcn")
BASELINES = ("mf", "popularity")


def per_group(model, ds) -> dict[str, dict[str, float]]:
    """Test Recall@20 / NDCG@20 of each planted shopper group (``users.csv``'s ``group``)."""
    from anchorrec.evaluation import evaluate_segments, user_segments

    by_group = evaluate_segments(model, ds, user_segments(ds, "group"), "test")
    return {
        g: {"recall@20": round(m["recall@20"], 4), "ndcg@20": round(m["ndcg@20"], 4)}
        for g, m in by_group.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ship", action="store_true", help="(re)train and write the shipped models")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", nargs="+", default=[*SHIPPED, *BASELINES])
    ap.add_argument(
        "--lr", type=float, default=5e-3, help="learning rate (released grid 1e-4…5e-3)"
    )
    ap.add_argument("--resume", action="store_true", help="continue interrupted shipped runs")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation import evaluate
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    ds = load_mmrec(SAMPLE_DIR)
    scratch = Path(tempfile.mkdtemp(prefix="anchorrec-sample-"))
    rows = {}
    try:
        for variant in args.variants:
            shipped_dir = SAMPLE_DIR / "models" / variant
            t0 = time.perf_counter()
            if variant in SHIPPED and not args.ship and shipped_dir.exists():
                loaded = load_model(shipped_dir, ds)
                model = loaded.model
                test = evaluate(model, ds, "test")
                best_epoch = loaded.metrics.get("best_epoch")
                preset = loaded.preset
            else:
                out = shipped_dir if variant in SHIPPED else scratch / variant
                cfg = preset_config(
                    args.preset,
                    variant=variant,
                    epochs=args.epochs,
                    patience=args.patience,
                    learning_rate=args.lr,
                )
                result = train(
                    ds,
                    variant,
                    cfg,
                    out_dir=out,
                    seed=args.seed,
                    device="cpu",
                    progress=False,
                    overwrite=True,
                    resume=args.resume,
                )
                model = result.model
                test = result.metrics["test"]
                best_epoch = result.best_epoch
                preset = cfg.preset
                if variant in SHIPPED:
                    size = (out / "model.safetensors").stat().st_size
                    print(f"{variant}: {size / 1e6:.2f} MB", flush=True)
            rows[variant] = {
                "preset": preset,
                "best_epoch": best_epoch,
                "recall@20": round(test["recall@20"], 4),
                "ndcg@20": round(test["ndcg@20"], 4),
                "recall@10": round(test["recall@10"], 4),
                "ndcg@10": round(test["ndcg@10"], 4),
                "coverage@20": round(test["coverage@20"], 4),
                "seconds": round(time.perf_counter() - t0, 1),
                "groups": per_group(model, ds),
            }
            print(variant, rows[variant], flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    record(
        "sample_results",
        {
            "dataset": "sample_data/boutique",
            "fingerprint": ds.fingerprint,
            "users": ds.n_users,
            "items": ds.n_items,
            "seed": args.seed,
            "max_epochs": args.epochs,
            "patience": args.patience,
            "lr": args.lr,
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
