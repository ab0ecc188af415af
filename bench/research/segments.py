"""Accuracy by user activity and by item popularity (``evaluate --by``) on the sample and on
Amazon Baby: one row per dataset, model and grouping in bench/results/segments.jsonl.

The sample's shipped models are evaluated as they are. On Amazon Baby (../shared, interactions
only) an ID-only model is trained first into ``--models`` (outside the repository): EASE with
the λ the Baby comparison chose on valid (bench/results/comparisons/baby/ease/summary.json),
unless a model is already there.

    python -m bench.research.segments --models /tmp/anchorrec-segments [--skip-baby]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.babylib import BABY_DIR  # noqa: E402
from bench.common.benchlib import ROOT, record  # noqa: E402

SAMPLE_MODELS = ("lightgcn", "anchor")
METRICS = ("recall@20", "ndcg@20", "mrr@20")
BABY_EASE = ROOT / "bench" / "results" / "comparisons" / "baby" / "ease" / "summary.json"


def _rows(loaded, dataset_name: str, model: str) -> None:
    from anchorrec.evaluation.metrics import evaluate, evaluate_item_buckets, evaluate_segments
    from anchorrec.evaluation.segments import activity_segments, popularity_segments

    ds = loaded.dataset
    overall = evaluate(loaded.model, ds, "test")
    for by, result in (
        ("activity", evaluate_segments(loaded.model, ds, activity_segments(ds), "test")),
        ("popularity", evaluate_item_buckets(loaded.model, ds, popularity_segments(ds), "test")),
    ):
        record(
            "segments",
            {
                "dataset": dataset_name,
                "model": model,
                "by": by,
                "split": "test",
                "mask": "train",
                "all": {"users": int(overall["users"])} | {m: overall[m] for m in METRICS},
                "segments": {
                    name: {"users": int(v["users"])} | {m: v[m] for m in METRICS}
                    for name, v in result.items()
                },
            },
        )


def _baby_model(models: Path):
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import load_model
    from anchorrec.models.config import preset_config
    from anchorrec.training import train

    ds = load_mmrec(BABY_DIR)
    out = models / "baby-ease"
    if not (out / "config.json").is_file():
        chosen = json.loads(BABY_EASE.read_text())["chosen"]
        config = preset_config("default", variant="ease", **chosen)
        train(ds, "ease", config, out_dir=out, seed=0, device="cpu", progress=False)
    return load_model(out, ds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True, type=Path, help="folder for the Baby model")
    ap.add_argument("--skip-baby", action="store_true", help="the sample only")
    args = ap.parse_args()
    from anchorrec.models.checkpoint import load_model
    from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR

    for model in SAMPLE_MODELS:
        _rows(load_model(SAMPLE_DATASET_DIR / MODELS_DIR / model), "wardrobe", model)
    if not args.skip_baby:
        if not Path(BABY_DIR).is_dir():
            raise SystemExit(f"{BABY_DIR} is absent: the Baby rows need ../shared")
        _rows(_baby_model(args.models), "amazon_baby_5core", "ease")


if __name__ == "__main__":
    main()
