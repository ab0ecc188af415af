"""One tuning protocol for every model: a small grid, selection on valid only, then seeds.

:func:`tune` runs, for one variant,

1. every point of the variant's grid (:data:`GRIDS`: learning rate and L2 weight for the
   gradient-trained models; λ for EASE; k and shrinkage for item-kNN; α and β for RP3β) with
   the first seed, each gradient-trained run under the same budget: at most ``budget``
   epochs (default :data:`DEFAULT_BUDGET`), early stopping after ``patience`` epochs (default
   :data:`DEFAULT_PATIENCE`) without a better valid Recall@20, the best epoch kept;
2. picks the point with the best valid Recall@20 — the test split is not read for it;
3. trains the chosen point once per seed and computes each run's test metrics once, under
   the evaluation mask rule ``mask`` (:mod:`anchorrec.evaluation.metrics`).

It writes ``OUT/model`` (the chosen point, first seed: an ordinary model directory),
``OUT/seed-<s>`` for the other seeds, and beside them ``OUT/grid.json`` (every grid point
with its valid scores and best epoch) and ``OUT/summary.json`` (the chosen point, each
seed's test metrics, their mean and standard deviation, the mask rule). Closed-form models
are deterministic: they are fitted once and every seed shares that fit (standard deviation 0
by construction, said in the summary).
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anchorrec.data.dataset import Dataset
from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.evaluation.metrics import DEFAULT_MASK, check_mask
from anchorrec.fileio import atomic_write_json
from anchorrec.models.checkpoint import save_model
from anchorrec.models.config import (
    TUNE_BUDGET,
    TUNE_PATIENCE,
    TUNE_SEEDS,
    ModelConfig,
    preset_config,
)
from anchorrec.models.registry import model_class

DEFAULT_BUDGET = TUNE_BUDGET
DEFAULT_PATIENCE = TUNE_PATIENCE
DEFAULT_SEEDS = TUNE_SEEDS
SELECTION_METRIC = "recall@20"
#: the metrics the summary reports (mean ± sd over the seeds)
SUMMARY_METRICS: tuple[str, ...] = ("recall@20", "ndcg@20", "recall@10", "ndcg@10")

#: learning rate outer, L2 weight inner: the first two points are lr 5e-3 with both L2 weights
_NEURAL_GRID: dict[str, tuple[Any, ...]] = {
    "learning_rate": (5e-3, 1e-3),
    "l2_weight": (1e-2, 1e-4),
}
#: The documented grid of each variant (every combination of the listed values is run).
GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "anchor": _NEURAL_GRID,
    "direct": _NEURAL_GRID,
    "none": _NEURAL_GRID,
    "anchor-noproj": _NEURAL_GRID,
    "anchor-noamp": _NEURAL_GRID,
    "lightgcn": _NEURAL_GRID,
    "mf": _NEURAL_GRID,
    "popularity": {},
    "ease": {"ease_lambda": (10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)},
    "itemknn": {"knn_neighbours": (20, 50, 100, 200), "knn_shrink": (0.0, 10.0, 100.0)},
    "rp3beta": {"rp3_alpha": (0.5, 1.0), "rp3_beta": (0.0, 0.25, 0.5, 0.75)},
}

Log = Callable[[str], None]


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` chose and measured."""

    variant: str
    chosen: dict[str, Any]
    grid: list[dict[str, Any]]
    seeds: list[dict[str, Any]]
    summary: dict[str, Any]
    out_dir: Path


def grid_points(variant: str, max_points: int | None = None) -> list[dict[str, Any]]:
    """Every combination of ``variant``'s grid, in a fixed order (the first ``max_points``)."""
    model_class(variant)  # unknown variant: ConfigError
    grid = GRIDS.get(variant, {})
    names = list(grid)
    points = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    if max_points is not None:
        if max_points < 1:
            raise ConfigError(f"max_points must be >= 1 (got {max_points}).")
        points = points[:max_points]
    return points


