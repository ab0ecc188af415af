"""Sub-commands of the analysis area: ``project``, ``diagnose``, ``audit``, and
``recommend --explain`` (the model area's ``recommend`` dispatches here when asked to explain).

``recommend`` accepts ``--user 12``, ``--user 3,5,8`` or ``--user all``; with ``--explain
--json`` it prints one JSON array, one record per user::

    [{"user": 12, "baseline": v(∅), "items": [{"item": 345, "rank": 1, "score": 3.21,
      "baseline": v(∅), "attribution": {"id": …, "image": …, "text": …},
      "share": {…}, "branch_attribution": {…}}, …]}, …]

where ``attribution`` is input level and ``baseline + Σ attribution == score``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anchorrec.cli.model_commands import (
    add_mask_argument,
    add_model_source_arguments,
    load_model_from_args,
    model_names,
    parse_users,
)
from anchorrec.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to ``sub`` (and ``--explain`` to ``recommend``)."""
    p = sub.add_parser(
        "project",
        help="precompute the 2-D layouts of a model's spaces (cached in MODEL_DIR/projections)",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--methods", default="pca,tsne,umap", help="comma-separated: pca, tsne, umap")
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_project)

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
    add_model_source_arguments(p)
    add_mask_argument(p)
    p.set_defaults(func=cmd_audit)


# ------------------------------------------------------------------------------ project
def cmd_project(args: argparse.Namespace) -> int:
    from anchorrec.analysis.projection import METHODS, precompute_projections

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ConfigError(
            f"--methods {args.methods!r}: use a comma-separated subset of {', '.join(METHODS)}."
        )
    loaded = load_model_from_args(args)
    out = precompute_projections(
        loaded, methods, model_dir=args.model_dir, log=lambda s: print(s, flush=True)
    )
    print(f"{len(out)} layouts cached in {Path(args.model_dir) / 'projections'}")
    return 0


# ------------------------------------------------------------------------------ diagnose
def cmd_diagnose(args: argparse.Namespace) -> int:
    from anchorrec.analysis.diagnostics import diagnose, format_value

    loaded = load_model_from_args(args)
    report = diagnose(loaded)
    if args.store:
        from anchorrec.diagnostics_store import store_diagnostics

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
    from anchorrec.analysis.audit import audit
    from anchorrec.analysis.audit_report import write_audit_html, write_shares_csv
    from anchorrec.analysis.diagnostics import diagnose

    if args.k < 1:
        raise ConfigError(f"--k must be >= 1 (got {args.k}).")
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
    result = audit(loaded, k=args.k)
    diagnostics = None if args.no_diagnostics else diagnose(loaded)
    write_audit_html(
        args.out,
        result,
        diagnostics,
        title=f"{result.variant} on {loaded.dataset.name}"
        + (f" (test mask {args.mask})" if accuracy else ""),
        accuracy=accuracy,
    )
    print(f"wrote {args.out}")
    if args.csv:
        write_shares_csv(args.csv, result)
        print(f"wrote {args.csv}")
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


# ------------------------------------------------------------------------------ recommend --explain
def cmd_recommend_explain(args: argparse.Namespace) -> int:
    from anchorrec.analysis.attribution import coalition_cache, explain_user

    if args.k < 1:
        raise ConfigError(f"--k must be >= 1 (got {args.k}).")
    loaded = load_model_from_args(args)
    users = parse_users(args.user, loaded.dataset.n_users)
    cache = coalition_cache(loaded)
    records = [explain_user(cache, u, args.k).to_json() for u in users]
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
    return 0
