"""Evaluation: full ranking over all items, MMRec's metrics (:func:`evaluate`)."""

from anchorrec.evaluation.metrics import (
    DEFAULT_KS,
    DEFAULT_MASK,
    MASK_RULES,
    evaluate,
    evaluate_segments,
    per_user_metrics,
    ranking_metrics,
    segment_means,
    top_k_items,
    user_segments,
)
from anchorrec.evaluation.significance import (
    PairedDifference,
    compare_to_reference,
    comparison_table,
    paired_bootstrap_interval,
)

__all__ = [
    "PairedDifference",
    "compare_to_reference",
    "comparison_table",
    "paired_bootstrap_interval",
    "per_user_metrics",
    "DEFAULT_KS",
    "DEFAULT_MASK",
    "MASK_RULES",
    "evaluate",
    "evaluate_segments",
    "ranking_metrics",
    "segment_means",
    "top_k_items",
    "user_segments",
]
