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

It writes ``OUT/grid/point-<i>`` (every grid run, valid metrics only), ``OUT/model`` (the
chosen point: its grid run, which is the first seed, now with test metrics: an ordinary model
directory), ``OUT/seed-<s>`` for the other seeds, and beside them ``OUT/grid.json`` (every
grid point with its valid scores and best epoch) and ``OUT/summary.json`` (the chosen point,
each seed's test metrics, their mean and standard deviation, the mask rule). Closed-form
models are deterministic: they are fitted once and every seed shares that fit (standard
deviation 0 by construction, said in the summary). Grid points and seeds can be trained in
separate processes (:func:`run_grid_point`, :func:`run_seed`) and collected with
``tune(..., resume=True)``.
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
from anchorrec.models.model_dir import ModelDir
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


Grid = dict[str, tuple[Any, ...]]


def grid_points(
    variant: str, max_points: int | None = None, grid: Grid | None = None
) -> list[dict[str, Any]]:
    """Every combination of ``variant``'s grid (or of ``grid``, e.g. from a YAML file), in a
    fixed order (the first ``max_points``)."""
    model_class(variant)  # unknown variant: ConfigError
    grid = GRIDS.get(variant, {}) if grid is None else grid
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


def _grid_dir(out: Path, index: int) -> Path:
    return out / "grid" / f"point-{index}"


def _seed_dir(out: Path, seed: int) -> Path:
    return out / f"seed-{seed}"


def _base_config(
    variant: str, preset: str, budget: int, patience: int, fixed: dict[str, Any] | None = None
) -> ModelConfig:
    """The preset with the protocol's budget, and ``fixed`` hyper-parameters (a YAML file's)."""
    if budget < 1 or patience < 1:
        raise ConfigError(f"budget and patience must be >= 1 (got {budget}, {patience}).")
    return preset_config(
        preset, variant=variant, **{**(fixed or {}), "epochs": budget, "patience": patience}
    )


def _reusable(model_dir: Path, config: ModelConfig, seed: int) -> bool:
    """Whether ``model_dir`` holds a finished run of ``config`` with ``seed``."""
    from anchorrec.models.checkpoint import read_model_info

    if not ModelDir(model_dir).config.exists():
        return False
    info = read_model_info(model_dir)
    saved = ModelConfig.from_dict(info["hyper_parameters"], variant=info["variant"])
    return saved == config and info.get("seed") == seed


def _train_valid_only(
    dataset: Dataset, config: ModelConfig, seed: int, device: str, model_dir: Path, extra: dict
) -> None:
    """Train ``config`` with ``seed`` (the test split untouched) and save it to ``model_dir``."""
    from anchorrec.training.trainer import train

    t0 = time.perf_counter()
    result = train(
        dataset, config.variant, config, seed=seed, device=device, progress=False, test=False
    )
    save_model(
        result.model,
        dataset,
        model_dir,
        metrics=result.metrics,
        train_log=result.log,
        extra={"seed": seed, "seconds": round(time.perf_counter() - t0, 2), **extra},
        overwrite=True,
    )


def run_grid_point(
    dataset: Dataset,
    variant: str,
    out_dir: str | Path,
    index: int,
    *,
    preset: str = "default",
    budget: int = DEFAULT_BUDGET,
    patience: int = DEFAULT_PATIENCE,
    seed: int = DEFAULT_SEEDS[0],
    device: str = "auto",
    grid: Grid | None = None,
    fixed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train grid point ``index`` (0-based) of ``variant`` with ``seed`` into
    ``out_dir/grid/point-<index>`` unless it is there already; return its grid row (valid
    scores only). Separate processes may run separate points of one tuning directory."""
    from anchorrec.models.checkpoint import read_model_info

    point = grid_points(variant, grid=grid)[index]
    config = _base_config(variant, preset, budget, patience, fixed).replace(**point)
    model_dir = _grid_dir(Path(out_dir), index)
    if not _reusable(model_dir, config, seed):
        _train_valid_only(dataset, config, seed, device, model_dir, {"grid_point": point})
    info = read_model_info(model_dir)
    metrics = json.loads(ModelDir(model_dir).metrics.read_text(encoding="utf-8"))
    return {
        "point": point,
        "model_dir": str(model_dir.relative_to(out_dir)),
        "valid": {k: metrics["valid"][k] for k in ("recall@20", "ndcg@20")},
        "best_epoch": metrics["best_epoch"],
        "epochs_run": metrics["epochs_run"],
        "seconds": info.get("seconds"),
    }


def run_seed(
    dataset: Dataset, config: ModelConfig, out_dir: str | Path, seed: int, device: str = "auto"
) -> Path:
    """Train the chosen ``config`` with ``seed`` into ``out_dir/seed-<seed>`` (valid only)
    unless it is there already. Separate processes may run separate seeds."""
    model_dir = _seed_dir(Path(out_dir), seed)
    if not _reusable(model_dir, config, seed):
        _train_valid_only(dataset, config, seed, device, model_dir, {"tuned": True})
    return model_dir


def _with_test(
    dataset: Dataset, model_dir: Path, target: Path, mask: str, seed: int
) -> dict[str, Any]:
    """Evaluate ``model_dir`` on test once (under ``mask``) and write it, with its metrics,
    to ``target``; return the metrics."""
    from anchorrec.evaluation.metrics import evaluate
    from anchorrec.models.checkpoint import load_model, read_train_log

    loaded = load_model(model_dir, dataset)
    metrics = dict(loaded.metrics)
    if metrics.get("test") is None or metrics.get("mask") != mask:
        test = evaluate(loaded.model, dataset, "test", mask=mask)
        metrics["test"] = {k: float(v) for k, v in test.items() if v == v}
        metrics["mask"] = mask
    metrics["seed"] = seed
    save_model(
        loaded.model,
        dataset,
        target,
        metrics=metrics,
        train_log=read_train_log(model_dir),
        extra={k: v for k, v in loaded.info.items() if k in ("seed", "seconds", "grid_point")}
        | {"tuned": True},
        overwrite=True,
    )
    return metrics


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
    resume: bool = False,
    log: Log | None = None,
    grid: Grid | None = None,
    fixed: dict[str, Any] | None = None,
) -> TuneResult:
    """Tune ``variant`` on ``dataset`` by the protocol above and write ``out_dir``.

    ``grid`` replaces the variant's documented grid and ``fixed`` sets other
    hyper-parameters of every run (``tune --config FILE.yaml``); both are recorded.

    With ``resume`` an existing ``out_dir`` is continued: grid points and seeds already
    trained there with the same configuration and seed are reused, not retrained (they may
    have been run by :func:`run_grid_point` / :func:`run_seed` in other processes).
    """
    import shutil

    check_mask(mask)
    seeds = list(dict.fromkeys(int(s) for s in seeds))
    if not seeds:
        raise ConfigError("give at least one seed.")
    base = _base_config(variant, preset, budget, patience, fixed)
    out = Path(out_dir)
    if out.exists() and not resume:
        if not overwrite:
            raise CheckpointError(
                f"{out} already exists; pass --overwrite to replace it or --resume to continue it."
            )
        shutil.rmtree(out)
    say = log or (lambda _s: None)
    closed_form = _is_closed_form(base, dataset)
    points = grid_points(variant, max_points, grid)
    started = time.perf_counter()

    rows: list[dict[str, Any]] = []
    for i, point in enumerate(points):
        row = run_grid_point(
            dataset,
            variant,
            out,
            i,
            preset=preset,
            budget=budget,
            patience=patience,
            seed=seeds[0],
            device=device,
            grid=grid,
            fixed=fixed,
        )
        rows.append(row)
        say(
            f"[{variant}] grid {i + 1}/{len(points)} {point or '(no grid)'}: valid "
            f"recall@20 {row['valid']['recall@20']:.4f} (best epoch {row['best_epoch']})"
        )
    best_index = max(range(len(rows)), key=lambda i: rows[i]["valid"][SELECTION_METRIC])
    best_row = rows[best_index]
    chosen = base.replace(**best_row["point"])
    say(f"[{variant}] chosen {best_row['point'] or '(no grid)'} on valid {SELECTION_METRIC}")

    # the chosen point's grid run is its first seed; the other seeds are trained now
    runs: list[dict[str, Any]] = []
    for n, seed in enumerate(seeds):
        if n == 0:
            source, name = _grid_dir(out, best_index), "model"
        elif closed_form:
            source, name = out / "model", "model"  # deterministic: one fit for every seed
        else:
            source, name = run_seed(dataset, chosen, out, seed, device), f"seed-{seed}"
        if n == 0 or not closed_form:
            metrics = _with_test(dataset, source, out / name, mask, seed)
        runs.append(
            {
                "seed": seed,
                "model_dir": name,
                "best_epoch": metrics["best_epoch"],
                "valid": {k: metrics["valid"][k] for k in SUMMARY_METRICS},
                "test": {k: metrics["test"][k] for k in SUMMARY_METRICS},
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
        "grid_points": len(rows),
        "grid_source": "documented" if grid is None else "given (tune --config)",
        "fixed": fixed or {},
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
        else "one training run per seed; the first seed's run is the chosen grid point's",
    }
    used = GRIDS.get(variant, {}) if grid is None else grid
    atomic_write_json(out / "grid.json", {"variant": variant, "grid": used, "runs": rows})
    atomic_write_json(out / "summary.json", summary)
    return TuneResult(variant, best_row["point"], rows, runs, summary, out)


def read_summary(out_dir: str | Path) -> dict[str, Any]:
    """``summary.json`` of a tuning directory."""
    path = Path(out_dir) / "summary.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing; run `python -m anchorrec tune` first.") from None


__all__ = [
    "GRIDS",
    "TuneResult",
    "grid_points",
    "read_summary",
    "run_grid_point",
    "run_seed",
    "tune",
]
