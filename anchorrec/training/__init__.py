"""Training: BPR with Adam, early stopping on valid Recall@20, resumable (:func:`train`).

The names are loaded on first use (PEP 562): importing one submodule does not import
the others (and torch with them).
"""

from __future__ import annotations

from anchorrec.lazy import lazy_names

_EXPORTS = {
    "SELECTION_METRIC": "anchorrec.training.trainer",
    "BprSampler": "anchorrec.training.sampler",
    "TrainResult": "anchorrec.training.trainer",
    "learning_rate": "anchorrec.training.trainer",
    "train": "anchorrec.training.trainer",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_names(__name__, _EXPORTS, globals())
