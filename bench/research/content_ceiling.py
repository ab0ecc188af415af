"""Could any rebuild of the sample put `anchor` clearly above `lightgcn`? A ceiling test.

`anchor` ties `lightgcn` on the sample (docs/results.md#sample-shop-results). If the reason were the
sample's content features (an ImageNet EfficientNet barely sees the planted shade; the text
embedding follows the product noun), then features that state the planted attributes exactly
would open a gap. This script trains `anchor` (default preset) and `lightgcn` on:

- ``dense``: the shipped sample's interactions (19 purchases per shopper, 49 per item);
- ``sparse``: the same catalogue recipe at Amazon Baby's density (5–12 purchases per shopper:
  about 8 per shopper and 23 per item after the 5-core, as in Baby), built by the sample
  builder with its real encoders;
- ``cold``: the shipped interactions where 300 seeded items keep only 2 train purchases each
  (their valid and test purchases stay): new arrivals the interactions hardly know;

each with two kinds of item features:

- ``encoded``: the real EfficientNet-Lite0 / MiniLM features of the pictures and copy;
- ``oracle``: one-hot codes of exactly the attributes the shoppers choose by — image: pattern
  and shade (+ category at half weight), text: occasion, collection and sustainability
  (+ category at half weight), with seeded noise of 0.05 to break ties; fused built from them
  as for any dataset without a fused file. No real encoder can do better than this.

Same budget as the shipped models (≤ 60 epochs, patience 10, lr 5e-3, one torch thread per
run, ``--jobs`` runs at once), for each of ``--seeds`` (the seed of the training, of the sparse
sample's build and of the cold items' choice). Records test Recall@20 / NDCG@20 overall and
per planted shopper group, and anchor − lightgcn for every setting and seed, with the mean.

    python -m bench.research.content_ceiling [--seeds 0 1 2] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE_DIR = ROOT / "sample_data" / "boutique"
GROUPS = ("visual", "textual", "collaborative")
SPARSE_PURCHASES = (5, 12)
COLD_ITEMS = 300
COLD_KEEP = 2
ORACLE_NOISE = 0.05
CATEGORY_WEIGHT = 0.5
IMAGE_ATTRIBUTES = ("pattern", "shade")
TEXT_ATTRIBUTES = ("occasion", "collection", "sustainability")


def oracle_features(items: pd.DataFrame, seed: int = 0) -> dict[str, np.ndarray]:
    """One-hot codes of the planted attributes each modality shows (category at half weight)."""
    rng = np.random.default_rng(seed)

    def code(columns: tuple[str, ...]) -> np.ndarray:
        parts = [pd.get_dummies(items[c].astype(str)).to_numpy(np.float32) for c in columns]
        parts.append(
            CATEGORY_WEIGHT * pd.get_dummies(items["category"].astype(str)).to_numpy(np.float32)
        )
        x = np.concatenate(parts, axis=1)
        return x + ORACLE_NOISE * rng.standard_normal(x.shape).astype(np.float32)

    return {"image": code(IMAGE_ATTRIBUTES), "text": code(TEXT_ATTRIBUTES)}


def with_oracle(ds):
    """The dataset with oracle image/text features and no fused file (derived on load)."""
    return dataclasses.replace(ds, features=oracle_features(ds.items))


def with_cold_items(ds, n_items: int = COLD_ITEMS, keep: int = COLD_KEEP, seed: int = 0):
    """``n_items`` seeded items keep only ``keep`` of their train purchases."""
    rng = np.random.default_rng(seed)
    train = ds.train.tocsc().astype(np.float32)
    counts = np.diff(train.indptr)
    cold = rng.choice(np.flatnonzero(counts > keep), size=n_items, replace=False)
    rows, cols = train.nonzero()
    drop = np.zeros(len(rows), dtype=bool)
    for i in cold:
        at = np.flatnonzero(cols == i)
        drop[rng.choice(at, size=len(at) - keep, replace=False)] = True
    kept = sp.csr_matrix(
        (np.ones((~drop).sum(), np.float32), (rows[~drop], cols[~drop])), shape=train.shape
    )
    return dataclasses.replace(ds, train=kept)


def build_settings(workdir: Path, seed: int) -> dict[str, Path]:
    """Write every (interactions, features) setting as an MMRec directory; name → path."""
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.sample.build import SampleConfig, generate_sample
    from anchorrec.sample.shoppers import InteractionRange

    shipped = load_mmrec(SAMPLE_DIR)
    t0 = time.perf_counter()
    sparse = generate_sample(
        SampleConfig(seed=seed, interactions=InteractionRange(*SPARSE_PURCHASES)), device="cpu"
    ).dataset
    print(f"sparse sample built and encoded in {time.perf_counter() - t0:.0f} s", flush=True)
    cold = with_cold_items(shipped, seed=seed)
    datasets = {
        "dense/encoded": shipped,
        "dense/oracle": with_oracle(shipped),
        "sparse/encoded": sparse,
        "sparse/oracle": with_oracle(sparse),
        "cold/encoded": cold,
        "cold/oracle": with_oracle(cold),
    }
    out = {}
    for name, ds in datasets.items():
        folder = workdir / name.replace("/", "-")
        save_mmrec(dataclasses.replace(ds, name=folder.name), folder)
        out[name] = folder
    return out


def run_one(folder: str, setting: str, variant: str, seed: int) -> dict[str, object]:
    """Train one model in this (worker) process; its test figures overall and per group."""
    import torch

    torch.set_num_threads(1)
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation.metrics import evaluate_segments, user_segments
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    ds = load_mmrec(folder)
    cfg = preset_config("default", variant=variant, epochs=60, patience=10, learning_rate=5e-3)
    t0 = time.perf_counter()
    result = train(ds, variant, cfg, seed=seed, device="cpu", progress=False)
    test = result.metrics["test"]
    groups = evaluate_segments(result.model, ds, user_segments(ds, "group"), ks=[20])
    return {
        "setting": setting,
        "variant": variant,
        "seed": seed,
        "recall@20": round(test["recall@20"], 4),
        "ndcg@20": round(test["ndcg@20"], 4),
        "groups_recall@20": {g: round(groups[g]["recall@20"], 4) for g in GROUPS if g in groups},
        "best_epoch": result.best_epoch,
        "train_interactions": int(ds.train.nnz),
        "users": ds.n_users,
        "items": ds.n_items,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (one torch thread each)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="anchorrec-ceiling-") as tmp:
        jobs = []
        for seed in args.seeds:
            settings = build_settings(Path(tmp) / f"seed{seed}", seed)
            jobs += [(settings[s], s, "anchor", seed) for s in settings]
            # lightgcn reads no features: once per interaction set
            jobs += [(settings[s], s, "lightgcn", seed) for s in settings if s.endswith("/encoded")]
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_one, str(path), s, v, seed) for path, s, v, seed in jobs]
            runs = [f.result() for f in futures]
    for r in runs:
        print(r, flush=True)
    record(
        "content_ceiling",
        {
            "seeds": args.seeds,
            "max_epochs": 60,
            "patience": 10,
            "lr": 5e-3,
            "runs": runs,
            "anchor_minus_lightgcn": gaps(runs),
            "wall_seconds": round(time.perf_counter() - t0, 1),
            "headline": ["anchor_minus_lightgcn"],
        },
    )
    return 0


def gaps(runs: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Per setting: anchor − lightgcn (same interactions, same seed) per seed, and the mean."""
    reference = {
        (str(r["setting"]).split("/")[0], r["seed"]): r for r in runs if r["variant"] == "lightgcn"
    }
    out: dict[str, dict[str, object]] = {}
    for r in runs:
        if r["variant"] != "anchor":
            continue
        ref = reference[(str(r["setting"]).split("/")[0], r["seed"])]
        entry = out.setdefault(str(r["setting"]), {})
        for m in ("recall@20", "ndcg@20"):
            per_seed = entry.setdefault(m, {})
            per_seed[str(r["seed"])] = round(float(r[m]) - float(ref[m]), 4)  # type: ignore[arg-type,index]
    for entry in out.values():
        for m in ("recall@20", "ndcg@20"):
            values = list(entry[m].values())  # type: ignore[union-attr]
            entry[f"{m}_mean"] = round(statistics.mean(values), 4)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
