"""Collapse diagnostics stored beside a model and refused once the model changes."""

from __future__ import annotations

import json

import pytest

from anchorrec.analysis.diagnostics import (
    DIAGNOSTICS_FILE,
    DiagnosticsReport,
    read_diagnostics,
    store_diagnostics,
)


class _Loaded:
    def __init__(self, model_dir):
        self.model_dir = model_dir


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    d = tmp_path / "anchor"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"weights_sha256": "ab" * 32, "variant": "anchor"}))
    return d


def _report() -> DiagnosticsReport:
    r = DiagnosticsReport(variant="anchor", n_items=5)
    r.add("effective_rank", "final", 3.5, 4.9, "gaussian")
    r.add("id_dominance", "top-10", 0.61, 1 / 3, "equal shares")
    return r


def test_a_stored_report_reads_back_equal(model_dir):
    store_diagnostics(_Loaded(model_dir), _report())
    back = read_diagnostics(model_dir)
    assert back is not None and back.rows == _report().rows
    assert back.value("id_dominance") == pytest.approx(0.61)


def test_a_retrained_model_ignores_the_old_report(model_dir):
    store_diagnostics(_Loaded(model_dir), _report())
    (model_dir / "config.json").write_text(json.dumps({"weights_sha256": "cd" * 32}))
    assert read_diagnostics(model_dir) is None


def test_an_unreadable_report_counts_as_missing(model_dir):
    (model_dir / DIAGNOSTICS_FILE).write_text("{broken")
    assert read_diagnostics(model_dir) is None
