"""Collapse diagnostics stored on disk beside a model, so they are computed once per model.

:func:`anchorrec.analysis.diagnostics.diagnose` takes minutes on a few thousand items (one
SVD per space and per null); the dashboard must not run it on page load. :func:`store_diagnostics`
writes the report as ``diagnostics.json`` in the model's analysis folder (the model directory,
or its workspace fallback when read-only — see :func:`anchorrec.workspace.analysis_dir`), with
the model fingerprint; :func:`read_diagnostics` returns it only while that fingerprint still
matches (a retrained model's stale report is ignored).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anchorrec.analysis.context import model_dir_fingerprint
from anchorrec.analysis.diagnostics import Diagnostic, DiagnosticsReport, diagnose
from anchorrec.fileio import atomic_write_json
from anchorrec.workspace import analysis_dir, analysis_dirs

DIAGNOSTICS_FILE = "diagnostics.json"
#: Bumped whenever a metric's definition changes (2: intervals, the pairwise co-interaction
#: metrics, branch variance shares and magnitudes, no 2-D displacement), so a report stored
#: under an older definition is recomputed rather than shown.
FORMAT = "anchorrec-diagnostics-v2"


def report_to_json(report: DiagnosticsReport, fingerprint: str) -> dict[str, Any]:
    return {"format": FORMAT, "fingerprint": fingerprint, **report.to_json()}


def _interval(row: dict[str, Any]) -> dict[str, float | None]:
    """``low`` / ``high`` of a stored row, None when absent or not a number."""
    out: dict[str, float | None] = {}
    for key in ("low", "high"):
        value = row.get(key)
        out[key] = float(value) if isinstance(value, int | float) and value == value else None
    return out


def report_from_json(data: dict[str, Any]) -> DiagnosticsReport:
    rows = [Diagnostic(**{**row, **_interval(row)}) for row in data["diagnostics"]]
    return DiagnosticsReport(
        variant=data["variant"],
        n_items=int(data["n_items"]),
        rows=rows,
        distributions=dict(data.get("distributions") or {}),
    )


def read_diagnostics(model_dir: str | Path) -> DiagnosticsReport | None:
    """The stored report of the model in ``model_dir``, or None (absent, unreadable or stale)."""
    current = model_dir_fingerprint(Path(model_dir))
    for folder in reversed(analysis_dirs(model_dir)):  # the workspace's copy is the newer one
        path = folder / DIAGNOSTICS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            continue
        if data.get("fingerprint") != current:
            continue
        try:
            return report_from_json(data)
        except (KeyError, TypeError, ValueError):
            continue
    return None


def store_diagnostics(loaded: Any, report: DiagnosticsReport | None = None) -> DiagnosticsReport:
    """Compute (unless given) and store the report of ``loaded`` (a ``LoadedModel``)."""
    model_dir = Path(loaded.model_dir)
    report = report if report is not None else diagnose(loaded)
    fingerprint = model_dir_fingerprint(model_dir)
    atomic_write_json(
        analysis_dir(model_dir) / DIAGNOSTICS_FILE, report_to_json(report, fingerprint)
    )
    return report
