"""Latency of "because you bought …" (history attribution) per recommendation.

Target: ≤ 50 ms per recommendation at the sample's size. For each model: the one-off cost of
the history basis (one forward pass plus the LightGCN layers), the median ms to split one
recommendation's score over the shopper's history (top-10 of 50 users, median of >= 3
repeats, per benchlib), the largest |unowned + Σ contributions − score| over those
recommendations, and the mean share of the score that no history item owns.

Models: the sample's shipped ``anchor`` and ``lightgcn`` (when present) and, with ../shared,
a Baby-sized untrained AnchorRec (real Amazon Baby interactions, random features of the real
widths; weights do not change the cost).

    .venv/bin/python bench/speed/history_latency.py [--no-baby]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, median_time, peak_rss_mb, record  # noqa: E402

MODELS = ROOT / "sample_data" / "wardrobe" / "models"
USERS_TIMED = 50
K = 10


def measure(label: str, loaded) -> dict:
    from anchorrec.analysis import history as hi

    hi._CACHES.pop(loaded.model, None)
    t0 = time.perf_counter()
    explainer = hi.history_explainer(loaded)
    build_s = time.perf_counter() - t0
    if explainer is None:
        return {"model": label, "linear_in_history": False}
    emb = loaded.model.compute_embeddings()
    user_emb, item_emb = emb.users.cpu().numpy(), emb.items.cpu().numpy()
    n_users, n_items = len(user_emb), len(item_emb)
    train = loaded.dataset.train.tocsr()
    users = np.random.default_rng(0).choice(n_users, size=min(USERS_TIMED, n_users), replace=False)
    pairs, scores = [], {}
    for u in users:
        s = (item_emb @ user_emb[u]).astype(np.float64)
        s[train.indices[train.indptr[u] : train.indptr[u + 1]]] = -np.inf
        for i in np.argsort(-s)[:K]:
            pairs.append((int(u), int(i)))
            scores[(int(u), int(i))] = float(s[i])

    def split_all():
        for u, i in pairs:
            explainer.explain(u, i)

    med, _ = median_time(split_all, repeats=3, warmup=1)
    errors, unowned_share, history_len = [], [], []
    for u, i in pairs:
        h = explainer.explain(u, i)
        score = scores[(u, i)]
        errors.append(abs(h.unowned + h.explained - score))
        unowned_share.append(abs(h.unowned) / (abs(h.unowned) + np.abs(h.contributions).sum()))
        history_len.append(len(h.history))
    ms = 1000 * med / len(pairs)
    return {
        "model": label,
        "linear_in_history": True,
        "users": n_users,
        "items": n_items,
        "paths": list(explainer.paths),
        "basis_build_s": round(build_s, 2),
        "recommendations_timed": len(pairs),
        "mean_history_items": round(float(np.mean(history_len)), 1),
        "per_recommendation_ms": round(ms, 4),
        "max_sum_error": float(max(errors)),
        "mean_unowned_share": round(float(np.mean(unowned_share)), 4),
        "under_50ms": ms <= 50,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-baby", action="store_true")
    args = ap.parse_args()
    from anchorrec.models.checkpoint import load_model

    rows = []
    for variant in ("anchor", "lightgcn"):
        model_dir = MODELS / variant
        if (model_dir / "config.json").is_file():
            rows.append(measure(f"sample {variant}", load_model(model_dir)))
    baby_inter = ROOT.parent / "shared" / "data" / "amazon_baby_5core" / "baby.inter"
    if not args.no_baby and baby_inter.is_file():
        from bench.speed.attribution_latency import baby_model

        with tempfile.TemporaryDirectory() as tmp:
            rows.append(measure("baby-sized anchor (untrained)", baby_model(Path(tmp))))
    if not rows:
        raise SystemExit("no model to measure: train the sample models first")
    timed = [r for r in rows if r.get("linear_in_history")]
    record(
        "history_latency",
        {
            "runs": rows,
            "worst_per_recommendation_ms": max(r["per_recommendation_ms"] for r in timed),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "load_avg_1m": round(os.getloadavg()[0], 1),
        },
    )


if __name__ == "__main__":
    main()
