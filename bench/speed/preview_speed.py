"""New-product preview speed on CPU: seconds per preview per variant at the sample's size.

One product (the first new arrival of ``items.csv``, its photo and copy) is encoded once
(``encode``: both offline encoders, shared by every variant), then previewed with each
variant's model: ``score`` is :func:`anchorrec.analysis.preview.preview_item` without the
attribution (placing the product, rebuilding the kNN graphs, one forward pass, every
shopper's rank, the nearest items), ``explain`` with the input-level attribution of its
audience (one forward pass per coalition of inputs). Medians of ``--repeats`` runs after one
warm-up; one run of ``score`` is split into its steps. The load average before and after is
recorded: on a shared machine the figures are upper bounds.

    python -m bench.speed.preview_speed --data /tmp/wardrobe --models /tmp/wardrobe-tune \
        --variants anchor direct none lightgcn
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(ROOT))

from bench.common.benchlib import median_time, peak_rss_mb, record  # noqa: E402

TARGET_S = 1.0


def _model_dir(models: Path, variant: str) -> Path:
    for candidate in (models / variant / "model", models / variant):
        if (candidate / "config.json").is_file():
            return candidate
    raise SystemExit(f"no model of {variant} under {models}")


def _steps(lm, product) -> dict[str, float]:
    from anchorrec.analysis import preview as pv

    out = {}
    t = time.perf_counter()
    placed = pv.placed_model(lm, product)
    out["place_s"] = time.perf_counter() - t
    t = time.perf_counter()
    emb = placed.model.compute_embeddings()  # builds the kNN graphs of the placed catalogue
    out["forward_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pv.item_ranks(emb.users, emb.items, placed.dataset.train, lm.dataset.n_items)
    out["ranks_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pv.nearest_items(emb.spaces, lm.dataset.n_items, lm.dataset.n_items, placed.dataset)
    out["nearest_s"] = time.perf_counter() - t
    return {k: round(v, 3) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    import torch

    from anchorrec.analysis import preview as pv
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--models", required=True, help="folder with <variant>/model or <variant>")
    p.add_argument("--variants", nargs="+", required=True)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = load_mmrec(args.data)
    items = ds.items
    new = items.index[items["new_arrival"].astype(str).str.lower() == "true"]
    row = items.iloc[int(new[0]) if len(new) else 0]
    product = pv.NewProduct(
        str(row["title"]), str(row["description"]), str(row["category"]), ds.path / row["image"]
    )
    load_before = os.getloadavg()
    pv.encode_product(product)  # loads both encoders (first use in the process)
    encode_s, encode_runs = median_time(lambda: pv.encode_product(product), args.repeats)
    features = pv.encode_product(product)
    for variant in args.variants:
        lm = load_model(_model_dir(Path(args.models), variant), ds)
        warm = pv.preview_item(lm, features, args.k, explain=False)  # warm-up
        audience = int(len(warm.audience))
        score_s, score_runs = median_time(
            lambda lm=lm: pv.preview_item(lm, features, args.k, explain=False), args.repeats
        )
        explain_s, _ = median_time(
            lambda lm=lm: pv.preview_item(lm, features, args.k), args.repeats
        )
        steps = {} if lm.model.id_only else _steps(lm, features)
        record(
            "preview_speed",
            {
                "data": Path(args.data).name,
                "items": ds.n_items,
                "shoppers": ds.n_users,
                "variant": variant,
                "id_only": bool(lm.model.id_only),
                "threads": torch.get_num_threads(),
                "encode_s": round(encode_s, 3),
                "score_s": round(score_s, 3),
                "score_runs": [round(t, 3) for t in score_runs],
                "explain_s": round(explain_s, 3),
                "steps": steps,
                "target_s": TARGET_S,
                "met": bool(score_s <= TARGET_S),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "encode_runs": [round(t, 3) for t in encode_runs],
                "peak_rss_mb": round(peak_rss_mb()),
                "audience": audience,
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
