"""Sub-commands of the model area: ``train``, ``tune``, ``evaluate``, ``compare``, ``recommend``.

Every command that prints a metric names the evaluation mask rule it ranked under
(``--mask train``, MMRec's rule and the default, or ``train+valid``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from anchorrec.errors import ConfigError

METRIC_ORDER = ("recall", "ndcg", "precision", "map", "hitrate", "coverage", "mean_popularity")


def add_mask_argument(p: argparse.ArgumentParser) -> None:
    """``--mask``: which seen items are masked when ranking the test split."""
    from anchorrec.models.config import DEFAULT_MASK, MASK_RULES

    p.add_argument(
        "--mask",
        default=DEFAULT_MASK,
        choices=MASK_RULES,
        help="items masked when ranking the test split: train (MMRec's rule, default) or "
        "train+valid",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub``."""
    from anchorrec.models.config import PRESETS, TUNE_BUDGET, TUNE_PATIENCE, TUNE_SEEDS
    from anchorrec.models.registry import VARIANTS

    p = sub.add_parser("train", help="train a model on an MMRec dataset directory")
    p.add_argument("data_dir", metavar="DATA_DIR", help="MMRec dataset directory")
    p.add_argument("--variant", default="anchor", choices=VARIANTS)
    p.add_argument("--preset", default="default", choices=PRESETS)
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (preset: 100)")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience (epochs)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (preset: 1e-3)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--temperature", type=float, default=None, help="τ of the AAL InfoNCE (> 0)")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast on CUDA")
    p.add_argument(
        "--no-cuda-graphs",
        action="store_true",
        help="on CUDA, launch every kernel of a step from Python instead of replaying a graph",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing MODEL_DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_mask_argument(p)
    p.add_argument("--json", action="store_true", help="last stdout line: metrics as JSON")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "tune",
        help="tune a variant by the protocol: its grid, selection on valid, then several seeds",
        description="Run every point of VARIANT's documented grid (same epoch budget and "
        "patience for every gradient-trained model, early stopping on valid Recall@20), choose "
        "the point with the best valid Recall@20 (the test split is not read), train it with "
        "each seed and compute its test metrics once. Writes OUT/grid/point-<i> (every grid run), "
        "OUT/model (the chosen model), OUT/seed-<s>, OUT/grid.json and OUT/summary.json.",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="MMRec dataset directory")
    p.add_argument("--variant", required=True, choices=VARIANTS)
    p.add_argument("--preset", default="default", choices=PRESETS)
    p.add_argument(
        "--budget",
        type=int,
        default=TUNE_BUDGET,
        help=f"most epochs of every gradient-trained run (default {TUNE_BUDGET})",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=TUNE_PATIENCE,
        help=f"early-stopping patience in epochs (default {TUNE_PATIENCE})",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=list(TUNE_SEEDS),
        help="seeds of the chosen point; the first also runs the grid (default 0 1 2 3 4)",
    )
    p.add_argument(
        "--max-points",
        type=int,
        default=None,
        help="run only the first N points of the grid (recorded in summary.json)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_mask_argument(p)
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an existing DIR: grid points and seeds already trained there are reused",
    )
    p.add_argument("--json", action="store_true", help="last stdout line: the summary as JSON")
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("evaluate", help="full-ranking metrics of a trained model")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--split", default="test", choices=("valid", "test"))
    add_model_source_arguments(p)
    add_mask_argument(p)
    p.add_argument("--json", action="store_true", help="last stdout line: metrics as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "compare",
        help="is each model's lead over a reference real? paired bootstrap intervals over users",
        description="Evaluate every MODEL_DIR and the --reference model on the same users and "
        "print, per model, the difference of the means of Recall@K and NDCG@K to the reference "
        "with a 95%% paired bootstrap interval over the users and a verdict (above / below when "
        "the interval excludes 0, else tie).",
    )
    p.add_argument("model_dirs", metavar="MODEL_DIR", nargs="+")
    p.add_argument("--reference", required=True, metavar="MODEL_DIR", help="e.g. a lightgcn model")
    p.add_argument("--split", default="test", choices=("valid", "test"))
    p.add_argument("--k", type=int, default=20)
    add_model_source_arguments(p)
    add_mask_argument(p)
    p.add_argument("--json", action="store_true", help="last stdout line: the rows as JSON")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("recommend", help="top-K items for a user")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument(
        "--user",
        required=True,
        action="append",
        help="user id, comma-separated ids, or 'all' (repeatable)",
    )
    p.add_argument("--k", type=int, default=10)
    add_model_source_arguments(p)
    p.add_argument("--json", action="store_true", help="last stdout line: the list as JSON")
    p.add_argument(
        "--explain",
        action="store_true",
        help="attribute every recommendation to the inputs (exact Shapley, input and branch level)",
    )
    p.set_defaults(func=cmd_recommend)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    mapping = {
        "epochs": "epochs",
        "patience": "patience",
        "lr": "learning_rate",
        "batch_size": "batch_size",
        "temperature": "temperature",
    }
    return {key: getattr(args, a) for a, key in mapping.items() if getattr(args, a) is not None}


