"""Sub-commands of the analysis area: ``project``, ``diagnose``, ``audit``, ``reliance``, and
``recommend --explain`` (the model area's ``recommend`` dispatches here when asked to explain;
its ``--game`` flag is added here).

``recommend`` accepts ``--user 12``, ``--user 3,5,8`` or ``--user all``; with ``--explain
--json`` it prints one JSON array, one record per user::

    [{"user": 12, "baseline": v(∅), "items": [{"item": 345, "rank": 1, "score": 3.21,
      "baseline": v(∅), "attribution": {"id": …, "image": …, "text": …},
      "share": {…}, "branch_attribution": {…},
      "because": {"score": …, "unowned": …, "explained": …,
                  "items": [{"item": 17, "contribution": …, "paths": {"id": …, …}}, …]}}, …]}, …]

where ``attribution`` is input level and ``baseline + Σ attribution == score``, and
``because`` splits the score over the user's past purchases (``unowned + Σ contribution ==
score``; null when the model is not linear in the history).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anchorrec.cli.common import (
    add_mask_argument,
    add_model_source_arguments,
    load_model_from_args,
    model_names,
    parse_users,
)
from anchorrec.errors import ConfigError, printable

#: The attribution games (``anchorrec.analysis.attribution.GAMES``, spelled out here so that
#: ``--help`` imports no torch; a test keeps the two equal).
GAME_CHOICES: tuple[str, ...] = ("mean", "background")


def add_game_argument(p: argparse.ArgumentParser) -> None:
    """``--game mean|background``: how attribution removes an input (the same everywhere)."""
    p.add_argument(
        "--game",
        default=GAME_CHOICES[0],
        choices=GAME_CHOICES,
        help="removed input → catalogue mean (mean) or values of drawn items/users "
        "(background, averaged over seeded draws)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub`` (and ``--game`` to ``recommend --explain``)."""
    recommend = sub.choices.get("recommend")
    if recommend is not None:
        add_game_argument(recommend)
    p = sub.add_parser(
        "project",
        help="precompute the 2-D layouts of a model's spaces (cached in MODEL_DIR/projections, "
        "or in the workspace when MODEL_DIR is read-only)",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--methods", default="pca,tsne,umap", help="comma-separated: pca, tsne, umap")
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_project)

    p = sub.add_parser(
        "prepare",
        help="compute once what the dashboard would otherwise compute on a visit "
        "(per-user metrics, diagnostics, attribution caches, modality reliance, layouts)",
        description="For each MODEL_DIR, compute and store beside the model: the test users' "
        "Recall@20 / NDCG@20 (the Overview's comparison), the collapse diagnostics (Positional "
        "collapse), the coalition cache of the attribution (Recommendations, Audit), the "
        "modality reliance under each attribution game (Positional collapse) and the "
        "2-D layouts of every space (Embedding spaces). What is already stored for the same "
        "model is reused. A read-only MODEL_DIR stores them in the workspace.",
    )
    p.add_argument("model_dirs", metavar="MODEL_DIR", nargs="+")
    p.add_argument(
        "--methods",
        default="pca,umap",
        help="layouts to compute (comma-separated: pca, tsne, umap)",
    )
    p.add_argument("--no-diagnostics", action="store_true", help="skip the diagnostics (slowest)")
    p.add_argument(
        "--games",
        default=",".join(GAME_CHOICES),
        help="attribution games whose modality reliance to measure (comma-separated: "
        f"{', '.join(GAME_CHOICES)}; the background game runs the model once per draw)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser(
        "diagnose",
        help="collapse and ID-dominance diagnostics of a model, beside their null levels",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--store",
        action="store_true",
        help="also store the report beside the model (the dashboard's Positional collapse reads it)",
    )
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser(
        "audit", help="attribution shares by segment, exposure; self-contained HTML report"
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--out", required=True, metavar="REPORT.html", help="HTML report to write")
    p.add_argument(
        "--csv", default=None, metavar="SHARES.csv", help="also write the per-segment shares"
    )
    p.add_argument("--k", type=int, default=10, help="length of each top-K list")
    p.add_argument(
        "--no-diagnostics", action="store_true", help="leave the diagnostics table out (faster)"
    )
    p.add_argument(
        "--reference",
        default=None,
        metavar="MODEL_DIR",
        help="also report test Recall@20 / NDCG@20 against this model (e.g. lightgcn), with "
        "paired bootstrap intervals",
    )
    p.add_argument(
        "--recommendations-csv",
        default=None,
        metavar="RECS.csv",
        help="also write one row per recommendation (user, rank, item, score, baseline, every "
        "signed value) that re-adds to the scores",
    )
    p.add_argument(
        "--history-csv",
        default=None,
        metavar="HISTORY.csv",
        help="also write, per recommendation, every past purchase's share of the score",
    )
    add_game_argument(p)
    add_model_source_arguments(p)
    add_mask_argument(p)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "reliance",
        help="test accuracy of every coalition of inputs (all, pairs, singles, none)",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--k", type=int, default=20, help="cut-off of Recall@K / NDCG@K")
    p.add_argument("--split", default="test", choices=("valid", "test"))
    add_game_argument(p)
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_reliance)


