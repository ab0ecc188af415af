"""``python -m anchorrec prepare`` as a background job started from the dashboard.

A page that finds a model's layouts, diagnostics, per-user metrics or coalition cache missing
on a large catalogue does not compute them inside its run (minutes): it offers to start
``prepare`` on the models instead. The job is the command line in its own process (started
by :func:`anchorrec.training.jobs.spawn`, like a training run), so it survives navigation, a
closed tab and a server restart, and it is recorded in the workspace,
``$ANCHORREC_HOME/.jobs/prepare/<name>/job.json``, with its output beside it, so every
session of every server process sees the same progress:

- progress: ``progress.json`` beside it, which ``prepare --progress-file`` rewrites
  (atomically) before each step of the registry of derived results
  (:class:`anchorrec.analysis.derived.Progress`: steps done, of how many, the step running);
- status: ``running`` while the process is alive; then ``done`` when the progress file says
  every step finished, else ``failed`` (the log's last lines say why).

Starting the same models again while a job runs returns that job.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from anchorrec.analysis.derived import PROGRESS_FILE, Progress
from anchorrec.fileio import atomic_write_json
from anchorrec.home import workspace_home
from anchorrec.training.jobs import JOB_FILE, JOBS_DIR, LOG_FILE, is_alive, spawn

PREPARE_JOBS = "prepare"
Status = Literal["running", "done", "failed"]


def jobs_root() -> Path:
    """Where prepare jobs are recorded (the workspace: shared by every server process)."""
    return workspace_home() / JOBS_DIR / PREPARE_JOBS


def job_name(model_dirs: list[str]) -> str:
    """A stable name for a set of model directories (the same set → the same job)."""
    key = "\n".join(sorted(str(Path(d).resolve()) for d in model_dirs))
    return "prepare-" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PrepareJob:
    """One ``prepare`` run started from the dashboard (what ``job.json`` holds)."""

    name: str
    model_dirs: tuple[str, ...]
    methods: str
    pid: int
    process_start: str
    started: float

    @property
    def job_dir(self) -> Path:
        return jobs_root() / self.name

    @property
    def log_path(self) -> Path:
        return self.job_dir / LOG_FILE

    def _log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    @property
    def progress_path(self) -> Path:
        return self.job_dir / PROGRESS_FILE

    def status(self) -> Status:
        if is_alive(self.pid, self.process_start):
            return "running"
        found = Progress.read(self.progress_path)
        return "done" if found is not None and found.finished else "failed"

    def progress(self) -> tuple[float, str]:
        """The fraction done and the step running (``anchor: layouts (pca)``), from the
        progress file ``prepare`` writes."""
        found = Progress.read(self.progress_path)
        if found is None:
            return 0.0, "starting…"
        return found.fraction, found.step

    def log_tail(self, lines: int = 6) -> str:
        text = self._log().replace("\r", "\n")
        return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])

    def covers(self, model_dir: str | Path) -> bool:
        return str(Path(model_dir).resolve()) in self.model_dirs


def read_prepare_job(job_dir: Path) -> PrepareJob | None:
    try:
        data = json.loads((job_dir / JOB_FILE).read_text(encoding="utf-8"))
        return PrepareJob(**{**data, "model_dirs": tuple(data["model_dirs"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def find_prepare_jobs() -> list[PrepareJob]:
    """Every prepare job recorded in the workspace, newest first."""
    root = jobs_root()
    if not root.is_dir():
        return []
    jobs = [j for p in root.iterdir() if (j := read_prepare_job(p)) is not None]
    return sorted(jobs, key=lambda j: -j.started)


def job_for(model_dir: str | Path) -> PrepareJob | None:
    """The newest prepare job that covers ``model_dir`` (running or not), or None."""
    return next((j for j in find_prepare_jobs() if j.covers(model_dir)), None)


def start_prepare_job(
    model_dirs: list[str | Path],
    *,
    methods: str = "pca,umap",
    dataset_dir: str | Path | None = None,
) -> PrepareJob:
    """Start ``python -m anchorrec prepare`` on ``model_dirs`` in the background (the running
    job of the same models when there is one)."""
    dirs = tuple(str(Path(d).resolve()) for d in model_dirs)
    name = job_name(list(dirs))
    current = read_prepare_job(jobs_root() / name)
    if current is not None and current.status() == "running":
        return current
    job_dir = jobs_root() / name
    command = [sys.executable, "-m", "anchorrec", "prepare", *dirs, "--methods", methods]
    command += ["--quiet", "--progress-file", str(job_dir / PROGRESS_FILE)]
    if dataset_dir is not None:
        command += ["--data", str(dataset_dir)]
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / LOG_FILE).unlink(missing_ok=True)  # the output of this run only
    (job_dir / PROGRESS_FILE).unlink(missing_ok=True)
    pid, process_start = spawn(command, job_dir / LOG_FILE)
    job = PrepareJob(name, dirs, methods, pid, process_start, time.time())
    atomic_write_json(job_dir / JOB_FILE, asdict(job))
    return job
