"""Which input serves which shoppers: each coalition's test Recall@20 by shopper group.

Attribution shares say how much of a score each input supplies; they do not say whether that
part of the score ranks the shopper's items. This script answers the second question for the
shipped models of the photo sample: for every readable coalition of inputs (all, each pair,
each single input, none) under both attribution games, the test Recall@20 of each shopper
group (``users.csv`` ``group``), and for the two coalitions that keep the purchase history
and one content input (ID + image, ID + text) the paired bootstrap interval of their
difference per group. Writes the Markdown table with ``--doc`` (block ``RELIANCE-GROUPS``)
and appends a record to ``bench/results/reliance_groups.jsonl``.

    python bench/research/reliance_groups.py [--data sample_data/wardrobe] [--variants anchor direct]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import record  # noqa: E402
from bench.research.tuned_runs import loadavg, update_doc  # noqa: E402

DOC_MARKER = "RELIANCE-GROUPS"
K = 20


def measure(data: str, variants: list[str], games: tuple[str, ...]) -> dict:
    import torch

    from anchorrec.analysis.attribution import coalition_cache
    from anchorrec.analysis.reliance import readable_coalitions
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.evaluation.metrics import per_user_metrics
    from anchorrec.evaluation.segments import user_segments
    from anchorrec.evaluation.significance import paired_bootstrap_interval
    from anchorrec.models.base import Embeddings
    from anchorrec.models.checkpoint import load_model

    torch.set_num_threads(1)
    ds = load_mmrec(data)
    groups = user_segments(ds, "group")
    out: dict = {}
    for variant in variants:
        loaded = load_model(Path(data) / "models" / variant, ds)
        for game in games:
            cache = coalition_cache(loaded, game=game)
            recall: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for coalition in readable_coalitions(cache.players):
                s = cache.subset_index(coalition)
                emb = Embeddings(torch.from_numpy(cache.users[s]), torch.from_numpy(cache.items[s]))
                pu = per_user_metrics(emb, ds, "test", K)
                name = " + ".join(p for p in cache.players if p in coalition) or "(none)"
                recall[name] = (pu["users"], pu[f"recall@{K}"])
            rows = {}
            for name, (users, values) in recall.items():
                rows[name] = {
                    g: float(values[np.isin(users, ids)].mean()) for g, ids in groups.items()
                }
            pair = {}
            if "id + image" in recall and "id + text" in recall:
                users, image = recall["id + image"]
                _, text = recall["id + text"]
                for g, ids in groups.items():
                    inside = np.isin(users, ids)
                    low, high = paired_bootstrap_interval(image[inside], text[inside])
                    diff = float(image[inside].mean() - text[inside].mean())
                    pair[g] = {"diff": diff, "low": low, "high": high}
            out[f"{variant} {game}"] = {"rows": rows, "image_minus_text": pair}
    return {"groups": list(groups), "results": out}


def table(found: dict) -> str:
    groups = found["groups"]
    lines = []
    for key, res in found["results"].items():
        lines += [
            f"**{key}** (test Recall@{K} by shopper group; coalitions of inputs, the rest removed)",
            "",
            "| inputs kept | " + " | ".join(groups) + " |",
            "|---|" + "---|" * len(groups),
        ]
        for name, by_group in res["rows"].items():
            lines.append(f"| {name} | " + " | ".join(f"{by_group[g]:.4f}" for g in groups) + " |")
        if res["image_minus_text"]:
            cells = [
                f"{d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
                for d in (res["image_minus_text"][g] for g in groups)
            ]
            lines.append(
                "| (id + image) − (id + text), 95 % paired interval | " + " | ".join(cells) + " |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="sample_data/wardrobe")
    ap.add_argument("--variants", nargs="+", default=["anchor", "direct"])
    ap.add_argument("--games", nargs="+", default=["mean", "background"])
    ap.add_argument("--doc", default=None, help=f"rewrite this file's {DOC_MARKER} block")
    args = ap.parse_args(argv)
    before = loadavg()
    found = measure(args.data, args.variants, tuple(args.games))
    rec = record(
        "reliance_groups",
        {**found, "headline": ["groups"], "loadavg_before": before, "loadavg_after": loadavg()},
    )
    text = (
        table(found) + f"\nReport: {rec['machine'].get('cpu')}, {rec['date']}, git {rec['git']}.\n"
    )
    print(text)
    if args.doc:
        update_doc(args.doc, DOC_MARKER, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
