"""Small products in one BLAS thread.

A product of one user's vector with every item (23,033 × 64 at Amazon Clothing's size) is a
millisecond of work. Split over the BLAS thread pool it costs more in waking and joining the
threads than in arithmetic, and on a busy machine far more: measured at 37 ms with the default
pool against 1.9 ms in one thread, at a load average of 14 on 2 cores. The per-user paths of
the attribution (explain a top-k, attribute one user's items) therefore run in one thread.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None
#: ``len(sys.modules)`` when the libraries were looked up: a BLAS library is only loaded by
#: importing an extension module, so a longer list means a new lookup is due.
_LOOKED_UP_AT = -1


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with the BLAS pool limited to one thread (restored afterwards). The
    libraries are looked up again only after new modules were imported (a BLAS loaded since,
    faiss's say, is then limited too): a fresh lookup per call costs milliseconds."""
    global _CONTROLLER, _LOOKED_UP_AT
    if _CONTROLLER is None or len(sys.modules) != _LOOKED_UP_AT:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
        _LOOKED_UP_AT = len(sys.modules)
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield
