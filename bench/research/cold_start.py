"""Cold-start mechanisms compared: new-arrival and warm Recall@20 on valid (chosen) and test.

For every model (the sample's shipped seed-0 model of each variant and, with ``--seeds``,
``SEEDS/<variant>/seed-1..4``), every cold-start mechanism of
:mod:`anchorrec.models.cold_start` is fitted on the valid split only (its best setting within
the warm budget, :func:`anchorrec.training.cold_start_fit.fit_cold_start`), then the test
split is ranked (mask ``train``) with the model's published ranking, each mechanism, and the
content kNN alone. Reported per mechanism: valid warm / new (the choice), test warm / new /
all (mean ± sd over seeds) and the paired difference to the published ranking with a 95 %
bootstrap interval over the test shoppers (each shopper's difference averaged over seeds),
the mechanism kept on valid per seed, and the kept mechanism per shopper group
(``users.csv``'s ``group``).

    python -m bench.research.cold_start [--dataset sample_data/wardrobe] \
        [--seeds DIR] [--variants anchor direct]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, record, rewrite_between  # noqa: E402

CONTENT_ONLY = "content kNN alone"
PUBLISHED = "published (--cold-start off)"
KEPT = "kept on valid (each seed's choice: what the product ranks by)"


def _model_dirs(dataset: Path, seeds: Path | None, variant: str) -> list[Path]:
    dirs = [dataset / "models" / variant]
    if seeds is not None:
        dirs += sorted(p for p in (seeds / variant).glob("seed-*") if (p / "config.json").is_file())
    return [d for d in dirs if (d / "config.json").is_file()]


def _test_groups(loaded: Any, ds: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """group → (counted users, per-user test Recall@20) under ``loaded``'s ranking."""
    from anchorrec.evaluation.item_groups import group_masks, group_recall, ranked_top

    users, top = ranked_top(loaded, "test", 20, "train")
    return {g: group_recall(top, ds.test, users, mask) for g, mask in group_masks(ds).items()}


