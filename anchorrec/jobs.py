"""Training runs that outlive the page that started them.

A run started from the dashboard is a separate process running the command-line trainer
(``python -m anchorrec train``), so it goes on when its user opens another page, closes the
tab or starts a second session, and its per-epoch time is the command line's. Each run has a
small JSON record in the workspace (``jobs/<id>.json``): what was asked, the process, and —
written by the process itself when it ends — how it ended. Its progress is the resumable
state the trainer writes after every epoch (``<model dir>.resume/state.json``), so every
session reads the same epoch, loss and valid Recall@20.

- :func:`start_training` starts a run and returns its :class:`TrainingJob`;
- :func:`list_jobs` lists every recorded run, newest first;
- :meth:`TrainingJob.cancel` interrupts a run: the trainer keeps its last complete epoch,
  so a cancelled run can be resumed;
- :func:`resumable_runs` finds the ``.resume`` folders no live run owns (a killed server, a
  cancelled run), and :func:`start_training` with ``resume=True`` continues one.

Run as ``python -m anchorrec.jobs JOB_FILE``, this module is the process itself: it
runs the trainer's command line in-process and records the exit status in the job's file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from anchorrec.errors import ConfigError
from anchorrec.fileio import atomic_write_json
from anchorrec.home import workspace_home
from anchorrec.models.model_dir import ModelDir

JOBS_DIR = "jobs"
#: Exit status of a trainer stopped by SIGINT (it saved its last complete epoch).
EXIT_INTERRUPTED = 130

Status = Literal["running", "finished", "failed", "cancelled", "stopped"]


def jobs_dir() -> Path:
    return workspace_home() / JOBS_DIR


@dataclass(frozen=True)
class Progress:
    """Where a run stands after its last complete epoch."""

    epoch: int
    epochs: int
    loss: float | None
    valid_recall: float | None
    best_epoch: int | None
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrainingJob:
    """One training run started outside the page (its record in the workspace)."""

    id: str
    data_dir: str
    out: str
    variant: str
    preset: str
    epochs: int
    seed: int
    pid: int
    started: float
    resume: bool = False
    log_file: str = ""
    exit_code: int | None = None
    ended: float | None = None
    cancel_requested: bool = False

    @property
    def path(self) -> Path:
        return jobs_dir() / f"{self.id}.json"

    @property
    def name(self) -> str:
        return Path(self.out).name

    def save(self) -> None:
        atomic_write_json(self.path, asdict(self))

    def refresh(self) -> TrainingJob:
        """This job as its file says now (the process writes how it ended)."""
        return read_job(self.path) or self

    def alive(self) -> bool:
        """Whether the run's process is still running (not merely a reaped-later zombie)."""
        if self.exit_code is not None:
            return False
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return _pid_exists(self.pid)
        if stat.rpartition(")")[2].split()[0] == "Z":  # exited, not yet reaped
            return False
        try:  # a recycled pid runs something else
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(self.path).encode() in cmdline

    def status(self) -> Status:
        if self.exit_code is None:
            return "running" if self.alive() else "stopped"
        if self.exit_code == 0:
            return "finished"
        if self.exit_code == EXIT_INTERRUPTED:
            return "cancelled" if self.cancel_requested else "stopped"
        return "failed"

    def progress(self) -> Progress | None:
        """The last complete epoch, from the trainer's resumable state (None before it)."""
        state_file = ModelDir(self.out).resume_dir / "state.json"
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self._final_progress()
        log = state.get("log") or []
        last = log[-1] if log else {}
        return Progress(
            epoch=int(state.get("epoch", 0)),
            epochs=int(self.epochs),
            loss=(last.get("loss") or {}).get("total"),
            valid_recall=(last.get("valid") or {}).get("recall@20"),
            best_epoch=state.get("best_epoch"),
            history=log,
        )

    def _final_progress(self) -> Progress | None:
        """A finished run's progress, from the model's own training log."""
        try:
            lines = ModelDir(self.out).log.read_text(encoding="utf-8").splitlines()
            log = [json.loads(line) for line in lines if line.strip()]
        except (OSError, ValueError):
            return None
        if not log:
            return None
        last = log[-1]
        return Progress(
            epoch=len(log),
            epochs=int(self.epochs),
            loss=(last.get("loss") or {}).get("total"),
            valid_recall=(last.get("valid") or {}).get("recall@20"),
            best_epoch=None,
            history=log,
        )

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the run printed (its errors, when it failed)."""
        try:
            text = Path(self.log_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cancel(self) -> None:
        """Interrupt the run; the trainer keeps its last complete epoch for a resume."""
        if not self.alive():
            return
        self.cancel_requested = True
        self.save()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGINT)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_job(path: Path) -> TrainingJob | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return TrainingJob(**data)
    except (OSError, ValueError, TypeError):
        return None


def list_jobs() -> list[TrainingJob]:
    """Every recorded run, newest first (unreadable records are skipped)."""
    folder = jobs_dir()
    if not folder.is_dir():
        return []
    jobs = [j for p in folder.glob("*.json") if (j := read_job(p)) is not None]
    return sorted(jobs, key=lambda j: j.started, reverse=True)


def running_outputs() -> set[str]:
    """The model directories that a live run is writing."""
    return {str(Path(j.out).resolve()) for j in list_jobs() if j.alive()}


def resumable_runs(models_dir: str | Path) -> list[Path]:
    """The model directories under ``models_dir`` with a ``.resume`` state that no live run
    owns: a cancelled run, or one whose process was killed."""
    folder = Path(models_dir)
    if not folder.is_dir():
        return []
    live = running_outputs()
    out = []
    for resume in sorted(folder.glob("*.resume")):
        target = resume.with_name(resume.name[: -len(".resume")])
        if (resume / "state.safetensors").is_file() and str(target.resolve()) not in live:
            out.append(target)
    return out


def _reap(proc: subprocess.Popen) -> None:
    threading.Thread(target=proc.wait, daemon=True).start()  # no zombie left behind


def start_training(
    data_dir: str | Path,
    out: str | Path,
    variant: str,
    *,
    preset: str = "default",
    epochs: int = 100,
    seed: int = 0,
    device: str = "auto",
    resume: bool = False,
) -> TrainingJob:
    """Start ``python -m anchorrec train`` for these settings as its own process."""
    out = Path(out)
    if str(out.resolve()) in running_outputs():
        raise ConfigError(f"a run is already writing {out}; wait for it or cancel it first.")
    folder = jobs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    job = TrainingJob(
        id=job_id,
        data_dir=str(Path(data_dir).resolve()),
        out=str(out.resolve()),
        variant=variant,
        preset=preset,
        epochs=int(epochs),
        seed=int(seed),
        pid=0,
        started=time.time(),
        resume=resume,
        log_file=str(folder / f"{job_id}.log"),
    )
    argv = [
        "train", job.data_dir, "--variant", variant, "--preset", preset,
        "--epochs", str(int(epochs)), "--seed", str(int(seed)), "--device", device,
        "--out", job.out, "--quiet",
    ]  # fmt: skip
    if resume:
        argv.append("--resume")
    job.save()  # the process reads its arguments and writes its ending here
    env = dict(os.environ, ANCHORREC_JOB_ARGV=json.dumps(argv))
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(job.log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "anchorrec.jobs", str(job.path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: cancel reaches the trainer only
        )
    job.pid = proc.pid
    job.save()
    _reap(proc)
    return job


def _run(job_file: str) -> int:
    """The job's process: run the trainer's command line, then record how it ended."""
    from anchorrec.cli import main

    argv = json.loads(os.environ.get("ANCHORREC_JOB_ARGV", "[]"))
    code = 2
    try:
        code = main(argv)
    finally:
        job = read_job(Path(job_file))
        if job is not None:
            job.exit_code, job.ended = int(code), time.time()
            job.save()
    return code


if __name__ == "__main__":
    sys.exit(_run(sys.argv[1]))
