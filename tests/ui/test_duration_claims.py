"""Every duration the dashboard quotes is the latest figure of the benchmark that measured it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchorrec.ui import tables

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _latest(name: str) -> dict:
    found = sorted(BENCH.rglob(f"{name}.jsonl"))
    if not found:
        pytest.fail(f"no {name}.jsonl under bench/: the UI quotes its figures")
    lines = [ln for ln in found[0].read_text(encoding="utf-8").splitlines() if ln.strip()]
    return json.loads(lines[-1])


def test_layout_times_are_the_measured_ones():
    r = _latest("projection_time")
    assert r["machine"]["cores"] == 2
    assert f"UMAP {r['umap_5000_runs_s'][0]:.1f} s on its first run" in tables.LAYOUT_TIMES
    assert f"{r['umap_5000_s']:.1f} s after" in tables.LAYOUT_TIMES
    assert f"t-SNE {r['tsne_5000_s']:.1f} s" in tables.LAYOUT_TIMES
    clothing = f"UMAP {r['umap_23033_s']:.1f} s, t-SNE {r['tsne_23033_s']:.1f} s"
    assert clothing in tables.LAYOUT_TIMES  # Amazon Clothing's size


def test_diagnostics_time_is_the_measured_one():
    seconds = _latest("variant_diagnostics")["seconds"].values()
    assert f"{min(seconds):.1f} to {max(seconds):.1f} s per model" in tables.DIAGNOSTICS_TIME