# ------------------------------------------------------------------------------ project
def cmd_project(args: argparse.Namespace) -> int:
    from anchorrec.analysis.projection import precompute_projections

    methods = _methods(args.methods)
    loaded = load_model_from_args(args)
    out = precompute_projections(
        loaded, methods, model_dir=args.model_dir, log=lambda s: print(s, flush=True)
    )
    from anchorrec.analysis.projection import PROJECTIONS_DIR
    from anchorrec.models.model_dir import ModelDir

    # where they really went: the model directory, or the workspace when it is read-only
    folder = ModelDir(args.model_dir).store().write_folder / PROJECTIONS_DIR
    print(f"{len(out)} layouts cached in {printable(str(folder))}")
    return 0


# ------------------------------------------------------------------------------ prepare
def _methods(spec: str) -> list[str]:
    from anchorrec.analysis.projection import METHODS

    methods = [m.strip() for m in spec.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ConfigError(
            f"--methods {spec!r}: use a comma-separated subset of {', '.join(METHODS)}."
        )
    return methods


def _games(spec: str) -> list[str]:
    games = list(dict.fromkeys(g.strip() for g in spec.split(",") if g.strip()))
    unknown = [g for g in games if g not in GAME_CHOICES]
    if unknown:
        raise ConfigError(
            f"--games {spec!r}: use a comma-separated subset of {', '.join(GAME_CHOICES)} "
            "(or an empty string to skip the reliance)."
        )
    return games


def cmd_prepare(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from anchorrec.analysis.attribution import coalition_cache
    from anchorrec.analysis.diagnostics import read_diagnostics, store_diagnostics
    from anchorrec.analysis.projection import precompute_projections
    from anchorrec.analysis.reliance import read_reliance, store_reliance
    from anchorrec.evaluation.stored import stored_per_user_metrics

    methods = _methods(args.methods)
    games = _games(args.games)
    steps = ["per-user metrics", "attribution cache", *(f"{g} reliance" for g in games)]
    steps.append("layouts")
    if not args.no_diagnostics:
        steps.insert(1, "diagnostics")
    bar = tqdm(total=len(args.model_dirs) * len(steps), disable=args.quiet, unit="step")
    for model_dir in args.model_dirs:
        loaded = load_model_from_args(args, model_dir)
        name = Path(model_dir).name
        for step in steps:
            bar.set_description(f"{name}: {step}")
            if step == "per-user metrics" and loaded.dataset.test.nnz:
                stored_per_user_metrics(loaded)
            elif step == "diagnostics" and read_diagnostics(model_dir) is None:
                store_diagnostics(loaded)
            elif step == "attribution cache":
                coalition_cache(loaded, persist=True)
            elif step.endswith(" reliance"):
                game = step.removesuffix(" reliance")
                if loaded.dataset.test.nnz and read_reliance(model_dir, game) is None:
                    store_reliance(loaded, game)  # the background cache stays in memory
            elif step == "layouts":
                precompute_projections(loaded, methods, model_dir=model_dir)
            bar.update()
    bar.close()
    print(f"prepared {len(args.model_dirs)} model(s): {', '.join(steps)}")
    return 0


# ------------------------------------------------------------------------------ diagnose
def cmd_diagnose(args: argparse.Namespace) -> int:
    from anchorrec.analysis.diagnostics import diagnose, format_value

    loaded = load_model_from_args(args)
    report = diagnose(loaded)
    if args.store:
        from anchorrec.analysis.diagnostics import store_diagnostics

        store_diagnostics(loaded, report)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    print(f"diagnostics of {report.variant} ({report.n_items} items)")
    print(f"{'metric':27s} {'space':28s} {'value':>9s} {'null':>9s}  null kind")
    for r in report.rows:
        print(
            f"{r.metric:27s} {r.space:28s} {format_value(r.value):>9s} {format_value(r.null):>9s}  {r.null_kind}"
        )
    print()
    for metric, meaning in dict.fromkeys((r.metric, r.meaning) for r in report.rows):
        print(f"{metric}: {meaning}")
    return 0


# ------------------------------------------------------------------------------ audit
def cmd_audit(args: argparse.Namespace) -> int:
    from anchorrec.analysis.audit import audit, history_frame
    from anchorrec.analysis.audit_report import (
        write_audit_html,
        write_history_csv,
        write_recommendations_csv,
        write_shares_csv,
    )
    from anchorrec.analysis.diagnostics import diagnose
    from anchorrec.analysis.reliance import reliance
    from anchorrec.fileio import check_output_file

    if args.k < 1:
        raise ConfigError(f"--k must be >= 1 (got {args.k}).")
    # A device, a FIFO, a folder or a read-only parent is refused before minutes of work.
    given = [args.out, args.csv, args.recommendations_csv, args.history_csv]
    outputs = [check_output_file(path) for path in given if path]
    if len(set(outputs)) < len(outputs):
        raise ConfigError(
            "two of --out, --csv, --recommendations-csv and --history-csv name the same file; "
            "give each its own path."
        )
    loaded = load_model_from_args(args)
    accuracy = []
    if args.reference:
        from anchorrec.evaluation import compare_to_reference, per_user_metrics
        from anchorrec.models.checkpoint import load_model

        reference = load_model(args.reference, loaded.dataset, device=args.device)
        this, other = model_names([args.model_dir, args.reference])
        per_user = {
            this: per_user_metrics(loaded, loaded.dataset, mask=args.mask),
            other: per_user_metrics(reference, loaded.dataset, mask=args.mask),
        }
        accuracy = compare_to_reference(per_user, other)
    if args.history_csv:
        from anchorrec.analysis.history import history_explainer

        if history_explainer(loaded) is None:
            raise ConfigError(
                f"--history-csv: the {loaded.variant} model's user vectors are not a sum over "
                "the purchase history, so no past purchase owns part of a score; leave the "
                "flag out for this model."
            )
    result = audit(loaded, k=args.k, game=args.game)
    diagnostics = None if args.no_diagnostics else diagnose(loaded)
    coalitions = reliance(loaded, game=args.game) if len(loaded.model.players) > 1 else None
    write_audit_html(
        args.out,
        result,
        diagnostics,
        title=f"{result.variant} on {loaded.dataset.name}"
        + (f" (test mask {args.mask})" if accuracy else ""),
        accuracy=accuracy,
        reliance=coalitions,
    )
    print(f"wrote {args.out}")
    if args.csv:
        write_shares_csv(args.csv, result)
        print(f"wrote {args.csv}")
    if args.recommendations_csv:
        write_recommendations_csv(args.recommendations_csv, result, loaded.dataset)
        print(f"wrote {args.recommendations_csv}")
    if args.history_csv:
        history = history_frame(loaded, result)
        assert history is not None  # checked before any file was written
        write_history_csv(args.history_csv, history, loaded.dataset)
        print(f"wrote {args.history_csv}")
    overall = result.shares.iloc[0]
    shares = ", ".join(f"{p} {overall[f'share_{p}']:.1%}" for p in result.players)
    print(
        f"input-level shares over all top-{args.k} lists: {shares}; "
        f"exposure Gini {result.summary['exposure_gini']:.3f}, coverage {result.summary['coverage']:.1%}"
    )
    for d in accuracy:
        print(
            f"{d.metric} against {d.reference}: {d.difference:+.4f} "
            f"[{d.low:+.4f}, {d.high:+.4f}] ({d.verdict}); test split, mask {args.mask}"
        )
    return 0


# ------------------------------------------------------------------------------ reliance
def cmd_reliance(args: argparse.Namespace) -> int:
    from anchorrec.analysis.reliance import reliance

    if args.k < 1:
        raise ConfigError(f"--k must be >= 1 (got {args.k}).")
    loaded = load_model_from_args(args)
    result = reliance(loaded, game=args.game, k=args.k, split=args.split)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    k = result.k
    print(
        f"reliance of {result.variant}: {args.split} Recall@{k} / NDCG@{k} of {result.users} "
        f"users with only these inputs ({result.game} game removes the rest; 95% bootstrap "
        "intervals over users)"
    )
    print(f"{'inputs':24s} {'recall':>8s} {'interval':>17s} {'ndcg':>8s} {'interval':>17s}")
    for r in result.rows:
        print(
            f"{r.label:24s} {r.recall:8.4f} [{r.recall_low:.4f}, {r.recall_high:.4f}] "
            f"{r.ndcg:8.4f} [{r.ndcg_low:.4f}, {r.ndcg_high:.4f}]"
        )
    return 0


# ------------------------------------------------------------------------------ recommend --explain
def cmd_recommend_explain(args: argparse.Namespace) -> int:
    from anchorrec.analysis.attribution import coalition_cache, explain_user
    from anchorrec.analysis.history import history_explainer

    if args.k < 1:
        raise ConfigError(f"--k must be >= 1 (got {args.k}).")
    loaded = load_model_from_args(args)
    users = parse_users(args.user, loaded.dataset.n_users)
    cache = coalition_cache(loaded, game=getattr(args, "game", "mean"))
    history = history_explainer(loaded)
    records = []
    for u in users:
        rec = explain_user(cache, u, args.k).to_json()
        for it in rec["items"]:
            it["because"] = None if history is None else history.explain(u, it["item"]).to_json()
        records.append(rec)
    if args.json:
        json.dump(records, sys.stdout)
        sys.stdout.write("\n")
        return 0
    for rec in records:
        print(f"user {rec['user']}  baseline v(∅) = {rec['baseline']:.4f}")
        for it in rec["items"]:
            parts = "  ".join(f"{p} {v:+.3f}" for p, v in it["attribution"].items())
            print(
                f"  #{it['rank']:<3} item {it['item']:<7} score {it['score']:.4f}  = baseline + {parts}"
            )
            because = it["because"]
            if because is not None:
                top = ", ".join(
                    f"#{h['item']} {h['contribution']:+.3f}" for h in because["items"][:3]
                )
                print(
                    f"       because you bought {top} … "
                    f"(history {because['explained']:+.3f}, unowned {because['unowned']:+.3f})"
                )
    return 0
