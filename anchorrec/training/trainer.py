"""BPR training with Adam, the released lr schedule, early stopping and resumable state.

Each epoch: lr = lr₀ · 0.96^(epoch / 50) (docs/models.md#training), every train interaction once with one
uniform negative (:class:`~anchorrec.training.sampler.BprSampler`), then valid Recall@20 for
early stopping. With an output directory a resumable state is written after every epoch,
atomically, beside it in ``<out>.resume/`` (safetensors for tensors, JSON for the rest,
never pickle); ``resume=True`` continues from the last completed epoch and gives the same
result as an uninterrupted run. At the end the best epoch's model is written to ``<out>``
(:func:`anchorrec.models.checkpoint.save_model`) and the resume state is removed.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from tqdm import tqdm

from anchorrec.data.dataset import Dataset
from anchorrec.device import resolve_device
from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.evaluation.metrics import DEFAULT_MASK, check_mask, evaluate
from anchorrec.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text, locks_output
from anchorrec.models.base import Batch, Recommender
from anchorrec.models.checkpoint import save_model
from anchorrec.models.config import ModelConfig, preset_config
from anchorrec.models.model_dir import LOG_FILE, ModelDir
from anchorrec.models.registry import build_model
from anchorrec.training.cuda_graphs import GraphedStep, backward_and_step
from anchorrec.training.early_stopping import EarlyStopping, copy_state
from anchorrec.training.host_memory import reuse_freed_memory
from anchorrec.training.sampler import BprSampler

#: Early stopping and model selection metric (docs/models.md#training: best epoch by valid Recall@20).
SELECTION_METRIC = "recall@20"
STATE_FILE = "state.safetensors"
STATE_JSON = "state.json"
#: key of the safetensors metadata entry that holds the state's JSON (epoch, log, optimizer)
STATE_META_KEY = "anchorrec_state"
#: the progress bar shows the loss every this many steps (each read waits for the device)
POSTFIX_EVERY = 10

EpochCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrainResult:
    """The best model of a training run and what was measured."""

    model: Recommender
    config: ModelConfig
    metrics: dict[str, Any]
    log: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    model_dir: Path | None = None


def optimizer_step(
    optimizer: torch.optim.Optimizer, terms: dict[str, torch.Tensor], sums: dict[str, Any]
) -> None:
    """Back-propagate ``terms["total"]``, step, and add every detached term to ``sums``.

    The sums stay on the device (float64): a ``float()`` per term and step would make every
    CUDA step wait for the GPU.
    """
    backward_and_step(optimizer, terms["total"])
    add_terms(sums, terms)


def add_terms(sums: dict[str, Any], terms: dict[str, torch.Tensor]) -> None:
    """Add every detached loss term to ``sums`` (float64 tensors on the device: no sync)."""
    for k, v in terms.items():
        sums[k] = sums.get(k, 0.0) + v.detach().double()


def resume_dir_for(out_dir: str | Path) -> Path:
    out_dir = Path(out_dir)
    return ModelDir(out_dir).resume_dir


def learning_rate(config: ModelConfig, epoch: int) -> float:
    """lr₀ · 0.96^(epoch / 50) for the 0-based ``epoch``."""
    t = config.train
    return t.learning_rate * t.lr_decay_base ** (epoch / t.lr_decay_epochs)


def make_optimizer(model: Recommender, config: ModelConfig) -> torch.optim.Optimizer | None:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return None
    return torch.optim.Adam(params, lr=config.train.learning_rate, fused=True)


# ---------------------------------------------------------------------- resumable state
def _state_tensors(
    model: Recommender, optimizer: torch.optim.Optimizer | None, best: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v.detach().cpu().contiguous() for k, v in best.items()})
    tensors["rng.torch"] = torch.get_rng_state()
    scalars: dict[str, Any] = {}
    if optimizer is not None:
        sd = optimizer.state_dict()
        for idx, st in sd["state"].items():
            for name, value in st.items():
                if torch.is_tensor(value):
                    tensors[f"opt.{idx}.{name}"] = value.detach().cpu().contiguous()
                else:
                    scalars[f"{idx}.{name}"] = value
        scalars["param_groups"] = sd["param_groups"]
    return tensors, scalars


def safe_open_metadata(blob: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file held in memory (its header is JSON)."""
    header_len = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + header_len])
    return dict(header.get("__metadata__") or {})


