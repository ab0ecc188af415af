"""Evaluation: full ranking over all items, MMRec's metrics (:func:`evaluate`).

The names are loaded on first use (PEP 562): importing one submodule does not import
the others (and torch with them).
"""

from __future__ import annotations

from anchorrec.lazy import lazy_names

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

__getattr__ = lazy_names(__name__, _EXPORTS, globals())
