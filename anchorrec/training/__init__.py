"""Training: BPR with Adam, early stopping on valid Recall@20, resumable (:func:`train`).

The names are loaded on first use (PEP 562): importing one submodule does not import
the others (and torch with them).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SELECTION_METRIC": "anchorrec.training.trainer",
    "BprSampler": "anchorrec.training.sampler",
    "TrainResult": "anchorrec.training.trainer",
    "learning_rate": "anchorrec.training.trainer",
    "train": "anchorrec.training.trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'anchorrec.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
