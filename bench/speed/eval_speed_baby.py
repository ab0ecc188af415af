"""Full-ranking evaluation time for all Amazon Baby users (19,445 × 7,050 items, 64-d).

Random 64-d embeddings on the real Baby graph; the median of 3 runs of
:func:`anchorrec.evaluation.evaluate` on the test split (train and valid items masked),
all metrics at K = 5, 10, 20, 50.

    python -m bench.speed.eval_speed_baby [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.babylib import load_baby  # noqa: E402
from bench.common.benchlib import median_time, record  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from anchorrec.evaluation import evaluate
    from anchorrec.models.base import Embeddings

    ds = load_baby(with_features=False)
    rng = np.random.default_rng(0)
    emb = Embeddings(
        torch.from_numpy(rng.standard_normal((ds.n_users, 64), dtype=np.float32)),
        torch.from_numpy(rng.standard_normal((ds.n_items, 64), dtype=np.float32)),
    )
    load = os.getloadavg()[0]
    median, times = median_time(lambda: evaluate(emb, ds, "test"), repeats=3, warmup=1)
    cpu0 = time.process_time()  # CPU seconds of one run: stable on a shared machine
    evaluate(emb, ds, "test")
    cpu_s = time.process_time() - cpu0
    record(
        "eval_speed_baby",
        {
            "users": ds.n_users,
            "items": ds.n_items,
            "median_s": round(median, 3),
            "runs_s": [round(t, 3) for t in times],
            "cpu_s_one_run": round(cpu_s, 3),
            "threads": torch.get_num_threads(),
            "load_avg_1min": round(load, 2),
        },
    )


if __name__ == "__main__":
    main()
