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
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from anchorrec.cli.common import (
    add_config_argument,
    add_mask_argument,
    add_model_source_arguments,
    emit_json,
    load_model_from_args,
    model_names,
    parse_users,
)
from anchorrec.errors import ConfigError, printable

if TYPE_CHECKING:
    from anchorrec.analysis.accuracy_game import AccuracyGame
    from anchorrec.models.checkpoint import LoadedModel

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
        help="attribution games whose coalition cache and modality reliance to store "
        f"(comma-separated: {', '.join(GAME_CHOICES)}; the background game runs the model "
        "once per draw)",
    )
    p.add_argument(
        "--approximate-knn",
        action="store_true",
        help="store content kNN graphs built by nearest-neighbour descent instead of exactly "
        "(for catalogues above about 100,000 items; prints each graph's recall against the "
        "exact one; the model then scores with the approximate graphs)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--progress-file",
        default=None,
        metavar="PROGRESS.json",
        help="also record the progress in this JSON file (steps done, of how many, the step "
        "running; rewritten atomically before each step)",
    )
    add_model_source_arguments(p)
    add_config_argument(p)
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
        "--accuracy-csv",
        default=None,
        metavar="ACCURACY.csv",
        help="also write the accuracy game by segment (which input earns the hits; needs "
        "held-out purchases)",
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
            "(or an empty string to skip the attribution's caches and reliance)."
        )
    return games


def _store_graphs(loaded: LoadedModel, approximate: bool, quiet: bool) -> None:
    """The content kNN graphs, stored first: every later step's forward pass reads them."""
    from anchorrec.models.stored_graphs import read_meta, store_graphs

    path = store_graphs(loaded, approximate=approximate)
    if path is not None and approximate and not quiet:
        for view, value in read_meta(path).get("recall", {}).items():
            print(
                f"{Path(str(loaded.model_dir)).name}: approximate {view} kNN graph, recall {value:.3f}"
            )


def cmd_prepare(args: argparse.Namespace) -> int:
    """Compute every result of the registry of derived results (:mod:`anchorrec.analysis.
    derived`) that the models' stores lack, one step per model, result and parameters."""
    from tqdm.auto import tqdm

    from anchorrec.analysis import derived

    games = _games(args.games)
    options = {"game": games, "method": _methods(args.methods)}
    skip = [derived.DIAGNOSTICS] if args.no_diagnostics else []
    if not games:  # nothing of the attribution's games
        skip += [derived.COALITIONS, derived.RELIANCE, derived.ACCURACY_GAME]
    steps = derived.prepare_steps(args.model_dirs, options, skip)
    bar = tqdm(total=len(steps), disable=args.quiet, unit="step", file=sys.stderr)

    started = [0]

    def show(step: derived.Step) -> None:  # the bar counts the steps finished
        if started[0]:
            bar.update()
        started[0] += 1
        bar.set_description(step.label)

    def load(model_dir: str) -> LoadedModel:  # the stored kNN graphs first: every step reads them
        loaded = load_model_from_args(args, model_dir)
        _store_graphs(loaded, args.approximate_knn, args.quiet)
        return loaded

    derived.run_steps(
        steps,
        load,
        progress_file=args.progress_file,
        on_step=show,
    )
    bar.update(min(started[0], 1))
    bar.close()
    print(f"prepared {len(args.model_dirs)} model(s): {', '.join(derived.iter_labels(steps))}")
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
        emit_json(report.to_json(), indent=2)
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
        write_accuracy_game_csv,
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
    given = [args.out, args.csv, args.recommendations_csv, args.history_csv, args.accuracy_csv]
    outputs = [check_output_file(path) for path in given if path]
    if len(set(outputs)) < len(outputs):
        raise ConfigError(
            "two of --out, --csv, --recommendations-csv, --history-csv and --accuracy-csv name "
            "the same file; give each its own path."
        )
    loaded = load_model_from_args(args)
    accuracy = []
    if args.reference:
        from anchorrec.evaluation import compare_to_reference, per_user_metrics
        from anchorrec.models.checkpoint import load_model
        from anchorrec.models.cold_start import with_cold_start

        reference = with_cold_start(
            load_model(args.reference, loaded.dataset, device=args.device),
            getattr(args, "cold_start", "on") == "on",
        )
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
    shapley = None
    if coalitions is not None and loaded.dataset.test.nnz:
        from anchorrec.analysis.accuracy_game import accuracy_game

        shapley = accuracy_game(loaded, game=args.game)
    if args.accuracy_csv and shapley is None:  # refused before any file is written
        raise ConfigError(
            f"--accuracy-csv: the {loaded.variant} model has one input or the data no "
            "held-out purchases, so there is no accuracy game; leave the flag out."
        )
    write_audit_html(
        args.out,
        result,
        diagnostics,
        title=f"{result.variant} on {loaded.dataset.name}"
        + (f" (test mask {args.mask})" if accuracy else ""),
        accuracy=accuracy,
        reliance=coalitions,
        accuracy_game=shapley,
    )
    print(f"wrote {args.out}")
    if args.accuracy_csv and shapley is not None:
        write_accuracy_game_csv(args.accuracy_csv, shapley)
        print(f"wrote {args.accuracy_csv}")
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
    if result.summary.get("shown_lists"):
        from anchorrec.analysis.shown_lists import ShownLists

        print(ShownLists(**result.summary["shown_lists"]).sentence())
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
    shapley = None
    if len(loaded.model.players) > 1:
        from anchorrec.analysis.accuracy_game import accuracy_game

        shapley = accuracy_game(loaded, game=args.game, k=args.k, split=args.split)
    if args.json:
        doc = result.to_json()
        doc["accuracy_game"] = None if shapley is None else shapley.to_json()
        emit_json(doc, indent=2)
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
    if shapley is not None:
        print_accuracy_game(shapley)
    return 0


def print_accuracy_game(result: AccuracyGame) -> None:
    """The accuracy game's Recall values by segment, one line per (segment, input)."""
    from anchorrec.analysis.accuracy_game import NEEDS_HELD_OUT

    print(
        f"\nwhich input earns the hits: each input's Shapley value of {result.split} "
        f"Recall@{result.k} per shopper, mean by segment (95% bootstrap intervals; "
        f"{NEEDS_HELD_OUT}; --json has NDCG and every segment)"
    )
    print(f"{'segment':42s} {'input':14s} {'value':>8s} {'interval':>19s} {'shoppers':>8s}")
    for r in result.rows:
        if r.metric == "recall" and r.kind in ("all", "planted group", "held-out items"):
            name = r.segment if r.kind == "all" else f"{r.kind}: {r.segment}"
            print(
                f"{name:42s} {r.input:14s} {r.value:+8.4f} [{r.low:+.4f}, {r.high:+.4f}] "
                f"{r.users:8d}"
            )


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
        emit_json(records)
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
