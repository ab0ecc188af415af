"""Where a training step's time goes: the released AnchorRec code and our presets, on CPU.

For each side, ``--steps`` training steps of the Amazon Baby graph (random features of the
paper's sizes) after ``--warmup`` untimed ones, each split into its phases: drawing the
batch, the forward pass with the losses, the backward pass and the Adam step. The median of
each phase per step is printed as one JSON line per side, and torch.profiler's table of the
operators with the most CPU time (self) is written to ``--out`` (one file per side). Our
steps run inside :func:`anchorrec.training.host_memory.reuse_freed_memory`, as our trainer's
do on the CPU; the released steps run as its trainer runs them.

The released side needs a copy of its code (``--released PATH``, prepared as
:mod:`bench.speed.peer_speed` prepares it); without one only our presets are profiled.

    python -m bench.speed.step_profile [--released PATH] [--sides released paper default] \
        [--steps 8] [--warmup 2] [--threads 2] [--out bench/profiles]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, git_revision, machine  # noqa: E402

PHASES = ("batch", "forward", "backward", "adam")


def _timed_steps(
    next_batch: Callable[[], Any],
    forward: Callable[[Any], Any],
    optimizer,
    steps: int,
    warmup: int,
) -> dict[str, float]:
    """Median seconds of each phase over ``steps`` steps (after ``warmup``)."""
    times: dict[str, list[float]] = {p: [] for p in PHASES}
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        batch = next_batch()
        t1 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = forward(batch)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        optimizer.step()
        t4 = time.perf_counter()
        if i >= warmup:
            for p, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[p].append(dt)
    out = {p: round(statistics.median(v), 4) for p, v in times.items()}
    out["step"] = round(sum(out[p] for p in PHASES), 4)
    return out


def _op_table(next_batch, forward, optimizer, steps: int) -> str:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            batch = next_batch()
            optimizer.zero_grad(set_to_none=True)
            forward(batch).backward()
            optimizer.step()
    return prof.key_averages().table(
        sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=50
    )


def ours(preset: str) -> tuple[Callable, Callable, Any]:
    """The batch source, forward+loss and optimiser of our trainer for ``preset``."""
    import torch

    from anchorrec.models.base import Batch
    from anchorrec.models.config import preset_config
    from anchorrec.models.registry import build_model
    from anchorrec.training.sampler import BprSampler
    from anchorrec.training.trainer import learning_rate, make_optimizer
    from bench.common.babylib import load_baby

    ds = load_baby()
    cfg = preset_config(preset)
    torch.manual_seed(0)
    model = build_model("anchor", ds, cfg)
    model.train()
    optimizer = make_optimizer(model, cfg)
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(cfg, 0)
    sampler = BprSampler(ds.train, seed=0)
    batch_size = getattr(cfg, "train", cfg).batch_size  # training settings may be their own part

    def batches() -> Iterator[Any]:
        epoch = 0
        while True:
            for u, p, n in sampler.epoch(epoch, batch_size):
                yield Batch(torch.from_numpy(u), torch.from_numpy(p), torch.from_numpy(n))
            epoch += 1

    it = batches()
    return (lambda: next(it)), (lambda b: model.loss(b)["total"]), optimizer


def released(run: Path) -> tuple[Callable, Callable, Any]:
    """The same for the released code prepared in ``run`` (its trainer's own pieces)."""
    import numpy
    import torch  # noqa: F401

    if not hasattr(numpy, "float"):  # the alias the released metrics read (numpy < 1.24)
        numpy.float = float  # type: ignore[attr-defined]
    os.chdir(run)
    sys.path[:0] = [str(run / "src"), str(run / "standins")]
    from common.trainer import Trainer  # type: ignore[import-not-found]
    from utils.configurator import Config  # type: ignore[import-not-found]
    from utils.dataloader import TrainDataLoader  # type: ignore[import-not-found]
    from utils.dataset import RecDataset  # type: ignore[import-not-found]
    from utils.utils import get_model, init_seed  # type: ignore[import-not-found]

    from bench.speed.peer_speed import DATASET, FUSED_DIR

    config = Config(
        "ANCHORREC",
        DATASET,
        {"multimodal_data_dir": f"data/{FUSED_DIR}/", "gpu_id": 0, "ui_cosine_loss": True},
    )
    for key in config["hyper_parameters"]:  # one point of the grid, as quick_start does
        config[key] = config[key][0]
    train_ds, _, _ = RecDataset(config).split()
    str(train_ds)  # sets the counts the loader reads
    loader = TrainDataLoader(config, train_ds, batch_size=config["train_batch_size"], shuffle=True)
    init_seed(config["seed"])
    loader.pretrain_setup()
    model = get_model("ANCHORREC")(config, loader)
    model.train()
    optimizer = Trainer(config, model).optimizer

    def batches() -> Iterator[Any]:
        while True:
            yield from loader

    it = batches()
    return (lambda: next(it)), model.calculate_loss, optimizer


def child(side: str, run: str | None, steps: int, warmup: int, threads: int, out: Path) -> dict:
    import torch

    if threads:
        torch.set_num_threads(threads)
    from anchorrec.training.host_memory import reuse_freed_memory

    t0 = time.perf_counter()
    next_batch, forward, optimizer = released(Path(run)) if side == "released" else ours(side)
    build_s = time.perf_counter() - t0
    # ours trains inside reuse_freed_memory on the CPU (anchorrec.training.train does)
    with reuse_freed_memory(side != "released"):
        phases = _timed_steps(next_batch, forward, optimizer, steps, warmup)
        table = _op_table(next_batch, forward, optimizer, max(2, steps // 2))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"baby_step_{side}_cpu.txt"
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    head = (
        f"{side}: {max(2, steps // 2)} training steps on CPU, {torch.get_num_threads()} threads; "
        f"median phase seconds per step {json.dumps(phases)}\n"
        f"{when}, git {git_revision()}, load average {os.getloadavg()[0]:.2f}\n"
    )
    path.write_text(head + table)
    return {
        "side": side,
        "median_s": phases,
        "build_s": round(build_s, 1),
        "threads": torch.get_num_threads(),
        "ops_table": str(path),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--released", default=None)
    ap.add_argument("--sides", nargs="+", default=["released", "paper", "default"])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "profiles")
    ap.add_argument("--work", default=None, help="where to prepare the released run")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--run-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        row = child(args.child, args.run_dir, args.steps, args.warmup, args.threads, args.out)
        print(json.dumps(row))
        return 0
    from bench.speed.peer_speed import check_released, prepare_run, released_path

    sides = list(args.sides)
    run = None
    path = released_path(args.released)
    if "released" in sides:
        if path is None:
            print("step_profile: no copy of the released code given; profiling ours only.")
            sides.remove("released")
        else:
            check_released(path)
            work = Path(args.work or tempfile.mkdtemp(prefix="step_profile_"))
            run = prepare_run(path, work, 1, "cpu")
    rows = []
    for side in sides:
        cmd = [sys.executable, "-m", "bench.speed.step_profile", "--child", side]
        cmd += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
        cmd += ["--threads", str(args.threads), "--out", str(args.out)]
        if run is not None:
            cmd += ["--run-dir", str(run)]
        load = os.getloadavg()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{side} failed:\n{proc.stderr[-3000:]}")
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["load_avg"] = [round(x, 2) for x in load + os.getloadavg()]
        print(json.dumps(row), flush=True)
        rows.append(row)
    print(json.dumps({"git": git_revision(), "machine": machine(), "sides": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
