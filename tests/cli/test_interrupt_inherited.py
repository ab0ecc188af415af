"""A command started with SIGINT ignored and blocked (as a server thread may start the
dashboard's background jobs) still stops on SIGINT, as a cancel expects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from anchorrec.data.mmrec import save_mmrec
from tests.conftest import PROJECT_ROOT, make_tiny_dataset


def _inherit_a_deaf_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # survives exec
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # so does the mask


@pytest.mark.slow  # a training process: ~10 s on 2 cores
def test_train_stops_on_sigint_even_when_started_deaf_to_it(tmp_path):
    data = save_mmrec(
        make_tiny_dataset(n_users=300, n_items=80, seed=2, with_features=False), tmp_path / "d"
    )
    out = tmp_path / "model"
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "anchorrec", "train", str(data), "--variant", "lightgcn"]
    cmd += ["--epochs", "100000", "--patience", "100000", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, preexec_fn=_inherit_a_deaf_sigint)
    state = tmp_path / "model.resume" / "state.json"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no epoch state after 300 s"
            try:
                if json.loads(state.read_text())["epoch"] >= 1:
                    break
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
