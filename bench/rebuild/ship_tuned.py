"""Ship the tuned models with the sample: each variant's chosen model (seed 0) and its record.

``python -m anchorrec tune DATASET --variant V --out TUNE/V`` writes ``TUNE/V/model`` (the
chosen grid point trained with the first seed, test metrics under the recorded mask rule),
``TUNE/V/grid.json`` and ``TUNE/V/summary.json``. This script copies ``TUNE/V/model`` to
``<sample>/models/V`` and writes the two records into it as one ``tuning.json``
(``{"grid": …, "summary": …}``), so the dashboard and the tests can say how each shipped model
was chosen. It refuses a model trained on other data (dataset fingerprint), one whose test
metrics were not computed under MMRec's ``train`` mask, one without ``tuned`` in its config,
and weights above :data:`MAX_MODEL_BYTES`.

    python -m bench.rebuild.ship_tuned TUNE_ROOT [--variants anchor lightgcn …] [--sample DIR]

Derived files (layouts, diagnostics, per-user metrics) are not copied: run
``python -m anchorrec prepare <sample>/models/*`` afterwards. Shipping the same model again
keeps them; shipping another model in its place removes them with the old one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anchorrec.fileio import atomic_write_json  # noqa: E402
from anchorrec.models.model_dir import (  # noqa: E402
    CONFIG_FILE,
    LOG_FILE,
    METRICS_FILE,
    WEIGHTS_FILE,
    ModelDir,
)
from anchorrec.workspace import SAMPLE_DATASET_DIR  # noqa: E402

#: The most a shipped model's weights may take.
MAX_MODEL_BYTES = 10 * 1024 * 1024
SHIPPED_FILES = (WEIGHTS_FILE, CONFIG_FILE, METRICS_FILE, LOG_FILE)


def ship(tune_dir: Path, sample: Path, fingerprint: str) -> Path:
    """Copy one tuned variant into ``sample/models/<variant>``; return the new directory."""
    summary = json.loads((tune_dir / "summary.json").read_text(encoding="utf-8"))
    grid = json.loads((tune_dir / "grid.json").read_text(encoding="utf-8"))
    source = ModelDir(tune_dir / "model")
    config = json.loads(source.config.read_text(encoding="utf-8"))
    metrics = json.loads(source.metrics.read_text(encoding="utf-8"))
    variant = summary["variant"]
    problems = []
    if config["dataset"]["fingerprint"] != fingerprint:
        problems.append(f"trained on dataset {config['dataset']['fingerprint']}, not {fingerprint}")
    if metrics.get("mask") != "train" or summary.get("mask") != "train":
        problems.append(f"test metrics under mask {metrics.get('mask')!r}, not 'train'")
    if not config.get("tuned"):
        problems.append("config.json does not say 'tuned'")
    if summary["runs"][0]["model_dir"] != "model" or config.get("seed") != summary["seeds"][0]:
        problems.append("model/ is not the first seed's run")
    size = source.weights.stat().st_size
    if size > MAX_MODEL_BYTES:
        problems.append(f"weights are {size / 2**20:.1f} MiB (at most {MAX_MODEL_BYTES >> 20})")
    if problems:
        raise SystemExit(f"{tune_dir}: " + "; ".join(problems))
    out = sample / "models" / variant
    same = (
        ModelDir(out).config.is_file()
        and ModelDir(out).config.read_bytes() == source.config.read_bytes()
    )
    if out.exists() and not same:  # another model: its derived files go with it
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        shutil.copy2(source.path / name, out / name)
    atomic_write_json(ModelDir(out).tuning, {"grid": grid, "summary": summary})
    print(f"{variant}: {size / 1e6:.2f} MB, test recall@20 {metrics['test']['recall@20']:.4f}")
    return out


def main() -> None:
    from anchorrec.data.mmrec import load_mmrec

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tune_root", type=Path, help="folder holding one tune output per variant")
    ap.add_argument("--variants", nargs="+", help="default: every sub-folder with a summary")
    ap.add_argument("--sample", type=Path, default=SAMPLE_DATASET_DIR)
    args = ap.parse_args()
    fingerprint = load_mmrec(args.sample).fingerprint
    names = args.variants or sorted(
        p.name for p in args.tune_root.iterdir() if (p / "summary.json").is_file()
    )
    for name in names:
        ship(args.tune_root / name, args.sample, fingerprint)


if __name__ == "__main__":
    main()