def _format_table(metrics: dict[str, float]) -> str:
    ks = sorted({int(k.split("@")[1]) for k in metrics if "@" in k})
    names = [n for n in METRIC_ORDER if any(k.startswith(n + "@") for k in metrics)]
    lines = ["metric".ljust(16) + "".join(f"@{k}".rjust(10) for k in ks)]
    for n in names:
        lines.append(
            n.ljust(16) + "".join(f"{metrics.get(f'{n}@{k}', float('nan')):10.4f}" for k in ks)
        )
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    if args.epochs is not None and args.epochs < 0:
        raise ConfigError(f"--epochs must be >= 0 (got {args.epochs}).")
    config = preset_config(args.preset, variant=args.variant, **_overrides(args))
    dataset = load_mmrec(args.data_dir)
    result = train(
        dataset,
        args.variant,
        config,
        out_dir=args.out,
        seed=args.seed,
        device=args.device,
        resume=args.resume,
        overwrite=args.overwrite,
        mixed_precision=args.amp,
        cuda_graphs=not args.no_cuda_graphs,
        progress=not args.quiet,
        mask=args.mask,
    )
    test = result.metrics["test"]
    print(f"{args.variant} ({config.preset}) best epoch {result.best_epoch}; saved to {args.out}")
    print(f"test split, mask {args.mask}")
    print(_format_table(test))
    if args.json:
        print(json.dumps({**test, "mask": args.mask}))
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.training.tuning import tune

    dataset = load_mmrec(args.data_dir)
    result = tune(
        dataset,
        args.variant,
        args.out,
        preset=args.preset,
        budget=args.budget,
        patience=args.patience,
        seeds=args.seeds,
        mask=args.mask,
        device=args.device,
        max_points=args.max_points,
        overwrite=args.overwrite,
        resume=args.resume,
        log=lambda s: print(s, flush=True),
    )
    s = result.summary
    print(
        f"{args.variant}: chosen {s['chosen'] or '(no grid)'} on valid recall@20; test over "
        f"{len(s['seeds'])} seeds, mask {s['mask']}:"
    )
    for metric, v in s["test"].items():
        print(f"  {metric:10s} {v['mean']:.4f} ± {v['sd']:.4f}")
    print(f"wrote {result.out_dir}/model, grid.json and summary.json")
    if args.json:
        print(json.dumps(s))
    return 0


def add_model_source_arguments(p: argparse.ArgumentParser) -> None:
    """``--data`` and ``--device``: how a command that reads MODEL_DIR loads the model."""
    p.add_argument(
        "--data", default=None, help="dataset directory (default: the one the model records)"
    )
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda")


