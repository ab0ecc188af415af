"""Sub-command ``cold-start``: fit a model's cold-start path on valid and store it beside it.

The calibration is stored in the model's derived store (tagged with the model's fingerprint,
written atomically); ``recommend``, ``evaluate``, ``compare``, ``preview`` and the dashboard
then rank through it by default (``--cold-start off`` gives the published ranking).
"""

from __future__ import annotations

import argparse

from anchorrec.cli.common import add_model_source_arguments, emit_json, load_model_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cold-start",
        help="fit (on valid) and store the cold-start path that ranks new arrivals by content",
        description="Compare the cold-start mechanisms on the valid split (routing to the "
        "shopper's content kNN; to the same kNN on centred features with each shopper's own "
        "image/text weight read from their history ('taste'); or to a content -> embedding "
        "generator distilled from the model's warm items; each with a per-shopper or a global "
        "score calibration), keep the "
        "best new-arrival Recall@20 whose warm Recall@20 costs at most --budget, and store it "
        "beside the model. With --show, print the stored one.",
    )
    p.add_argument("model_dirs", nargs="+", metavar="MODEL_DIR")
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="most warm Recall@20 on valid the path may cost (default 0.005)",
    )
    p.add_argument("--show", action="store_true", help="print the stored calibration only")
    p.add_argument(
        "--json", action="store_true", help="print the result as JSON (only JSON on stdout)"
    )
    add_model_source_arguments(p)
    p.set_defaults(func=cmd_cold_start)


def cmd_cold_start(args: argparse.Namespace) -> int:
    from anchorrec.errors import ConfigError
    from anchorrec.models.cold_start import TASTE, write_cold_start
    from anchorrec.models.model_dir import ModelDir
    from anchorrec.training.cold_start_fit import WARM_BUDGET, fit_cold_start, with_test_report

    budget = WARM_BUDGET if args.budget is None else args.budget
    if not 0 <= budget < 1:
        raise ConfigError(f"--budget must be in [0, 1) (got {budget}).")
    rows = []
    for path in args.model_dirs:
        loaded = load_model_from_args(args, path)
        if args.show:
            cold = loaded.cold_start
            if cold is None:
                print(f"{path}: no cold-start path stored (run `cold-start {path}`)")
                continue
        else:
            cold, per, base = fit_cold_start(loaded, warm_budget=budget)
            cold = with_test_report(loaded, cold)
            write_cold_start(ModelDir(path), cold)
            print(
                f"{path}: valid Recall@20, best setting of each mechanism (warm cost <= {budget}):"
            )
            print(f"  {'published':34s} warm {base['warm']:.4f}  new {base['new']:.4f}")
            for name, t in per.items():
                print(f"  {name:34s} warm {t.warm:.4f}  new {t.new:.4f}")
        on = cold.report.get("valid_on", {})
        weight = (
            f"each shopper's own image weight (sharpness {cold.sharpness})"
            if cold.mechanism == TASTE
            else f"image weight {cold.image_weight}"
        )
        print(
            f"{path}: kept {cold.name}, threshold {cold.threshold} purchases, {weight}, "
            f"spread {cold.spread}, shift {cold.shift}"
            + (f" (valid warm {on['warm']:.4f}, new {on['new']:.4f})" if on else "")
        )
        rows.append(
            {
                "model_dir": path,
                **{k: v for k, v in cold.to_json().items() if k not in ("generator", "centre")},
            }
        )
    if args.json:
        emit_json(rows)
    return 0
