"""Input-level attribution shares of each planted shopper group, per variant, on the sample.

The sample's users.csv records the driver that dominates each shopper's purchases
(``group``: visual, textual or collaborative). If attribution means what it says, the
top-10 lists of mostly-visual shoppers should owe more to the image than to the text,
those of mostly-textual shoppers the reverse, and those of mostly-collaborative shoppers
should have the largest ID share. This script measures it on every shipped sample model
(exact Shapley, mean |φ|/Σ|φ| over all top-10 recommendations of the group's users).

    python -m bench.research.driver_shares [--models sample_data/boutique/models] [--k 10]
        [--removed-graph mean|identity]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, peak_rss_mb, record  # noqa: E402

MODELS = ROOT / "sample_data" / "boutique" / "models"


def group_shares(model_dir: Path, k: int, removed_graph: str) -> dict:
    from anchorrec.analysis.audit import audit
    from anchorrec.models.checkpoint import load_model

    t0 = time.perf_counter()
    loaded = load_model(model_dir)
    loaded.model.removed_graph = removed_graph  # the graph cache is keyed by the rule
    res = audit(loaded, k=k)
    groups = res.shares[res.shares["kind"] == "user group"]
    players = list(res.players)
    out: dict = {"variant": res.variant, "players": players, "groups": {}}
    for row in groups.itertuples(index=False):
        r = row._asdict()
        out["groups"][r["segment"]] = {
            "users": int(r["users"]),
            **{f"share_{p}": round(float(r[f"share_{p}"]), 4) for p in players},
            **{f"phi_{p}": round(float(r[f"phi_{p}"]), 4) for p in players},
            **{f"zshare_{p}": round(float(r[f"zshare_{p}"]), 4) for p in players},
            **{f"zphi_{p}": round(float(r[f"zphi_{p}"]), 4) for p in players},
        }
    overall = res.shares.iloc[0]
    out["all"] = {f"share_{p}": round(float(overall[f"share_{p}"]), 4) for p in players}
    g = out["groups"]
    checks = {}
    if {"visual", "textual", "collaborative"} <= set(g) and {"image", "text"} <= set(players):
        checks["visual_image_gt_text"] = g["visual"]["share_image"] > g["visual"]["share_text"]
        checks["textual_text_gt_image"] = g["textual"]["share_text"] > g["textual"]["share_image"]
        checks["collaborative_id_largest_of_groups"] = g["collaborative"]["share_id"] == max(
            g[x]["share_id"] for x in ("visual", "textual", "collaborative")
        )
        checks["collaborative_id_largest_of_inputs"] = g["collaborative"]["share_id"] == max(
            g["collaborative"][f"share_{p}"] for p in players
        )
        for game, pre in (
            ("signed", "phi_"),
            ("standardised", "zshare_"),
            ("standardised_signed", "zphi_"),
        ):
            checks[f"{game}:visual_image_gt_text"] = (
                g["visual"][f"{pre}image"] > g["visual"][f"{pre}text"]
            )
            checks[f"{game}:textual_text_gt_image"] = (
                g["textual"][f"{pre}text"] > g["textual"][f"{pre}image"]
            )
            checks[f"{game}:collaborative_id_largest_of_groups"] = g["collaborative"][
                f"{pre}id"
            ] == max(g[x][f"{pre}id"] for x in ("visual", "textual", "collaborative"))
    out["checks"] = checks
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(MODELS))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument(
        "--removed-graph",
        choices=("mean", "identity"),
        default="mean",
        help="item graph of a removed input (identity: the rule the mean graph replaced)",
    )
    args = ap.parse_args()
    rows = []
    for model_dir in sorted(Path(args.models).iterdir()):
        if not (model_dir / "config.json").is_file():
            continue
        from anchorrec.models.checkpoint import read_model_info

        if len(read_model_info(model_dir).get("players", [])) < 2:
            continue  # ID-only baselines have nothing to attribute
        rows.append(group_shares(model_dir, args.k, args.removed_graph))
        print(rows[-1]["variant"], rows[-1]["checks"], flush=True)
    if not rows:
        raise SystemExit(f"no multimodal model under {args.models}")
    record(
        "driver_shares",
        {
            "k": args.k,
            "removed_graph": args.removed_graph,
            "models": rows,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        },
    )


if __name__ == "__main__":
    main()
