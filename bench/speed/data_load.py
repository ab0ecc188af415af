"""How fast the data layer reads and imports.

Figures (median of >= 3 runs, per benchlib):
- ``baby_load_seconds``: ``load_mmrec`` on the real Amazon Baby 5-core ``baby.inter``
  (160,792 lines, 19,445 users × 7,050 items), interactions only;
- ``baby_load_with_features_seconds``: the same with image/text feature files of the real
  widths (4096-d, 384-d float32; seeded random values: reading cost does not depend on them);
- ``import_seconds_per_item``: ``import_catalog`` of 100 real clothing photos
  (../shared/data/clothing_cc0, 10 classes × 10) with made-up titles, CPU unless --device,
  one run after a warm-up (the encoders' weights are loaded once per process).

    python -m bench.speed.data_load [--device cpu|cuda] [--no-import]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, median_time, peak_rss_mb, record  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
BABY_INTER = SHARED / "amazon_baby_5core" / "baby.inter"
CLOTHING = SHARED / "clothing_cc0" / "train"
PHOTOS_PER_CLASS = 10


def baby_figures(tmp: Path) -> dict[str, float]:
    from anchorrec.data.mmrec import load_mmrec

    d = tmp / "baby"
    d.mkdir()
    shutil.copyfile(BABY_INTER, d / "baby.inter")
    only, _ = median_time(lambda: load_mmrec(d), repeats=3, warmup=1)
    ds = load_mmrec(d)
    rng = np.random.default_rng(0)
    np.save(d / "image_feat.npy", rng.standard_normal((ds.n_items, 4096), dtype=np.float32))
    np.save(d / "text_feat.npy", rng.standard_normal((ds.n_items, 384), dtype=np.float32))
    with_feat, _ = median_time(lambda: load_mmrec(d), repeats=3, warmup=1)
    return {
        "baby_interactions": ds.n_interactions,
        "baby_load_seconds": round(only, 4),
        "baby_load_with_features_seconds": round(with_feat, 4),
    }


def write_catalog(tmp: Path, per_class: int) -> tuple[Path, Path]:
    items, inter = [], []
    for c in sorted(p.name for p in CLOTHING.iterdir() if p.is_dir()):
        files = sorted((CLOTHING / c).glob("*.jpg"))[:per_class]
        ids = [f"{c}-{n}" for n in range(len(files))]
        items += [
            [i, f"Product {i}", "", "apparel", f"{c}/{f.name}"]
            for i, f in zip(ids, files, strict=True)
        ]
        inter += [
            [f"u-{c}-{j}", ids[(j + k) % len(ids)]] for j in range(len(ids)) for k in range(5)
        ]
    paths = (tmp / "items.csv", tmp / "interactions.csv")
    for path, header, rows in (
        (paths[0], ["item_id", "title", "description", "category", "image"], items),
        (paths[1], ["user_id", "item_id"], inter),
    ):
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
    return paths


def import_figures(tmp: Path, device: str) -> dict[str, float]:
    from anchorrec.data.catalog import import_catalog

    items, inter = write_catalog(tmp, PHOTOS_PER_CLASS)

    def run(out: str):
        return import_catalog(items, inter, CLOTHING, tmp / out, device=device, progress=False)

    run("warm")
    t = time.perf_counter()
    ds = run("timed")
    seconds = time.perf_counter() - t
    return {
        "import_items": ds.n_items,
        "import_device": device,
        "import_seconds": round(seconds, 2),
        "import_seconds_per_item": round(seconds / ds.n_items, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-import", action="store_true")
    args = ap.parse_args()
    if not BABY_INTER.is_file():
        raise SystemExit(f"{BABY_INTER} is absent: this benchmark needs ../shared")
    with tempfile.TemporaryDirectory() as tmp:
        figures = baby_figures(Path(tmp))
        if not args.no_import and CLOTHING.is_dir():
            figures.update(import_figures(Path(tmp), args.device))
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["headline"] = [
        "baby_load_seconds",
        "baby_load_with_features_seconds",
        "import_seconds_per_item",
    ]
    record("data_load", figures)


if __name__ == "__main__":
    main()
