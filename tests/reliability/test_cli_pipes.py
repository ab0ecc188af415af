"""The CLI's JSON output can be piped into a reader that stops early (``| head``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from anchorrec.cli import main
from tests.conftest import PROJECT_ROOT, make_tiny_dataset

#: Larger than any pipe buffer (Linux: 64 KiB by default, 1 MiB at most for a user), so a
#: reader that hangs up after 100 bytes is sure to break the pipe while the CLI still writes.
OUTPUT_BYTES_AT_LEAST = 1024 * 1024 + 1


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.registry import build_model

    root = tmp_path_factory.mktemp("pipes")
    ds = load_mmrec(save_mmrec(make_tiny_dataset(n_users=600, n_items=60), root / "data"))
    return save_model(build_model("anchor", ds, seed=0), ds, root / "model")


def _argv(model_dir: Path) -> list[str]:
    return ["recommend", str(model_dir), "--user", "all", "--k", "20", "--explain", "--json"]


def test_recommend_json_into_a_closed_pipe_exits_cleanly(model_dir, capsys) -> None:
    assert main(_argv(model_dir)) == 0
    assert len(capsys.readouterr().out.encode()) >= OUTPUT_BYTES_AT_LEAST  # the pipe must break
    cmd = [sys.executable, "-m", "anchorrec", *_argv(model_dir)]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100)  # read a little, then hang up like `head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0
    assert "Traceback" not in err
