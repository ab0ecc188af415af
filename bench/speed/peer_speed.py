"""Seconds per epoch and per evaluation: the released AnchorRec code beside ours, one machine.

Takes the path of a copy of the released code (github ``hun9008/AnchorRec_SIGIR26``, fetched
outside this repository and never committed to it) and prepares a run of it in a temporary
directory outside the repository:

- a copy of its ``src/`` whose model config holds single values instead of grids (the
  released hyper-parameters), one seed, ``--epochs`` epochs, CPU unless ``--device cuda``;
- stand-ins for the optional imports it needs only for raw-image pipelines and plots
  (``torchvision``, ``lmdb``, ``matplotlib``; each raises if it is ever called) and for
  ``torch_scatter.scatter_add``, which its kNN-graph normalisation calls (the same sum, by
  ``Tensor.scatter_add_``);
- the Amazon Baby graph of ../shared in its data layout (``data/baby/baby.inter``) with
  random features of the paper's sizes (4096-d image, 384-d text, 768-d fused), the same
  seeded tables our runs read.

Training runs interleave, one process each: released, ``paper``, released, ``default``,
released (``--rounds`` repeats the pattern), so drift in the machine's load falls on both
sides. The figures are the ratio of the median training seconds per epoch, with the spread
of the ratio against the released runs that bracket each of ours. Evaluation of all Baby
users (the valid split, train items masked: the split both evaluators mask alike) runs the
same way: the released ``Trainer.evaluate`` + ``TopKEvaluator`` and ours on one fixed set of
random 64-d embeddings, and their Recall@20/NDCG@20 must agree.

    python -m bench.speed.peer_speed --released /path/to/AnchorRec_SIGIR26 \
        [--epochs 3] [--rounds 1] [--threads 2] [--device cpu] [--skip-train] [--skip-eval]

Without ``--released`` (or ``ANCHORREC_RELEASED_CODE``) it says so and exits 0 (skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import ROOT, machine, record  # noqa: E402

NAME = "peer_speed"
RELEASED_ENV = "ANCHORREC_RELEASED_CODE"
RELEASED_REPO = "github.com/hun9008/AnchorRec_SIGIR26"
SKIP_MESSAGE = (
    "peer_speed skipped: no copy of the released AnchorRec code was given. Fetch "
    f"{RELEASED_REPO} outside this repository and pass its path with --released PATH "
    f"(or set {RELEASED_ENV})."
)
#: files a copy of the released code must have (what the prepared run reads or rewrites)
RELEASED_FILES = (
    "src/main.py",
    "src/models/anchorrec.py",
    "src/common/trainer.py",
    "src/configs/overall.yaml",
    "src/configs/model/ANCHORREC.yaml",
    "src/configs/datasets/baby.yaml",
)
#: the released hyper-parameters, one value per key of the model config's grid
RELEASED_SINGLE_VALUES: dict[str, Any] = {
    "n_layers": 3,
    "lambda_weight": 0.01,
    "knn_k": 10,
    "learning_rate": 0.001,
    "aal_loss": 0.001,
    "amp_loss": 0.1,
    "tau_weight": 0.05,
}
SEED = 0
#: the released trainer's log lines: training time of an epoch, valid evaluation time after it
TRAIN_LINE = re.compile(r"epoch (\d+) training \[time: ([0-9.]+)s")
EVAL_LINE = re.compile(r"epoch (\d+) evaluating \[time: ([0-9.]+)s")
DATASET = "baby"
AGREED_METRICS = ("recall@20", "ndcg@20")
#: the released evaluator rounds its metrics to 4 decimals
RELEASED_ROUNDING = 5e-5 + 1e-9
FUSED_DIR = "baby_beit3"  #: the released run.sh reads the fused (BEiT-3) feature from here

# ---------------------------------------------------------------------- stand-ins
_UNAVAILABLE = """
def _unavailable(name):
    def call(*args, **kwargs):
        raise RuntimeError(
            f"{__name__}.{name} is a stand-in of the speed benchmark: raw-image pipelines "
            "and plots are not part of the measured run"
        )
    return call


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _unavailable(name)
"""
STANDINS: dict[str, str] = {
    "torchvision/__init__.py": '"""Stand-in: no raw images are read."""\n',
    "torchvision/transforms/__init__.py": '"""Stand-in."""\n' + _UNAVAILABLE,
    "torchvision/transforms/functional.py": '"""Stand-in."""\n' + _UNAVAILABLE,
    "lmdb/__init__.py": '"""Stand-in: no image database is opened."""\n' + _UNAVAILABLE,
    "matplotlib/__init__.py": '"""Stand-in: nothing is plotted."""\n' + _UNAVAILABLE,
    "matplotlib/pyplot.py": '"""Stand-in."""\n' + _UNAVAILABLE,
    "torch_scatter/__init__.py": '''"""torch_scatter.scatter_add for 1-d sources (what the kNN normalisation calls)."""
import torch


def scatter_add(src, index, dim=-1, out=None, dim_size=None):
    if src.dim() != 1 or dim not in (0, -1):
        raise NotImplementedError("this stand-in sums 1-d sources only")
    if out is None:
        size = int(index.max()) + 1 if dim_size is None else dim_size
        out = torch.zeros(size, dtype=src.dtype, device=src.device)
    return out.scatter_add_(0, index, src)
''',
}


#: runs the released main.py unchanged, with two additions: numpy's ``float`` alias (removed
#: in numpy 1.24, read by the released metrics) and a CPU-seconds line per training epoch
DRIVER = """
import json, runpy, sys, time
import numpy
if not hasattr(numpy, "float"):
    numpy.float = float