def _content_only(loaded: Any, ds: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The content kNN ranking every item (the model-free ceiling the issue names)."""
    import torch

    from anchorrec.evaluation.item_groups import group_masks, group_recall
    from anchorrec.evaluation.metrics import evaluated_users, seen_items
    from anchorrec.models.base import Embeddings
    from anchorrec.models.cold_start import content_vectors, user_profiles
    from anchorrec.models.ranking import top_k_items

    w = loaded.cold_start.image_weight if loaded.cold_start is not None else 0.5
    content = content_vectors(ds.features, w)
    emb = Embeddings(torch.from_numpy(user_profiles(ds.train, content)), torch.from_numpy(content))
    users = evaluated_users(ds, "test")
    top, _ = top_k_items(emb, users, 20, seen_items(ds, "test", "train"))
    return {g: group_recall(top, ds.test, users, mask) for g, mask in group_masks(ds).items()}


def run_model(model_dir: Path, ds: Any, budget: float, **grid: Any) -> dict[str, Any]:
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.cold_start import with_cold_start
    from anchorrec.training.cold_start_fit import cold_start_of, fit_cold_start

    loaded = with_cold_start(load_model(model_dir, ds), False)
    chosen, per, base = fit_cold_start(loaded, warm_budget=budget, **grid)
    emb = loaded.model.eval_embeddings()
    users = emb.users.detach().float().numpy()
    items = emb.items.detach().float().numpy()
    out: dict[str, Any] = {"kept": chosen.name, "valid_off": base, "test": {}, "valid": {}}
    out["test"][PUBLISHED] = _test_groups(loaded, ds)
    for name, trial in per.items():
        cold = cold_start_of(trial, users, items, ds)
        out["test"][name] = _test_groups(dataclasses.replace(loaded, cold_start=cold), ds)
        out["valid"][name] = {"warm": trial.warm, "new": trial.new, "setting": _setting(trial)}
    out["test"][CONTENT_ONLY] = _content_only(dataclasses.replace(loaded, cold_start=chosen), ds)
    return out


def _cached(cache: Path | None, variant: str, model_dir: Path, compute: Any) -> dict[str, Any]:
    """``compute()``, or its stored result for this model (a pickle in ``cache``)."""
    import pickle

    if cache is None:
        return compute()
    path = cache / f"{variant}-{model_dir.name}.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    out = compute()
    cache.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(out, fh)
    return out


def _setting(trial: Any) -> dict[str, Any]:
    keys = ("threshold", "image_weight", "spread", "shift", "ridge", "sharpness")
    return {k: getattr(trial, k) for k in keys}


def _mean_sd(values: list[float]) -> list[float]:
    return [round(float(np.mean(values)), 4), round(float(np.std(values)), 4)]


def summarise(runs: list[dict[str, Any]], ds: Any) -> dict[str, Any]:
    """Seeds pooled: mean ± sd, and paired intervals of (mechanism − published) per group."""
    from anchorrec.evaluation.significance import paired_bootstrap_interval

    names = list(runs[0]["test"])
    out: dict[str, Any] = {}
    for name in names:
        if not all(name in r["test"] for r in runs):
            continue
        row: dict[str, Any] = {}
        for g in ("warm", "new", "all"):
            seeds = [float(r["test"][name][g][1].mean()) for r in runs]
            row[f"test_{g}"] = _mean_sd(seeds)
            if name != PUBLISHED:
                diff = np.mean(
                    [r["test"][name][g][1] - r["test"][PUBLISHED][g][1] for r in runs], axis=0
                )
                low, high = paired_bootstrap_interval(diff, np.zeros_like(diff))
                row[f"test_{g}_difference"] = [
                    round(float(diff.mean()), 4),
                    round(low, 4),
                    round(high, 4),
                ]
        valid = [r["valid"][name] for r in runs if name in r["valid"]]
        if valid:
            row["valid_warm"] = _mean_sd([v["warm"] for v in valid])
            row["valid_new"] = _mean_sd([v["new"] for v in valid])
            row["settings"] = [v["setting"] for v in valid]
        out[name] = row
    return out


def by_shopper_group(runs: list[dict[str, Any]], ds: Any, names: list[str]) -> dict[str, Any]:
    """Seed-mean test Recall@20 per ranking: ``{ranking: {"<group> warm": …, "<group> new": …}}``
    over ``users.csv``'s groups."""
    if ds.users is None or "group" not in ds.users.columns:
        return {}
    groups = ds.users["group"].astype(str).to_numpy()
    out: dict[str, Any] = {}
    for name in names:
        row: dict[str, Any] = {}
        for shopper_group in sorted(set(groups)):
            for g in ("warm", "new"):
                vals = []
                for r in runs:
                    users, recall = r["test"][name][g]
                    mine = groups[users] == shopper_group
                    vals.append(float(recall[mine].mean()) if mine.any() else float("nan"))
                row[f"{shopper_group} {g}"] = round(float(np.nanmean(vals)), 4)
        out[name] = row
    return out


DOC = ROOT / "docs" / "cold_start.md"
MARKERS = ("<!-- COLD-START -->", "<!-- /COLD-START -->")


def _fmt(pair: list[float]) -> str:
    return f"{pair[0]:.4f} ± {pair[1]:.4f}"


def _diff(triple: list[float] | None) -> str:
    return "—" if not triple else f"{triple[0]:+.4f} [{triple[1]:+.4f}, {triple[2]:+.4f}]"


def report(paths: list[Path]) -> str:
    """Markdown tables of the newest row of each variant in ``paths``."""
    import json

    latest: dict[str, dict[str, Any]] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            latest[row["variant"]] = row
    out = []
    for variant, row in latest.items():
        out.append(
            f"**{variant}** ({row['seeds']} seeds; choice on valid within a warm cost of "
            f"{row['warm_budget_valid']}; grid {row.get('grid', 'default')}; kept per seed: "
            f"{', '.join(row['kept_per_seed'])})\n"
        )
        out.append(
            "| ranking | valid warm | valid new | test warm | test new | test all | "
            "test warm − published (95 %) | test new − published (95 %) |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for name, m in row["mechanisms"].items():
            vw = _fmt(m["valid_warm"]) if "valid_warm" in m else "—"
            vn = _fmt(m["valid_new"]) if "valid_new" in m else "—"
            out.append(
                f"| {name} | {vw} | {vn} | {_fmt(m['test_warm'])} | {_fmt(m['test_new'])} | "
                f"{_fmt(m['test_all'])} | {_diff(m.get('test_warm_difference'))} | "
                f"{_diff(m.get('test_new_difference'))} |"
            )
        groups = row.get("by_shopper_group") or {}
        if groups:
            cols = list(next(iter(groups.values())))
            out.append("\nBy shopper group (test Recall@20, mean over seeds):\n")
            out.append("| ranking | " + " | ".join(cols) + " |")
            out.append("|---|" + "---|" * len(cols))
            for name, vals in groups.items():
                out.append(f"| {name} | " + " | ".join(f"{vals[c]:.4f}" for c in cols) + " |")
        out.append("")
    out.append("| run | date (UTC) | git | machine |")
    out.append("|---|---|---|---|")
    for variant, row in latest.items():
        m = row.get("machine", {})
        machine = (
            f"{m.get('cores')}-core {m.get('cpu')}, {m.get('mem_gb')} GB, torch {m.get('torch')}"
        )
        out.append(f"| {variant} | {row['date'][:10]} | `{row['git']}` | {machine} |")
    out.append("")
    return "\n".join(out)


def update_docs(results: list[Path], doc: Path = DOC) -> None:
    """Rewrite the generated part of ``doc`` from ``results``."""
    rewrite_between(doc, MARKERS, report(results))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--update-docs", action="store_true", help="rewrite docs/cold_start.md's tables"
    )
    ap.add_argument("--dataset", type=Path, default=ROOT / "sample_data" / "wardrobe")
    ap.add_argument("--seeds", type=Path, default=None, help="SEEDS/<variant>/seed-N models")
    ap.add_argument("--variants", nargs="+", default=["anchor", "direct"])
    ap.add_argument("--budget", type=float, default=None, help="warm budget on valid")
    ap.add_argument("--thresholds", type=int, nargs="+", default=None, help="grid (default: all)")
    ap.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep each model's figures here (a run with --only computes one model and stops)",
    )
    ap.add_argument("--only", default=None, help="with --cache: only this model (e.g. seed-2)")
    ap.add_argument("--image-weights", type=float, nargs="+", default=None, help="grid")
    ap.add_argument("--sharpnesses", type=float, nargs="+", default=None, help="grid (taste)")
    args = ap.parse_args(argv)
    if args.update_docs:
        from bench.common.benchlib import RESULTS_DIR

        update_docs(sorted(RESULTS_DIR.glob("cold_start_*.jsonl")))
        return 0
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation.item_groups import group_masks
    from anchorrec.training.cold_start_fit import WARM_BUDGET

    budget = WARM_BUDGET if args.budget is None else args.budget
    ds = load_mmrec(args.dataset)
    for variant in args.variants:
        dirs = _model_dirs(args.dataset, args.seeds, variant)
        grid = {
            k: tuple(v)
            for k, v in (
                ("thresholds", args.thresholds),
                ("image_weights", args.image_weights),
                ("sharpnesses", args.sharpnesses),
            )
            if v
        }
        runs = []
        for d in dirs:
            if args.only is not None and d.name != args.only:
                continue
            runs.append(
                _cached(args.cache, variant, d, lambda d=d, g=grid: run_model(d, ds, budget, **g))
            )
        if args.only is not None:
            continue
        for r in runs:  # the product's own figures: each seed ranks by its valid choice
            r["test"][KEPT] = r["test"][r["kept"]]
            r["valid"][KEPT] = r["valid"][r["kept"]]
        mechanisms = summarise(runs, ds)
        kept = [r["kept"] for r in runs]
        names = [n for n in runs[0]["test"] if all(n in r["test"] for r in runs)]
        record(
            f"cold_start_{ds.name}_{variant}",
            {
                "dataset": ds.name,
                "variant": variant,
                "models": [
                    str(d.relative_to(ROOT)) if d.is_relative_to(ROOT) else d.name for d in dirs
                ],
                "seeds": len(runs),
                "split_choice": "valid",
                "split_report": "test",
                "mask": "train",
                "warm_budget_valid": budget,
                "grid": {k: list(v) for k, v in grid.items()} or "default",
                "new_arrivals": int(group_masks(ds)["new"].sum()),
                "kept_per_seed": kept,
                "mechanisms": mechanisms,
                "by_shopper_group": by_shopper_group(runs, ds, names),
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
