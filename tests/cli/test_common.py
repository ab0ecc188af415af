"""The helpers every sub-command shares: one flag, one name, one default."""

from __future__ import annotations

import argparse

import pytest

from anchorrec.cli import build_parser
from anchorrec.cli.common import model_names, parse_users, training_overrides
from anchorrec.cli.distributed import build_parser as distributed_parser
from anchorrec.errors import ConfigError


def _options(parser: argparse.ArgumentParser) -> dict[str, object]:
    return {
        a.option_strings[-1] if a.option_strings else a.dest: a.default
        for a in parser._actions  # argparse has no public list of a parser's arguments
        if a.dest != "help"
    }


def test_train_and_data_parallel_training_share_every_flag_and_default():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    train = _options(sub.choices["train"])
    distributed = _options(distributed_parser())
    shared = set(train) & set(distributed)
    assert {"--variant", "--preset", "--out", "--epochs", "--lr", "--seed", "--device"} <= shared
    assert set(distributed) <= set(train)  # nothing only the data-parallel entry point takes
    assert {k: train[k] for k in shared} == {k: distributed[k] for k in shared}


def test_an_unknown_variant_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "d", "--out", "o", "--variant", "nope"])
    assert exc.value.code == 2
    assert "unknown variant 'nope'" in capsys.readouterr().err


def test_training_overrides_maps_flags_to_config_fields():
    args = argparse.Namespace(epochs=3, lr=0.01, patience=None, batch_size=None, temperature=0.2)
    assert training_overrides(args) == {"epochs": 3, "learning_rate": 0.01, "temperature": 0.2}
    with pytest.raises(ConfigError, match="--epochs must be >= 0"):
        training_overrides(argparse.Namespace(epochs=-1))


def test_parse_users_and_model_names():
    assert parse_users(["3,1", "3", "all"], 4) == [3, 1, 0, 2]
    with pytest.raises(ConfigError, match="user ids run from 0 to 3"):
        parse_users(["4"], 4)
    assert model_names(["a/anchor", "b/lightgcn"]) == ["anchor", "lightgcn"]
    assert model_names(["a/anchor", "b/anchor"]) == ["a/anchor", "b/anchor"]
