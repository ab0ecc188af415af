"""Seconds per epoch and peak memory of AnchorRec's presets on the Amazon Baby graph.

The real Baby interactions (19,445 users, 7,050 items) with random features of the paper's
sizes (4096-d image, 384-d text, 768-d fused), so the work per step is the released one.
Each preset runs in its own process (peak RSS is per process) for ``--epochs`` epochs; the
figure is the median training time of an epoch (the valid evaluation after it is reported
separately). The released code takes ≈57 s/epoch on a 2-core machine.

    python -m bench.speed.train_speed_baby [--epochs 2] [--presets paper default] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

RELEASED_S_PER_EPOCH = 57.0  #: the released AnchorRec code on a 2-core machine (task brief)


def child(preset: str, epochs: int, threads: int) -> dict:
    import torch

    if threads:
        torch.set_num_threads(threads)
    from anchorrec.models import build_model, preset_config
    from anchorrec.training import train
    from bench.common.babylib import load_baby
    from bench.common.benchlib import peak_rss_mb

    ds = load_baby()
    cfg = preset_config(preset, epochs=epochs, patience=epochs + 1)
    t0 = time.perf_counter()
    model = build_model("anchor", ds, cfg, seed=0)
    model._graphs(frozenset())
    build_s = time.perf_counter() - t0
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    del model
    load = [os.getloadavg()[0]]
    cpu: list[float] = []
    last = [time.process_time()]

    def on_epoch(record: dict) -> None:  # CPU seconds: stable on a shared machine
        now = time.process_time()
        cpu.append(round(now - last[0], 2))
        last[0] = now
        print(
            json.dumps({"epoch": record["epoch"], "train_s": record["train_seconds"]}),
            file=sys.stderr,
            flush=True,
        )

    result = train(ds, "anchor", cfg, seed=0, device="cpu", progress=False, on_epoch=on_epoch)
    load.append(os.getloadavg()[0])
    return {
        "preset": preset,
        "train_s_per_epoch": [r["train_seconds"] for r in result.log],
        "valid_eval_s": [round(r["seconds"] - r["train_seconds"], 3) for r in result.log],
        "cpu_s_per_epoch_incl_eval": cpu,
        "build_s": round(build_s, 2),
        "trainable_params": n_params,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "threads": torch.get_num_threads(),
        "load_avg_1min": [round(x, 2) for x in load],
        "valid_recall@20_last": result.log[-1]["valid"]["recall@20"],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--presets", nargs="+", default=["paper", "default"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.epochs, args.threads)))
        return
    from bench.common.benchlib import ROOT, record

    rows = {}
    for preset in args.presets:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.speed.train_speed_baby",
                "--child",
                preset,
                "--epochs",
                str(args.epochs),
                "--threads",
                str(args.threads),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["median_train_s_per_epoch"] = round(statistics.median(row["train_s_per_epoch"]), 2)
        row["fraction_of_released"] = round(
            row["median_train_s_per_epoch"] / RELEASED_S_PER_EPOCH, 3
        )
        rows[preset] = row
    record(
        "train_speed_baby",
        {"epochs": args.epochs, "released_s_per_epoch": RELEASED_S_PER_EPOCH, "presets": rows},
    )


if __name__ == "__main__":
    main()
