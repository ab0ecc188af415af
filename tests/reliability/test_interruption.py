"""Training killed mid-run (SIGINT, SIGKILL) leaves the last complete state, and --resume
continues from it to the same model an uninterrupted run gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from anchorrec.data.mmrec import save_mmrec
from anchorrec.models.checkpoint import load_model, read_train_log
from tests.conftest import PROJECT_ROOT, make_tiny_dataset

#: Long enough that the watcher below has many epochs to signal the run in, even on a loaded
#: machine (the run is reniced, so the watcher is scheduled first).
EPOCHS = 24


def _lowest_priority() -> None:
    os.nice(19)  # the trainer yields the CPU to the test that watches it


def _train_cmd(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "anchorrec",
        "train",
        str(data),
        "--variant",
        "lightgcn",
        "--epochs",
        str(EPOCHS),
        "--patience",
        str(EPOCHS),
        "--batch-size",
        "64",
        "--device",
        "cpu",
        "--seed",
        "3",
        "--quiet",
        "--out",
        str(out),
        *extra,
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    # Big enough that an epoch takes a noticeable moment, small enough for CI.
    ds = make_tiny_dataset(n_users=1500, n_items=400, seed=5, with_features=False)
    return save_mmrec(ds, tmp_path_factory.mktemp("interrupt") / "tiny")


@pytest.fixture(scope="module")
def reference_model(data_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "model"
    subprocess.run(
        _train_cmd(data_dir, out), check=True, env=_env(), capture_output=True, timeout=600
    )
    return out


def _wait_for_epoch(
    state_json: Path, proc: subprocess.Popen, epoch: int, timeout: float = 300
) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"training ended before epoch {epoch} (exit {proc.returncode})")
        try:
            done = json.loads(state_json.read_text())["epoch"]
            if done >= epoch:
                return done
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass  # not written yet; the JSON itself is replaced atomically
        time.sleep(0.02)
    pytest.fail(f"no epoch {epoch} state after {timeout} s")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_training_resumes_to_the_uninterrupted_model(
    sig: signal.Signals, data_dir: Path, reference_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    resume_dir = tmp_path / "model.resume"
    proc = subprocess.Popen(
        _train_cmd(data_dir, out),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_lowest_priority,
    )
    try:
        _wait_for_epoch(resume_dir / "state.json", proc, 2)
        # freeze the run first: on a loaded machine (where niceness may not be honoured) a
        # fast trainer could otherwise finish its epochs before the signal arrives
        proc.send_signal(signal.SIGSTOP)
        assert proc.poll() is None, "training finished before it could be interrupted"
        proc.send_signal(sig)
        proc.send_signal(signal.SIGCONT)  # the pending SIGINT is handled inside an epoch
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, "the run was meant to be interrupted before finishing"
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert b"Traceback" not in proc.stderr.read()

    # Nothing half-written: no model directory, only complete resumable state.
    assert not out.exists()
    state = json.loads((resume_dir / "state.json").read_text())
    assert 2 <= state["epoch"] < EPOCHS
    assert [r["epoch"] for r in state["log"]] == list(range(1, state["epoch"] + 1))

    resumed = subprocess.run(
        _train_cmd(data_dir, out, "--resume"), env=_env(), capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert not resume_dir.exists(), "the resume state is removed once the model is written"

    log = read_train_log(out)
    assert [r["epoch"] for r in log] == list(range(1, EPOCHS + 1))
    got, want = load_model(out), load_model(reference_model)
    assert got.metrics["test"] == want.metrics["test"]
    for name, tensor in want.model.state_dict().items():
        np.testing.assert_allclose(
            got.model.state_dict()[name].numpy(), tensor.numpy(), rtol=1e-6, atol=1e-7
        )


def test_resume_reads_only_the_single_state_file(tiny_dataset, tmp_path: Path) -> None:
    """A kill between the state file and its JSON summary cannot mix two epochs: resuming
    reads the epoch, log and optimizer scalars from the safetensors file itself."""
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import resume_dir_for, train

    cfg = preset_config("default", variant="lightgcn", epochs=4, patience=10, batch_size=64)
    kwargs = dict(seed=1, progress=False, device="cpu")
    full = train(tiny_dataset, "lightgcn", cfg, out_dir=tmp_path / "full", **kwargs)
    out = tmp_path / "resumed"
    train(tiny_dataset, "lightgcn", cfg, out_dir=out, stop_after=3, **kwargs)
    summary = resume_dir_for(out) / "state.json"
    stale = json.loads(summary.read_text())
    stale["epoch"], stale["log"] = 1, stale["log"][:1]  # as if killed before the summary's rename
    summary.write_text(json.dumps(stale))
    seen: list[int] = []
    resumed = train(
        tiny_dataset,
        "lightgcn",
        cfg,
        out_dir=out,
        resume=True,
        on_epoch=lambda r: seen.append(r["epoch"]),
        **kwargs,
    )
    assert seen == [4]
    assert resumed.metrics["test"] == full.metrics["test"]
