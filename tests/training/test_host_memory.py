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
def test_a_freed_block_is_reused_inside() -> None:
    with reuse_freed_memory() as on:
        assert on
        inside = _faults_of_a_second_block()
    assert inside < PAGES // 10  # the pages of the first block served the second
    # Outside, glibc maps such a block afresh in a new process, but whether it does so after a
    # long test session depends on what the process allocated before (arenas, a raised mmap
    # threshold): that half is checked on the calls we make, below, not on page faults.


class _RecordingLibc:
    """Stands in for glibc: records the malloc settings the module asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1


def test_the_last_user_out_restores_glibcs_defaults_and_trims(monkeypatch) -> None:
    libc = _RecordingLibc()
    monkeypatch.setattr(host_memory, "_glibc", lambda: libc)
    keep = [
        ("mallopt", host_memory.M_MMAP_MAX, 0),
        ("mallopt", host_memory.M_TRIM_THRESHOLD, host_memory.KEEP_TRIM_THRESHOLD),
    ]
    restore = [
        ("mallopt", host_memory.M_MMAP_MAX, host_memory.DEFAULT_MMAP_MAX),
        ("mallopt", host_memory.M_TRIM_THRESHOLD, host_memory.DEFAULT_TRIM_THRESHOLD),
        ("malloc_trim", 0),
    ]
    with reuse_freed_memory():
        assert libc.calls == keep
        with reuse_freed_memory():
            pass
        assert host_memory._users == 1 and libc.calls == keep  # the inner one restored nothing
    assert host_memory._users == 0
    assert libc.calls == keep + restore


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
