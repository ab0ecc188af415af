"""Evaluation: full ranking over all items, MMRec's metrics (:func:`evaluate`)."""

from anchorrec.evaluation.metrics import DEFAULT_KS, evaluate, ranking_metrics, top_k_items

__all__ = ["DEFAULT_KS", "evaluate", "ranking_metrics", "top_k_items"]
