"""Hyper-parameters of every model: a frozen :class:`ModelConfig` holding a :class:`TrainConfig`.

The constants below are the released AnchorRec configuration; each is named once here and
read everywhere else through a :class:`ModelConfig`.

Presets are data: :data:`PRESET_VALUES` maps a preset to the fields it changes from the
dataclass defaults, and :data:`VARIANT_VALUES` a variant to the fields it changes on top
(``direct`` takes AlignRec's released λ_w and layer count). ``ModelConfig()`` *is* the
``default`` preset of ``anchor``. ``paper`` reproduces the released computation (the image view
enters only a loss, the raw feature tables are trainable, P_v is computed on all items every
step, the L2 term divides by the configured batch size; docs/models-paper-equivalence.md
says how that is checked and what still differs). ``default`` is ours; docs/models.md#default-ours
says what justified each deviation.

Training settings (learning rate and its schedule, batch size, epoch budget, patience) are
their own :class:`TrainConfig`, reached as ``config.train``; a model reads them only where
the released loss does (the L2 term of ``paper`` divides by the configured batch size).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
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

# --- closed-form / neighbourhood baselines (each tuned on valid by `python -m anchorrec tune`) ---
EASE_LAMBDA = 200.0  #: λ of EASE, B = I − P·diagMat(1/diag(P)), P = (XᵀX + λI)⁻¹
KNN_NEIGHBOURS = 100  #: k of item-kNN and RP3β: neighbours kept per item
KNN_SHRINK = 10.0  #: shrinkage of item-kNN's cosine: x_i·x_j / (‖x_i‖‖x_j‖ + shrink)
RP3_ALPHA = 1.0  #: α of RP3β: transition probabilities raised to α
RP3_BETA = 0.5  #: β of RP3β: similarity to item j divided by popularity_j^β

# --- ours: the `default` preset (docs/models.md#default-ours says what justified each) --------
DEFAULT_MODALITY_LAYERS = 1  #: one item–item layer, combined with z as LightGCN combines layers
DEFAULT_ALIGN_BATCH = 1024  #: in-batch negatives of the InfoNCE alignment terms (B×B → 1024×1024)

PRESETS: tuple[str, ...] = ("default", "paper")

# --- evaluation mask rules (anchorrec.evaluation.metrics applies them) ----------------------
#: items masked when ranking the test split: MMRec's rule (train only) or train + valid
MASK_RULES: tuple[str, ...] = ("train", "train+valid")
DEFAULT_MASK = "train"
#: the rule of metrics files written before the rule was recorded (they masked train + valid)
LEGACY_MASK = "train+valid"

# --- the tuning protocol's budget (anchorrec.training.tuning) ---------------------------------
TUNE_BUDGET = 200  #: most epochs of every gradient-trained run
TUNE_PATIENCE = 20  #: epochs without a better valid Recall@20 before a run stops
TUNE_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)

#: Fields of :class:`TrainConfig` (``ModelConfig.replace`` and ``preset_config`` route them).
TRAIN_FIELDS: tuple[str, ...] = (
    "learning_rate",
    "lr_decay_base",
    "lr_decay_epochs",
    "batch_size",
    "epochs",
    "patience",
)


@dataclass(frozen=True)
class TrainConfig:
    """How a gradient-trained model is trained: Adam, lr₀ · base^(epoch / decay_epochs),
    ``batch_size`` BPR triples per step, at most ``epochs`` epochs, early stopping after
    ``patience`` epochs without a better valid Recall@20."""

    learning_rate: float = LEARNING_RATE
    lr_decay_base: float = LR_DECAY_BASE
    lr_decay_epochs: int = LR_DECAY_EPOCHS
    batch_size: int = BATCH_SIZE
    epochs: int = EPOCHS
    patience: int = 20

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.epochs < 0:
            raise ConfigError(
                f"batch_size must be >= 1 and epochs >= 0 (got {self.batch_size}, {self.epochs})."
            )
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0 (got {self.learning_rate}).")
        if self.patience < 1:
            raise ConfigError(f"patience must be >= 1 (got {self.patience}).")
        if self.lr_decay_epochs < 1:
            raise ConfigError(f"lr_decay_epochs must be >= 1 (got {self.lr_decay_epochs}).")


@dataclass(frozen=True)
class ModelConfig:
    """Every hyper-parameter of a model; ``train`` holds how it is trained.

    ``score_modalities`` lists the modality views added to the score (``fused``, ``text``,
    ``image``); the others are computed for the losses only. The defaults are the ``default``
    preset of ``anchor``.
    """

    variant: str = "anchor"
    preset: str = "default"
    embedding_dim: int = EMBEDDING_DIM
    id_layers: int = ID_LAYERS
    modality_layers: int = DEFAULT_MODALITY_LAYERS
    knn_k: int = KNN_K
    #: combine the item–item layers as LightGCN does, Z = mean_{l=0..L} S^l z (keeps each
    #: item's own z beside its neighbours'); False is the released Z = S^L z
    modality_layer_mean: bool = True
    recover_lambda: float = RECOVER_LAMBDA
    score_modalities: tuple[str, ...] = ("fused", "text", "image")
    trainable_features: bool = False
    project_batch_only: bool = True
    #: the in-batch InfoNCE alignment terms read only the first ``align_batch`` triples of each
    #: (uniformly shuffled) batch; None = the whole batch, as released
    align_batch: int | None = DEFAULT_ALIGN_BATCH
    #: frozen features wider than this are reduced to their top principal directions
    #: (uncentred truncated SVD, basis saved with the model); None keeps them raw
    feature_dim: int | None = 256
    # losses
    l2_weight: float = L2_WEIGHT
    #: the L2 term divides by ``train.batch_size`` (released) instead of the rows of the batch
    #: (they differ only for the short last batch of an epoch)
    l2_configured_batch: bool = False
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
    # closed-form and neighbourhood baselines
    ease_lambda: float = EASE_LAMBDA
    knn_neighbours: int = KNN_NEIGHBOURS
    knn_shrink: float = KNN_SHRINK
    rp3_alpha: float = RP3_ALPHA
    rp3_beta: float = RP3_BETA
    train: TrainConfig = field(default_factory=TrainConfig)

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
        if self.embedding_dim < 1:
            raise ConfigError(f"embedding_dim must be >= 1 (got {self.embedding_dim}).")
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
        if self.ease_lambda <= 0:
            raise ConfigError(f"ease_lambda must be > 0 (got {self.ease_lambda}).")
        if self.knn_neighbours < 1 or self.knn_shrink < 0:
            raise ConfigError(
                f"knn_neighbours must be >= 1 and knn_shrink >= 0 "
                f"(got {self.knn_neighbours}, {self.knn_shrink})."
            )
        if self.rp3_alpha <= 0 or self.rp3_beta < 0:
            raise ConfigError(
                f"rp3_alpha must be > 0 and rp3_beta >= 0 (got {self.rp3_alpha}, {self.rp3_beta})."
            )
        object.__setattr__(self, "score_modalities", tuple(self.score_modalities))
        if isinstance(self.train, dict):
            object.__setattr__(self, "train", TrainConfig(**self.train))

    def replace(self, **changes: Any) -> ModelConfig:
        """A copy with ``changes`` applied (validated again); training fields go to ``train``."""
        model_names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - model_names - set(TRAIN_FIELDS)
        if unknown:
            raise ConfigError(f"unknown hyper-parameter(s) {sorted(unknown)}.")
        train_changes = {k: changes.pop(k) for k in list(changes) if k in TRAIN_FIELDS}
        if train_changes:
            changes["train"] = dataclasses.replace(
                changes.get("train", self.train), **train_changes
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field, flat (the training fields beside the model's), as ``config.json`` holds them."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "train"}
        d["score_modalities"] = list(self.score_modalities)
        d.update(dataclasses.asdict(self.train))
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], variant: str | None = None) -> ModelConfig:
        """The config :meth:`to_dict` wrote; ``variant`` fills it in for models saved before
        the variant was part of the config (their ``config.json`` names it beside)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"train"}
        unknown = set(d) - names - set(TRAIN_FIELDS)
        if unknown:
            raise ConfigError(f"config has unknown hyper-parameter(s) {sorted(unknown)}.")
        model = {k: v for k, v in d.items() if k in names}
        if "score_modalities" in model:
            model["score_modalities"] = tuple(model["score_modalities"])
        if variant is not None and model.setdefault("variant", variant) != variant:
            raise ConfigError(
                f"config names variant {model['variant']!r} but the model is {variant!r}."
            )
        train = TrainConfig(**{k: v for k, v in d.items() if k in TRAIN_FIELDS})
        return cls(**model, train=train)


