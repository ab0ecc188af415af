"""Do the accuracy game and the rank game find the photo sample's planted shopper groups?

The sample plants three groups of shoppers (``users.csv`` ``group``): visual shoppers buy by
the pictures, textual ones by the product text, collaborative ones by co-purchase. For each
model directory given (the shipped ``anchor`` / ``direct`` and retrained seeds of them) this
script measures, per group, the mean of image − text with a 95 % bootstrap interval over the
shoppers, under:

- the **accuracy game** (each input's Shapley value of the shopper's test Recall@20 and
  NDCG@20; needs held-out purchases), and
- the **rank game** (each input's Shapley value of a top-10 item's standing in the shopper's
  list: ``top-k`` membership and the ``rank-discount`` utility; needs none), averaged over
  the shopper's top-10,

all under the mean removal rule. The planted check passes for a model when image − text is
above 0 for visual shoppers and below 0 for textual ones, both intervals excluding 0.
A weaker, relative check: visual shoppers' image − text exceeds textual shoppers' (paired
over nothing: the two groups are disjoint, so it is the difference of two independent
means, with the interval of each). Appends a row to ``bench/results/explanation_games.jsonl``
and, with ``--doc``, rewrites the ``EXPLANATION-GAMES`` block of that Markdown file.

    python bench/research/explanation_games.py MODEL_DIR [MODEL_DIR ...] \
        [--data sample_data/wardrobe] [--doc docs/explanations.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import record  # noqa: E402
from bench.research.tuned_runs import loadavg, update_doc  # noqa: E402

DOC_MARKER = "EXPLANATION-GAMES"
GROUPS = ("visual", "textual", "collaborative")
TOP = 10


def _interval(values: np.ndarray, seed: int = 0) -> dict[str, float]:
    from anchorrec.evaluation.significance import bootstrap_intervals

    low, high = bootstrap_intervals(values[:, None], resamples=1000, seed=seed)
    return {"value": float(values.mean()), "low": float(low[0]), "high": float(high[0])}


def measure_model(path: str, ds: Any) -> dict[str, Any]:
    import torch

    from anchorrec.analysis.accuracy_game import shopper_values
    from anchorrec.analysis.attribution import coalition_cache
    from anchorrec.analysis.attribution.rank_game import STANDINGS, rank_top_k
    from anchorrec.evaluation.segments import user_segments
    from anchorrec.models.checkpoint import load_model

    torch.set_num_threads(1)
    loaded = load_model(path, ds)
    cache = coalition_cache(loaded)
    groups = user_segments(ds, "group")
    image, text = cache.players.index("image"), cache.players.index("text")
    out: dict[str, Any] = {"model": path, "variant": loaded.variant, "games": {}}
    sv = shopper_values(cache, ds, k=20)
    assert sv.efficiency_error() < 1e-9
    for metric in ("recall", "ndcg"):
        diff = sv.values[metric][image] - sv.values[metric][text]
        out["games"][f"accuracy {metric}@20"] = {
            g: _interval(diff[np.isin(sv.users, ids)]) for g, ids in groups.items()
        }
    for standing in STANDINGS:
        ranked = rank_top_k(cache, TOP, standing=standing)
        assert ranked.efficiency_error() < 1e-9
        per_pair = ranked.values[image] - ranked.values[text]
        users, where = np.unique(ranked.users, return_inverse=True)
        per_user = np.bincount(where, per_pair) / np.bincount(where)
        out["games"][f"rank {standing} (top-{TOP})"] = {
            g: _interval(per_user[np.isin(users, ids)]) for g, ids in groups.items()
        }
    return out


def verdicts(games: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, bool]]:
    """Per game: the planted check (visual above 0, textual below, intervals excluding 0) and
    the relative one (visual's interval above textual's)."""
    out = {}
    for name, by_group in games.items():
        vis, tex = by_group["visual"], by_group["textual"]
        out[name] = {
            "planted": vis["low"] > 0 and tex["high"] < 0,
            "relative": vis["low"] > tex["high"],
        }
    return out


def table(results: list[dict[str, Any]]) -> str:
    names = list(results[0]["games"])
    lines = [
        "| model | game | visual: image − text | textual: image − text | collaborative | "
        "planted check | visual above textual |",
        "|---|---|---:|---:|---:|:---:|:---:|",
    ]
    for res in results:
        v = verdicts(res["games"])
        for name in names:
            g = res["games"][name]
            cells = [
                f"{g[x]['value']:+.4f} [{g[x]['low']:+.4f}, {g[x]['high']:+.4f}]" for x in GROUPS
            ]
            lines.append(
                f"| {res['label']} | {name} | "
                + " | ".join(cells)
                + f" | {'pass' if v[name]['planted'] else 'fail'}"
                + f" | {'yes' if v[name]['relative'] else 'no'} |"
            )
    passed = {name: sum(verdicts(r["games"])[name]["planted"] for r in results) for name in names}
    lines.append("")
    lines.append(
        "Planted check passed on: "
        + "; ".join(f"{name} {passed[name]} of {len(results)}" for name in names)
        + "."
    )
    return "\n".join(lines)


def label(path: str) -> str:
    parts = Path(path).resolve().parts
    if parts[-1].startswith("seed-"):
        return f"{parts[-2]} {parts[-1].replace('-', ' ')}"
    return f"{parts[-1]} seed 0 (shipped)"


def main(argv: list[str] | None = None) -> int:
    from anchorrec.data.mmrec import load_mmrec

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help="model directories (shipped or retrained)")
    ap.add_argument("--data", default="sample_data/wardrobe")
    ap.add_argument("--doc", default=None, help=f"rewrite this file's {DOC_MARKER} block")
    args = ap.parse_args(argv)
    before = loadavg()
    ds = load_mmrec(args.data)
    results = []
    for path in args.models:
        res = measure_model(path, ds)
        res["label"] = label(path)
        results.append(res)
    for res in results:  # the record names models by label, never by this machine's paths
        res["model"] = res["label"]
    rec = record(
        "explanation_games",
        {
            "results": results,
            "verdicts": {r["label"]: verdicts(r["games"]) for r in results},
            "loadavg_before": before,
            "loadavg_after": loadavg(),
        },
    )
    text = table(results) + (
        "\n\n| run | date | code |\n|---|---|---|\n"
        f"| `bench/research/explanation_games.py` | {rec['date'][:10]} | `{rec['git']}` |\n"
    )
    print(text)
    if args.doc:
        update_doc(args.doc, DOC_MARKER, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
