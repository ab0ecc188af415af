"""Training runs in the background: the CLI trainer in its own process, visible to everyone.

The dashboard starts ``python -m anchorrec train … --out <models>/<name>`` as a separate
process (its own session, so it outlives the script run, the browser tab and the page that
started it) and records it in ``<models>/.jobs/<name>/job.json`` with its log beside it.
Any session of any server process reads the same files:

- progress: the trainer's per-epoch records (``<name>.resume/train_log.jsonl`` while it runs,
  ``<name>/train_log.jsonl`` once saved);
- status: ``done`` once the model directory exists (it is written atomically); ``running``
  while the recorded process is alive; otherwise ``interrupted`` when a resume state is left
  (cancelled, killed, or the machine restarted: :func:`resume_job` continues it) or ``failed``
  (the log's last lines say why).

Cancelling sends SIGINT to the run's process group: the trainer stops after writing its last
complete epoch, so a cancelled run can be resumed. Epochs run exactly as on the command line
(it is the command line), so their time is the CLI's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from anchorrec.errors import ConfigError
from anchorrec.fileio import atomic_write_json
from anchorrec.models.model_dir import LOG_FILE as TRAIN_LOG
from anchorrec.models.model_dir import ModelDir

JOBS_DIR = ".jobs"
JOB_FILE = "job.json"
LOG_FILE = "log.txt"
Status = Literal["running", "done", "interrupted", "failed"]
#: Processes this server started, so their exit is collected (no zombie looks alive).
_CHILDREN: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class TrainingJob:
    """One training run started from the dashboard (what ``job.json`` holds)."""

    name: str
    out_dir: str
    dataset_dir: str
    variant: str
    preset: str
    epochs: int
    seed: int
    patience: int | None
    pid: int
    process_start: str
    started: float

    @property
    def job_dir(self) -> Path:
        return Path(self.out_dir).parent / JOBS_DIR / self.name

    @property
    def log_path(self) -> Path:
        return self.job_dir / LOG_FILE

    def status(self) -> Status:
        if ModelDir(self.out_dir).is_model():
            return "done"
        if _alive(self.pid, self.process_start):
            return "running"
        if (ModelDir(self.out_dir).resume_dir / "state.json").is_file():
            return "interrupted"
        return "failed"

    def records(self) -> list[dict[str, Any]]:
        """The per-epoch records written so far (epoch, epochs, loss, valid, best_epoch…)."""
        for folder in (ModelDir(self.out_dir).resume_dir, Path(self.out_dir)):
            path = folder / TRAIN_LOG
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            return [json.loads(ln) for ln in lines if ln.strip()]
        return []

    def log_tail(self, lines: int = 6) -> str:
        """The last lines the run printed (its error, when it failed)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        text = text.replace("\r", "\n")
        return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` (``/proc/<pid>/stat`` field 22), '' if unknown; it
    tells a live run from an unrelated process that reused its id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def _alive(pid: int, process_start: str) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that id: not ours, but alive
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z" and (not process_start or _process_start(pid) == process_start)


def _command(job: TrainingJob, resume: bool) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "anchorrec",
        "train",
        job.dataset_dir,
        "--variant",
        job.variant,
        "--preset",
        job.preset,
        "--epochs",
        str(job.epochs),
        "--seed",
        str(job.seed),
        "--out",
        job.out_dir,
        "--device",
        "auto",
    ]
    if job.patience is not None:
        cmd += ["--patience", str(job.patience)]
    return [*cmd, "--resume"] if resume else cmd


def spawn(command: list[str], log_path: Path) -> tuple[int, str]:
    """Start ``command`` in its own session, its output appended to ``log_path``; its process
    id and start time (see :func:`is_alive`). It outlives the page, the tab and the server."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[2]  # `python -m anchorrec` finds this package
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc.pid, _process_start(proc.pid)


def is_alive(pid: int, process_start: str) -> bool:
    """Whether the process a job recorded still runs (not a zombie, not a reused id)."""
    return _alive(pid, process_start)


def _launch(job: TrainingJob, resume: bool) -> TrainingJob:
    job.job_dir.mkdir(parents=True, exist_ok=True)
    pid, started = spawn(_command(job, resume), job.log_path)
    launched = TrainingJob(
        **{
            **asdict(job),
            "pid": pid,
            "process_start": started,
            "started": time.time(),
        }
    )
    atomic_write_json(job.job_dir / JOB_FILE, asdict(launched))
    return launched


def start_job(
    dataset_dir: str | Path,
    out_dir: str | Path,
    variant: str,
    *,
    preset: str = "default",
    epochs: int = 20,
    seed: int = 0,
    patience: int | None = None,
) -> TrainingJob:
    """Start training ``variant`` on ``dataset_dir`` into ``out_dir`` (which must not exist)."""
    out = Path(out_dir)
    if out.exists() or ModelDir(out).resume_dir.exists():
        raise ConfigError(f"{out} already exists; choose another model directory.")
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1 (got {epochs}).")
    job = TrainingJob(
        out.name,
        str(out),
        str(dataset_dir),
        variant,
        preset,
        int(epochs),
        int(seed),
        patience,
        0,
        "",
        0.0,
    )
    return _launch(job, resume=False)


def resume_job(job: TrainingJob) -> TrainingJob:
    """Continue an interrupted run from its last complete epoch (same options)."""
    if job.status() != "interrupted":
        raise ConfigError(f"{job.name} is {job.status()}; only an interrupted run can resume.")
    return _launch(job, resume=True)


def cancel_job(job: TrainingJob) -> None:
    """Stop a running job after its current epoch's state (SIGINT: it can be resumed)."""
    if job.status() == "running":
        os.killpg(job.pid, signal.SIGINT)


def read_job(job_dir: Path) -> TrainingJob | None:
    try:
        data = json.loads((job_dir / JOB_FILE).read_text(encoding="utf-8"))
        return TrainingJob(**data)
    except (OSError, ValueError, TypeError):
        return None


def find_jobs(models_dir: str | Path) -> list[TrainingJob]:
    """Every job started into ``models_dir``, newest first."""
    folder = Path(models_dir) / JOBS_DIR
    if not folder.is_dir():
        return []
    jobs = [j for p in folder.iterdir() if (j := read_job(p)) is not None]
    return sorted(jobs, key=lambda j: -j.started)


def wait(job: TrainingJob, timeout: float = 600.0, poll: float = 0.2) -> Status:
    """Block until ``job`` is no longer running (for scripts and tests); its final status."""
    deadline = time.monotonic() + timeout
    while job.status() == "running" and time.monotonic() < deadline:
        time.sleep(poll)
    return job.status()