def _is_closed_form(config: ModelConfig, dataset: Dataset) -> bool:
    """A model without trainable parameters is final after :meth:`Recommender.fit`."""
    from anchorrec.models.registry import build_model

    model = build_model(config.variant, dataset, config)
    return not any(p.requires_grad for p in model.parameters())


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.mean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def tune(
    dataset: Dataset,
    variant: str,
    out_dir: str | Path,
    *,
    preset: str = "default",
    budget: int = DEFAULT_BUDGET,
    patience: int = DEFAULT_PATIENCE,
    seeds: tuple[int, ...] | list[int] = DEFAULT_SEEDS,
    mask: str = DEFAULT_MASK,
    device: str = "auto",
    max_points: int | None = None,
    overwrite: bool = False,
    log: Log | None = None,
) -> TuneResult:
    """Tune ``variant`` on ``dataset`` by the protocol above and write ``out_dir``."""
    from anchorrec.training.trainer import train

    check_mask(mask)
    seeds = list(dict.fromkeys(int(s) for s in seeds))
    if not seeds:
        raise ConfigError("give at least one seed.")
    if budget < 1 or patience < 1:
        raise ConfigError(f"budget and patience must be >= 1 (got {budget}, {patience}).")
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise CheckpointError(f"{out} already exists; pass --overwrite to replace it.")
    say = log or (lambda _s: None)
    base = preset_config(preset, variant=variant, epochs=budget, patience=patience)
    closed_form = _is_closed_form(base, dataset)
    points = grid_points(variant, max_points)
    started = time.perf_counter()

    grid: list[dict[str, Any]] = []
    for i, point in enumerate(points, start=1):
        config = base.replace(**point)
        t0 = time.perf_counter()
        result = train(
            dataset, variant, config, seed=seeds[0], device=device, progress=False, test=False
        )
        row = {
            "point": point,
            "valid": {k: result.metrics["valid"][k] for k in ("recall@20", "ndcg@20")},
            "best_epoch": result.best_epoch,
            "epochs_run": result.metrics["epochs_run"],
            "seconds": round(time.perf_counter() - t0, 2),
        }
        grid.append(row)
        say(
            f"[{variant}] grid {i}/{len(points)} {point or '(no grid)'}: valid "
            f"recall@20 {row['valid']['recall@20']:.4f} (best epoch {row['best_epoch']})"
        )
    best_row = max(grid, key=lambda r: r["valid"][SELECTION_METRIC])
    chosen = base.replace(**best_row["point"])
    say(f"[{variant}] chosen {best_row['point'] or '(no grid)'} on valid {SELECTION_METRIC}")

    out.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    fitted = None
    for n, seed in enumerate(seeds):
        name = "model" if n == 0 else f"seed-{seed}"
        t0 = time.perf_counter()
        if closed_form and fitted is not None:
            result = fitted  # deterministic: the same fit for every seed
        else:
            result = train(
                dataset, variant, chosen, seed=seed, device=device, progress=False, mask=mask
            )
            fitted = result
        save_model(
            result.model,
            dataset,
            out / name,
            metrics={**result.metrics, "seed": seed},
            train_log=result.log,
            extra={"seed": seed, "tuned": True},
            overwrite=True,
        )
        runs.append(
            {
                "seed": seed,
                "model_dir": name,
                "best_epoch": result.best_epoch,
                "valid": {k: result.metrics["valid"][k] for k in SUMMARY_METRICS},
                "test": {k: result.metrics["test"][k] for k in SUMMARY_METRICS},
                "seconds": round(time.perf_counter() - t0, 2),
            }
        )
        say(
            f"[{variant}] seed {seed}: test recall@20 {runs[-1]['test']['recall@20']:.4f} "
            f"ndcg@20 {runs[-1]['test']['ndcg@20']:.4f} (mask {mask})"
        )
    summary = {
        "variant": variant,
        "preset": preset,
        "mask": mask,
        "selection": f"valid {SELECTION_METRIC}, seed {seeds[0]}",
        "budget": {"epochs": budget, "patience": patience} if not closed_form else None,
        "closed_form": closed_form,
        "grid_points": len(grid),
        "grid_truncated_to": max_points,
        "chosen": best_row["point"],
        "chosen_config": chosen.to_dict(),
        "seeds": seeds,
        "runs": runs,
        "test": {m: _mean_sd([r["test"][m] for r in runs]) for m in SUMMARY_METRICS},
        "valid": {m: _mean_sd([r["valid"][m] for r in runs]) for m in SUMMARY_METRICS},
        "seconds": round(time.perf_counter() - started, 1),
        "note": "closed form: one deterministic fit shared by every seed (sd 0 by construction)"
        if closed_form
        else "one training run per seed",
    }
    atomic_write_json(
        out / "grid.json", {"variant": variant, "grid": GRIDS.get(variant, {}), "runs": grid}
    )
    atomic_write_json(out / "summary.json", summary)
    return TuneResult(variant, best_row["point"], grid, runs, summary, out)


def read_summary(out_dir: str | Path) -> dict[str, Any]:
    """``summary.json`` of a tuning directory."""
    path = Path(out_dir) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing; run `python -m anchorrec tune` first.") from None


__all__ = ["GRIDS", "TuneResult", "grid_points", "read_summary", "tune"]
