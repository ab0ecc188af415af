"""Models: the :class:`Recommender` contract, the AnchorRec family and the ID-only baselines.

Public API: :func:`build_model`, :class:`ModelConfig`, :func:`preset_config`,
:data:`VARIANTS`, :func:`load_model` / :func:`save_model` (checkpoints) and
:func:`recommend`.

The names are loaded on first use (PEP 562), so ``import anchorrec.models.config`` — what
the command line needs to list presets — does not load torch.
"""

from __future__ import annotations

from anchorrec.lazy import lazy_names

_EXPORTS = {
    "Batch": "anchorrec.models.base",
    "Embeddings": "anchorrec.models.base",
    "Recommender": "anchorrec.models.base",
    "PRESETS": "anchorrec.models.config",
    "ModelConfig": "anchorrec.models.config",
    "TrainConfig": "anchorrec.models.config",
    "preset_config": "anchorrec.models.config",
    "DESCRIPTIONS": "anchorrec.models.registry",
    "ID_ONLY_VARIANTS": "anchorrec.models.registry",
    "MULTIMODAL_VARIANTS": "anchorrec.models.registry",
    "VARIANTS": "anchorrec.models.registry",
    "build_model": "anchorrec.models.registry",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_names(__name__, _EXPORTS, globals())
