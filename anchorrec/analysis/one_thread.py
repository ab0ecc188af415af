"""Small products in one BLAS thread.

A product of one user's vector with every item (23,033 × 64 at Amazon Clothing's size) is a
millisecond of work. Split over the BLAS thread pool it costs more in waking and joining the
threads than in arithmetic, and on a busy machine far more: measured at 37 ms with the default
pool against 1.9 ms in one thread, at a load average of 14 on 2 cores. The per-user paths of
the attribution (explain a top-k, attribute one user's items) therefore run in one thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_CONTROLLER = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with the BLAS pool limited to one thread (restored afterwards). The
    libraries are looked up once per process: a fresh lookup per call costs milliseconds."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield
