"""Seconds per epoch of data-parallel training (torchrun + DDP) for 1, 2, … processes.

Runs ``torchrun --nproc_per_node N -m anchorrec.training.distributed`` on an MMRec directory
(default: the shared Amazon Baby 5-core copy, which has interactions only, hence ``lightgcn``)
for each N of ``--nproc`` and reads the per-epoch ``train_seconds`` (sampling + steps,
without rank 0's evaluation) and the valid Recall@20 from the model's ``train_log.jsonl``. The
figure is the median over the epochs after the first (the first builds the graphs), or the
first when only one ran. On CPU each rank gets ``cores // N`` threads (gloo) unless
``--threads-per-rank`` says otherwise (on a machine busy with other jobs, 2 threads per process
oversubscribe the cores and the 1-process figure suffers, so pass 1 there); on CUDA one GPU
per rank (NCCL), so N is at most the number of visible GPUs.

Each rank runs ``--batch-size`` triples per step, so N ranks take N times fewer steps per
epoch (docs/benchmarks.md#data-parallel-training explains why the full-graph forward pass is not split).

    python -m bench.speed.distributed_training --nproc 1,2 --device cpu --epochs 2
    python -m bench.speed.distributed_training --nproc 1 --device cuda --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "amazon_baby_5core"


def run_once(args: argparse.Namespace, nproc: int, out_dir: Path) -> dict[str, object]:
    threads = args.threads_per_rank or (
        max(1, (os.cpu_count() or 1) // nproc) if args.device == "cpu" else 1
    )
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
    )
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={nproc}",
        "-m", "anchorrec.training.distributed", str(args.data),
        "--variant", args.variant, "--preset", args.preset, "--out", str(out_dir),
        "--device", args.device, "--epochs", str(args.epochs), "--quiet",
    ]  # fmt: skip
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"torchrun with {nproc} processes failed:\n{proc.stderr[-3000:]}")
    log = [json.loads(x) for x in (out_dir / "train_log.jsonl").read_text().splitlines() if x]
    seconds = [r["train_seconds"] for r in log]
    timed = seconds[1:] or seconds
    return {
        "epoch_train_seconds": round(statistics.median(timed), 3),
        "steps_per_rank": log[0]["steps"],
        "valid_recall@20": round(log[-1]["valid"]["recall@20"], 4),
        "wall_seconds": round(wall, 1),
        "threads_per_rank": threads,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MMRec dataset directory")
    p.add_argument("--variant", default="lightgcn")
    p.add_argument("--preset", default="default")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--nproc", default="1,2", help="comma-separated process counts")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=None, help="triples per rank per step")
    p.add_argument(
        "--threads-per-rank",
        type=int,
        default=0,
        help="torch threads of each rank (default: cores // N on CPU); 1 is fairer on a busy machine",
    )
    args = p.parse_args(argv)
    if not (args.data / f"{args.data.name}.inter").exists() and not list(args.data.glob("*.inter")):
        raise SystemExit(f"{args.data} is not an MMRec directory; pass --data")
    load_before = os.getloadavg()
    per_n: dict[str, dict[str, object]] = {}
    for n in (int(x) for x in args.nproc.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            per_n[str(n)] = run_once(args, n, Path(tmp) / "model")
    first = next(iter(per_n.values()))
    record(
        f"distributed_training_{args.data.name}_{args.variant}_{args.device}",
        {
            "dataset": args.data.name,
            "variant": args.variant,
            "preset": args.preset,
            "device": args.device,
            "epochs": args.epochs,
            "threads_per_rank": {n: r["threads_per_rank"] for n, r in per_n.items()},
            "epoch_train_seconds": {n: r["epoch_train_seconds"] for n, r in per_n.items()},
            "speedup": {
                n: round(float(first["epoch_train_seconds"]) / float(r["epoch_train_seconds"]), 2)
                for n, r in per_n.items()
            },
            "steps_per_rank": {n: r["steps_per_rank"] for n, r in per_n.items()},
            "valid_recall@20": {n: r["valid_recall@20"] for n, r in per_n.items()},
            "runs": per_n,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "headline": [
                "variant",
                "epoch_train_seconds",
                "speedup",
                "steps_per_rank",
                "valid_recall@20",
            ],  # fmt: skip
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
