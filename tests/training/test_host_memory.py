"""anchorrec.training.host_memory: freed blocks are reused while training on glibc, and only then."""

from __future__ import annotations

import resource

import pytest
import torch

from anchorrec.training import host_memory, train
from anchorrec.training.host_memory import reuse_freed_memory
from tests.models.conftest import fast_config, single_torch_thread  # noqa: F401

BLOCK_FLOATS = 16 * 1024 * 1024  #: 64 MiB, above glibc's largest mmap threshold (32 MiB)
PAGES = BLOCK_FLOATS * 4 // 4096

glibc = pytest.mark.skipif(host_memory._glibc() is None, reason="needs glibc's mallopt")


def _faults_of_a_second_block() -> int:
    """Fewest minor page faults of allocating, touching and freeing a 64 MiB block, over six
    tries after three others (glibc settles its heap over the first blocks; a training step
    repeats thousands)."""
    faults = []
    for i in range(9):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(BLOCK_FLOATS)  # allocated, touched and freed
        if i >= 3:
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return min(faults)


@glibc
def test_a_freed_block_is_reused_inside_and_mapped_afresh_outside() -> None:
    with reuse_freed_memory() as on:
        assert on
        inside = _faults_of_a_second_block()
    outside = _faults_of_a_second_block()
    assert inside < PAGES // 10  # the pages of the first block served the second
    assert outside > PAGES // 2  # glibc's default again: a fresh mapping, every page faulted


@glibc
def test_nested_uses_restore_the_defaults_only_when_the_last_one_leaves() -> None:
    with reuse_freed_memory():
        with reuse_freed_memory():
            pass
        assert host_memory._users == 1
        assert _faults_of_a_second_block() < PAGES // 10  # still in effect
    assert host_memory._users == 0
    assert _faults_of_a_second_block() > PAGES // 2


def test_disabled_or_without_glibc_it_changes_nothing(monkeypatch) -> None:
    with reuse_freed_memory(enabled=False) as on:
        assert on is False and host_memory._users == 0
    monkeypatch.setattr(host_memory, "_glibc", lambda: None)
    with reuse_freed_memory() as on:
        assert on is False and host_memory._users == 0


def test_an_error_inside_still_restores_the_defaults() -> None:
    with pytest.raises(RuntimeError, match="boom"), reuse_freed_memory():
        raise RuntimeError("boom")
    assert host_memory._users == 0


@pytest.mark.usefixtures("single_torch_thread")
def test_cpu_training_runs_inside_it(monkeypatch, tiny_dataset):

    seen = []
    real = host_memory.reuse_freed_memory

    def spy(enabled: bool = True):
        seen.append(enabled)
        return real(enabled)

    monkeypatch.setattr("anchorrec.training.trainer.reuse_freed_memory", spy)
    train(tiny_dataset, "lightgcn", fast_config("lightgcn", epochs=1), progress=False, device="cpu")
    assert seen == [True]