sys.path.insert(0, "src")
from common import trainer
_train_epoch = trainer.Trainer._train_epoch
def _timed(self, train_data, epoch_idx, loss_func=None):
    w0, c0 = time.perf_counter(), time.process_time()
    out = _train_epoch(self, train_data, epoch_idx, loss_func)
    row = {"epoch": epoch_idx, "wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}
    print("PEER_EPOCH " + json.dumps(row), flush=True)
    return out
trainer.Trainer._train_epoch = _timed
sys.argv = ["src/main.py"] + sys.argv[1:]
runpy.run_path("src/main.py", run_name="__main__")
"""
DRIVER_FILE = "peer_driver.py"
CPU_LINE = re.compile(r"^PEER_EPOCH (\{.*\})$", re.M)


# ---------------------------------------------------------------------- helpers
def released_path(arg: str | None) -> Path | None:
    """The copy of the released code named by ``--released`` or the environment, or None."""
    value = arg or os.environ.get(RELEASED_ENV) or ""
    return Path(value).expanduser().resolve() if value else None


def check_released(path: Path) -> None:
    """Raise SystemExit (message, exit 2) unless ``path`` looks like the released code."""
    missing = [f for f in RELEASED_FILES if not (path / f).is_file()]
    if missing:
        raise SystemExit(
            f"{path} is not a copy of {RELEASED_REPO}: it lacks {', '.join(missing)}. "
            "Pass the folder that holds src/ and run.sh."
        )


def parse_released_log(text: str) -> dict[str, list[float]]:
    """Training and valid-evaluation seconds per epoch from the released trainer's log.

    Epochs are ordered by their number; a repeated epoch number (a second seed or grid
    point) is an error, since the run is prepared with single values.
    """
    out: dict[str, list[float]] = {}
    for key, pattern in (("train_s", TRAIN_LINE), ("eval_s", EVAL_LINE)):
        seen: dict[int, float] = {}
        for m in pattern.finditer(text):
            epoch = int(m.group(1))
            if epoch in seen:
                raise ValueError(f"the released log has epoch {epoch} twice ({key})")
            seen[epoch] = float(m.group(2))
        out[key] = [seen[e] for e in sorted(seen)]
    cpu = [json.loads(m.group(1)) for m in CPU_LINE.finditer(text)]
    out["cpu_s"] = [round(r["cpu_s"], 3) for r in sorted(cpu, key=lambda r: r["epoch"])]
    return out


def ratio_summary(released: Sequence[Sequence[float]], ours: Sequence[float]) -> dict[str, Any]:
    """Ratio of medians of ours to the released epochs, with the spread of both.

    ``released`` holds the per-epoch seconds of each released run that brackets ours (the
    one before and the one after); the ratio's range divides our median by the fastest and
    the slowest of those runs' medians.
    """
    if not ours or not released or not all(released):
        raise ValueError("ratio_summary needs epochs on both sides")
    all_released = [t for run in released for t in run]
    med_r = statistics.median(all_released)
    med_o = statistics.median(ours)
    run_medians = [statistics.median(run) for run in released]
    return {
        "released_median_s": round(med_r, 3),
        "released_range_s": [round(min(all_released), 3), round(max(all_released), 3)],
        "ours_median_s": round(med_o, 3),
        "ours_range_s": [round(min(ours), 3), round(max(ours), 3)],
        "ratio": round(med_o / med_r, 4),
        "ratio_range_bracketing_runs": [
            round(med_o / max(run_medians), 4),
            round(med_o / min(run_medians), 4),
        ],
    }


def interleaved_order(presets: Sequence[str], rounds: int) -> list[str]:
    """``released`` before and after each of ours: R, p1, R, p2, R, … (``rounds`` times)."""
    order = ["released"]
    for _ in range(rounds):
        for p in presets:
            order += [p, "released"]
    return order


def bracketing(order: Sequence[str], index: int) -> tuple[int, int]:
    """Positions of the released runs just before and after position ``index``."""
    before = max(i for i in range(index) if order[i] == "released")
    after = min(i for i in range(index + 1, len(order)) if order[i] == "released")
    return before, after


def set_yaml_keys(text: str, values: dict[str, Any]) -> str:
    """``text`` (a flat YAML file) with every top-level line of each key set to its value.

    Other lines stay as they are (the released loader reads ``1e-12`` as a float, a
    round-trip through another YAML library would not); keys absent are appended.
    """
    lines = text.splitlines()
    for key, value in values.items():
        rendered = f"{key}: {json.dumps(value)}"  # JSON scalars and lists are YAML
        pattern = re.compile(rf"^{re.escape(key)}\s*:")
        hits = [i for i, line in enumerate(lines) if pattern.match(line)]
        for i in hits:
            lines[i] = rendered
        if not hits:
            lines.append(rendered)
    return "\n".join(lines) + "\n"


def prepare_run(released: Path, work: Path, epochs: int, device: str) -> Path:
    """A runnable copy of the released code in ``work`` (see the module docstring)."""
    import numpy as np
    import yaml

    from bench.common.babylib import BABY_DIR, PAPER_FEATURE_SIZES

    if not (Path(BABY_DIR) / f"{DATASET}.inter").is_file():
        raise SystemExit(f"{BABY_DIR} is absent: this benchmark needs ../shared")
    run = work / "released"
    if run.exists():
        shutil.rmtree(run)
    shutil.copytree(released / "src", run / "src")
    cfg_dir = run / "src" / "configs"
    # its Config reads configs/dataset/<name>.yaml; the release ships configs/datasets/
    if not (cfg_dir / "dataset").is_dir() and (cfg_dir / "datasets").is_dir():
        shutil.copytree(cfg_dir / "datasets", cfg_dir / "dataset")
    # the model config: every grid replaced by its single released value (one-element lists:
    # the released quick_start takes the product of the grids)
    model_path = cfg_dir / "model" / "ANCHORREC.yaml"
    grid = list(yaml.safe_load(model_path.read_text()).get("hyper_parameters") or [])
    unknown = [k for k in grid if k not in RELEASED_SINGLE_VALUES]
    if unknown:
        raise SystemExit(
            f"{released}/src/configs/model/ANCHORREC.yaml grids {unknown}, which this bench "
            "has no single value for; add them to RELEASED_SINGLE_VALUES."
        )
    model_text = set_yaml_keys(
        model_path.read_text(),
        {
            **{k: [v] for k, v in RELEASED_SINGLE_VALUES.items() if k in grid},
            "ui_cosine_loss": True,
        },
    )
    model_path.write_text(model_text)
    overall_path = cfg_dir / "overall.yaml"
    overall_path.write_text(
        set_yaml_keys(
            overall_path.read_text(),
            {
                "seed": [SEED],
                "epochs": epochs,
                "use_gpu": device == "cuda",
                "gpu_id": 0,
                "checkpoint_dir": str(run / "saved"),
                "recommend_topk": str(run / "recommend_topk") + "/",
                "save_recommended_topk": False,
            },
        )
    )
    (run / "saved").mkdir()
    (run / DRIVER_FILE).write_text(DRIVER)
    # stand-ins for optional imports
    for rel, text in STANDINS.items():
        p = run / "standins" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    # data: the Baby interactions and the seeded random features our runs read
    data = run / "data" / DATASET
    fused_dir = run / "data" / FUSED_DIR
    data.mkdir(parents=True)
    fused_dir.mkdir(parents=True)
    os.symlink(Path(BABY_DIR) / f"{DATASET}.inter", data / f"{DATASET}.inter")
    feats = _random_features(PAPER_FEATURE_SIZES)
    np.save(data / "image_feat.npy", feats["image"])
    np.save(data / "text_feat.npy", feats["text"])
    np.save(fused_dir / "image_feat.npy", feats["fused"])
    return run


def _random_features(sizes: dict[str, int]) -> dict[str, Any]:
    """The feature tables :func:`bench.common.babylib.load_baby` builds (same seed and order)."""
    from bench.common.babylib import load_baby

    ds = load_baby()
    return {m: ds.features[m] for m in sizes}


def released_command(run: Path) -> list[str]:
    """The released ``run.sh`` invocation, against the prepared copy (through the driver)."""
    return [
        sys.executable,
        DRIVER_FILE,
        "--model",
        "ANCHORREC",
        "--dataset",
        DATASET,
        "--log_file_name",
        "ANCHORREC",
        "--ui_cosine_loss",
        "--multimodal_data_dir",
        f"data/{FUSED_DIR}/",
        "--gpu_id",
        "0",
    ]


def _env(threads: int, extra_path: Sequence[Path] = ()) -> dict[str, str]:
    env = {**os.environ}
    if threads:
        env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
    path = [str(p) for p in extra_path] + [env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    return env


def run_released(run: Path, threads: int, timeout: float) -> dict[str, Any]:
    """One training run of the released code; its per-epoch times from its own log."""
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(
        released_command(run),
        cwd=run,
        env=_env(threads, [run / "standins"]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - t0
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(text.splitlines()[-30:])
        raise SystemExit(f"the released code failed (exit {proc.returncode}):\n{tail}")
    times = parse_released_log(text)
    if not times["train_s"]:
        raise SystemExit("the released run logged no epoch; its output:\n" + text[-3000:])
    return {
        "side": "released",
        **times,
        "wall_s": round(wall, 1),
        "load_avg": [round(x, 2) for x in load0 + os.getloadavg()],
    }


def run_child(args: list[str], threads: int, timeout: float) -> dict[str, Any]:
    load0 = os.getloadavg()
    out = subprocess.run(
        [sys.executable, "-m", "bench.speed.peer_speed", *args, "--threads", str(threads)],
        cwd=ROOT,
        env=_env(threads, [ROOT]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["load_avg"] = [round(x, 2) for x in load0 + os.getloadavg()]
    return row


# ---------------------------------------------------------------------- children
def child_ours(preset: str, epochs: int, threads: int, device: str) -> dict[str, Any]:
    """Train one of our presets for ``epochs`` epochs; per-epoch training and valid seconds."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    from anchorrec.models import preset_config
    from anchorrec.training import trainer as trainer_module
    from bench.common.babylib import load_baby

    ds = load_baby()
    cfg = preset_config(preset, epochs=epochs, patience=epochs + 1)
    # CPU seconds of each epoch's training part: from the epoch's lr lookup (its first act) to
    # the valid evaluation (its last)
    starts: list[float] = []
    cpu: list[float] = []
    learning_rate, validate_epoch = trainer_module.learning_rate, trainer_module.validate_epoch

    def lr_hook(*a, **k):
        starts.append(time.process_time())
        return learning_rate(*a, **k)

    def validate_hook(*a, **k):
        cpu.append(round(time.process_time() - starts[-1], 3))
        return validate_epoch(*a, **k)

    build_model = trainer_module.build_model

    def build_hook(*a, **k):  # the graphs before the first epoch, as the released code does
        model = build_model(*a, **k)
        model._interaction_graphs()
        model._graphs(frozenset())
        return model

    saved = (learning_rate, validate_epoch, build_model)
    trainer_module.learning_rate, trainer_module.validate_epoch = lr_hook, validate_hook
    trainer_module.build_model = build_hook
    try:
        result = trainer_module.train(ds, "anchor", cfg, seed=SEED, device=device, progress=False)
    finally:
        trainer_module.learning_rate, trainer_module.validate_epoch, trainer_module.build_model = (
            saved
        )
    return {
        "side": preset,
        "train_s": [r["train_seconds"] for r in result.log],
        "eval_s": [round(r["seconds"] - r["train_seconds"], 3) for r in result.log],
        "cpu_s": cpu,
        "threads": torch.get_num_threads(),
    }


def _eval_embeddings(n_users: int, n_items: int):
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    return (
        torch.from_numpy(rng.standard_normal((n_users, 64), dtype=np.float32)),
        torch.from_numpy(rng.standard_normal((n_items, 64), dtype=np.float32)),
    )


def child_eval_ours(repeats: int, threads: int) -> dict[str, Any]:
    """Our evaluation of every Baby user with a valid item (train items masked)."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    from anchorrec.evaluation import evaluate
    from anchorrec.models.base import Embeddings
    from bench.common.babylib import load_baby

    ds = load_baby(with_features=False)
    emb = Embeddings(*_eval_embeddings(ds.n_users, ds.n_items))
    evaluate(emb, ds, "valid")  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        metrics = evaluate(emb, ds, "valid")
        times.append(round(time.perf_counter() - t0, 3))
        cpu.append(round(time.process_time() - c0, 3))
    return {
        "side": "ours",
        "eval_s": times,
        "cpu_s": cpu,
        "users": int(metrics["users"]),
        "recall@20": metrics["recall@20"],
        "ndcg@20": metrics["ndcg@20"],
    }


def child_eval_released(run: Path, repeats: int, threads: int) -> dict[str, Any]:
    """The released ``Trainer.evaluate`` on the same embeddings (valid split, train masked)."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    import numpy

    if not hasattr(numpy, "float"):  # the alias the released metrics read (numpy < 1.24)
        numpy.float = float  # type: ignore[attr-defined]
    os.chdir(run)
    sys.path[:0] = [str(run / "src"), str(run / "standins")]
    from common.trainer import Trainer  # type: ignore[import-not-found]
    from utils.configurator import Config  # type: ignore[import-not-found]
    from utils.dataloader import EvalDataLoader  # type: ignore[import-not-found]
    from utils.dataset import RecDataset  # type: ignore[import-not-found]

    config = Config(
        "ANCHORREC", DATASET, {"multimodal_data_dir": f"data/{FUSED_DIR}/", "gpu_id": 0}
    )
    train_ds, valid_ds, _ = RecDataset(config).split()
    for key in config["hyper_parameters"]:  # as quick_start does: one point of the grid
        config[key] = config[key][0]
    for ds in (train_ds, valid_ds):  # as quick_start does; str() sets the counts the loaders read
        str(ds)
    valid = EvalDataLoader(
        config, valid_ds, additional_dataset=train_ds, batch_size=config["eval_batch_size"]
    )
    users_e, items_e = _eval_embeddings(train_ds.get_user_num(), train_ds.get_item_num())

    class Fixed(torch.nn.Module):
        """A model whose scores are fixed embeddings' inner products."""

        def __init__(self) -> None:
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))  # the trainer builds an optimiser

        def full_sort_predict(self, interaction):
            return users_e[interaction[0]] @ items_e.T

    trainer = Trainer(config, Fixed())
    trainer.evaluate(valid)  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        metrics = trainer.evaluate(valid)
        times.append(round(time.perf_counter() - t0, 3))
        cpu.append(round(time.process_time() - c0, 3))
    return {
        "side": "released",
        "eval_s": times,
        "cpu_s": cpu,
        "users": int(valid.pr_end),
        "recall@20": float(metrics["recall@20"]),
        "ndcg@20": float(metrics["ndcg@20"]),
    }


