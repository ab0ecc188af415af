"""Data-parallel BPR training over several processes (torch.distributed + DDP).

Launch one process per GPU (or per CPU worker) with torchrun::

    torchrun --nproc_per_node 4 -m anchorrec.cli.distributed DATA_DIR \\
        --variant anchor --out MODEL_DIR [--epochs 100] [--preset paper]

The backend is NCCL on CUDA (rank r uses ``cuda:LOCAL_RANK``) and gloo on CPU.

What is split, and what is not. The models' forward pass is *full-graph*: every step
propagates all users and items through the interaction graph and the item–item graphs
before the batch is read (docs/models.md#forward-pass). Data parallelism therefore shards the
*triples*, not the graph: every rank holds the whole model and graphs, samples a disjoint
shard of the epoch's (user, positive, negative) triples (the trainer's seeded
:class:`~anchorrec.training.sampler.BprSampler`, cut into ``world_size`` contiguous pieces of
one shared permutation), and DistributedDataParallel averages the gradients after each
backward pass. Each rank runs ``batch_size`` triples per step, so an epoch takes
``world_size`` times fewer steps and the effective batch is ``world_size × batch_size``
(like large-batch training; the per-step cost is the full-graph forward, which the ranks
do not share). Passing ``--batch-size B/N`` keeps the global batch of a single-process
run, at the price of no speed-up. Memory per rank is that of single-process training.

The epoch loop is the trainer's (:class:`~anchorrec.training.trainer.Trainer`: the
learning-rate schedule, one pass over the batches, validation, early stopping, the log and
the best epoch's metrics), as is the optimiser
(:func:`~anchorrec.training.trainer.make_optimizer`); only the batches (this rank's shard)
and the step (through DistributedDataParallel) are this module's. Rank 0 evaluates valid Recall@20 after
each epoch, decides early stopping for all ranks, and at the end writes the best epoch's
model with :func:`~anchorrec.models.checkpoint.save_model` (atomic), so the result loads
with :func:`~anchorrec.models.checkpoint.load_model` like any other model. Before saving,
every rank hashes its final weights and the hashes must agree (they are recorded in
``config.json`` under ``distributed``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import inspect
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from anchorrec.data.dataset import Dataset
from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.models.base import Batch, Recommender
from anchorrec.models.checkpoint import save_model, state_bytes
from anchorrec.models.config import ModelConfig, preset_config
from anchorrec.models.registry import build_model
from anchorrec.training.cuda_graphs import backward_and_step
from anchorrec.training.early_stopping import EarlyStopping, copy_state
from anchorrec.training.sampler import BprSampler
from anchorrec.training.trainer import Trainer, make_optimizer

#: How long a collective may wait (rank 0 evaluating a large catalogue keeps the others waiting).
COLLECTIVE_TIMEOUT = _dt.timedelta(minutes=60)


@dataclass
class DistributedContext:
    """This process's place in the process group."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


@dataclass
class DistributedResult:
    """What one rank knows at the end of a distributed run (metrics only on rank 0)."""

    model: Recommender
    config: ModelConfig
    context: DistributedContext
    metrics: dict[str, Any] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    final_weights_sha256: str = ""
    rank_weights_sha256: list[str] = field(default_factory=list)
    model_dir: Path | None = None


class _BprObjective(nn.Module):
    """The model's BPR loss as a ``forward`` (what DistributedDataParallel wraps)."""

    def __init__(self, model: Recommender, mixed_precision: bool) -> None:
        super().__init__()
        self.model = model
        self.mixed_precision = mixed_precision

    def forward(
        self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, epoch: int
    ) -> dict[str, torch.Tensor]:
        dev = users.device
        with torch.autocast(
            device_type=dev.type,
            dtype=torch.bfloat16,
            enabled=self.mixed_precision and dev.type == "cuda",
        ):
            return self.model.loss(Batch(users, pos, neg), epoch)


