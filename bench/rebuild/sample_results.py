"""Results tables of the bundled sample: the shipped models and every tuned variant.

Reads the models shipped in ``sample_data/wardrobe/models/<variant>/`` (each chosen by the
tuning protocol: ``python -m anchorrec tune``, shipped by ``bench/rebuild/ship_tuned.py``),
evaluates each on test with MMRec's ``train`` mask and checks that it reproduces its
recorded metrics, measures it per shopper group (``users.csv``'s ``group``) and on the test
purchases of new arrivals (``items.csv``'s ``new_arrival``), and reads the five-seed summary
of its ``tuning.json``. With ``--tune-root DIR`` it also reads every variant's tune output
under ``DIR`` (``DIR/<variant>/summary.json``), shipped or not. The figures are appended to
``bench/results/sample_results.jsonl``; ``--update-docs`` rewrites the tables of
docs/results.md from that row.

    python -m bench.rebuild.sample_results [--tune-root DIR] [--update-docs] [--threads 1]
    python -m bench.rebuild.sample_results --docs-only   # tables from the last recorded row
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import RESULTS_DIR, ROOT, record  # noqa: E402

DOC = ROOT / "docs" / "results.md"
START, END = "<!-- GENERATED:sample-results -->", "<!-- /GENERATED:sample-results -->"
BENCH = "sample_results"
#: the order of the tables: the AnchorRec family, then the baselines
ORDER = (
    "anchor", "anchor-noamp", "anchor-noproj", "none", "direct",
    "lightgcn", "mf", "ease", "itemknn", "rp3beta", "popularity",
)  # fmt: skip
KEYS = ("recall@20", "ndcg@20")
#: the photo sample's shopper groups, in the order the docs show them
GROUPS = ("visual", "textual", "collaborative")


def _round(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(float(metrics[k]), 4) for k in KEYS}


def new_arrival_test(ds):
    """``ds`` with its test split cut to the purchases of new arrivals (None without any)."""
    import numpy as np
    import scipy.sparse as sp

    if ds.items is None or "new_arrival" not in ds.items.columns:
        return None
    new = ds.items["new_arrival"].astype(str).str.lower().isin(("true", "1")).to_numpy()
    test = (ds.test @ sp.diags(new.astype(np.float32))).tocsr()
    test.eliminate_zeros()
    return dataclasses.replace(ds, test=test) if test.nnz else None


def shipped_results(sample: Path) -> dict[str, dict[str, Any]]:
    """Every shipped model's test figures, per group and on new arrivals, and its tuning."""
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation import evaluate, evaluate_segments, user_segments
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.model_dir import ModelDir

    ds = load_mmrec(sample)
    new_ds = new_arrival_test(ds)
    groups = user_segments(ds, "group")
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((sample / "models").iterdir()):
        md = ModelDir(path)
        if not md.is_model():
            continue
        t0 = time.perf_counter()
        loaded = load_model(path, ds)
        mask = loaded.metrics["mask"]
        test = evaluate(loaded.model, ds, "test", mask=mask)
        for key in KEYS:  # the figures the Overview reads are the ones measured here
            if abs(test[key] - loaded.metrics["test"][key]) > 1e-6:
                raise SystemExit(f"{path}: test {key} {test[key]} ≠ recorded")
        tuning = json.loads(md.tuning.read_text(encoding="utf-8"))
        row: dict[str, Any] = {
            "mask": mask,
            "weights_mb": round(md.weights.stat().st_size / 1e6, 2),
            "best_epoch": loaded.metrics.get("best_epoch"),
            "test": _round(test),
            "groups": {
                g: _round(m)
                for g, m in evaluate_segments(loaded.model, ds, groups, "test", mask=mask).items()
            },
            "tuning": _summary(tuning["summary"]),
        }
        if new_ds is not None:
            row["new_arrivals"] = _round(evaluate(loaded.model, new_ds, "test", mask=mask))
            row["new_arrival_purchases"] = int(new_ds.test.nnz)
        row["seconds"] = round(time.perf_counter() - t0, 1)
        out[loaded.variant] = row
        print(loaded.variant, json.dumps(row), flush=True)
    return out


