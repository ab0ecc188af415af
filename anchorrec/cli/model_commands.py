"""Sub-commands of the model area: ``train``, ``tune``, ``evaluate``, ``compare``, ``recommend``.

Every command that prints a metric names the evaluation mask rule it ranked under
(``--mask train``, MMRec's rule and the default, or ``train+valid``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from anchorrec.cli.common import (
    add_config_argument,
    add_mask_argument,
    add_model_source_arguments,
    add_training_arguments,
    check_train_output,
    emit_json,
    load_model_from_args,
    model_names,
    parse_users,
    training_overrides,
    variant_name,
)
from anchorrec.errors import ConfigError

if TYPE_CHECKING:
    from anchorrec.models.checkpoint import LoadedModel
    from anchorrec.models.seed_spread import SeedSpread

METRIC_ORDER = (
    "recall",
    "ndcg",
    "mrr",
    "precision",
    "map",
    "hitrate",
    "coverage",
    "mean_popularity",
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub``."""
    from anchorrec.models.config import PRESETS, TUNE_BUDGET, TUNE_PATIENCE, TUNE_SEEDS

    p = sub.add_parser(
        "train", help="train a model on a dataset (MMRec directory, RecBole or Cornac data)"
    )
    add_training_arguments(p)
    add_config_argument(p)
    p.add_argument(
        "--log-dir",
        default=None,
        metavar="DIR",
        help="also write TensorBoard scalars (losses, valid Recall/NDCG) to DIR "
        "(needs tensorboard: pip install tensorboard)",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--temperature", type=float, default=None, help="τ of the AAL InfoNCE (> 0)")
    p.add_argument(
        "--no-cuda-graphs",
        action="store_true",
        help="on CUDA, launch every kernel of a step from Python instead of replaying a graph",
    )
    add_mask_argument(p)
    p.add_argument(
        "--json", action="store_true", help="print the metrics as JSON (only JSON on stdout)"
    )
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
    p.add_argument("data_dir", metavar="DATA_DIR", help="dataset (MMRec, RecBole or Cornac)")
    p.add_argument(
        "--variant",
        default=None,
        type=variant_name,
        metavar="VARIANT",
        help="model variant (required here or in --config)",
    )
    p.add_argument("--preset", default="default", choices=PRESETS)
    add_config_argument(p, grid=True)
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
    p.add_argument(
        "--json", action="store_true", help="print the summary as JSON (only JSON on stdout)"
    )
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser(
        "evaluate",
        help="full-ranking metrics of a trained model, overall or by segment",
        description="Rank every user of the split against all items and print Recall, NDCG, "
        "MRR, Precision, MAP, HitRate, coverage and mean popularity at 5, 10, 20, 50. With "
        "--by activity: per group of users by train interactions (tertiles: light, medium, "
        "heavy); --by popularity: per bucket of items by train popularity (head 20%%, torso, "
        "tail 50%%: the held-out items of the bucket are the truth); --by COLUMN: per value "
        "of a users.csv column.",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--split", default="test", choices=("valid", "test"))
    p.add_argument(
        "--by",
        default=None,
        metavar="activity|popularity|COLUMN",
        help="segment the metrics by user activity, item popularity or a users.csv column",
    )
    add_model_source_arguments(p)
    add_mask_argument(p)
    p.add_argument(
        "--json", action="store_true", help="print the metrics as JSON (only JSON on stdout)"
    )
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
    p.add_argument(
        "--json", action="store_true", help="print the rows as JSON (only JSON on stdout)"
    )
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
    p.add_argument(
        "--json", action="store_true", help="print the list as JSON (only JSON on stdout)"
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="attribute every recommendation to the inputs (exact Shapley, input and branch level)",
    )
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("variants", help="list the model variants `train --variant` accepts")
    p.set_defaults(func=cmd_variants)


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
    from anchorrec.data.formats import load_dataset
    from anchorrec.device import resolve_device
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    overrides = {**getattr(args, "config_hyper", {}), **training_overrides(args)}
    config = preset_config(args.preset, variant=args.variant, **overrides)
    resolve_device(args.device)
    check_train_output(args)
    on_epoch = None
    if args.log_dir:  # before the data is read: a missing tensorboard says so at once
        from anchorrec.training.tensorboard_log import TensorBoardLog, summary_writer_class

        summary_writer_class()
    dataset = load_dataset(args.data_dir)
    if args.log_dir:
        on_epoch = TensorBoardLog(args.log_dir)
    try:
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
            on_epoch=on_epoch,
        )
    except OSError as exc:  # a full disk mid-run: say what is kept and how to go on
        from anchorrec.errors import OutputError
        from anchorrec.fileio import describe_os_error
        from anchorrec.training.trainer import resume_dir_for

        message = describe_os_error(exc)
        if message is None:
            raise
        resume = resume_dir_for(args.out)
        kept = (
            f" {args.out} was not written; the last completed epoch is kept in {resume}: "
            "free some space and rerun with --resume."
            if resume.exists()
            else f" {args.out} was not written."
        )
        raise OutputError(message + kept) from None
    finally:
        if on_epoch is not None:
            on_epoch.close()
    test = result.metrics["test"]
    print(f"{args.variant} ({config.preset}) best epoch {result.best_epoch}; saved to {args.out}")
    print(f"test split, mask {args.mask}")
    print(_format_table(test))
    if args.log_dir:
        print(f"TensorBoard scalars in {args.log_dir} (tensorboard --logdir {args.log_dir})")
    if args.json:
        emit_json({**test, "mask": args.mask})
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from anchorrec.data.formats import load_dataset
    from anchorrec.training.tuning import tune

    if args.variant is None:
        raise ConfigError("tune needs a variant: --variant VARIANT (or variant: in --config).")
    dataset = load_dataset(args.data_dir)
    result = tune(
        dataset,
        args.variant,
        args.out,
        grid=getattr(args, "config_grid", None),
        fixed=getattr(args, "config_hyper", None),
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
        emit_json(s)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from anchorrec.evaluation import evaluate
    from anchorrec.evaluation.item_groups import warm_new_report

    loaded = load_model_from_args(args)
    if args.by:
        return _evaluate_by(args, loaded)
    metrics = evaluate(loaded, loaded.dataset, args.split, mask=args.mask)
    ranking = "published ranking" if loaded.cold_start is None else "cold-start path on"
    print(
        f"{loaded.variant} ({loaded.preset}) on {loaded.dataset.name}, split {args.split}, "
        f"{int(metrics['users'])} users, mask {args.mask}, {ranking}"
    )
    print(_format_table(metrics))
    groups = warm_new_report(loaded, args.split, mask=args.mask)
    print(_format_groups(groups))
    if args.json:
        emit_json(
            {
                **metrics,
                "mask": args.mask,
                "cold_start": loaded.cold_start is not None,
                "items": groups,
            }
        )
    return 0


def _format_groups(groups: dict[str, dict[str, dict[str, float]]]) -> str:
    """Recall@20 on warm items, new arrivals and all, per ranking, and the cost to warm."""
    lines = ["Recall@20 by item group (shoppers with a held-out purchase in the group):"]
    lines.append(f"  {'ranking':12s} {'warm':>8s} {'new':>8s} {'all':>8s}")
    for name, g in groups.items():
        r = [g[x]["recall@20"] for x in ("warm", "new", "all")]
        lines.append(f"  {name:12s} {r[0]:8.4f} {r[1]:8.4f} {r[2]:8.4f}")
    if "cold start" in groups:
        on, off = groups["cold start"], groups["published"]
        lines.append(
            f"  cold start: new arrivals {on['new']['recall@20'] - off['new']['recall@20']:+.4f},"
            f" warm items {on['warm']['recall@20'] - off['warm']['recall@20']:+.4f}"
        )
    return "\n".join(lines)


def _evaluate_by(args: argparse.Namespace, loaded: LoadedModel) -> int:
    """``evaluate --by``: one table per segment, the overall one first."""
    from anchorrec.evaluation.metrics import evaluate, evaluate_item_buckets, evaluate_segments
    from anchorrec.evaluation.segments import (
        ACTIVITY,
        POPULARITY,
        activity_segments,
        popularity_segments,
        user_segments,
    )

    ds, model = loaded.dataset, loaded.model
    overall = evaluate(model, ds, args.split, mask=args.mask)
    if args.by == POPULARITY:
        what = "item popularity (the bucket's held-out items are the truth)"
        segments = evaluate_item_buckets(
            model, ds, popularity_segments(ds), args.split, mask=args.mask
        )
    else:
        if args.by == ACTIVITY:
            what, groups = "user activity (train interactions)", activity_segments(ds)
        else:
            groups = user_segments(ds, args.by)
            if not groups:
                columns = (
                    [] if ds.users is None else [c for c in ds.users.columns if c != "user_id"]
                )
                raise ConfigError(
                    f"--by {args.by}: use activity, popularity or a users.csv column"
                    + (f" ({', '.join(columns)})." if columns else " (this dataset has none).")
                )
            what = f"users.csv column {args.by}"
        segments = evaluate_segments(model, ds, groups, args.split, mask=args.mask)
    print(f"{loaded.variant} on {ds.name}, split {args.split}, mask {args.mask}, by {what}")
    for name, metrics in {"all": overall, **segments}.items():
        extra = f", {int(metrics['items'])} items" if "items" in metrics else ""
        print(f"\n{name}: {int(metrics['users'])} users{extra}")
        print(_format_table(metrics))
    if args.json:
        emit_json({"by": args.by, "mask": args.mask, "all": overall, "segments": segments})
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import dataclasses

    from anchorrec.evaluation import compare_to_reference, comparison_table, per_user_metrics
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.cold_start import with_cold_start
    from anchorrec.models.seed_spread import seed_spread

    if args.k < 1:
        raise ConfigError(f"--k must be at least 1 (got {args.k}).")
    reference = load_model_from_args(args, args.reference)
    dataset = reference.dataset
    dirs = [args.reference, *args.model_dirs]
    names = model_names(dirs)
    per_user = {
        names[0]: per_user_metrics(reference, dataset, args.split, k=args.k, mask=args.mask)
    }
    for name, path in zip(names[1:], dirs[1:], strict=True):
        if name in per_user:
            continue  # the reference given twice
        loaded = with_cold_start(
            load_model(path, dataset, device=args.device), args.cold_start == "on"
        )
        per_user[name] = per_user_metrics(loaded, dataset, args.split, k=args.k, mask=args.mask)
    differences = compare_to_reference(per_user, names[0], (f"recall@{args.k}", f"ndcg@{args.k}"))
    users = len(per_user[names[0]]["users"])
    print(
        f"against {names[0]} on {dataset.name}, split {args.split}, {users} users, mask "
        f"{args.mask} (95% paired bootstrap intervals, 2000 resamples)"
    )
    if differences:
        print(comparison_table(differences).to_string(index=False, float_format="%+.4f"))
    spreads = {
        name: seed_spread(path, metric, args.split)
        for name, path in zip(names, dirs, strict=True)
        for metric in (f"recall@{args.k}",)
    }
    if any(spreads.values()):
        print(
            "Above: the model directories given, one training run each (intervals over users). "
            f"The tuning protocol's {args.split} Recall@{args.k} over retrainings of the same "
            "configuration (seed mean ± sd, each model's tuning.json) is the other reading:"
        )
        for name, spread in spreads.items():
            print(f"  {name}: {spread.text() if spread else 'no tuning record'}")
    if args.json:
        rows = [
            dataclasses.asdict(d)
            | {"difference": d.difference, "verdict": d.verdict, "mask": args.mask}
            | _seed_fields(spreads, d.model, d.reference, d.metric)
            for d in differences
        ]
        emit_json(rows)
    return 0


def _seed_fields(
    spreads: dict[str, SeedSpread | None], model: str, reference: str, metric: str
) -> dict[str, float | int | None]:
    """The protocol's seed mean / sd of a row's model and reference (None where unrecorded
    or for another metric)."""
    out: dict[str, float | int | None] = {}
    for role, name in (("model", model), ("reference", reference)):
        s = spreads.get(name)
        same = s is not None and s.metric == metric
        out[f"{role}_seed_mean"] = s.mean if s is not None and same else None
        out[f"{role}_seed_sd"] = s.sd if s is not None and same else None
        out[f"{role}_seeds"] = s.seeds if s is not None and same else None
    return out


def cmd_recommend(args: argparse.Namespace) -> int:
    if args.explain:
        from anchorrec.cli.analysis_commands import cmd_recommend_explain

        return cmd_recommend_explain(args)
    from anchorrec.models.recommend import recommend

    loaded = load_model_from_args(args)
    recs = recommend(loaded, parse_users(args.user, loaded.dataset.n_users), args.k)
    for r in recs:
        title = f"  {r.title}" if r.title else ""
        new = "  [new arrival, ranked by content]" if r.new_arrival else ""
        print(f"user {r.user}  #{r.rank:<3} item {r.item:<7} score {r.score:.4f}{title}{new}")
    if args.json:
        emit_json([r.to_dict() for r in recs])
    return 0


def cmd_variants(args: argparse.Namespace) -> int:
    from anchorrec.models.registry import MULTIMODAL_VARIANTS, VARIANTS

    for name in VARIANTS:
        kind = "multimodal" if name in MULTIMODAL_VARIANTS else "ID only"
        print(f"{name:16s} {kind}")
    return 0