def load_model_from_args(args: argparse.Namespace):
    """The model of ``args.model_dir`` on ``args.device``, against ``args.data`` if given."""
    from anchorrec.models.checkpoint import load_model

    dataset = None
    if args.data:
        from anchorrec.data.mmrec import load_mmrec

        dataset = load_mmrec(args.data)
    return load_model(args.model_dir, dataset, device=args.device)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from anchorrec.evaluation import evaluate

    loaded = load_model_from_args(args)
    metrics = evaluate(loaded.model, loaded.dataset, args.split, mask=args.mask)
    print(
        f"{loaded.variant} ({loaded.preset}) on {loaded.dataset.name}, split {args.split}, "
        f"{int(metrics['users'])} users, mask {args.mask}"
    )
    print(_format_table(metrics))
    if args.json:
        print(json.dumps({**metrics, "mask": args.mask}))
    return 0


def model_names(model_dirs: list[str]) -> list[str]:
    """How to name models in a comparison: their directory names, or their paths when two
    directory names are the same."""
    from pathlib import Path

    names = [Path(d).name for d in model_dirs]
    return names if len(set(names)) == len(names) else [str(d) for d in model_dirs]


def cmd_compare(args: argparse.Namespace) -> int:
    import dataclasses

    from anchorrec.evaluation import compare_to_reference, comparison_table, per_user_metrics
    from anchorrec.models.checkpoint import load_model

    if args.k < 1:
        raise ConfigError(f"--k must be at least 1 (got {args.k}).")
    reference = load_model_from_args(
        argparse.Namespace(**{**vars(args), "model_dir": args.reference})
    )
    dataset = reference.dataset
    dirs = [args.reference, *args.model_dirs]
    names = model_names(dirs)
    per_user = {
        names[0]: per_user_metrics(reference, dataset, args.split, k=args.k, mask=args.mask)
    }
    for name, path in zip(names[1:], dirs[1:], strict=True):
        if name in per_user:
            continue  # the reference given twice
        loaded = load_model(path, dataset, device=args.device)
        per_user[name] = per_user_metrics(loaded, dataset, args.split, k=args.k, mask=args.mask)
    differences = compare_to_reference(per_user, names[0], (f"recall@{args.k}", f"ndcg@{args.k}"))
    users = len(per_user[names[0]]["users"])
    print(
        f"against {names[0]} on {dataset.name}, split {args.split}, {users} users, mask "
        f"{args.mask} (95% paired bootstrap intervals, 2000 resamples)"
    )
    if differences:
        print(comparison_table(differences).to_string(index=False, float_format="%+.4f"))
    if args.json:
        rows = [
            dataclasses.asdict(d)
            | {"difference": d.difference, "verdict": d.verdict, "mask": args.mask}
            for d in differences
        ]
        print(json.dumps(rows))
    return 0


def parse_users(specs: list[str] | None, n_users: int) -> list[int]:
    """``["12"]``, ``["3,5,8"]``, ``["all"]`` (repeatable) → user ids, in order, without repeats."""
    out: list[int] = []
    for spec in specs or []:
        for part in str(spec).split(","):
            part = part.strip()
            if not part:
                continue
            if part == "all":
                out.extend(range(n_users))
                continue
            try:
                user = int(part)
            except ValueError:
                raise ConfigError(
                    f"--user {spec!r}: give a user id, comma-separated ids, or 'all'."
                ) from None
            if not 0 <= user < n_users:
                raise ConfigError(f"--user {user}: user ids run from 0 to {n_users - 1}.")
            out.append(user)
    if not out:
        raise ConfigError("--user is required: a user id, comma-separated ids, or 'all'.")
    return list(dict.fromkeys(out))


def cmd_recommend(args: argparse.Namespace) -> int:
    if args.explain:
        from anchorrec.cli.analysis_commands import cmd_recommend_explain

        return cmd_recommend_explain(args)
    from anchorrec.models.recommend import recommend

    loaded = load_model_from_args(args)
    recs = recommend(loaded, parse_users(args.user, loaded.dataset.n_users), args.k)
    for r in recs:
        title = f"  {r.title}" if r.title else ""
        print(f"user {r.user}  #{r.rank:<3} item {r.item:<7} score {r.score:.4f}{title}")
    if args.json:
        print(json.dumps([r.to_dict() for r in recs]))
    return 0
