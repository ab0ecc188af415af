"""Variant names → model classes, and :func:`build_model`."""

from __future__ import annotations

from anchorrec.data.dataset import Dataset
from anchorrec.errors import ConfigError
from anchorrec.models.base import Recommender
from anchorrec.models.baselines import LightGCN, MatrixFactorisation, Popularity
from anchorrec.models.config import ModelConfig, preset_config
from anchorrec.models.multimodal import (
    AnchorNoAmp,
    AnchorNoProj,
    AnchorRec,
    DirectAlignment,
    NoAlignment,
)

MODEL_CLASSES: dict[str, type[Recommender]] = {
    cls.variant: cls
    for cls in (
        AnchorRec,
        DirectAlignment,
        NoAlignment,
        AnchorNoProj,
        AnchorNoAmp,
        LightGCN,
        MatrixFactorisation,
        Popularity,
    )
}
#: Every variant name, in display order.
VARIANTS: tuple[str, ...] = tuple(MODEL_CLASSES)
#: Variants that read item features (the others are ID-only baselines).
MULTIMODAL_VARIANTS: tuple[str, ...] = ("anchor", "direct", "none", "anchor-noproj", "anchor-noamp")


def build_model(
    variant: str, dataset: Dataset, config: ModelConfig | None = None, *, seed: int | None = None
) -> Recommender:
    """A freshly initialised ``variant`` for ``dataset`` (``config`` defaults to the default preset).

    With ``seed`` the initial weights are reproducible (torch's global RNG is seeded).
    """
    try:
        cls = MODEL_CLASSES[variant]
    except KeyError:
        raise ConfigError(
            f"variant {variant!r} is unknown; use one of {', '.join(VARIANTS)}."
        ) from None
    if config is None:
        config = preset_config("default", variant=variant)
    if seed is not None:
        import torch

        torch.manual_seed(seed)
    return cls(dataset, config)
