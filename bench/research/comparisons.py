"""Every variant and baseline tuned by one protocol, over seeds, with paired intervals.

``run`` tunes each ``--variants`` model on ``--data`` with :func:`anchorrec.training.tuning.tune`
(its documented grid, selection on valid Recall@20 only, early stopping with the same epoch
budget and patience for every gradient-trained model, the chosen point retrained with each
seed, test metrics computed once per seed under the mask rule ``--mask``) and stores, per
variant, ``grid.json``, ``summary.json`` and ``per_user.npz`` (each seed's per-user test
Recall@20 / NDCG@20) under ``--out/<variant>/``. One torch thread per process; a variant
already done is skipped, so the run can be resumed or split across processes.

``report`` reads those directories and prints the results table: mean ± sd over the seeds of
test Recall@20 and NDCG@20, and the paired bootstrap interval (95 %, 2000 resamples over the
same test users) of the difference to LightGCN and to EASE, computed on each user's metric
averaged over the seeds. It appends a record with machine, date and git revision to
``bench/results/comparisons.jsonl``, writes the table as Markdown to ``--table`` and, with
``--keep DIR``, copies every variant's ``summary.json`` and ``grid.json`` under ``DIR``.

    python bench/research/comparisons.py run --data sample_data/boutique \
        --out runs/boutique --variants ease itemknn rp3beta lightgcn anchor
    python bench/research/comparisons.py report --runs runs/boutique --table table.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import record  # noqa: E402

REFERENCES = ("lightgcn", "ease")
METRICS = ("recall@20", "ndcg@20")


def _parse_points(specs: list[str]) -> dict[str, int]:
    out = {}
    for spec in specs:
        name, _, n = spec.partition("=")
        out[name] = int(n)
    return out


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def _grid_job(data: str, variant: str, out: str, index: int, budget: int, patience: int, seed: int):
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.training.tuning import run_grid_point

    row = run_grid_point(
        load_mmrec(data),
        variant,
        out,
        index,
        budget=budget,
        patience=patience,
        seed=seed,
        device="cpu",
    )
    print(
        f"[{variant}] grid point {index}: {row['point']} valid recall@20 "
        f"{row['valid']['recall@20']:.4f} (best epoch {row['best_epoch']})",
        flush=True,
    )
    return row


def _seed_job(data: str, variant: str, out: str, config: dict, seed: int):
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.config import ModelConfig
    from anchorrec.training.tuning import run_seed

    run_seed(load_mmrec(data), ModelConfig.from_dict(config, variant=variant), out, seed, "cpu")
    print(f"[{variant}] seed {seed} trained", flush=True)
    return seed


def cmd_run(args: argparse.Namespace) -> int:
    from concurrent.futures import ProcessPoolExecutor

    _worker_init()
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation import per_user_metrics
    from anchorrec.models.checkpoint import load_model
    from anchorrec.training.tuning import grid_points, tune

    ds = load_mmrec(args.data)
    max_points = _parse_points(args.max_points)
    root = Path(args.out)
    say = lambda s: print(s, flush=True)  # noqa: E731
    for variant in args.variants:
        out = root / variant
        if (out / "per_user.npz").exists():
            print(f"{variant}: done already", flush=True)
            continue
        t0 = time.perf_counter()
        common = dict(
            budget=args.budget,
            patience=args.patience,
            seeds=args.seeds,
            mask=args.mask,
            device="cpu",
            max_points=max_points.get(variant),
            resume=True,
            log=say,
        )
        points = grid_points(variant, max_points.get(variant))
        if args.jobs > 1 and len(points) > 1:  # the grid points in parallel, then the seeds
            with ProcessPoolExecutor(args.jobs, initializer=_worker_init) as pool:
                list(
                    pool.map(
                        _grid_job,
                        *zip(  # noqa: B905 - equal lengths by construction
                            *[
                                (
                                    args.data,
                                    variant,
                                    str(out),
                                    i,
                                    args.budget,
                                    args.patience,
                                    args.seeds[0],
                                )
                                for i in range(len(points))
                            ]
                        ),
                    )
                )
        if args.jobs > 1 and len(args.seeds) > 1:
            # select on valid (tune with one seed trains nothing new), then the other seeds
            chosen = tune(ds, variant, out, **{**common, "seeds": args.seeds[:1]})
            if not chosen.summary["closed_form"]:
                config = chosen.summary["chosen_config"]
                with ProcessPoolExecutor(args.jobs, initializer=_worker_init) as pool:
                    list(
                        pool.map(
                            _seed_job,
                            *zip(  # noqa: B905 - equal lengths by construction
                                *[(args.data, variant, str(out), config, s) for s in args.seeds[1:]]
                            ),
                        )
                    )
        result = tune(ds, variant, out, **common)
        per_user: dict[str, np.ndarray] = {}
        for run in result.seeds:
            loaded = load_model(out / run["model_dir"], ds)
            pu = per_user_metrics(loaded, ds, "test", k=20, mask=args.mask)
            per_user["users"] = pu["users"]
            for m in METRICS:
                per_user[f"{m}/seed-{run['seed']}"] = pu[m]
        np.savez_compressed(out / "per_user.npz", **per_user)
        print(f"{variant}: {time.perf_counter() - t0:.0f}s", flush=True)
    return 0


def _seed_mean(per_user: np.lib.npyio.NpzFile, metric: str) -> np.ndarray:
    cols = [per_user[k] for k in per_user.files if k.startswith(metric + "/")]
    return np.mean(cols, axis=0)


def cmd_report(args: argparse.Namespace) -> int:
    from anchorrec.evaluation.significance import paired_bootstrap_interval

    lines: list[str] = []
    records = []
    for runs_dir in map(Path, args.runs):
        done = sorted(
            (d for d in runs_dir.iterdir() if (d / "per_user.npz").exists()),
            key=lambda d: json.loads((d / "summary.json").read_text())["variant"],
        )
        summaries = {d.name: json.loads((d / "summary.json").read_text()) for d in done}
        if args.keep:  # the small JSON evidence of every finished variant, for the repository
            for d in done:
                target = Path(args.keep) / runs_dir.name / d.name
                target.mkdir(parents=True, exist_ok=True)
                for name in ("summary.json", "grid.json"):
                    shutil.copyfile(d / name, target / name)
        per_user = {d.name: np.load(d / "per_user.npz") for d in done}
        masks = {s["mask"] for s in summaries.values()}
        header = (
            "| model | chosen (valid Recall@20) | seeds | test Recall@20 | test NDCG@20 | "
            + " | ".join(f"Δ Recall@20 vs {r}" for r in REFERENCES if r in per_user)
            + " |"
        )
        lines += [
            f"**{runs_dir.name}** (mask rule: {', '.join(sorted(masks))})",
            "",
            header,
            "|" + "---|" * (header.count("|") - 1),
        ]
        for name, s in summaries.items():
            t = s["test"]
            chosen = ", ".join(f"{k}={v:g}" for k, v in s["chosen"].items()) or "(no grid)"
            grid = f"{s['grid_points']} pts" + (
                f", first {s['grid_truncated_to']} of the grid" if s["grid_truncated_to"] else ""
            )
            row = {
                "dataset": runs_dir.name,
                "variant": name,
                "mask": s["mask"],
                "chosen": s["chosen"],
                "grid_points": s["grid_points"],
                "seeds": s["seeds"],
                "closed_form": s["closed_form"],
                **{f"test_{m}": t[m] for m in METRICS},
            }
            cells = []
            for ref in REFERENCES:
                if ref not in per_user:
                    continue
                if ref == name:
                    cells.append("—")
                    continue
                a = _seed_mean(per_user[name], "recall@20")
                b = _seed_mean(per_user[ref], "recall@20")
                assert np.array_equal(per_user[name]["users"], per_user[ref]["users"])
                diff = float(np.mean(a - b))
                low, high = paired_bootstrap_interval(a, b)
                row[f"recall@20_minus_{ref}"] = {"diff": diff, "low": low, "high": high}
                cells.append(f"{diff:+.4f} [{low:+.4f}, {high:+.4f}]")
            seeds_note = f"{len(s['seeds'])}" + (" (deterministic)" if s["closed_form"] else "")
            lines.append(
                f"| {name} | {chosen} ({grid}) | {seeds_note} | "
                f"{t['recall@20']['mean']:.4f} ± {t['recall@20']['sd']:.4f} | "
                f"{t['ndcg@20']['mean']:.4f} ± {t['ndcg@20']['sd']:.4f} | "
                + " | ".join(cells)
                + " |"
            )
            records.append(row)
        lines.append("")
    rec = record("comparisons", {"rows": records})
    lines.append(f"Machine: {rec['machine'].get('cpu')}, {rec['date']}, git {rec['git']}.")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.table:
        Path(args.table).write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--variants", nargs="+", required=True)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--mask", default="train")
    p.add_argument("--jobs", type=int, default=1, help="processes for grid points and seeds")
    p.add_argument(
        "--max-points",
        nargs="*",
        default=[],
        metavar="VARIANT=N",
        help="run only the first N points of VARIANT's grid (reported in the table)",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("report")
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--table", default=None)
    p.add_argument("--keep", default=None, help="copy each summary.json and grid.json here")
    p.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