def _summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The parts of a tune summary the docs show."""
    return {
        "chosen": summary["chosen"],
        "seeds": len(summary["seeds"]),
        "closed_form": summary["closed_form"],
        "budget": summary["budget"],
        "mask": summary["mask"],
        "seed0": _round(summary["runs"][0]["test"]),
        "test_mean": {k: round(summary["test"][k]["mean"], 4) for k in KEYS},
        "test_sd": {k: round(summary["test"][k]["sd"], 4) for k in KEYS},
    }


def tuned_results(tune_root: Path) -> dict[str, dict[str, Any]]:
    """Every variant's tune summary under ``tune_root`` (``<variant>/summary.json``)."""
    out = {}
    for path in sorted(tune_root.glob("*/summary.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        out[summary["variant"]] = _summary(summary)
    return out


# ------------------------------------------------------------------------------- docs
def _ordered(names) -> list[str]:
    return sorted(names, key=lambda v: (ORDER.index(v) if v in ORDER else len(ORDER), v))


def _point(chosen: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in chosen.items()) or "–"


def render(row: dict[str, Any]) -> str:
    """The generated part of docs/results.md (Markdown) from one recorded row."""
    shipped, tuned = row["shipped"], row.get("tuned") or {}
    lines = [
        f"Test split of `{row['dataset']}` ({row['users']:,} shoppers, {row['items']:,} items), "
        f"items of the train split masked (MMRec's rule, `{row['mask']}`). Each model is its "
        "variant's choice by the tuning protocol (the grid's best point on valid Recall@20), "
        "trained with seed 0; the mean ± sd is over the protocol's five seeds.",
        "",
        "| model | Recall@20 | NDCG@20 | seeds: Recall@20 mean ± sd | NDCG@20 mean ± sd "
        "| chosen point | shipped (weights) |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for v in _ordered(set(shipped) | set(tuned)):
        s = shipped.get(v)
        t = (s or {}).get("tuning") or tuned[v]
        seed0 = s["test"] if s else t["seed0"]
        sd_note = " (closed form)" if t["closed_form"] else ""
        where = f"`models/{v}` ({s['weights_mb']:.2g} MB)" if s else "not shipped"
        lines.append(
            f"| `{v}` | {seed0['recall@20']:.4f} | {seed0['ndcg@20']:.4f} "
            f"| {t['test_mean']['recall@20']:.4f} ± {t['test_sd']['recall@20']:.4f}{sd_note} "
            f"| {t['test_mean']['ndcg@20']:.4f} ± {t['test_sd']['ndcg@20']:.4f} "
            f"| {_point(t['chosen'])} | {where} |"
        )
    found = {g for s in shipped.values() for g in s["groups"]}
    groups = [g for g in GROUPS if g in found] + sorted(found - set(GROUPS))
    lines += [
        "",
        "The shipped models per shopper group and on the test purchases of new arrivals "
        f"({next(iter(shipped.values())).get('new_arrival_purchases', 0):,} purchases), "
        "Recall@20 / NDCG@20, seed 0:",
        "",
        "| model | " + " | ".join(groups) + " | new arrivals |",
        "|---|" + "---|" * (len(groups) + 1),
    ]
    for v in _ordered(shipped):
        s = shipped[v]
        cells = [
            f"{s['groups'][g]['recall@20']:.3f} / {s['groups'][g]['ndcg@20']:.3f}" for g in groups
        ]
        new = s.get("new_arrivals")
        cells.append(f"{new['recall@20']:.3f} / {new['ndcg@20']:.3f}" if new else "–")
        lines.append(f"| `{v}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| figures | script | date (UTC) | git | machine | load (1 min) |",
        "|---|---|---|---|---|---|",
        f"| the tables above | `bench/rebuild/sample_results.py` | {row['date'][:10]} "
        f"| `{row['git']}` | {row['machine']['cores']}-core {row['machine']['cpu']} "
        f"| {row['load_avg_1min']} |",
    ]
    return "\n".join(lines)


def update_docs(row: dict[str, Any], doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{render(row)}\n{END}{tail}", encoding="utf-8")
    print(f"updated {doc.relative_to(ROOT)}")


def last_row() -> dict[str, Any]:
    lines = (RESULTS_DIR / f"{BENCH}.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads([line for line in lines if line.strip()][-1])


def main() -> None:
    from anchorrec.workspace import SAMPLE_DATASET_DIR

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=Path, default=SAMPLE_DATASET_DIR)
    ap.add_argument("--tune-root", type=Path, help="also read DIR/<variant>/summary.json")
    ap.add_argument("--update-docs", action="store_true", help="rewrite docs/results.md's tables")
    ap.add_argument("--docs-only", action="store_true", help="tables from the last recorded row")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.docs_only:
        update_docs(last_row())
        return
    import torch

    from anchorrec.data.mmrec import load_mmrec

    torch.set_num_threads(args.threads)
    ds = load_mmrec(args.sample)
    shipped = shipped_results(args.sample)
    row = record(
        BENCH,
        {
            "dataset": args.sample.resolve().relative_to(ROOT).as_posix()
            if args.sample.resolve().is_relative_to(ROOT)
            else str(args.sample),
            "fingerprint": ds.fingerprint,
            "users": ds.n_users,
            "items": ds.n_items,
            "mask": "train",
            "threads": args.threads,
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "headline": [f"{v}_recall@20" for v in _ordered(shipped)],
            **{f"{v}_recall@20": shipped[v]["test"]["recall@20"] for v in _ordered(shipped)},
            "shipped": shipped,
            "tuned": tuned_results(args.tune_root) if args.tune_root else {},
        },
    )
    if args.update_docs:
        update_docs(row)


if __name__ == "__main__":
    main()
