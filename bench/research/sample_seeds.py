"""Is `anchor` above `lightgcn` on the sample by more than the seed-to-seed noise?

Trains every ``--variants`` model with each of ``--seeds`` on the bundled sample, with the
shipped models' budget (≤ ``--epochs``, early stopping on valid Recall@20 with
``--patience``, lr 5e-3, default preset, one torch thread per run, ``--jobs`` runs at once)
and records each run's test Recall@20 / NDCG@20 and best epoch, each variant's mean and
standard deviation over the seeds, and for every variant after the first reference
(``--reference``, default lightgcn) the per-seed difference to it: a difference that has the
same sign for every seed and exceeds the spread is one the sample shows; one inside it is not.

    python -m bench.research.sample_seeds [--seeds 0 1 2] [--variants anchor lightgcn] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE_DIR = ROOT / "sample_data" / "boutique"


def run_one(
    dataset_dir: str, variant: str, seed: int, epochs: int, patience: int, lr: float
) -> dict[str, object]:
    """Train one model in this (worker) process and return its test figures."""
    import torch

    torch.set_num_threads(1)
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    ds = load_mmrec(dataset_dir)
    cfg = preset_config(
        "default", variant=variant, epochs=epochs, patience=patience, learning_rate=lr
    )
    t0 = time.perf_counter()
    result = train(ds, variant, cfg, seed=seed, device="cpu", progress=False)
    test = result.metrics["test"]
    return {
        "variant": variant,
        "seed": seed,
        "recall@20": round(test["recall@20"], 4),
        "ndcg@20": round(test["ndcg@20"], 4),
        "best_epoch": result.best_epoch,
        "seconds": round(time.perf_counter() - t0, 1),
        "fingerprint": ds.fingerprint,
    }


def summarise(runs: list[dict[str, object]], reference: str) -> dict[str, object]:
    """Per-variant mean/std over seeds and per-seed differences to ``reference``."""
    by_variant: dict[str, dict[int, dict[str, object]]] = {}
    for r in runs:
        by_variant.setdefault(str(r["variant"]), {})[int(r["seed"])] = r  # type: ignore[arg-type]
    out: dict[str, object] = {}
    for variant, seeds in by_variant.items():
        summary: dict[str, object] = {}
        for metric in ("recall@20", "ndcg@20"):
            values = [float(seeds[s][metric]) for s in sorted(seeds)]  # type: ignore[arg-type]
            summary[f"{metric}_mean"] = round(statistics.mean(values), 4)
            summary[f"{metric}_std"] = round(statistics.stdev(values), 4) if len(values) > 1 else 0
            if variant != reference and reference in by_variant:
                ref = by_variant[reference]
                diffs = [
                    round(float(seeds[s][metric]) - float(ref[s][metric]), 4)  # type: ignore[arg-type]
                    for s in sorted(seeds)
                    if s in ref
                ]
                summary[f"{metric}_minus_{reference}"] = diffs
                if diffs:
                    summary[f"{metric}_minus_{reference}_mean"] = round(statistics.mean(diffs), 4)
                    summary[f"{metric}_above_{reference}_every_seed"] = all(d > 0 for d in diffs)
        out[variant] = summary
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--dataset", type=Path, default=SAMPLE_DIR)
    ap.add_argument("--variants", nargs="+", default=["anchor", "lightgcn"])
    ap.add_argument("--reference", default="lightgcn")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (one torch thread each)")
    args = ap.parse_args(argv)

    jobs = [(v, s) for s in args.seeds for v in args.variants]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(run_one, str(args.dataset), v, s, args.epochs, args.patience, args.lr)
            for v, s in jobs
        ]
        runs = [f.result() for f in futures]
    for r in runs:
        print(r, flush=True)
    fingerprints = {str(r.pop("fingerprint")) for r in runs}
    record(
        "sample_seeds",
        {
            "dataset": str(args.dataset.relative_to(ROOT))
            if args.dataset.is_relative_to(ROOT)
            else str(args.dataset),
            "fingerprint": ",".join(sorted(fingerprints)),
            "seeds": args.seeds,
            "max_epochs": args.epochs,
            "patience": args.patience,
            "lr": args.lr,
            "runs": runs,
            "summary": summarise(runs, args.reference),
            "wall_seconds": round(time.perf_counter() - t0, 1),
            "headline": ["seeds", "summary"],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
