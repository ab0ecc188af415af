"""bench/ is a package split by job: speed/, research/, rebuild/, and the helpers of common/."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from bench.common.benchlib import ROOT, script_path
from tests.conftest import PROJECT_ROOT

JOBS = ("speed", "research", "rebuild")
SCRIPTS = sorted(
    f"bench.{job}.{p.stem}"
    for job in JOBS
    for p in (PROJECT_ROOT / "bench" / job).glob("*.py")
    if p.stem != "__init__"
)


def test_every_job_folder_holds_scripts_and_the_helpers_are_a_package() -> None:
    assert ROOT == PROJECT_ROOT
    for job in JOBS:
        assert any(s.startswith(f"bench.{job}.") for s in SCRIPTS), job
    assert [p.name for p in (PROJECT_ROOT / "bench").glob("*.py")] == ["__init__.py"]
    for helper in ("benchlib", "babylib"):
        importlib.import_module(f"bench.common.{helper}")


@pytest.mark.parametrize("module", SCRIPTS)
def test_each_script_imports_as_a_module_of_its_package(module: str) -> None:
    mod = importlib.import_module(module)
    assert callable(getattr(mod, "main", None)), f"{module} has no main()"


def test_a_script_also_runs_as_a_file_from_anywhere(tmp_path) -> None:
    script = PROJECT_ROOT / "bench" / "rebuild" / "report.py"
    out = subprocess.run(
        [sys.executable, str(script), "--results", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("| bench |")


def test_every_recorded_result_names_the_script_that_wrote_it() -> None:
    names = set()
    for path in (PROJECT_ROOT / "bench" / "results").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                names.add(json.loads(line).get("bench", path.stem))
    assert names
    for name in sorted(names):
        script = PROJECT_ROOT / script_path(name)
        assert script.is_file(), f"{name}: {script_path(name)} does not exist"
    assert script_path("scale_training_baby_anchor_default_cuda") == "bench/speed/scale_training.py"
    assert script_path("largest_dataset_lightgcn_cpu") == "bench/speed/scale_training.py"
    assert script_path("driver_shares") == "bench/research/driver_shares.py"
