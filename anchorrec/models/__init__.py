"""Models: the :class:`Recommender` contract, the AnchorRec family and the ID-only baselines.

Public API: :func:`build_model`, :class:`ModelConfig`, :func:`preset_config`,
:data:`VARIANTS`, :func:`load_model` / :func:`save_model` (checkpoints) and
:func:`recommend`.
"""

from anchorrec.models.base import Batch, Embeddings, Recommender
from anchorrec.models.config import PRESETS, ModelConfig, TrainConfig, preset_config
from anchorrec.models.registry import (
    DESCRIPTIONS,
    ID_ONLY_VARIANTS,
    MULTIMODAL_VARIANTS,
    VARIANTS,
    build_model,
)

__all__ = [
    "PRESETS",
    "VARIANTS",
    "MULTIMODAL_VARIANTS",
    "ID_ONLY_VARIANTS",
    "DESCRIPTIONS",
    "TrainConfig",
    "Batch",
    "Embeddings",
    "ModelConfig",
    "Recommender",
    "build_model",
    "preset_config",
]
