"""Model directories: round trip, refusal of foreign data and of damaged files, and the CLI."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from anchorrec.cli import main
from anchorrec.data.mmrec import save_mmrec
from anchorrec.errors import CheckpointError
from anchorrec.evaluation import evaluate
from anchorrec.models.checkpoint import load_model, save_model
from anchorrec.models.recommend import recommend
from anchorrec.training import train
from tests.conftest import make_tiny_dataset
from tests.models.conftest import fast_config


def _scores(model):
    emb = model.compute_embeddings()
    return (emb.users @ emb.items.T).numpy()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("ckpt")
    ds = make_tiny_dataset()
    result = train(
        ds, "anchor", fast_config("anchor", epochs=2), out_dir=root / "anchor", progress=False
    )
    torch.set_num_threads(before)
    return ds, result, root / "anchor"


@pytest.mark.parametrize(
    "variant,preset", [("anchor", "paper"), ("direct", "default"), ("popularity", "default")]
)
def test_save_then_load_reproduces_the_scores(tiny_dataset, tmp_path, variant, preset):
    result = train(tiny_dataset, variant, fast_config(variant, preset, epochs=2), progress=False)
    save_model(result.model, tiny_dataset, tmp_path / "m", metrics=result.metrics)
    loaded = load_model(tmp_path / "m", tiny_dataset)
    assert loaded.variant == variant and loaded.config == result.config
    np.testing.assert_array_equal(_scores(loaded.model), _scores(result.model))
    assert loaded.metrics == result.metrics


def test_model_directory_holds_the_four_files_and_no_leftovers(saved):
    ds, result, model_dir = saved
    assert sorted(os.listdir(model_dir)) == [
        "config.json",
        "content_graphs.npz",  # the kNN graphs, so a load does not rebuild them
        "metrics.json",
        "model.safetensors",
        "per_user",  # the derived store: the test users' metrics, written after training
        "train_log.jsonl",
    ]
    (stored,) = os.listdir(model_dir / "per_user")
    assert stored.endswith(".npz") and not stored.startswith(".")
    assert not [p for p in os.listdir(model_dir.parent) if p.startswith(".")]
    info = json.loads((model_dir / "config.json").read_text())
    assert info["variant"] == "anchor" and info["preset"] == "default"
    assert info["dataset"]["fingerprint"] == ds.fingerprint
    assert info["hyper_parameters"]["temperature"] == 0.05
    assert "code_version" in info
    assert (model_dir / "model.safetensors").read_bytes()[:8] != b"\x80\x04"  # not a pickle


def test_loaded_model_reproduces_recorded_metrics(saved):
    ds, result, model_dir = saved
    loaded = load_model(model_dir, ds)
    assert evaluate(loaded.model, ds, "test")["recall@20"] == pytest.approx(
        result.metrics["test"]["recall@20"]
    )


def test_a_dataset_with_another_fingerprint_is_refused(saved):
    _, _, model_dir = saved
    other = make_tiny_dataset(seed=5)
    with pytest.raises(CheckpointError, match="fingerprint"):
        load_model(model_dir, other)


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop"])
def test_a_truncated_or_edited_weights_file_is_refused(saved, tmp_path, damage):
    import shutil

    ds, _, model_dir = saved
    copy = tmp_path / "m"
    shutil.copytree(model_dir, copy)
    path = copy / "model.safetensors"
    blob = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "flip":
        path.write_bytes(blob[:-10] + bytes([blob[-10] ^ 1]) + blob[-9:])
    else:
        path.unlink()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_model(copy, ds)


def test_an_edited_config_is_refused(saved, tmp_path):
    import shutil

    ds, _, model_dir = saved
    copy = tmp_path / "m"
    shutil.copytree(model_dir, copy)
    (copy / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json"):
        load_model(copy, ds)
    with pytest.raises(CheckpointError, match="not a model directory"):
        load_model(tmp_path / "absent", ds)


def test_cli_train_evaluate_recommend_and_dataset_from_config(tmp_path, capsys):
    ds = make_tiny_dataset()
    data = save_mmrec(ds, tmp_path / "tiny")
    out = tmp_path / "models" / "mf"
    argv = ["train", str(data), "--variant", "mf", "--epochs", "2", "--batch-size", "64"]
    assert main([*argv, "--out", str(out), "--quiet", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["evaluate", str(out), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["recall@20"] == pytest.approx(trained["recall@20"])
    assert "ndcg@20" in metrics
    assert main(["recommend", str(out), "--user", "3", "--k", "4", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["rank"] for r in recs] == [1, 2, 3, 4]
    assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
    seen = set(ds.train[3].indices)
    assert not seen & {r["item"] for r in recs}
    # the dataset comes from config.json; the library function gives the same list
    loaded = load_model(out)
    assert [r.item for r in recommend(loaded, [3], 4)] == [r["item"] for r in recs]
    # τ = 0 and an existing output are user errors: exit 2 with a message
    assert main([*argv, "--out", str(tmp_path / "t0"), "--temperature", "0"]) == 2
    assert "temperature" in capsys.readouterr().err
    assert main([*argv, "--out", str(out)]) == 2
    assert "overwrite" in capsys.readouterr().err


def test_cli_compare_gives_each_model_a_paired_interval_against_the_reference(tmp_path, capsys):
    data = save_mmrec(make_tiny_dataset(), tmp_path / "tiny")
    models = {}
    for variant in ("mf", "popularity", "lightgcn"):
        models[variant] = tmp_path / "models" / variant
        argv = ["train", str(data), "--variant", variant, "--epochs", "2", "--batch-size", "64"]
        assert main([*argv, "--out", str(models[variant]), "--quiet"]) == 0
    capsys.readouterr()
    argv = ["compare", str(models["mf"]), str(models["popularity"])]
    assert main([*argv, "--reference", str(models["lightgcn"]), "--k", "10", "--json"]) == 0
    printed = capsys.readouterr()  # with --json the table goes to stderr, the JSON to stdout
    assert printed.err.splitlines()[0].startswith("against lightgcn on tiny, split test")
    rows = json.loads(printed.out)
    assert [(r["model"], r["metric"]) for r in rows] == [
        ("mf", "recall@10"), ("mf", "ndcg@10"), ("popularity", "recall@10"), ("popularity", "ndcg@10")
    ]  # fmt: skip
    for r in rows:
        assert r["low"] <= r["difference"] <= r["high"]
        assert r["difference"] == pytest.approx(r["model_mean"] - r["reference_mean"])
    evaluated = {}
    for name in ("mf", "lightgcn"):
        assert main(["evaluate", str(models[name]), "--json"]) == 0
        evaluated[name] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rows[0]["model_mean"] == pytest.approx(evaluated["mf"]["recall@10"])
    assert rows[0]["reference_mean"] == pytest.approx(evaluated["lightgcn"]["recall@10"])
    # a model trained on other data is refused with the checkpoint's message
    other = save_mmrec(make_tiny_dataset(seed=1), tmp_path / "other")
    stranger = tmp_path / "models" / "stranger"
    argv = ["train", str(other), "--variant", "mf", "--epochs", "1", "--out", str(stranger)]
    assert main([*argv, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["compare", str(stranger), "--reference", str(models["lightgcn"])]) == 2
    assert "fingerprint" in capsys.readouterr().err.lower()