def _write_state(
    resume_dir: Path,
    model: Recommender,
    optimizer: torch.optim.Optimizer | None,
    best: dict[str, torch.Tensor],
    meta: dict[str, Any],
) -> None:
    tensors, opt_scalars = _state_tensors(model, optimizer, best)
    full_meta = {**meta, "optimizer": opt_scalars}
    # One file, one atomic rename: the tensors carry their own metadata, so a run killed at
    # any instant leaves either the previous epoch's state or this one, never a mix of two.
    atomic_write_bytes(
        resume_dir / STATE_FILE, st_save(tensors, metadata={STATE_META_KEY: json.dumps(full_meta)})
    )
    # A readable progress summary for people and tools; resuming never reads it.
    atomic_write_json(resume_dir / STATE_JSON, full_meta)


def _read_state(
    resume_dir: Path,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    try:
        blob = (resume_dir / STATE_FILE).read_bytes()
        tensors = st_load(blob)
        meta = json.loads(safe_open_metadata(blob)[STATE_META_KEY])
    except FileNotFoundError:
        raise CheckpointError(
            f"{resume_dir} has no complete training state to resume; train without --resume."
        ) from None
    except Exception as exc:  # noqa: BLE001 - any corruption is a checkpoint problem
        raise CheckpointError(f"{resume_dir}: the training state is unreadable ({exc}).") from None
    return meta, tensors


def _restore_optimizer(
    optimizer: torch.optim.Optimizer, scalars: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    for key, value in scalars.items():
        if key != "param_groups":
            idx, name = key.split(".", 1)
            state.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": scalars["param_groups"]})


# ---------------------------------------------------------------------- training
def _reusing_freed_memory_on_cpu(fn: Callable[..., TrainResult]) -> Callable[..., TrainResult]:
    """Run ``fn`` (keyword ``device``) with freed host memory kept for reuse when on the CPU.

    A CPU step frees and reallocates the same large gradients every step; see
    :mod:`anchorrec.training.host_memory` (same numbers, fewer page faults).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> TrainResult:
        device = str(kwargs.get("device", "auto"))
        on_cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
        with reuse_freed_memory(on_cpu):
            return fn(*args, **kwargs)

    return wrapper


#: ``step(batch, epoch) -> loss terms``: one optimisation step (backward and update included).
StepFn = Callable[[Batch, int], dict[str, torch.Tensor]]


class Trainer:
    """The epoch loop of BPR training, shared by :func:`train` and the data-parallel entry
    point (:mod:`anchorrec.training.distributed`): the learning-rate schedule, one pass over an
    epoch's batches, validation with early stopping, the log, and the best epoch's metrics.

    Who builds the batches and how a step updates the weights is the caller's: a single
    process replays CUDA graphs (:class:`~anchorrec.training.cuda_graphs.GraphedStep`), the
    data-parallel one steps through DistributedDataParallel on its shard of the triples.
    """

    def __init__(
        self,
        model: Recommender,
        dataset: Dataset,
        config: ModelConfig,
        optimizer: torch.optim.Optimizer | None,
        *,
        best: EarlyStopping | None = None,
        progress: bool = True,
        label: str = "",
    ) -> None:
        self.model = model
        self.dataset = dataset
        self.config = config
        self.optimizer = optimizer
        self.best = (
            best
            if best is not None
            else EarlyStopping(config.train.patience, best_state=copy_state(model))
        )
        self.progress = progress
        self.label = label
        self.log: list[dict[str, Any]] = []
        #: The epoch budget (none for a model without trainable weights).
        self.epochs = config.train.epochs if optimizer is not None else 0
        self.stopped_early = False
        self.lr = config.train.learning_rate

    def set_learning_rate(self, epoch: int) -> float:
        """Put the schedule's rate of 0-based ``epoch`` in every parameter group."""
        self.lr = learning_rate(self.config, epoch)
        assert self.optimizer is not None, "no epoch runs without trainable weights"
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr
        return self.lr

    def train_epoch(
        self,
        epoch: int,
        batches: Iterable[Batch],
        step: StepFn,
        *,
        total: int | None = None,
        bar: bool = True,
    ) -> tuple[dict[str, torch.Tensor], int]:
        """Run ``step`` on every batch of ``epoch`` (rate set, model in training mode): the
        summed loss terms (float64 on the device: no sync per step) and the number of steps."""
        self.set_learning_rate(epoch)
        self.model.train()
        sums: dict[str, Any] = {}
        shown = tqdm(
            batches,
            total=total,
            desc=f"{self.label} epoch {epoch + 1}/{self.epochs}",
            disable=not (self.progress and bar),
            file=sys.stderr,
            leave=False,
        )
        steps = 0
        for steps, batch in enumerate(shown, start=1):
            add_terms(sums, step(batch, epoch))
            if self.progress and bar and steps % POSTFIX_EVERY == 0:
                shown.set_postfix(
                    loss=f"{float(sums['total']) / steps:.4f}",
                    best=f"{max(self.best.best_value, 0):.4f}",
                )
        return sums, steps

    def end_epoch(
        self, epoch: int, loss: dict[str, float], started: float, *, note: str = ""
    ) -> dict[str, Any]:
        """Validate after ``epoch`` (early stopping), log the record and say it on stderr."""
        record = validate_epoch(
            self.model,
            self.dataset,
            self.best,
            epoch=epoch,
            epochs=self.epochs,
            lr=self.lr,
            loss=loss,
            started=started,
        )
        self.log.append(record)
        if self.progress:
            tqdm.write(
                f"epoch {epoch + 1}/{self.epochs} loss {record['loss']['total']:.4f} "
                f"valid recall@20 {record['valid']['recall@20']:.4f} "
                f"ndcg@20 {record['valid']['ndcg@20']:.4f} ({record['seconds']:.1f}s{note})",
                file=sys.stderr,
            )
        return record

    def finish(self, *, seed: int, mask: str = DEFAULT_MASK, test: bool = True) -> dict[str, Any]:
        """Put the best epoch's weights back and return what ``metrics.json`` holds."""
        return restore_best(
            self.model,
            self.dataset,
            self.best,
            epochs_run=len(self.log),
            stopped_early=self.stopped_early,
            seed=seed,
            mask=mask,
            test=test,
        )

    # -- resumable state ------------------------------------------------------------------
    def save_state(self, resume_dir: Path, meta_base: dict[str, Any], epoch: int) -> None:
        """Write the state after 0-based ``epoch`` (and the log so far) to ``resume_dir``."""
        meta = {
            **meta_base,
            "epoch": epoch + 1,
            "best_epoch": self.best.best_epoch,
            "best_value": self.best.best_value,
            "bad_epochs": self.best.bad_epochs,
            "log": self.log,
        }
        _write_state(resume_dir, self.model, self.optimizer, self.best.best_state, meta)
        atomic_write_text(resume_dir / LOG_FILE, "".join(json.dumps(r) + "\n" for r in self.log))

    def restore_state(
        self, resume_dir: Path, meta_base: dict[str, Any], device: torch.device
    ) -> int:
        """Continue from the state in ``resume_dir`` (checked against this run's
        ``meta_base``); the 0-based epoch to start from."""
        meta, tensors = _read_state(resume_dir)
        _check_resumable(resume_dir, meta, meta_base)
        self.model.load_state_dict(
            {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True
        )
        best = self.best
        best.best_state = {k[5:]: v.to(device) for k, v in tensors.items() if k.startswith("best.")}
        torch.set_rng_state(tensors["rng.torch"])
        if self.optimizer is not None:
            _restore_optimizer(self.optimizer, meta["optimizer"], tensors)
        best.best_epoch, best.bad_epochs = int(meta["best_epoch"]), int(meta["bad_epochs"])
        best.best_value = float(meta["best_value"])
        self.log = list(meta["log"])
        return int(meta["epoch"])


def _check_resumable(resume_dir: Path, meta: dict[str, Any], meta_base: dict[str, Any]) -> None:
    """Refuse a state written by another run (only the epoch budget may change)."""
    budget = {"epochs", "patience"}  # a resumed run may be given more or fewer epochs
    saved_cfg = {k: v for k, v in meta.get("config", {}).items() if k not in budget}
    this_cfg = {k: v for k, v in meta_base["config"].items() if k not in budget}
    if saved_cfg != this_cfg:
        changed = sorted(k for k in this_cfg if saved_cfg.get(k) != this_cfg[k])
        raise CheckpointError(
            f"{resume_dir / STATE_FILE}: hyper-parameters {changed} differ from this run; "
            "resume with the same options (only --epochs and --patience may change) or "
            "start afresh without --resume."
        )
    for key in ("variant", "seed", "dataset_fingerprint"):
        if meta.get(key) != meta_base[key]:
            raise CheckpointError(
                f"{resume_dir / STATE_FILE}: field {key!r} differs from this run "
                f"({meta.get(key)!r} vs {meta_base[key]!r}); resume with the same options "
                "or start afresh without --resume."
            )


def _batches(
    sampler: BprSampler, epoch: int, batch_size: int, dev: torch.device
) -> Iterator[Batch]:
    """The epoch's BPR triples as batches on ``dev``."""
    for users, pos, neg in sampler.epoch(epoch, batch_size):
        yield Batch(
            torch.from_numpy(users).to(dev),
            torch.from_numpy(pos).to(dev),
            torch.from_numpy(neg).to(dev),
        )


@_reusing_freed_memory_on_cpu
@locks_output("out_dir")  # a second run on the same --out refuses instead of deleting .resume
def train(
    dataset: Dataset,
    variant: str = "anchor",
    config: ModelConfig | None = None,
    *,
    out_dir: str | Path | None = None,
    seed: int = 0,
    device: str = "auto",
    resume: bool = False,
    overwrite: bool = False,
    mixed_precision: bool = False,
    cuda_graphs: bool = True,
    on_epoch: EpochCallback | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    mask: str = DEFAULT_MASK,
    test: bool = True,
) -> TrainResult:
    """Train ``variant`` on ``dataset`` and return the best epoch's model and metrics.

    ``config`` defaults to the ``default`` preset. ``on_epoch(record)`` is called after each
    epoch with the JSONL record (``epoch``, ``loss`` terms, ``valid`` metrics, ``seconds``,
    ``lr``, ``best_epoch``, ``epochs``). ``stop_after`` ends the run after that many epochs as if
    interrupted (the resume state stays; used to test ``resume``). ``mixed_precision`` runs
    the forward pass under bfloat16 autocast on CUDA (ignored on CPU). On CUDA each full batch's
    forward and backward pass is replayed from a captured CUDA graph (:mod:`.cuda_graphs`; same
    numbers, several times faster) unless ``cuda_graphs`` is False. ``mask`` is the rule the
    final test metrics rank under (:mod:`anchorrec.evaluation.metrics`; recorded beside them).
    With ``test=False`` the test split is not evaluated at all (model selection reads valid
    only; the metrics then have no ``test`` entry).
    """
    config = config or preset_config("default", variant=variant)
    check_mask(mask)
    dev = resolve_device(device)
    out_path = Path(out_dir) if out_dir is not None else None
    resume_dir = resume_dir_for(out_path) if out_path is not None else None
    if out_path is not None and out_path.exists() and not overwrite:
        raise CheckpointError(f"{out_path} already exists; pass --overwrite to replace it.")
    if resume and resume_dir is None:
        raise ConfigError("resume needs an output directory (--out).")

    torch.manual_seed(seed)
    model = build_model(variant, dataset, config).to(dev)
    optimizer = make_optimizer(model, config)
    sampler = BprSampler(dataset.train, seed=seed)
    model.fit()  # closed-form models compute their weights here
    trainer = Trainer(model, dataset, config, optimizer, progress=progress, label=variant)
    meta_base: dict[str, Any] = {
        "variant": variant,
        "config": config.to_dict(),
        "seed": seed,
        "dataset_fingerprint": dataset.fingerprint,
    }
    start_epoch = 0
    if resume and resume_dir is not None and (resume_dir / STATE_FILE).exists():
        start_epoch = trainer.restore_state(resume_dir, meta_base, dev)
    elif resume_dir is not None and resume_dir.exists():
        shutil.rmtree(resume_dir)

    stepper = GraphedStep(
        model,
        optimizer,  # type: ignore[arg-type]  # no epoch runs without one
        config.train.batch_size,
        mixed_precision=mixed_precision and dev.type == "cuda",
        enabled=cuda_graphs and dev.type == "cuda",
    )
    batch_size = config.train.batch_size
    for epoch in range(start_epoch, trainer.epochs):
        if trainer.best.exhausted:
            trainer.stopped_early = True
            break
        if stop_after is not None and epoch - start_epoch >= stop_after:
            return TrainResult(model, config, {}, trainer.log, trainer.best.best_epoch, None)
        t0 = time.perf_counter()
        n_batches = sampler.n_batches(batch_size)
        sums, _ = trainer.train_epoch(
            epoch, _batches(sampler, epoch, batch_size, dev), stepper, total=n_batches
        )
        loss = {k: float(v) / n_batches for k, v in sums.items()}
        record = trainer.end_epoch(epoch, loss, t0)
        if resume_dir is not None:
            trainer.save_state(resume_dir, meta_base, epoch)
        if on_epoch is not None:
            on_epoch(record)

    metrics = trainer.finish(seed=seed, mask=mask, test=test)
    if out_path is not None:
        save_model(
            model,
            dataset,
            out_path,
            metrics=metrics,
            train_log=trainer.log,
            extra={"seed": seed, "device": str(dev)},
            overwrite=overwrite,
        )
        if resume_dir is not None and resume_dir.exists():
            shutil.rmtree(resume_dir)
        if dataset.test.nnz:  # the dashboard's comparison reads these instead of re-ranking
            from anchorrec.evaluation.stored import store_per_user_metrics

            store_per_user_metrics(model, dataset, str(out_path), mask=mask)
    return TrainResult(model, config, metrics, trainer.log, trainer.best.best_epoch, out_path)


def _metric_dict(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if np.isfinite(v)}


def validate_epoch(
    model: Recommender,
    dataset: Dataset,
    best: EarlyStopping,
    *,
    epoch: int,
    epochs: int,
    lr: float,
    loss: dict[str, float],
    started: float,
) -> dict[str, Any]:
    """Score the valid split after 0-based ``epoch``, update ``best``, return the log record.

    ``started`` is the ``time.perf_counter()`` at the start of the epoch; ``train_seconds``
    stops before the evaluation, ``seconds`` includes it.
    """
    train_seconds = time.perf_counter() - started
    model.eval()
    valid = evaluate(model, dataset, "valid")
    best.update(epoch + 1, valid[SELECTION_METRIC], model)
    return {
        "epoch": epoch + 1,
        "epochs": epochs,
        "lr": lr,
        "loss": loss,
        "valid": {k: v for k, v in valid.items() if "@" in k},
        "seconds": round(time.perf_counter() - started, 4),
        "train_seconds": round(train_seconds, 4),
        "best_epoch": best.best_epoch,
    }


def restore_best(
    model: Recommender,
    dataset: Dataset,
    best: EarlyStopping,
    *,
    epochs_run: int,
    stopped_early: bool,
    seed: int,
    mask: str = DEFAULT_MASK,
    test: bool = True,
) -> dict[str, Any]:
    """Put the best epoch's weights back into ``model`` and return what ``metrics.json`` holds
    (``mask`` names the rule the test split was ranked under)."""
    model.load_state_dict(best.best_state)
    model.eval()
    metrics: dict[str, Any] = {
        "best_epoch": best.best_epoch,
        "epochs_run": epochs_run,
        "stopped_early": stopped_early,
        "seed": seed,
        "mask": mask,
        "valid": _metric_dict(evaluate(model, dataset, "valid")),
    }
    if test:
        metrics["test"] = _metric_dict(evaluate(model, dataset, "test", mask=mask))
    return metrics
