"""Wall-clock time of one t-SNE and one UMAP layout (with trustworthiness) at 5k and 20k items.

The input is a seeded mixture of 30 Gaussian clusters in 64-d (the width of every learned
space), the shape of the catalogues the dashboard projects; 20,000 is the sampling cap above
which a space is projected on a seeded sample (anchorrec.analysis.projection.MAX_POINTS).
Timings use :func:`anchorrec.analysis.projection.project_space`, i.e. the exact code path
of ``python -m anchorrec project`` (default parameters, trustworthiness on ≤ 2,000 rows).
UMAP's one-off costs (the cold ``import umap`` and the numba JIT of the first fit) are
measured separately and excluded from the per-layout median.

    python -m bench.speed.projection_time [--sizes 5000,20000] [--methods tsne,umap] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import median_time, peak_rss_mb, record  # noqa: E402

DIM = 64
CLUSTERS = 30


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CLUSTERS, DIM)) * 2.0
    return (centres[rng.integers(0, CLUSTERS, size=n)] + rng.normal(size=(n, DIM))).astype(
        np.float32
    )


def _tsne_implementation() -> str:
    """Which t-SNE the layouts run (openTSNE; scikit-learn's where it is not installed)."""
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        return "scikit-learn"
    return "openTSNE"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="5000,20000")
    ap.add_argument("--methods", default="tsne,umap")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from anchorrec.analysis.projection import project_space
    from anchorrec.analysis.spaces import Space

    figures: dict[str, object] = {
        "dim": DIM,
        "clusters": CLUSTERS,
        "repeats": max(3, args.repeats),
        "tsne_implementation": _tsne_implementation(),
        "load_avg_1m_start": round(os.getloadavg()[0], 1),
    }
    methods = [m for m in args.methods.split(",") if m]
    if "umap" in methods:
        t0 = time.perf_counter()
        import umap  # noqa: F401

        figures["umap_cold_import_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        project_space(Space("warmup", clustered(500, 1), ""), "umap")
        figures["umap_first_fit_500_s"] = round(time.perf_counter() - t0, 2)
    for n in (int(s) for s in args.sizes.split(",") if s):
        space = Space(f"clusters{n}", clustered(n), "")
        for method in methods:
            trust: list[float] = []

            def run(space=space, method=method, trust=trust):
                trust.append(project_space(space, method).trustworthiness)

            med, times = median_time(run, repeats=args.repeats)
            figures[f"{method}_{n}_s"] = round(med, 2)
            figures[f"{method}_{n}_runs_s"] = [round(t, 2) for t in times]
            figures[f"{method}_{n}_trustworthiness"] = round(float(np.median(trust)), 4)
            print(f"{method} {n}: {med:.1f}s", flush=True)
    figures["load_avg_1m_end"] = round(os.getloadavg()[0], 1)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    record("projection_time", figures)


if __name__ == "__main__":
    main()
