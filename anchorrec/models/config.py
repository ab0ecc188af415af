"""Hyper-parameters of every model, as one frozen dataclass with two presets.

The constants below are the released AnchorRec configuration (docs/models.md#presets
and docs/models.md#losses); each is named and cited once here and read everywhere else
through a :class:`ModelConfig`.

``paper`` reproduces the released computation exactly: the image view enters only a loss,
the raw feature tables are trainable, and the image projection P_v is computed on all items
every step. ``default`` is ours; each deviation is justified by measurements recorded in
docs/models.md#default-ours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from anchorrec.errors import ConfigError

# --- docs/models.md#forward-pass -------------------------------------------------------------
EMBEDDING_DIM = 64  #: d
ID_LAYERS = 2  #: L_ui, LightGCN layers of the ID view
MODALITY_LAYERS = 3  #: n_layers of the item–item propagation (released: 3)
KNN_K = 10  #: top-k of the cosine kNN item graphs (self included)
RECOVER_LAMBDA = 5e-4  #: λ_rec, weight of the decoded anchor added to the items

# --- docs/models.md#losses -------------------------------------------------------------------
BATCH_SIZE = 2048
L2_WEIGHT = 0.01  #: λ_w
UIM_WEIGHT = 0.01
UIM_MARGIN = 0.2
AAL_WEIGHT = 1e-3  #: λ₁
AMP_WEIGHT = 0.1  #: λ₂
TEMPERATURE = 0.05  #: τ of the AAL InfoNCE
MIXUP_IMAGE = 0.25  #: a^tv = 0.25·P_v(x^v) + 0.75·P_t(x^t)
AMP_TEXT_WEIGHT = 0.03
AMP_IMAGE_WEIGHT = 0.01
SMOOTH_WEIGHT = 0.1

# --- docs/models.md#paper-the-released-computation ------------------------------------------
LEARNING_RATE = 1e-3
LR_DECAY_BASE = 0.96  #: lr · 0.96^(epoch / 50)
LR_DECAY_EPOCHS = 50
EPOCHS = 100

# --- docs/models.md#variants: `direct` (AlignRec) ---------------------------------------------
DIRECT_TEMPERATURE = 0.2
DIRECT_ALPHA = 1e-2  #: α ∈ {1e-4 … 0.1}
DIRECT_GAMMA = 0.1  #: γ ∈ {0.1 … 0.5}
DIRECT_COS_WEIGHT = 0.1
DIRECT_L2_WEIGHT = 1e-4
DIRECT_MODALITY_LAYERS = 1

# --- ours: the `default` preset (docs/models.md#default-ours says what justified each) --------
DEFAULT_MODALITY_LAYERS = 1  #: one item–item layer, combined with z as LightGCN combines layers
DEFAULT_ALIGN_BATCH = 1024  #: in-batch negatives of the InfoNCE alignment terms (B×B → 1024×1024)

PRESETS: tuple[str, ...] = ("default", "paper")


@dataclass(frozen=True)
class ModelConfig:
    """Every hyper-parameter of a model and of its training.

    ``score_modalities`` lists the modality views added to the score (``fused``, ``text``,
    ``image``); ``loss_modalities`` the views computed for the losses only.
    """

    preset: str = "default"
    embedding_dim: int = EMBEDDING_DIM
    id_layers: int = ID_LAYERS
    modality_layers: int = MODALITY_LAYERS
    knn_k: int = KNN_K
    #: combine the item–item layers as LightGCN does, Z = mean_{l=0..L} S^l z (keeps each
    #: item's own z beside its neighbours'); False is the released Z = S^L z
    modality_layer_mean: bool = False
    recover_lambda: float = RECOVER_LAMBDA
    score_modalities: tuple[str, ...] = ("fused", "text", "image")
    trainable_features: bool = False
    project_batch_only: bool = True
    #: the in-batch InfoNCE alignment terms read only the first ``align_batch`` triples of each
    #: (uniformly shuffled) batch; None = the whole batch, as released
    align_batch: int | None = None
    #: frozen features wider than this are reduced to their top principal directions
    #: (uncentred truncated SVD, basis saved with the model); None keeps them raw
    feature_dim: int | None = 256
    # losses
    l2_weight: float = L2_WEIGHT
    uim_weight: float = UIM_WEIGHT
    uim_margin: float = UIM_MARGIN
    aal_weight: float = AAL_WEIGHT
    amp_weight: float = AMP_WEIGHT
    temperature: float = TEMPERATURE
    mixup_image: float = MIXUP_IMAGE
    amp_text_weight: float = AMP_TEXT_WEIGHT
    amp_image_weight: float = AMP_IMAGE_WEIGHT
    smooth_weight: float = SMOOTH_WEIGHT
    direct_temperature: float = DIRECT_TEMPERATURE
    direct_alpha: float = DIRECT_ALPHA
    direct_gamma: float = DIRECT_GAMMA
    direct_cos_weight: float = DIRECT_COS_WEIGHT
    # training
    learning_rate: float = LEARNING_RATE
    lr_decay_base: float = LR_DECAY_BASE
    lr_decay_epochs: int = LR_DECAY_EPOCHS
    batch_size: int = BATCH_SIZE
    epochs: int = EPOCHS
    patience: int = 20

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(
                f"preset {self.preset!r} is unknown; use one of {', '.join(PRESETS)}."
            )
        for name in ("temperature", "direct_temperature"):
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"{name} must be > 0 (got {getattr(self, name)}): InfoNCE divides by it."
                )
        if self.embedding_dim < 1 or self.batch_size < 1 or self.epochs < 0:
            raise ConfigError("embedding_dim and batch_size must be >= 1 and epochs >= 0.")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0 (got {self.learning_rate}).")
        if self.knn_k < 1 or self.modality_layers < 0 or self.id_layers < 0:
            raise ConfigError("knn_k must be >= 1 and the layer counts >= 0.")
        bad = set(self.score_modalities) - {"fused", "text", "image"}
        if bad:
            raise ConfigError(f"score_modalities has unknown names {sorted(bad)}.")
        if self.feature_dim is not None and self.feature_dim < 1:
            raise ConfigError(f"feature_dim must be >= 1 or None (got {self.feature_dim}).")
        if self.align_batch is not None and self.align_batch < 2:
            raise ConfigError(
                f"align_batch must be >= 2 or None (got {self.align_batch}): InfoNCE needs negatives."
            )
        if self.patience < 1:
            raise ConfigError(f"patience must be >= 1 (got {self.patience}).")
        object.__setattr__(self, "score_modalities", tuple(self.score_modalities))

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with ``changes`` applied (validated again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown hyper-parameter(s) {sorted(unknown)}.")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["score_modalities"] = list(self.score_modalities)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"config has unknown hyper-parameter(s) {sorted(unknown)}.")
        d = dict(d)
        if "score_modalities" in d:
            d["score_modalities"] = tuple(d["score_modalities"])
        return cls(**d)


def preset_config(
    preset: str = "default", variant: str = "anchor", **overrides: Any
) -> ModelConfig:
    """The ``paper`` or ``default`` preset for ``variant``, with ``overrides`` applied.

    ``direct`` (AlignRec) takes its own released λ_w and n_layers (docs/models.md#variants).
    """
    if preset == "paper":
        base = ModelConfig(
            preset="paper",
            score_modalities=("fused", "text"),
            trainable_features=True,
            project_batch_only=False,
            feature_dim=None,
        )
    elif preset == "default":
        base = ModelConfig(
            preset="default",
            modality_layers=DEFAULT_MODALITY_LAYERS,
            modality_layer_mean=True,
            align_batch=DEFAULT_ALIGN_BATCH,
        )
    else:
        raise ConfigError(f"preset {preset!r} is unknown; use one of {', '.join(PRESETS)}.")
    if variant == "direct":
        base = base.replace(l2_weight=DIRECT_L2_WEIGHT, modality_layers=DIRECT_MODALITY_LAYERS)
    return base.replace(**overrides) if overrides else base
