"""Reuse of freed host memory while training on the CPU (glibc only; elsewhere a no-op).

A CPU training step allocates and frees the same large tensors every step: on Amazon Baby
with the paper's 4096-d image features, the gradients of the feature tables and of the
products that read them are 115 MB each. glibc serves every allocation above its mmap
threshold (32 MiB at most) with a fresh ``mmap`` and returns it with ``munmap`` when freed,
so each step page-faults and zeroes all those pages again: about 92,000 page faults and a
fifth of a ``paper`` step's CPU time (see docs/benchmarks.md, "Against the released code").

:func:`reuse_freed_memory` tells glibc, while training, to serve large blocks from its heap
and to keep freed memory there (``M_MMAP_MAX`` 0, a high ``M_TRIM_THRESHOLD``), so the next
step reuses the same pages; nothing computed changes. On exit it restores glibc's default
limits and hands the unused memory back to the system (``malloc_trim``). The settings are
process-wide; nested or concurrent uses are counted and the last one out restores them.
"""

from __future__ import annotations

import ctypes
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: glibc's defaults, restored on exit
DEFAULT_TRIM_THRESHOLD = 128 * 1024
DEFAULT_MMAP_MAX = 65536
#: while training: never trim the heap below this much free memory at its top (mallopt's
#: value is a C int)
KEEP_TRIM_THRESHOLD = 2**31 - 1

_lock = threading.Lock()
_users = 0


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (whose mallopt this module speaks), else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):
        return None


@contextmanager
def reuse_freed_memory(enabled: bool = True) -> Iterator[bool]:
    """Keep freed memory for reuse inside the block; yields whether that is in effect."""
    libc = _glibc() if enabled else None
    if libc is None:
        yield False
        return
    global _users
    with _lock:
        if _users == 0:
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP_TRIM_THRESHOLD)
        _users += 1
    try:
        yield True
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)
