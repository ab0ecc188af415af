"""Variant names → model classes, and :func:`build_model`.

Every list of variants is derived from the classes' own declarations (``variant``,
``id_only``, ``description``); nothing else keeps a list of names.
"""

from __future__ import annotations

from anchorrec.data.dataset import Dataset
from anchorrec.errors import ConfigError
from anchorrec.models.base import Recommender
from anchorrec.models.baselines import LightGCN, MatrixFactorisation, Popularity
from anchorrec.models.config import ModelConfig, preset_config
from anchorrec.models.item_item import Ease, ItemKnn, Rp3Beta
from anchorrec.models.multimodal import (
    AnchorNoAmp,
    AnchorNoProj,
    AnchorRec,
    DirectAlignment,
    NoAlignment,
)
from anchorrec.models.names import VARIANT_ORDER

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
        Ease,
        ItemKnn,
        Rp3Beta,
    )
}
if tuple(MODEL_CLASSES) != VARIANT_ORDER:  # the torch-free list of names must follow
    raise TypeError(
        f"anchorrec.models.names.VARIANT_ORDER {VARIANT_ORDER} does not list the model "
        f"classes' variants {tuple(MODEL_CLASSES)} in the same order."
    )
for _cls in MODEL_CLASSES.values():  # the contract's class-level declarations
    for _name in ("id_only", "description"):
        if not hasattr(_cls, _name):
            raise TypeError(f"{_cls.__name__} must declare {_name!r} (see Recommender).")
#: Every variant name, in display order.
VARIANTS: tuple[str, ...] = tuple(MODEL_CLASSES)
#: Variants that read item features, in display order.
MULTIMODAL_VARIANTS: tuple[str, ...] = tuple(v for v, c in MODEL_CLASSES.items() if not c.id_only)
#: Variants that read only the interactions (the baselines), in display order.
ID_ONLY_VARIANTS: tuple[str, ...] = tuple(v for v, c in MODEL_CLASSES.items() if c.id_only)
#: One line per variant, saying what it is.
DESCRIPTIONS: dict[str, str] = {v: c.description for v, c in MODEL_CLASSES.items()}


def model_class(variant: str) -> type[Recommender]:
    """The class of ``variant``; ConfigError naming the known variants when unknown."""
    try:
        return MODEL_CLASSES[variant]
    except KeyError:
        raise ConfigError(
            f"variant {variant!r} is unknown; use one of {', '.join(VARIANTS)}."
        ) from None


def build_model(
    variant: str, dataset: Dataset, config: ModelConfig | None = None, *, seed: int | None = None
) -> Recommender:
    """A freshly initialised ``variant`` for ``dataset`` (``config`` defaults to the default preset).

    With ``seed`` the initial weights are reproducible (torch's global RNG is seeded). A
    ``config`` for another variant is refused (ConfigError).
    """
    cls = model_class(variant)
    if config is None:
        config = preset_config("default", variant=variant)
    if seed is not None:
        import torch

        torch.manual_seed(seed)
    return cls(dataset, config)
