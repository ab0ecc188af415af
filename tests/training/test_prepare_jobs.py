"""``prepare`` as a background job: its record, its progress and its status."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from anchorrec.analysis.derived import Progress
from anchorrec.training import prepare_jobs
from anchorrec.training.jobs import JOB_FILE, LOG_FILE


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _record(
    home, model_dirs, log: str, progress: Progress | None = None, pid: int = 2**22 + 1
) -> prepare_jobs.PrepareJob:
    """A job whose process is gone (no such pid), with ``log`` as its output and ``progress``
    as its progress file."""
    name = prepare_jobs.job_name(model_dirs)
    job = prepare_jobs.PrepareJob(name, tuple(model_dirs), "pca", pid, "", 1.0)
    job.job_dir.mkdir(parents=True)
    (job.job_dir / LOG_FILE).write_text(log, encoding="utf-8")
    if progress is not None:
        progress.write(job.progress_path)
    (job.job_dir / JOB_FILE).write_text(json.dumps(dataclasses.asdict(job)), encoding="utf-8")
    return job


def test_the_same_models_make_the_same_job_name(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert prepare_jobs.job_name([a, b]) == prepare_jobs.job_name([b, a])
    assert prepare_jobs.job_name([a]) != prepare_jobs.job_name([a, b])


def test_progress_is_read_from_the_progress_file_not_the_log(home, tmp_path):
    log = "direct: layouts:  12%|#2        | 1/8 [00:04<00:30, 4.1s/step]"  # never parsed
    job = _record(home, [str(tmp_path / "anchor")], log, Progress(5, 8, "direct: layouts (pca)"))
    assert job.progress() == (5 / 8, "direct: layouts (pca)")
    assert job.covers(tmp_path / "anchor") and not job.covers(tmp_path / "other")
    bare = _record(home, [str(tmp_path / "bare")], log)  # no progress file yet
    assert bare.progress() == (0.0, "starting…")


def test_a_finished_job_is_done_only_when_its_progress_file_says_so(home, tmp_path):
    done = _record(home, [str(tmp_path / "a")], "", Progress(4, 4, "done", finished=True))
    failed = _record(
        home,
        [str(tmp_path / "b")],
        "Traceback…\nCheckpointError: no model\n",
        Progress(1, 4, "b: diagnostics"),
    )
    assert done.status() == "done"
    assert failed.status() == "failed" and "no model" in failed.log_tail()
    assert {j.name for j in prepare_jobs.find_prepare_jobs()} == {done.name, failed.name}
    assert prepare_jobs.job_for(tmp_path / "b") == failed


@pytest.mark.slow
def test_a_background_prepare_stores_what_the_pages_read(home, tmp_path):
    """The real command in its own process: afterwards the store holds every result."""
    from anchorrec.analysis.attribution import has_stored_cache
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.evaluation.stored import read_per_user_metrics
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import train
    from tests.conftest import make_tiny_dataset

    data = save_mmrec(make_tiny_dataset(), tmp_path / "tiny")
    model = data / "models" / "anchor"
    config = preset_config("default", variant="anchor").replace(epochs=1, embedding_dim=8)
    train(load_mmrec(data), "anchor", config, out_dir=model, device="cpu", progress=False)
    job = prepare_jobs.start_prepare_job([model], methods="pca", dataset_dir=data)
    assert prepare_jobs.start_prepare_job([model], methods="pca").pid == job.pid  # one run
    deadline = time.monotonic() + 600
    while job.status() == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job.status() == "done", job.log_tail(20)
    assert job.progress()[0] == 1.0
    assert json.loads(job.progress_path.read_text())["finished"] is True
    assert has_stored_cache(model)
    assert read_per_user_metrics(str(model)) is not None
    assert (model / "projections").is_dir()
