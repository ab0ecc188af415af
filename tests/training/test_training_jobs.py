"""Background training runs: the CLI trainer in its own process, read back from files."""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import pytest

from anchorrec.data.mmrec import save_mmrec
from anchorrec.errors import ConfigError
from anchorrec.models.checkpoint import load_model, read_train_log
from anchorrec.training import jobs
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    ds = make_tiny_dataset(n_users=300, n_items=80, seed=2, with_features=False)
    return save_mmrec(ds, tmp_path_factory.mktemp("jobs") / "tiny")


def _wait_for_records(job, n: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while len(job.records()) < n:
        assert job.status() == "running", job.log_tail()
        assert time.monotonic() < deadline, f"no epoch {n} after {timeout} s"
        time.sleep(0.1)


def test_a_job_trains_in_its_own_process_and_is_found_by_any_reader(data_dir, tmp_path):
    out = tmp_path / "models" / "lightgcn-a"
    job = jobs.start_job(data_dir, out, "lightgcn", epochs=3, seed=1)
    assert job.pid > 0 and job.status() in ("running", "done")
    assert jobs.wait(job) == "done", job.log_tail()
    (found,) = jobs.find_jobs(tmp_path / "models")  # what another session reads
    assert found == job and found.status() == "done"
    assert [r["epoch"] for r in found.records()] == [1, 2, 3]
    assert [r["epoch"] for r in read_train_log(out)] == [1, 2, 3]
    assert load_model(out).metrics["test"]
    with pytest.raises(ConfigError, match="already exists"):
        jobs.start_job(data_dir, out, "lightgcn")


@pytest.mark.slow  # two training processes: ~20 s on 2 cores
def test_a_cancelled_job_can_be_resumed_to_the_end(data_dir, tmp_path):
    out = tmp_path / "models" / "lightgcn-b"
    job = jobs.start_job(data_dir, out, "lightgcn", epochs=4000, patience=4000, seed=1)
    _wait_for_records(job, 1)
    # freeze the run before cancelling, so a fast trainer on a loaded machine cannot finish
    # its epochs between the first record and the cancel (the cancel is what is tested)
    os.killpg(job.pid, signal.SIGSTOP)
    try:
        assert job.status() == "running", job.log_tail()
        jobs.cancel_job(job)
    finally:
        os.killpg(job.pid, signal.SIGCONT)
    assert jobs.wait(job, timeout=120) == "interrupted", job.log_tail()
    done = len(job.records())
    assert 1 <= done < 4000 and not out.exists()
    # resume with fewer epochs so the test ends soon: a resumed run may change its budget
    shorter = dataclasses.replace(job, epochs=done + 1, patience=done + 1)
    resumed = jobs.resume_job(shorter)
    assert jobs.wait(resumed) == "done", resumed.log_tail()
    assert [r["epoch"] for r in read_train_log(out)] == list(range(1, done + 2))
    with pytest.raises(ConfigError, match="only an interrupted run"):
        jobs.resume_job(resumed)


def test_a_job_that_cannot_start_says_why(tmp_path):
    job = jobs.start_job(tmp_path / "no-such-data", tmp_path / "models" / "m", "lightgcn")
    assert jobs.wait(job) == "failed"
    assert "error:" in job.log_tail() and "no-such-data" in job.log_tail()