# ---------------------------------------------------------------------- process group
def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def init_distributed(device: str = "auto") -> DistributedContext:
    """Join (or create) the process group described by torchrun's environment variables.

    Without torchrun's variables the process is a group of one (useful for a quick check).
    ``device``: ``auto`` (CUDA when present), ``cuda`` or ``cpu``; on CUDA each process takes
    the GPU of its ``LOCAL_RANK``.
    """
    rank = _env_int("RANK", 0)
    world_size = _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"--device {device!r}: use auto, cpu or cuda (each rank picks its GPU).")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if local_rank >= n_gpus:
            raise ConfigError(
                f"--device {device}: local rank {local_rank} needs GPU {local_rank} but "
                f"{n_gpus} CUDA device(s) are visible; lower --nproc_per_node or use --device cpu."
            )
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
        backend = "nccl"
    else:
        dev = torch.device("cpu")
        backend = "gloo"
    if not dist.is_initialized():
        if "MASTER_ADDR" not in os.environ:  # not launched by torchrun: a group of one
            os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
            os.environ.setdefault("MASTER_PORT", str(_free_port()))
        dist.init_process_group(
            backend=backend,
            rank=rank,
            world_size=world_size,
            timeout=COLLECTIVE_TIMEOUT,
            device_id=dev if backend == "nccl" else None,
        )
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, dev, backend)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------- sharding
def shard_triples(
    sampler: BprSampler, epoch: int, rank: int, world_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This rank's disjoint share of epoch ``epoch``'s (user, positive, negative) triples.

    Every rank draws the same seeded permutation and negatives (the sampler depends only on
    ``(seed, epoch)``) and keeps the ``rank``-th of ``world_size`` equal contiguous pieces;
    the ``len % world_size`` last triples of the permutation (fewer than ``world_size``, a
    different few each epoch) are left out so that all ranks take the same number of steps.
    """
    users, pos, neg = next(sampler.epoch(epoch, max(len(sampler), 1)))
    per_rank = len(users) // world_size
    if per_rank == 0:
        raise ConfigError(
            f"{len(users)} train interactions cannot be shared by {world_size} processes; "
            "use fewer processes."
        )
    sl = slice(rank * per_rank, (rank + 1) * per_rank)
    return users[sl], pos[sl], neg[sl]


def weights_sha256(model: Recommender) -> str:
    """SHA-256 of the model's saved weights (equal on every rank of a healthy run)."""
    return hashlib.sha256(state_bytes(model)).hexdigest()


def unused_parameters(model: Recommender, sampler: BprSampler, dev: torch.device) -> list[str]:
    """Names of trainable parameters the loss leaves without a gradient (e.g. the heads of
    ``none``), found with one probe step; DDP must be told when there are any."""
    users, pos, neg = next(sampler.epoch(0, min(len(sampler), 64)))
    model.train()
    terms = model.loss(
        Batch(*(torch.from_numpy(a).to(dev) for a in (users, pos, neg))),
        0,
    )
    terms["total"].backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    model.zero_grad(set_to_none=True)
    return unused


# ---------------------------------------------------------------------- training
def _no_buffer_sync() -> dict[str, bool]:
    """DDP's keyword for "no buffer broadcast at each forward pass" in this torch.

    The only buffers are the frozen feature tables, identical on every rank. torch ≥ 2.13 calls
    it ``forward_sync_buffers`` (``broadcast_buffers`` warns there); older ones only know
    ``broadcast_buffers`` (the GPU image this was measured on has torch 2.11).
    """
    params = inspect.signature(DistributedDataParallel.__init__).parameters
    if "forward_sync_buffers" in params:
        return {"forward_sync_buffers": False}
    return {"broadcast_buffers": False}


def train_distributed(
    dataset: Dataset,
    variant: str = "anchor",
    config: ModelConfig | None = None,
    *,
    context: DistributedContext | None = None,
    out_dir: str | Path | None = None,
    seed: int = 0,
    mixed_precision: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> DistributedResult:
    """Train ``variant`` data-parallel on every rank of the process group.

    Call it on every rank with the same arguments (``context`` defaults to
    :func:`init_distributed` with ``device="auto"``). Rank 0 evaluates, early-stops and writes
    ``out_dir``; every rank returns its :class:`DistributedResult` (with the metrics on rank 0).
    """
    ctx = context or init_distributed("auto")
    config = config or preset_config("default", variant=variant)
    dev = ctx.device
    out_path = Path(out_dir) if out_dir is not None else None
    problem = ""
    if ctx.is_main and out_path is not None and out_path.exists() and not overwrite:
        problem = f"{out_path} already exists; pass --overwrite to replace it."
    shared = [problem]
    dist.broadcast_object_list(shared, src=0, device=dev if ctx.backend == "nccl" else None)
    if shared[0]:
        raise CheckpointError(shared[0])

    torch.manual_seed(seed)  # same initial weights everywhere (DDP also broadcasts rank 0's)
    model = build_model(variant, dataset, config).to(dev)
    optimizer = make_optimizer(model, config)
    if optimizer is None:
        raise ConfigError(
            f"variant {variant!r} has no trainable parameters; train it with `anchorrec train`."
        )
    sampler = BprSampler(dataset.train, seed=seed)
    batch_size = config.train.batch_size
    unused = unused_parameters(model, sampler, dev)
    objective = DistributedDataParallel(
        _BprObjective(model, mixed_precision),
        device_ids=[dev.index] if dev.type == "cuda" else None,
        find_unused_parameters=bool(unused),
        **_no_buffer_sync(),  # type: ignore[arg-type]  # the one keyword this torch knows
    )

    # only rank 0 selects and saves the best epoch
    best = EarlyStopping(config.train.patience, best_state=copy_state(model) if ctx.is_main else {})
    trainer = Trainer(model, dataset, config, optimizer, best=best, progress=progress)

    def step(batch: Batch, epoch: int) -> dict[str, torch.Tensor]:
        terms: dict[str, torch.Tensor] = objective(
            batch.users, batch.pos_items, batch.neg_items, epoch
        )
        backward_and_step(optimizer, terms["total"])
        return terms

    for epoch in range(trainer.epochs):
        t0 = time.perf_counter()
        users, pos, neg = shard_triples(sampler, epoch, ctx.rank, ctx.world_size)
        batches = (
            Batch(
                *(
                    torch.from_numpy(a[start : start + batch_size]).to(dev)
                    for a in (users, pos, neg)
                )
            )
            for start in range(0, len(users), batch_size)
        )
        sums, n_steps = trainer.train_epoch(epoch, batches, step, bar=False)
        keys = sorted(sums)
        epoch_loss = torch.stack([sums[k] for k in keys]) / max(n_steps, 1)
        dist.all_reduce(epoch_loss)  # mean over ranks, for the log
        epoch_loss /= ctx.world_size

        stop = torch.zeros(1, device=dev)
        if ctx.is_main:
            loss = dict(zip(keys, epoch_loss.cpu().tolist(), strict=True))
            note = f", {ctx.world_size} ranks × {n_steps} steps"
            record = trainer.end_epoch(epoch, loss, t0, note=note)
            record.update(world_size=ctx.world_size, steps=n_steps)
            stop[0] = float(best.exhausted)
        dist.broadcast(stop, src=0)  # every rank leaves the loop at the same epoch
        if stop.item():
            trainer.stopped_early = epoch + 1 < trainer.epochs
            break
    log = trainer.log

    final_sha = weights_sha256(model)
    all_sha: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(all_sha, final_sha)
    if len(set(all_sha)) != 1:
        raise RuntimeError(
            f"the ranks' final weights differ ({all_sha}); the gradients were not synchronised."
        )
    result = DistributedResult(
        model,
        config,
        ctx,
        log=log,
        best_epoch=best.best_epoch,
        final_weights_sha256=final_sha,
        rank_weights_sha256=[str(s) for s in all_sha],
    )
    if ctx.is_main:
        metrics = trainer.finish(seed=seed)
        result.metrics = metrics
        if out_path is not None:
            save_model(
                model,
                dataset,
                out_path,
                metrics=metrics,
                train_log=log,
                extra={
                    "seed": seed,
                    "device": str(dev),
                    "distributed": {
                        "world_size": ctx.world_size,
                        "backend": ctx.backend,
                        "per_rank_batch": config.train.batch_size,
                        "global_batch": config.train.batch_size * ctx.world_size,
                        "mixed_precision": mixed_precision and dev.type == "cuda",
                        "final_weights_sha256_per_rank": result.rank_weights_sha256,
                    },
                },
                overwrite=overwrite,
            )
            result.model_dir = out_path
    dist.barrier()  # the others wait for the model directory to exist
    return result