# ---------------------------------------------------------------------- main
def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_training(run: Path, args) -> dict[str, Any]:
    order = interleaved_order(args.presets, args.rounds)
    runs: list[dict[str, Any]] = []
    for side in order:
        print(f"[peer_speed] training: {side} ({uptime()})", file=sys.stderr, flush=True)
        if side == "released":
            runs.append(run_released(run, args.threads, args.timeout))
        else:
            child = ["--child-ours", side, "--epochs", str(args.epochs), "--device", args.device]
            runs.append(run_child(child, args.threads, args.timeout))
        _progress(run, runs[-1])
    return {"order": order, "runs": runs, "ratios": training_ratios(order, runs, args.presets)}


def training_ratios(
    order: Sequence[str], runs: Sequence[dict[str, Any]], presets: Sequence[str]
) -> dict[str, Any]:
    """Per preset: wall-clock and CPU ratios of ours to the released runs that bracket it."""
    ratios: dict[str, Any] = {}
    for preset in presets:
        idx = [i for i, s in enumerate(order) if s == preset]
        near = sorted({j for i in idx for j in bracketing(order, i)})
        ratios[preset] = {
            key: ratio_summary([runs[j][key] for j in near], [t for i in idx for t in runs[i][key]])
            for key in ("train_s", "cpu_s")
        }
    return ratios


