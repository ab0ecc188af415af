"""Shared plumbing of the bench/ scripts.

Each script measures one figure, takes the median of at least 3 runs, prints one JSON line
and appends it to ``bench/results/<name>.jsonl`` with the machine, the date and the git
revision, so every figure in docs/ can be traced to a run of known code.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    """CPU model, core count, memory and (when present) the GPU's name."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    info: dict[str, Any] = {"cpu": cpu, "cores": os.cpu_count(), "mem_gb": mem_gb}
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def git_revision() -> str:
    """``git rev-parse --short HEAD`` (``-dirty`` with uncommitted changes to tracked files).

    ``BENCH_GIT_REVISION`` overrides it: a copy of the working tree without ``.git`` (the GPU
    machine gets one) is told the revision it was copied from.
    """
    if os.environ.get("BENCH_GIT_REVISION"):
        return os.environ["BENCH_GIT_REVISION"]
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def median_time(
    fn: Callable[[], Any], repeats: int = 3, warmup: int = 0
) -> tuple[float, list[float]]:
    """Median wall-clock seconds of ``fn`` over ``repeats`` runs (after ``warmup`` untimed runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(3, repeats)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(name: str, figures: dict[str, Any]) -> dict[str, Any]:
    """Print ``figures`` as one JSON line with provenance and append it to bench/results/."""
    row = {
        "bench": name,
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": git_revision(),
        "machine": machine(),
        **figures,
    }
    line = json.dumps(row, sort_keys=False)
    print(line, flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with open(RESULTS_DIR / f"{name}.jsonl", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return row


#: Bench names written by a script of another name.
_SCRIPT_ALIASES = {"largest_dataset": "scale_training"}


def script_path(bench: str) -> str:
    """The script, relative to the repository root, that writes the rows named ``bench``.

    A row's name is its script's name, or the script's name followed by ``_`` and the run's
    settings (``scale_training_baby_anchor_default_cuda``); the longest such script wins.
    """
    scripts = {p.stem: p for p in (ROOT / "bench").glob("*/*.py") if p.stem != "__init__"}
    for alias, stem in _SCRIPT_ALIASES.items():
        if bench == alias or bench.startswith(alias + "_"):
            bench = stem
    matches = [s for s in scripts if bench == s or bench.startswith(s + "_")]
    if not matches:
        return f"bench/{bench}.py"
    return scripts[max(matches, key=len)].relative_to(ROOT).as_posix()


def rewrite_between(doc: Path, markers: tuple[str, str], body: str) -> None:
    """Replace what lies between ``doc``'s two ``markers`` with ``body`` (on lines of its
    own), atomically: a generated part of the docs, rewritten from the results."""
    from anchorrec.fileio import atomic_write_bytes

    text = doc.read_text(encoding="utf-8")
    start, end = text.index(markers[0]), text.index(markers[1])
    body = "\n" + body.strip("\n") + "\n"
    atomic_write_bytes(doc, (text[: start + len(markers[0])] + body + text[end:]).encode())
