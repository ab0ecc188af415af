"""Per-epoch time of a run started from the dashboard (a background job) against the same run
on the command line, on the bundled sample.

The dashboard's Train page starts ``python -m anchorrec train`` as its own process
(anchorrec.training.jobs); this measures both ways one after the other with the same options
and compares the mean per-epoch seconds the trainer itself records (train_log.jsonl), so
start-up (imports, data loading) is excluded from both. The issue's target: the app's epochs
within 1.2x of the CLI's.

    .venv/bin/python bench/speed/app_training_time.py [--variant lightgcn] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE = ROOT / "sample_data" / "wardrobe"


def _epoch_seconds(model_dir: Path) -> list[float]:
    from anchorrec.models.checkpoint import read_train_log

    return [float(r["seconds"]) for r in read_train_log(model_dir)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="lightgcn")
    ap.add_argument("--epochs", type=int, default=5)
    args = ap.parse_args()
    from anchorrec.training import jobs

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        cli_out, app_out = Path(tmp) / "cli", Path(tmp) / "models" / "app"
        opts = [
            "--variant",
            args.variant,
            "--epochs",
            str(args.epochs),
            "--patience",
            str(args.epochs),
            "--device",
            "auto",
            "--quiet",
        ]
        subprocess.run(
            [sys.executable, "-m", "anchorrec", "train", str(SAMPLE), *opts, "--out", str(cli_out)],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        job = jobs.start_job(
            SAMPLE, app_out, args.variant, epochs=args.epochs, patience=args.epochs
        )
        if jobs.wait(job, timeout=3600) != "done":
            raise SystemExit(f"the background run failed:\n{job.log_tail()}")
        cli, app = _epoch_seconds(cli_out), _epoch_seconds(app_out)
    figures = {
        "variant": args.variant,
        "epochs": args.epochs,
        "load_avg_1m_start": round(load_start, 2),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
        "cli_epoch_s": round(statistics.mean(cli), 3),
        "app_epoch_s": round(statistics.mean(app), 3),
        "ratio": round(statistics.mean(app) / statistics.mean(cli), 3),
        "cli_epochs_s": [round(s, 3) for s in cli],
        "app_epochs_s": [round(s, 3) for s in app],
    }
    record("app_training_time", figures)


if __name__ == "__main__":
    main()