def _progress(run: Path, row: dict[str, Any]) -> None:
    """Each finished run, at once: to stderr and to ``progress.jsonl`` beside the run."""
    line = json.dumps(row)
    print(f"[peer_speed]   {line}", file=sys.stderr, flush=True)
    with open(run.parent / "progress.jsonl", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def bench_eval(run: Path, args) -> dict[str, Any]:
    order = interleaved_order(["ours"], max(1, args.rounds))
    runs = []
    for side in order:
        child = ["--child-eval", side, "--repeats", str(args.eval_repeats)]
        if side == "released":
            child += ["--run-dir", str(run)]
        runs.append(run_child(child, args.threads, args.timeout))
        _progress(run, runs[-1])
    ratios = {
        key: ratio_summary(
            [r[key] for r in runs if r["side"] == "released"],
            [t for r in runs if r["side"] == "ours" for t in r[key]],
        )
        for key in ("eval_s", "cpu_s")
    }
    released_row = next(r for r in runs if r["side"] == "released")
    ours_row = next(r for r in runs if r["side"] == "ours")
    return {
        "order": order,
        "runs": runs,
        "ratio": ratios["eval_s"],
        "cpu_ratio": ratios["cpu_s"],
        "metrics_side_by_side": {
            k: [released_row[k], ours_row[k]] for k in ("users",) + AGREED_METRICS
        },
        "metrics_agree": metrics_agree(released_row, ours_row),
    }


def metrics_agree(released: dict[str, Any], ours: dict[str, Any]) -> bool:
    """Same users, and each metric within the released rounding (4 decimals) of ours."""
    return released["users"] == ours["users"] and all(
        abs(released[k] - ours[k]) <= RELEASED_ROUNDING for k in AGREED_METRICS
    )


def headline_figures(figures: dict[str, Any], load_before: float) -> dict[str, Any]:
    """The ratios at the top level of the row, named first (``headline``) in reports."""
    out: dict[str, Any] = {}
    for preset, r in figures.get("training", {}).get("ratios", {}).items():
        out[f"{preset}_ratio_cpu"] = r["cpu_s"]["ratio"]
        out[f"{preset}_ratio_wall"] = r["train_s"]["ratio"]
    evaluation = figures.get("evaluation")
    if evaluation:
        out["eval_ratio_cpu"] = evaluation["cpu_ratio"]["ratio"]
        out["eval_ratio_wall"] = evaluation["ratio"]["ratio"]
        out["metrics_agree"] = evaluation["metrics_agree"]
    out["load_avg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["headline"] = [k for k in out if k != "load_avg_1min"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--released", default=None, help="path of a copy of the released code")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--presets", nargs="+", default=["paper", "default"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--eval-repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per child run")
    ap.add_argument("--work", default=None, help="where to prepare the run (default: a temp dir)")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--no-record", action="store_true", help="print the row, append nothing")
    ap.add_argument("--child-ours", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-eval", choices=("ours", "released"), help=argparse.SUPPRESS)
    ap.add_argument("--run-dir", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_ours:
        print(json.dumps(child_ours(args.child_ours, args.epochs, args.threads, args.device)))
        return 0
    if args.child_eval == "ours":
        print(json.dumps(child_eval_ours(args.repeats, args.threads)))
        return 0
    if args.child_eval == "released":
        print(json.dumps(child_eval_released(Path(args.run_dir), args.repeats, args.threads)))
        return 0

    released = released_path(args.released)
    if released is None:
        print(SKIP_MESSAGE)
        return 0
    check_released(released)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="peer_speed_"))
    if ROOT in work.resolve().parents or work.resolve() == ROOT:
        raise SystemExit(f"--work {work} is inside the repository; prepare the run outside it.")
    uptime_before, load_before = uptime(), os.getloadavg()[0]
    run = prepare_run(released, work, args.epochs, args.device)
    figures: dict[str, Any] = {
        "released_copy": str(released),
        "epochs": args.epochs,
        "rounds": args.rounds,
        "threads": args.threads,
        "device": args.device,
        "uptime_before": uptime_before,
    }
    if not args.skip_train:
        figures["training"] = bench_training(run, args)
    if not args.skip_eval:
        figures["evaluation"] = bench_eval(run, args)
    figures["uptime_after"] = uptime()
    figures.update(headline_figures(figures, load_before))
    if args.no_record:
        print(json.dumps({"machine": machine(), **figures}))
    else:
        record(NAME, figures)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
