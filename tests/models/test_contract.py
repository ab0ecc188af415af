"""The model contract and the presets as data: what every caller may rely on."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from anchorrec.errors import CheckpointError, ConfigError
from anchorrec.models import (
    DESCRIPTIONS,
    ID_ONLY_VARIANTS,
    MULTIMODAL_VARIANTS,
    VARIANTS,
    ModelConfig,
    TrainConfig,
    build_model,
    preset_config,
)
from anchorrec.models.base import Recommender
from anchorrec.models.checkpoint import load_model, save_model, seal_model_dir
from anchorrec.models.config import PRESET_VALUES, TRAIN_FIELDS
from anchorrec.models.registry import MODEL_CLASSES
from tests.models.conftest import fast_config


def test_model_config_defaults_are_the_default_preset():
    assert ModelConfig() == preset_config("default")
    assert ModelConfig().variant == "anchor" and ModelConfig().train == TrainConfig()
    assert PRESET_VALUES["default"] == {}


def test_the_variant_is_part_of_the_config():
    direct = preset_config("default", variant="direct")
    assert direct.variant == "direct"
    assert (direct.l2_weight, direct.modality_layers) == (1e-4, 1)
    assert preset_config("paper", variant="lightgcn").variant == "lightgcn"


def test_a_config_for_another_variant_is_refused(tiny_dataset):
    with pytest.raises(ConfigError, match="variant 'anchor', not 'lightgcn'"):
        build_model("lightgcn", tiny_dataset, preset_config("default", variant="anchor"))


def test_training_settings_are_their_own_config():
    cfg = preset_config("default", epochs=7, learning_rate=5e-3)
    assert cfg.train == TrainConfig(epochs=7, learning_rate=5e-3)
    assert cfg.replace(patience=3).train.patience == 3
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    assert not set(TRAIN_FIELDS) & model_fields
    with pytest.raises(ConfigError, match="learning_rate"):
        TrainConfig(learning_rate=0)
    with pytest.raises(ConfigError, match="unknown"):
        cfg.replace(no_such_field=1)


def test_config_round_trips_flat_and_reads_files_without_a_variant():
    cfg = preset_config("paper", variant="direct", epochs=3)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    old = {k: v for k, v in cfg.to_dict().items() if k != "variant"}  # a pre-variant file
    assert ModelConfig.from_dict(old, variant="direct") == cfg
    with pytest.raises(ConfigError, match="names variant 'direct'"):
        ModelConfig.from_dict(cfg.to_dict(), variant="anchor")


def test_registry_lists_are_derived_from_the_classes():
    assert set(MULTIMODAL_VARIANTS) | set(ID_ONLY_VARIANTS) == set(VARIANTS)
    assert not set(MULTIMODAL_VARIANTS) & set(ID_ONLY_VARIANTS)
    for variant, cls in MODEL_CLASSES.items():
        assert (variant in ID_ONLY_VARIANTS) == cls.id_only
        assert DESCRIPTIONS[variant] == cls.description and cls.description
    assert {"ease", "itemknn", "rp3beta", "lightgcn"} <= set(ID_ONLY_VARIANTS)
    assert "anchor" in MULTIMODAL_VARIANTS


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_base_constructor_sets_what_every_caller_reads(tiny_dataset, variant):
    model = build_model(variant, tiny_dataset, fast_config(variant))
    assert isinstance(model, Recommender)
    assert model.config.variant == variant
    assert (model.n_users, model.n_items) == (tiny_dataset.n_users, tiny_dataset.n_items)
    assert model.device == torch.device("cpu")
    assert "_device_marker" not in model.state_dict()  # nothing new in the weights file
    assert not hasattr(Recommender, "score_users") and not hasattr(Recommender, "on_epoch_start")


def test_a_model_saved_before_the_variant_was_in_the_config_loads(tiny_dataset, tmp_path):
    model = build_model("mf", tiny_dataset, fast_config("mf"), seed=0)
    save_model(model, tiny_dataset, tmp_path / "m", metrics={"test": {"recall@20": 0.5}})
    info_path = tmp_path / "m" / "config.json"
    info = json.loads(info_path.read_text())
    del info["hyper_parameters"]["variant"]
    del info["config_sha256"]  # an old file: written before either field existed
    info_path.write_text(json.dumps(info))
    seal_model_dir(tmp_path / "m")  # what a trusted old model directory gets
    loaded = load_model(tmp_path / "m", tiny_dataset)
    assert loaded.config == model.config
    assert loaded.metrics["mask"] == "train+valid"  # an old file's rule is named on load
    info["hyper_parameters"]["variant"] = "lightgcn"
    info_path.write_text(json.dumps(info))
    seal_model_dir(tmp_path / "m")
    with pytest.raises(CheckpointError, match="cannot rebuild"):
        load_model(tmp_path / "m", tiny_dataset)
