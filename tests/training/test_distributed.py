"""Data-parallel training: 2 gloo processes launched by torchrun on a tiny dataset.

One torchrun run is shared by the tests of its variant (module-scoped fixture), so the module
costs one launch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from anchorrec.data.mmrec import load_mmrec, save_mmrec
from anchorrec.evaluation.metrics import evaluate
from anchorrec.models.base import Embeddings
from anchorrec.models.checkpoint import load_model, read_train_log
from anchorrec.training.distributed import shard_triples
from anchorrec.training.sampler import BprSampler
from tests.conftest import PROJECT_ROOT, make_tiny_dataset

WORLD_SIZE = 2
EPOCHS = 12


def _torchrun(data_dir: Path, out_dir: Path, variant: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(PROJECT_ROOT))
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={WORLD_SIZE}",
        "-m", "anchorrec.cli.distributed", str(data_dir),
        "--variant", variant, "--out", str(out_dir), "--device", "cpu",
        "--epochs", str(EPOCHS), "--batch-size", "64", "--lr", "0.01", "--quiet",
    ]  # fmt: skip
    return subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_mmrec(make_tiny_dataset(), tmp_path_factory.mktemp("data") / "tiny")


# anchor: the model the project is about, and the richest DDP case (feature buffers, projection
# heads); lightgcn and mf share its code path, and the unused-parameter case (none) is covered
# in-process below
@pytest.fixture(scope="module", params=["anchor"])
def run(request: pytest.FixtureRequest, tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp(request.param) / "model"
    proc = _torchrun(tiny_dir, out, request.param)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return request.param, out, proc


def _random_recall(dataset, k: int = 10, draws: int = 20) -> float:
    gen = torch.Generator().manual_seed(0)
    values = []
    for _ in range(draws):
        users = torch.randn(dataset.n_users, 8, generator=gen)
        items = torch.randn(dataset.n_items, 8, generator=gen)
        values.append(evaluate(Embeddings(users, items), dataset, "test")[f"recall@{k}"])
    return float(np.mean(values))


def test_ranks_agree_on_the_final_weights(run) -> None:
    _, out, _ = run
    info = json.loads((out / "config.json").read_text())["distributed"]
    assert info["world_size"] == WORLD_SIZE and info["backend"] == "gloo"
    digests = info["final_weights_sha256_per_rank"]
    assert len(digests) == WORLD_SIZE and len(set(digests)) == 1


def test_model_loads_and_beats_random(run, tiny_dir: Path) -> None:
    variant, out, _ = run
    loaded = load_model(out)  # dataset resolved from the path recorded in config.json
    assert loaded.variant == variant
    metrics = evaluate(loaded.model, loaded.dataset, "test")
    assert metrics["recall@10"] == pytest.approx(loaded.metrics["test"]["recall@10"], abs=1e-6)
    assert metrics["recall@10"] > _random_recall(load_mmrec(tiny_dir)) + 0.1


def test_loss_decreases(run) -> None:
    _, out, _ = run
    log = read_train_log(out)
    assert len(log) == EPOCHS
    losses = [r["loss"]["total"] for r in log]
    assert losses[-1] < 0.9 * losses[0]
    # each rank ran its share of the epoch: ceil((n_train // 2) / 64) steps
    assert all(r["world_size"] == WORLD_SIZE for r in log)


def test_shards_are_disjoint_and_cover_the_epoch() -> None:
    ds = make_tiny_dataset()
    sampler = BprSampler(ds.train, seed=3)
    shards = [shard_triples(sampler, 1, r, 3) for r in range(3)]
    keys = np.concatenate([u * ds.n_items + p for u, p, _ in shards])
    assert len(np.unique(keys)) == len(keys)  # disjoint
    assert len(keys) == len(sampler) - len(sampler) % 3  # all but fewer than world_size
    assert set(keys) <= set(sampler.users * ds.n_items + sampler.items)
    u2, p2, n2 = shard_triples(sampler, 1, 1, 3)  # seeded: same shard when asked again
    assert np.array_equal(u2, shards[1][0]) and np.array_equal(n2, shards[1][2])
    assert not np.array_equal(shard_triples(sampler, 2, 1, 3)[0], u2)  # new epoch, new order


def test_parameters_the_loss_leaves_unused_are_found_for_ddp() -> None:
    from anchorrec.models.registry import build_model
    from anchorrec.training.distributed import unused_parameters

    ds = make_tiny_dataset()
    sampler = BprSampler(ds.train, seed=0)
    dev = torch.device("cpu")
    none = unused_parameters(build_model("none", ds, seed=0), sampler, dev)
    # `none` has no AAL: P_id, P_v and P_t get no gradient (P_mm still feeds the recover branch)
    assert {n.split(".")[0] for n in none} == {"proj_id", "proj_image", "proj_text"}
    assert unused_parameters(build_model("anchor", ds, seed=0), sampler, dev) == []
    model = build_model("lightgcn", ds, seed=0)
    assert unused_parameters(model, sampler, dev) == []
    assert all(p.grad is None for p in model.parameters())  # the probe leaves no gradient behind