#: What each preset changes from the :class:`ModelConfig` defaults (``default`` changes nothing).
PRESET_VALUES: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {
        "modality_layers": MODALITY_LAYERS,
        "modality_layer_mean": False,
        "align_batch": None,
        "score_modalities": ("fused", "text"),
        "trainable_features": True,
        "project_batch_only": False,
        "feature_dim": None,
        "l2_configured_batch": True,
    },
}
#: What a variant changes on top of its preset: AlignRec's released λ_w and n_layers.
VARIANT_VALUES: dict[str, dict[str, Any]] = {
    "direct": {"l2_weight": DIRECT_L2_WEIGHT, "modality_layers": DIRECT_MODALITY_LAYERS},
}


def preset_config(
    preset: str = "default", variant: str = "anchor", **overrides: Any
) -> ModelConfig:
    """The ``paper`` or ``default`` preset for ``variant``, with ``overrides`` applied
    (training fields such as ``epochs`` included)."""
    if preset not in PRESET_VALUES:
        raise ConfigError(f"preset {preset!r} is unknown; use one of {', '.join(PRESETS)}.")
    values = {**PRESET_VALUES[preset], **VARIANT_VALUES.get(variant, {})}
    base = ModelConfig(variant=variant, preset=preset, **values)
    return base.replace(**overrides) if overrides else base
