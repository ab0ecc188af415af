"""``--config FILE.yaml`` for train, tune and prepare: the keys of config.json, flags on top,
unknown keys refused by name, an MMRec-style grid for tune."""

from __future__ import annotations

import json

import pytest

from anchorrec.cli import build_parser, main
from anchorrec.cli.yaml_config import apply_config, explicit_dests
from anchorrec.data.mmrec import save_mmrec
from tests.conftest import make_tiny_dataset

RUN_KEYS = ("hyper_parameters", "variant", "preset", "seed", "weights_sha256")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return save_mmrec(make_tiny_dataset(), tmp_path_factory.mktemp("yaml") / "tiny")


def _config(model_dir) -> dict:
    info = json.loads((model_dir / "config.json").read_text())
    return {k: info.get(k) for k in RUN_KEYS} | {"data": info["dataset"]["fingerprint"]}


def _train(argv: list[str]) -> None:
    assert main(["train", *argv, "--device", "cpu", "--quiet"]) == 0


def test_yaml_config_reproduces_the_config_json_of_the_same_run(data_dir, tmp_path):
    flags = tmp_path / "flags"
    _train([str(data_dir), "--variant", "mf", "--epochs", "2", "--lr", "0.002", "--seed", "3",
            "--out", str(flags)])  # fmt: skip
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("variant: mf\nepochs: 2\nlearning_rate: 0.002\nseed: 3\n")
    from_yaml = tmp_path / "yaml"
    _train([str(data_dir), "--config", str(yaml_file), "--out", str(from_yaml)])
    assert _config(from_yaml) == _config(flags)
    # a model's own config.json (JSON is YAML) starts the same run again
    again = tmp_path / "again"
    _train([str(data_dir), "--config", str(flags / "config.json"), "--out", str(again)])
    assert _config(again) == _config(flags)


def test_flags_win_over_the_file(data_dir, tmp_path):
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("variant: mf\nepochs: 1\nlearning_rate: 0.002\nseed: 3\n")
    out = tmp_path / "m"
    _train([str(data_dir), "--config", str(yaml_file), "--lr", "0.004", "--seed", "0",
            "--out", str(out)])  # fmt: skip
    info = json.loads((out / "config.json").read_text())
    assert info["hyper_parameters"]["learning_rate"] == 0.004
    assert info["hyper_parameters"]["epochs"] == 1 and info["seed"] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("variant: mf\nlearning_rat: 0.1\n", "unknown key 'learning_rat'"),
        ("variant: mf\nhyper_parameters:\n  embeding_dim: 8\n", "unknown key 'embeding_dim'"),
        ("variant: mf\nepochs: many\n", "key 'epochs' is 'many'; it must be a whole number"),
        ("variant: nope\n", "key 'variant' is 'nope'"),
        ("- a list\n", "it must be a mapping"),
        ("variant: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_by_name(data_dir, tmp_path, capsys, text, expected):
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text(text)
    argv = ["train", str(data_dir), "--config", str(yaml_file), "--out", str(tmp_path / "m")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and str(yaml_file) in err
    assert not (tmp_path / "m").exists()


def test_tune_takes_an_mmrec_style_grid(data_dir, tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "variant: ease\nhyper_parameters: [ease_lambda]\nease_lambda: [10.0, 500.0]\n"
        "knn_k: 5\nseeds: [0]\n"
    )
    out = tmp_path / "tuned"
    assert main(["tune", str(data_dir), "--config", str(grid), "--out", str(out),
                 "--device", "cpu"]) == 0  # fmt: skip
    runs = json.loads((out / "grid.json").read_text())["runs"]
    assert [r["point"] for r in runs] == [{"ease_lambda": 10.0}, {"ease_lambda": 500.0}]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["grid_source"] == "given (tune --config)" and summary["fixed"] == {"knn_k": 5}
    assert summary["chosen_config"]["knn_k"] == 5
    grid.write_text("variant: ease\nhyper_parameters: [ease_lambda]\nease_lambda: 10.0\n")
    assert main(["tune", str(data_dir), "--config", str(grid), "--out", str(tmp_path / "x")]) == 2
    assert "needs a list of values" in capsys.readouterr().err


def test_prepare_reads_its_options_from_the_file(tmp_path):
    cfg = tmp_path / "prepare.yaml"
    cfg.write_text("methods: [pca]\ngames: [background]\ndiagnostics: false\n")
    argv = ["prepare", "some/model", "--config", str(cfg), "--games", "mean"]
    args = build_parser().parse_args(argv)
    args._explicit = explicit_dests(build_parser(), argv)
    apply_config(args)
    assert (args.methods, args.games, args.no_diagnostics) == ("pca", "mean", True)
    cfg.write_text("method: pca\n")
    assert main(["prepare", "some/model", "--config", str(cfg)]) == 2
