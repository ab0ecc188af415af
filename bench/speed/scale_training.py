"""Training seconds per epoch, peak memory and all-user evaluation time at scale.

Two datasets:

- ``synthetic`` (default): ``--items`` items (100 000) and about ``--interactions``
  interactions (1 000 000) of ``interactions / 10`` users, drawn with power laws (item
  popularity Zipf-like with exponent ``--zipf``, user activity Pareto with at least 5
  interactions, duplicates removed), split as MMRec splits, with seeded Gaussian features of
  ``--feature-sizes`` (default image 128, text 64, fused derived from them: **smaller than the
  paper's** 4096/384/768, because building the three 100k-item cosine kNN graphs costs
  O(items² · d) and the paper's sizes would take tens of minutes on 2 cores; the training step
  itself depends on the feature width only through the first Linear layer, and not at all
  for ``lightgcn``);
- ``baby``: the Amazon Baby 5-core interactions of ``--baby-dir`` with seeded Gaussian
  features of the paper's sizes (image 4096, text 384, fused 768).

What is timed: the first step (it builds the graphs) separately; then single training steps
(the trainer's sampler, optimiser and learning rate; CUDA synchronised). When
``steps × step time`` of ``--repeats`` epochs fits in ``--max-epoch-seconds``, whole epochs
are timed and the median is reported (``epoch_mode: "measured"``); otherwise the median of
``--timed-steps`` steps times the number of steps of an epoch is reported
(``epoch_mode: "extrapolated"``). Evaluation: :func:`anchorrec.evaluation.metrics.evaluate` on
the test split, i.e. ranking all items for every user with a test interaction, median of
``--repeats``. Peak memory: the process's peak RSS (and on CUDA the peak allocated GPU
memory). The load average of the machine is recorded before and after.

    python -m bench.speed.scale_training --variant anchor --preset default
    python -m bench.speed.scale_training --dataset baby --variant anchor --preset paper \
        --device cuda --amp
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, median_time, peak_rss_mb, record  # noqa: E402

#: Feature sizes of the released AnchorRec code on Amazon Baby: 4096-d image, 384-d text,
#: 768-d BEiT-3 fused (docs/benchmarks.md#training-speed-on-amazon-baby).
PAPER_FEATURE_SIZES = {"image": 4096, "text": 384, "fused": 768}
SYNTHETIC_FEATURE_SIZES = {"image": 128, "text": 64}
DEFAULT_BABY_DIR = ROOT.parent / "shared" / "data" / "amazon_baby_5core"
MIN_USER_INTERACTIONS = 5  #: as in a 5-core dataset


def log(message: str) -> None:
    print(f"[scale_training] {message}", file=sys.stderr, flush=True)


def parse_sizes(text: str) -> dict[str, int]:
    """``image=128,text=64[,fused=768]`` → {modality: width}."""
    sizes = {}
    for part in text.split(","):
        name, _, width = part.partition("=")
        sizes[name.strip()] = int(width)
    return sizes


def synthetic_dataset(
    n_items: int, n_interactions: int, feature_sizes: dict[str, int], zipf: float, seed: int
):
    """A power-law random dataset with MMRec's split and Gaussian features."""
    from anchorrec.data.dataset import Dataset, mmrec_split, split_matrices

    rng = np.random.default_rng(seed)
    n_users = max(1, n_interactions // 10)
    activity = MIN_USER_INTERACTIONS + rng.pareto(1.5, n_users)
    counts = np.minimum(
        np.maximum(
            MIN_USER_INTERACTIONS, np.round(activity * n_interactions / activity.sum())
        ).astype(np.int64),
        n_items // 2,
    )
    popularity = 1.0 / np.arange(1, n_items + 1) ** zipf
    popularity = rng.permutation(popularity / popularity.sum())  # popular ids spread out
    users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    items = rng.choice(n_items, size=len(users), p=popularity).astype(np.int64)
    keys = np.unique(users * n_items + items)  # duplicates collapse
    users, items = keys // n_items, keys % n_items
    labels = mmrec_split(users, items, seed=seed)
    train, valid, test = split_matrices(users, items, labels, n_users, n_items)
    features = {
        m: rng.standard_normal((n_items, d), dtype=np.float32) for m, d in feature_sizes.items()
    }
    return Dataset(
        name=f"synthetic_{n_items}x{len(users)}",
        n_users=n_users,
        n_items=n_items,
        train=train,
        valid=valid,
        test=test,
        features=features,
        fingerprint="synthetic",
    )


def baby_dataset(baby_dir: Path, feature_sizes: dict[str, int], seed: int):
    """Amazon Baby's interactions with seeded Gaussian features of ``feature_sizes``."""
    from anchorrec.data.mmrec import load_mmrec

    if not baby_dir.is_dir():
        raise SystemExit(f"{baby_dir} is absent: pass --baby-dir (the amazon_baby_5core folder)")
    ds = load_mmrec(baby_dir)
    rng = np.random.default_rng(seed)
    feats = {
        m: rng.standard_normal((ds.n_items, d), dtype=np.float32) for m, d in feature_sizes.items()
    }
    return dataclasses.replace(ds, features=feats, fingerprint="baby-random-features")


def write_profile(path: Path, step, n_steps: int, dev) -> None:
    """Profile ``n_steps`` training steps and write torch.profiler's op table to ``path``.

    Sorted by the device's own time on CUDA (by CPU time on CPU), with the number of kernel
    launches per step first: on a GPU a step this small is often bound by launches, not maths.
    """
    import torch
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if dev.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        for i in range(n_steps):
            step(i)
    events = prof.key_averages()
    sort = "self_cuda_time_total" if dev.type == "cuda" else "self_cpu_time_total"
    kernels = sum(
        e.count
        for e in prof.events()
        if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA
    )
    header = f"{n_steps} steps profiled on {dev}; device events per step: {kernels / n_steps:.0f}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + events.table(sort_by=sort, row_limit=45, max_name_column_width=60))
    log(f"profile written to {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--dataset", choices=("synthetic", "baby"), default="synthetic")
    p.add_argument("--variant", default="anchor")
    p.add_argument("--preset", default="default", choices=("default", "paper"))
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast (CUDA only)")
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--interactions", type=int, default=1_000_000)
    p.add_argument("--zipf", type=float, default=0.8)
    p.add_argument("--feature-sizes", type=parse_sizes, default=None)
    p.add_argument("--baby-dir", type=Path, default=DEFAULT_BABY_DIR)
    p.add_argument("--timed-steps", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-epoch-seconds", type=float, default=120.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument(
        "--no-eval", action="store_true", help="skip the evaluation (for the largest sizes)"
    )
    p.add_argument(
        "--no-cuda-graphs",
        action="store_true",
        help="on CUDA, launch each kernel from Python (the comparison for the graphed step)",
    )
    p.add_argument("--name", default=None, help="bench name (default: from the options)")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="also profile --timed-steps steps with torch.profiler and write the op table here",
    )
    args = p.parse_args(argv)

    import torch

    from anchorrec.device import resolve_device
    from anchorrec.evaluation.metrics import evaluate
    from anchorrec.models.base import Batch
    from anchorrec.models.config import preset_config
    from anchorrec.models.registry import build_model
    from anchorrec.training.cuda_graphs import GraphedStep
    from anchorrec.training.sampler import BprSampler
    from anchorrec.training.trainer import learning_rate, make_optimizer

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    if args.amp and dev.type != "cuda":
        raise SystemExit("--amp needs --device cuda (autocast is used on CUDA only)")
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    if args.dataset == "synthetic":
        sizes = args.feature_sizes or SYNTHETIC_FEATURE_SIZES
        ds = synthetic_dataset(args.items, args.interactions, sizes, args.zipf, args.seed)
    else:
        sizes = args.feature_sizes or PAPER_FEATURE_SIZES
        ds = baby_dataset(args.baby_dir, sizes, args.seed)
    build_data_seconds = time.perf_counter() - t0
    log(f"{ds.name}: {ds.n_users} users, {ds.n_items} items, built in {build_data_seconds:.1f} s")

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    config = preset_config(args.preset, variant=args.variant)
    torch.manual_seed(args.seed)
    model = build_model(args.variant, ds, config).to(dev)
    optimizer = make_optimizer(model, config)
    if optimizer is None:
        raise SystemExit(f"{args.variant} has no trainable parameters")
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(config, 0)
    sampler = BprSampler(ds.train, seed=args.seed)
    n_steps = sampler.n_batches(config.batch_size)
    batches = list(sampler.epoch(0, config.batch_size))
    model.train()

    # the trainer's step: on CUDA full batches replay a captured graph (--no-cuda-graphs: not)
    stepper = GraphedStep(
        model,
        optimizer,
        config.batch_size,
        mixed_precision=args.amp,
        enabled=dev.type == "cuda" and not args.no_cuda_graphs,
    )

    def step(i: int) -> None:
        u, pos, neg = (torch.from_numpy(a).to(dev) for a in batches[i % len(batches)])
        stepper(Batch(u, pos, neg), 0)
        sync()

    t0 = time.perf_counter()
    step(0)  # builds the interaction and kNN graphs
    first_step_seconds = time.perf_counter() - t0
    log(f"first step (builds the graphs) {first_step_seconds:.1f} s; {n_steps} steps per epoch")
    step_times = []
    for i in range(1, 1 + max(1, args.timed_steps)):
        t0 = time.perf_counter()
        step(i)
        step_times.append(time.perf_counter() - t0)
    step_seconds = statistics.median(step_times)
    log(f"steps {[round(t, 2) for t in step_times]} s")
    if args.profile is not None:
        write_profile(args.profile, step, max(1, args.timed_steps), dev)

    figures: dict[str, Any] = {}
    if step_seconds * n_steps * max(3, args.repeats) <= args.max_epoch_seconds:

        def epoch() -> None:
            for i in range(n_steps):
                step(i)

        epoch_seconds, epoch_runs = median_time(epoch, repeats=args.repeats)
        figures.update(epoch_mode="measured", epoch_runs_seconds=[round(t, 3) for t in epoch_runs])
    else:
        epoch_seconds = step_seconds * n_steps
        figures.update(
            epoch_mode="extrapolated",
            epoch_note=f"median of {len(step_times)} timed steps × {n_steps} steps per epoch",
        )

    log(f"epoch {epoch_seconds:.1f} s ({figures['epoch_mode']}); evaluating")
    model.eval()
    evaluation: dict[str, Any] = {"eval_users": int((np.diff(ds.test.indptr) > 0).sum())}
    if args.no_eval:
        evaluation["eval_note"] = "not evaluated (--no-eval)"
    else:
        eval_seconds, eval_runs = median_time(
            lambda: (evaluate(model, ds, "test"), sync()), repeats=args.repeats
        )
        evaluation["eval_seconds"] = round(eval_seconds, 3)
        evaluation["eval_runs_seconds"] = [round(t, 3) for t in eval_runs]

    graphs = dev.type == "cuda" and not args.no_cuda_graphs
    device_name = (
        dev.type
        + ("_amp" if args.amp else "")
        + ("_eager" if dev.type == "cuda" and not graphs else "")
    )
    name = args.name or f"scale_training_{args.dataset}_{args.variant}_{args.preset}_{device_name}"
    if dev.type == "cuda":
        figures["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)
    record(
        name,
        {
            "dataset": ds.name,
            "users": ds.n_users,
            "items": ds.n_items,
            "interactions": int(ds.train.nnz + ds.valid.nnz + ds.test.nnz),
            "train_interactions": int(ds.train.nnz),
            "feature_sizes": {m: int(x.shape[1]) for m, x in ds.features.items()},
            "variant": args.variant,
            "preset": args.preset,
            "device": str(dev),
            "mixed_precision": args.amp,
            **stepper.describe(),
            "torch_threads": torch.get_num_threads(),
            "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "batch_size": config.batch_size,
            "steps_per_epoch": n_steps,
            "build_data_seconds": round(build_data_seconds, 3),
            "first_step_seconds": round(first_step_seconds, 3),
            "step_seconds": round(step_seconds, 4),
            "epoch_seconds": round(epoch_seconds, 2),
            **figures,
            **evaluation,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "headline": [
                "variant",
                "preset",
                "users",
                "items",
                "interactions",
                "step_seconds",
                "epoch_seconds",
                "epoch_mode",
                "first_step_seconds",
                "eval_seconds",
                "peak_rss_mb",
                "peak_gpu_mb",
                "cuda_graph",
            ],  # fmt: skip
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
