"""``--json``: standard output carries one JSON document and nothing else (tables and progress
go to standard error), so ``… --json | python -m json.tool`` (or ``jq``) works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anchorrec.cli import main
from tests.conftest import make_tiny_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(dataset directory, anchor model, lightgcn model), saved untrained."""
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.registry import build_model

    root = tmp_path_factory.mktemp("json")
    data = save_mmrec(make_tiny_dataset(n_users=40, n_items=30), root / "tiny")
    ds = load_mmrec(data)
    anchor = save_model(build_model("anchor", ds, seed=0), ds, root / "anchor")
    lightgcn = save_model(build_model("lightgcn", ds, seed=0), ds, root / "lightgcn")
    return data, Path(anchor), Path(lightgcn)


def _commands(data: Path, anchor: Path, lightgcn: Path) -> list[list[str]]:
    return [
        ["recommend", str(anchor), "--user", "3,5", "--k", "4", "--json"],
        ["recommend", str(anchor), "--user", "3", "--k", "4", "--explain", "--json"],
        ["evaluate", str(anchor), "--json"],
        ["compare", str(anchor), "--reference", str(lightgcn), "--k", "10", "--json"],
        ["diagnose", str(anchor), "--json"],
        ["reliance", str(anchor), "--json"],
        ["validate", str(data), "--json"],
    ]


@pytest.mark.parametrize("index", range(7))
def test_json_commands_print_only_json_on_stdout(saved, capsys, index):
    argv = _commands(*saved)[index]
    assert main(argv) == 0
    printed = capsys.readouterr()
    document = json.loads(printed.out)  # the whole of stdout, not its last line
    assert document  # a real document: a non-empty list or object
    assert printed.out.count("\n") == 1 or argv[0] in ("diagnose", "reliance", "validate")


def test_the_table_goes_to_stderr_with_json(saved, capsys):
    _, anchor, _ = saved
    assert main(["recommend", str(anchor), "--user", "3", "--k", "4", "--json"]) == 0
    printed = capsys.readouterr()
    assert "#1" in printed.err and "#1" not in printed.out
    assert [r["rank"] for r in json.loads(printed.out)] == [1, 2, 3, 4]
    assert main(["recommend", str(anchor), "--user", "3", "--k", "4"]) == 0
    assert "#1" in capsys.readouterr().out  # without --json the table is the output


def test_recommend_json_pipes_into_json_tool(saved):
    _, anchor, _ = saved
    command = (
        f"{sys.executable} -m anchorrec recommend {anchor} --user 3 --k 4 --json"
        f" | {sys.executable} -m json.tool"
    )
    out = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert [r["rank"] for r in json.loads(out.stdout)] == [1, 2, 3, 4]
