"""The CLI's JSON output can be piped into a reader that stops early (``| head``)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_recommend_json_into_a_closed_pipe_exits_cleanly() -> None:
    model = PROJECT_ROOT / "sample_data" / "boutique" / "models" / "anchor"
    cmd = [sys.executable, "-m", "anchorrec", "recommend", str(model), "--user", "all"]
    cmd += ["--k", "10", "--explain", "--json"]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100)  # read a little, then hang up like `head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err
