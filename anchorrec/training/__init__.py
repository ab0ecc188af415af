"""Training: BPR with Adam, early stopping on valid Recall@20, resumable (:func:`train`)."""

from anchorrec.training.sampler import BprSampler
from anchorrec.training.trainer import SELECTION_METRIC, TrainResult, learning_rate, train

__all__ = ["SELECTION_METRIC", "BprSampler", "TrainResult", "learning_rate", "train"]
