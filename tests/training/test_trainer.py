"""Training: determinism, resume, schedule, logging and the sampler."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from anchorrec.errors import CheckpointError
from anchorrec.models.checkpoint import load_model
from anchorrec.training import BprSampler, learning_rate, train
from anchorrec.training.trainer import resume_dir_for
from tests.models.conftest import fast_config, single_torch_thread  # noqa: F401


def _scores(model):
    emb = model.compute_embeddings()
    return (emb.users @ emb.items.T).numpy()


@pytest.mark.parametrize("variant", ["anchor", "direct"])
def test_training_is_deterministic_on_cpu_with_a_seed(tiny_dataset, variant):
    cfg = fast_config(variant, epochs=3)
    a = train(tiny_dataset, variant, cfg, seed=7, progress=False, device="cpu")
    b = train(tiny_dataset, variant, cfg, seed=7, progress=False, device="cpu")
    c = train(tiny_dataset, variant, cfg, seed=8, progress=False, device="cpu")
    np.testing.assert_array_equal(_scores(a.model), _scores(b.model))
    assert [r["loss"] for r in a.log] == [r["loss"] for r in b.log]
    assert not np.array_equal(_scores(a.model), _scores(c.model))


def test_resume_continues_from_the_last_epoch_and_matches_an_uninterrupted_run(
    tiny_dataset, tmp_path
):
    cfg = fast_config("anchor", epochs=4, patience=10)
    full = train(
        tiny_dataset, "anchor", cfg, out_dir=tmp_path / "full", seed=3, progress=False, device="cpu"
    )
    out = tmp_path / "resumed"
    partial = train(
        tiny_dataset, "anchor", cfg, out_dir=out, seed=3, progress=False, device="cpu", stop_after=2
    )
    assert len(partial.log) == 2 and not out.exists()
    state = json.loads((resume_dir_for(out) / "state.json").read_text())
    assert state["epoch"] == 2
    seen = []
    resumed = train(
        tiny_dataset,
        "anchor",
        cfg,
        out_dir=out,
        seed=3,
        progress=False,
        device="cpu",
        resume=True,
        on_epoch=lambda r: seen.append(r["epoch"]),
    )
    assert seen == [3, 4]  # only the epochs not yet done
    assert [r["epoch"] for r in resumed.log] == [1, 2, 3, 4]
    np.testing.assert_allclose(_scores(resumed.model), _scores(full.model), rtol=0, atol=1e-6)
    assert resumed.metrics["test"] == pytest.approx(full.metrics["test"])
    assert not resume_dir_for(out).exists()  # removed once the model is written
    assert load_model(out, tiny_dataset).metrics["best_epoch"] == full.metrics["best_epoch"]


def test_resume_refuses_a_state_of_another_run(tiny_dataset, tmp_path):
    out = tmp_path / "m"
    train(
        tiny_dataset,
        "mf",
        fast_config("mf", epochs=3),
        out_dir=out,
        seed=0,
        progress=False,
        stop_after=1,
    )
    with pytest.raises(CheckpointError, match="seed"):
        train(
            tiny_dataset,
            "mf",
            fast_config("mf", epochs=3),
            out_dir=out,
            seed=1,
            progress=False,
            resume=True,
        )


def test_epoch_records_callback_and_log_file(tiny_dataset, tmp_path):
    records = []
    result = train(
        tiny_dataset,
        "lightgcn",
        fast_config("lightgcn", epochs=3),
        out_dir=tmp_path / "m",
        progress=True,
        on_epoch=records.append,
    )
    assert [r["epoch"] for r in records] == [1, 2, 3]
    first = records[0]
    assert {"epoch", "epochs", "lr", "loss", "valid", "seconds", "best_epoch"} <= set(first)
    assert {"bpr", "l2", "total"} <= set(first["loss"])
    assert "recall@20" in first["valid"] and "ndcg@20" in first["valid"]
    lines = (tmp_path / "m" / "train_log.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == result.log == records
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert metrics["best_epoch"] == max(records, key=lambda r: r["valid"]["recall@20"])["epoch"]
    assert {"valid", "test"} <= set(metrics)


def test_early_stopping_stops_after_patience_epochs_without_gain(tiny_dataset):
    result = train(
        tiny_dataset,
        "mf",
        fast_config("mf", epochs=40, patience=2, learning_rate=1e-6),
        progress=False,
    )
    assert result.metrics["stopped_early"]
    assert len(result.log) == result.best_epoch + 2


def test_learning_rate_schedule_is_the_released_one():
    cfg = fast_config("anchor", learning_rate=1e-3)
    assert learning_rate(cfg, 0) == pytest.approx(1e-3)
    assert learning_rate(cfg, 50) == pytest.approx(1e-3 * 0.96)
    assert learning_rate(cfg, 25) == pytest.approx(1e-3 * 0.96**0.5)


def test_sampler_covers_every_interaction_once_with_negatives_outside_train(tiny_dataset):
    sampler = BprSampler(tiny_dataset.train, seed=0)
    batches = list(sampler.epoch(0, 50))
    users = np.concatenate([b[0] for b in batches])
    pos = np.concatenate([b[1] for b in batches])
    neg = np.concatenate([b[2] for b in batches])
    assert len(users) == tiny_dataset.train.nnz
    train = tiny_dataset.train.toarray()
    assert (train[users, pos] == 1).all()
    assert (train[users, neg] == 0).all()
    assert len({(u, i) for u, i in zip(users, pos, strict=True)}) == tiny_dataset.train.nnz
    again = list(BprSampler(tiny_dataset.train, seed=0).epoch(0, 50))
    assert all(np.array_equal(x[2], y[2]) for x, y in zip(batches, again, strict=True))
    other = np.concatenate([b[2] for b in sampler.epoch(1, 50)])
    assert not np.array_equal(neg, other)


def test_train_refuses_to_overwrite_a_model_directory(tiny_dataset, tmp_path):
    out = tmp_path / "m"
    train(tiny_dataset, "popularity", out_dir=out, progress=False)
    with pytest.raises(CheckpointError, match="overwrite"):
        train(tiny_dataset, "popularity", out_dir=out, progress=False)
    train(tiny_dataset, "popularity", out_dir=out, progress=False, overwrite=True)


def test_adam_is_fused(tiny_dataset):
    from anchorrec.models import build_model
    from anchorrec.training.trainer import make_optimizer

    opt = make_optimizer(build_model("mf", tiny_dataset), fast_config("mf"))
    assert opt.defaults["fused"] is True
    assert torch.optim.Adam is type(opt)


def test_resume_with_fewer_epochs_keeps_the_best_epoch_so_far(tiny_dataset, tmp_path):
    out = tmp_path / "m"
    cfg = fast_config("mf", epochs=6)
    train(tiny_dataset, "mf", cfg, out_dir=out, seed=0, progress=False, stop_after=3)
    done = train(
        tiny_dataset,
        "mf",
        fast_config("mf", epochs=3),
        out_dir=out,
        seed=0,
        progress=False,
        resume=True,
    )
    assert len(done.log) == 3 and (out / "model.safetensors").exists()
    with pytest.raises(CheckpointError, match="learning_rate"):
        train(tiny_dataset, "mf", cfg, out_dir=tmp_path / "n", seed=0, progress=False, stop_after=1)
        train(
            tiny_dataset,
            "mf",
            fast_config("mf", epochs=6, learning_rate=0.5),
            out_dir=tmp_path / "n",
            seed=0,
            progress=False,
            resume=True,
        )
