"""Evaluation: full ranking over all items, MMRec's metrics (:func:`evaluate`).

The names are loaded on first use (PEP 562): importing one submodule does not import
the others (and torch with them).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PairedDifference": "anchorrec.evaluation.significance",
    "compare_to_reference": "anchorrec.evaluation.significance",
    "comparison_table": "anchorrec.evaluation.significance",
    "paired_bootstrap_interval": "anchorrec.evaluation.significance",
    "per_user_metrics": "anchorrec.evaluation.metrics",
    "DEFAULT_KS": "anchorrec.evaluation.metrics",
    "DEFAULT_MASK": "anchorrec.evaluation.metrics",
    "MASK_RULES": "anchorrec.evaluation.metrics",
    "evaluate": "anchorrec.evaluation.metrics",
    "evaluate_segments": "anchorrec.evaluation.metrics",
    "ranking_metrics": "anchorrec.evaluation.metrics",
    "segment_means": "anchorrec.evaluation.segments",
    "top_k_items": "anchorrec.evaluation.metrics",
    "user_segments": "anchorrec.evaluation.segments",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'anchorrec.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
