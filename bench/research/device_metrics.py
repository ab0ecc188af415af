"""Does training on this device, in float32 and under bfloat16 autocast, keep the metrics?

Trains each ``--variants`` model on the bundled sample (the only dataset beside the project
with real image and text features) with the shipped models' seed and budget (≤ ``--epochs``,
early stopping on valid Recall@20 with ``--patience``, lr 5e-3), once per ``--precisions``
entry, on ``--device``, and records for each run the test Recall@20 / NDCG@20, the best epoch
and the median seconds per epoch. The shipped models (trained on one CPU thread) are the
reference: their recorded test metrics go in the same row, so a GPU run that drifts from them
by more than the CPU run-to-run noise (about 0.01 Recall@20, docs/models.md#default-ours) shows. Every shipped
model is also evaluated on ``--device`` as it is, against its recorded test metrics (the
largest absolute difference over all of them), which checks CUDA inference by itself.

    python -m bench.research.device_metrics --device cuda                     # fp32 and bf16
    python -m bench.research.device_metrics --device cpu --precisions fp32 --epochs 2   # smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE_DIR = ROOT / "sample_data" / "boutique"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--variants", nargs="+", default=["anchor", "lightgcn"])
    ap.add_argument("--precisions", nargs="+", choices=("fp32", "bf16"), default=["fp32", "bf16"])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import torch

    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.device import resolve_device
    from anchorrec.evaluation import evaluate
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    dev = resolve_device(args.device)
    if "bf16" in args.precisions and dev.type != "cuda":
        raise SystemExit("bf16 autocast is used on CUDA only: pass --precisions fp32 on a CPU")
    ds = load_mmrec(SAMPLE_DIR)
    runs: dict[str, dict[str, object]] = {}
    for variant in args.variants:
        shipped = SAMPLE_DIR / "models" / variant / "metrics.json"
        reference = json.loads(shipped.read_text())["test"] if shipped.exists() else None
        for precision in args.precisions:
            cfg = preset_config(
                "default",
                variant=variant,
                epochs=args.epochs,
                patience=args.patience,
                learning_rate=args.lr,
            )
            epoch_seconds: list[float] = []
            with tempfile.TemporaryDirectory(prefix="anchorrec-device-metrics-") as out:
                t0 = time.perf_counter()
                result = train(
                    ds,
                    variant,
                    cfg,
                    out_dir=Path(out) / variant,
                    seed=args.seed,
                    device=str(dev),
                    mixed_precision=precision == "bf16",
                    progress=False,
                    on_epoch=lambda rec, into=epoch_seconds: into.append(float(rec["seconds"])),
                )
                wall = time.perf_counter() - t0
            test = result.metrics["test"]
            key = f"{variant}/{precision}"
            runs[key] = {
                "recall@20": round(test["recall@20"], 4),
                "ndcg@20": round(test["ndcg@20"], 4),
                "best_epoch": result.best_epoch,
                "epochs": len(epoch_seconds),
                "epoch_seconds": round(statistics.median(epoch_seconds), 3),
                "wall_seconds": round(wall, 1),
            }
            if reference is not None:
                runs[key]["shipped_recall@20"] = round(reference["recall@20"], 4)
                runs[key]["shipped_ndcg@20"] = round(reference["ndcg@20"], 4)
            print(key, runs[key], flush=True)
    shipped_on_device = {}
    for model_dir in sorted((SAMPLE_DIR / "models").iterdir()):
        if not (model_dir / "metrics.json").exists():
            continue
        recorded = json.loads((model_dir / "metrics.json").read_text())["test"]
        got = evaluate(load_model(model_dir, ds, device=str(dev)).model, ds, "test")
        shipped_on_device[model_dir.name] = {
            "recall@20": round(got["recall@20"], 4),
            "recorded_recall@20": round(recorded["recall@20"], 4),
            "max_abs_diff": float(f"{max(abs(got[k] - recorded[k]) for k in recorded):.2g}"),
        }
        print(model_dir.name, shipped_on_device[model_dir.name], flush=True)
    record(
        f"device_metrics_{dev.type}",
        {
            "dataset": "sample_data/boutique",
            "device": str(dev),
            "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "seed": args.seed,
            "max_epochs": args.epochs,
            "patience": args.patience,
            "lr": args.lr,
            "runs": runs,
            "shipped_on_device": shipped_on_device,
            "headline": ["device", "runs"],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
