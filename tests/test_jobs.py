"""Training runs that outlive the page: a separate process, visible to every session,
cancellable, and resumable from the last complete epoch."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from anchorrec import jobs
from anchorrec.data.mmrec import save_mmrec
from anchorrec.errors import ConfigError
from anchorrec.models.checkpoint import read_train_log
from tests.conftest import make_tiny_dataset

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path / "home"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    ds = make_tiny_dataset(n_users=1500, n_items=400, seed=5, with_features=False)
    return save_mmrec(ds, tmp_path_factory.mktemp("jobs") / "data")


def _wait(predicate, timeout: float = 300.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_a_run_finishes_in_its_own_process_and_every_session_sees_it(home, data_dir, tmp_path):
    out = tmp_path / "models" / "lightgcn-a"
    job = jobs.start_training(data_dir, out, "lightgcn", epochs=3, device="cpu")
    assert job.pid > 0
    # another session knows nothing but the workspace: it finds the same run there
    (seen,) = jobs.list_jobs()
    assert seen.id == job.id and seen.out == str(out.resolve())
    _wait(lambda: job.refresh().status() != "running", what="the run to end")
    job = job.refresh()
    assert job.status() == "finished", job.log_tail()
    assert job.exit_code == 0
    assert [r["epoch"] for r in read_train_log(out)] == [1, 2, 3]
    progress = job.progress()
    assert progress is not None and progress.epoch == 3
    assert progress.valid_recall is not None


def test_cancel_keeps_the_last_epoch_and_resume_finishes_the_run(home, data_dir, tmp_path):
    out = tmp_path / "models" / "lightgcn-b"
    job = jobs.start_training(data_dir, out, "lightgcn", epochs=400, device="cpu")
    with pytest.raises(ConfigError, match="already writing"):
        jobs.start_training(data_dir, out, "lightgcn", epochs=400, device="cpu")
    _wait(lambda: (p := job.progress()) is not None and p.epoch >= 2, what="epoch 2")
    job.cancel()
    _wait(lambda: job.refresh().status() != "running", what="the cancel")
    job = job.refresh()
    assert job.status() == "cancelled", job.log_tail()
    assert not out.exists()  # nothing half-written
    assert jobs.resumable_runs(out.parent) == [out]
    done = job.progress().epoch
    assert 2 <= done < 400

    resumed = jobs.start_training(
        data_dir, out, "lightgcn", epochs=done + 2, device="cpu", resume=True
    )
    _wait(lambda: resumed.refresh().status() != "running", what="the resumed run")
    assert resumed.refresh().status() == "finished", resumed.log_tail()
    assert [r["epoch"] for r in read_train_log(out)] == list(range(1, done + 3))
    assert jobs.resumable_runs(out.parent) == []


def test_a_failed_run_says_why(home, tmp_path):
    job = jobs.start_training(tmp_path / "no-such-data", tmp_path / "m", "lightgcn", epochs=1)
    _wait(lambda: job.refresh().status() != "running", what="the run to fail")
    job = job.refresh()
    assert job.status() == "failed" and job.exit_code == 2
    assert "error:" in job.log_tail()
    assert "Traceback" not in job.log_tail()


def test_a_killed_run_is_stopped_and_resumable(home, data_dir, tmp_path):
    import os
    import signal

    out = tmp_path / "models" / "lightgcn-c"
    job = jobs.start_training(data_dir, out, "lightgcn", epochs=400, device="cpu")
    _wait(lambda: (p := job.progress()) is not None and p.epoch >= 1, what="epoch 1")
    os.killpg(job.pid, signal.SIGKILL)  # a server killed with its runs, an OOM kill
    _wait(lambda: not job.refresh().alive(), what="the kill")
    job = job.refresh()
    assert job.exit_code is None and job.status() == "stopped"
    assert jobs.resumable_runs(out.parent) == [out]
