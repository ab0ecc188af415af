"""Latency of attributing one user over the whole catalogue once the coalitions are cached.

Target: < 50 ms per user (input-level exact Shapley over every item, plus branch level).

Models measured:
- ``sample_data/wardrobe/models/anchor`` (the shipped sample) when present;
- a Baby-sized AnchorRec (the real Amazon Baby 5-core interactions from ../shared, 19,445
  users × 7,050 items, with random 4096-d image / 384-d text features of the real widths;
  weights untrained, which does not change the cost) when ../shared is present.

For each: the one-off cost of the 2^n forward passes (building the cache) and the median
per-user latency over 50 users (median of >= 3 repeats of that loop, per benchlib).

    python -m bench.speed.attribution_latency [--model MODEL_DIR] [--no-baby]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, median_time, peak_rss_mb, record  # noqa: E402

SAMPLE_MODEL = ROOT / "sample_data" / "wardrobe" / "models" / "anchor"
BABY_INTER = ROOT.parent / "shared" / "data" / "amazon_baby_5core" / "baby.inter"
USERS_TIMED = 50


def per_user_latency(cache, users: np.ndarray) -> dict[str, float]:
    """Median ms per user of (a) input-level φ over all items, (b) plus branch level, (c) top-10 explanation."""
    from anchorrec.analysis.attribution import explain_user

    def input_only():
        for u in users:
            cache.input_values(int(u))

    def input_and_branch():
        for u in users:
            cache.input_values(int(u))
            cache.branch_values(int(u))

    def top10():
        for u in users:
            explain_user(cache, int(u), 10)

    out = {}
    for name, fn in (
        ("input_ms", input_only),
        ("input_and_branch_ms", input_and_branch),
        ("explain_top10_ms", top10),
    ):
        med, _ = median_time(fn, repeats=3, warmup=1)
        out[name] = round(1000 * med / len(users), 3)
    return out


def measure(label: str, loaded) -> dict:
    from anchorrec.analysis.attribution import build_coalition_cache

    t0 = time.perf_counter()
    cache = build_coalition_cache(loaded)
    build_s = time.perf_counter() - t0
    users = np.random.default_rng(0).choice(
        cache.n_users, size=min(USERS_TIMED, cache.n_users), replace=False
    )
    lat = per_user_latency(cache, users)
    # efficiency holds on the timed path: baseline + Σφ = score for every item
    phi, base = cache.input_values(int(users[0]))
    err = float(np.max(np.abs(base + phi.sum(0) - cache.coalition_values(int(users[0]))[-1])))
    return {
        "model": label,
        "users": cache.n_users,
        "items": cache.n_items,
        "players": list(cache.players),
        "coalitions": len(cache.subsets),
        "cache_build_s": round(build_s, 2),
        "cache_mb": round(
            (
                cache.users.nbytes
                + cache.items.nbytes
                + cache.user_branches.nbytes
                + cache.item_branches.nbytes
            )
            / 2**20,
            1,
        ),
        **lat,
        "max_efficiency_error": err,
        "under_50ms": lat["input_and_branch_ms"] < 50,
    }


def baby_model(tmp: Path):
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import LoadedModel
    from anchorrec.models.registry import build_model

    d = tmp / "baby"
    d.mkdir()
    shutil.copyfile(BABY_INTER, d / "baby.inter")
    n_items = 7_050
    rng = np.random.default_rng(0)
    np.save(d / "image_feat.npy", rng.normal(size=(n_items, 4096)).astype(np.float32))
    np.save(d / "text_feat.npy", rng.normal(size=(n_items, 384)).astype(np.float32))
    ds = load_mmrec(d)
    model = build_model("anchor", ds, seed=0)
    model.eval()
    return LoadedModel(model, model.config, {}, ds, "anchor", d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(SAMPLE_MODEL))
    ap.add_argument("--no-baby", action="store_true")
    args = ap.parse_args()
    rows = []
    if Path(args.model, "config.json").is_file():
        from anchorrec.models.checkpoint import load_model

        rows.append(
            measure(
                str(
                    Path(args.model).relative_to(ROOT)
                    if Path(args.model).is_relative_to(ROOT)
                    else args.model
                ),
                load_model(args.model),
            )
        )
    if not args.no_baby and BABY_INTER.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(measure("baby-sized anchor (untrained)", baby_model(Path(tmp))))
    if not rows:
        raise SystemExit("no model to measure: train the sample models or provide --model")
    record(
        "attribution_latency",
        {
            "runs": rows,
            "worst_input_and_branch_ms": max(r["input_and_branch_ms"] for r in rows),
            "median_input_ms": statistics.median(r["input_ms"] for r in rows),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "load_avg_1m": round(os.getloadavg()[0], 1),
        },
    )


if __name__ == "__main__":
    main()
