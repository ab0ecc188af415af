"""What measuring a model's modality reliance costs, per attribution game.

The Positional collapse page shows the stored reliance and offers to measure a model that
lacks it; ``prepare`` measures it for both games. This times that measurement from a fresh
process state: the coalition cache of the game (2^n forward passes, once per draw in the
background game) and one ranking of the test split per coalition, with the bootstrap
intervals. Also the size of the background game's coalition cache, which ``prepare`` keeps in
memory rather than on disk.

    python -m bench.speed.reliance_time [MODEL_DIR ...]   (default: every model of the sample)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, peak_rss_mb, record  # noqa: E402


def measure(model_dir: Path, dataset) -> list[dict]:
    from anchorrec.analysis.attribution import GAMES, coalition_cache
    from anchorrec.analysis.reliance import reliance
    from anchorrec.models.checkpoint import load_model

    rows = []
    for game in GAMES:
        loaded = load_model(model_dir, dataset, device="cpu")  # a fresh model: no cache yet
        load_avg = os.getloadavg()[0]
        t0 = time.perf_counter()
        result = reliance(loaded, game=game)
        seconds = time.perf_counter() - t0
        cache = coalition_cache(loaded, game=game)  # the one the measurement built
        rows.append(
            {
                "model": model_dir.name,
                "game": game,
                "players": list(result.players),
                "coalitions": len(result.rows),
                "users": result.users,
                "seconds": round(seconds, 1),
                "cache_mb": round((cache.users.nbytes + cache.items.nbytes) / 2**20, 1),
                "all_inputs_recall@20": round(result.rows[0].recall, 4),
                "load_avg_1m_at_start": round(load_avg, 1),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.workspace import SAMPLE_DATASET_DIR, find_models

    ap = argparse.ArgumentParser()
    ap.add_argument("model_dirs", nargs="*", type=Path)
    args = ap.parse_args()
    dirs = args.model_dirs
    dataset_dir = dirs[0].parent.parent if dirs else SAMPLE_DATASET_DIR
    ds = load_mmrec(dataset_dir)
    if not dirs:
        dirs = [e.path for e in find_models(SAMPLE_DATASET_DIR, ds.fingerprint) if e.usable]
    runs = [row for d in dirs for row in measure(Path(d), ds)]
    record(
        "reliance_time",
        {
            "dataset": str(
                dataset_dir.relative_to(ROOT) if dataset_dir.is_relative_to(ROOT) else dataset_dir
            ),
            "runs": runs,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 1),
        },
    )


if __name__ == "__main__":
    main()
