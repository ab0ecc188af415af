"""Evaluation: full ranking over all items, MMRec's metrics (:func:`evaluate`)."""

from anchorrec.evaluation.metrics import (
    DEFAULT_KS,
    evaluate,
    evaluate_segments,
    ranking_metrics,
    top_k_items,
    user_segments,
)

__all__ = [
    "DEFAULT_KS",
    "evaluate",
    "evaluate_segments",
    "ranking_metrics",
    "top_k_items",
    "user_segments",
]
