"""How much of the sample's test set each signal can find on its own, per planted shopper group.

A multimodal recommender can only beat an ID-only one where the content says something the
interactions do not. This script measures, on the sample's test split (train and valid items
masked, Recall@20 over each group's users), four rankers that need no training:

- ``oracle``: the shoppers' true purchase probabilities (users.csv driver weights × each
  driver's choice set, as ``anchorrec.sample.shoppers`` draws them): the ceiling;
- ``co_purchase_knn``: item-kNN on the train interactions (cosine of item columns), summed
  over the user's train items;
- ``image_knn`` / ``text_knn``: the same with the cosine of the raw image / text features.

    python -m bench.research.content_signal [--dataset sample_data/boutique]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record  # noqa: E402

GROUPS = ("visual", "textual", "collaborative")
K = 20


def _recall(scores: np.ndarray, ds, users: np.ndarray) -> float:
    from anchorrec.evaluation.metrics import ranking_metrics

    masked = scores[users].copy()
    seen = (ds.train + ds.split("valid")).tocsr()[users]
    masked[np.repeat(np.arange(len(users)), np.diff(seen.indptr)), seen.indices] = -np.inf
    top = np.argsort(-masked, axis=1, kind="stable")[:, :K]
    popularity = np.asarray(ds.train.sum(axis=0)).ravel()
    return ranking_metrics(top, ds.split("test"), users, [K], popularity)[f"recall@{K}"]


def _cosine(x: np.ndarray) -> np.ndarray:
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return np.maximum(x @ x.T, 0.0)


def oracle_scores(items: pd.DataFrame, users: pd.DataFrame) -> np.ndarray:
    from anchorrec.sample.shoppers import DRIVERS, driver_choice_weights

    out = np.zeros((len(users), len(items)))
    for u, shopper in users.iterrows():
        choice = driver_choice_weights(items, shopper)
        for d in DRIVERS:
            w = choice[d]
            if w.sum() > 0:
                out[u] += float(shopper[f"w_{d}"]) * w / w.sum()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT / "sample_data" / "boutique"))
    args = ap.parse_args()
    from anchorrec.data.mmrec import load_mmrec

    ds = load_mmrec(args.dataset)
    items = pd.read_csv(Path(args.dataset) / "items.csv")
    shoppers = pd.read_csv(Path(args.dataset) / "users.csv")
    train = ds.train.toarray().astype(np.float64)
    rankers = {
        "oracle": oracle_scores(items, shoppers),
        "co_purchase_knn": train @ _cosine(train.T),
        "image_knn": train @ _cosine(ds.features["image"].astype(np.float64)),
        "text_knn": train @ _cosine(ds.features["text"].astype(np.float64)),
    }
    test = ds.split("test")
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    group = shoppers["group"].astype(str).to_numpy()[users]
    results = {}
    for name, scores in rankers.items():
        results[name] = {"all": round(_recall(scores, ds, users), 4)} | {
            g: round(_recall(scores, ds, users[group == g]), 4) for g in GROUPS
        }
        print(name, results[name], flush=True)
    record(
        "content_signal",
        {"dataset": Path(args.dataset).name, "fingerprint": ds.fingerprint, "k": K, **results},
    )


if __name__ == "__main__":
    main()
