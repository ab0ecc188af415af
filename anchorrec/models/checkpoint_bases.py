"""Whether a model being built takes its reduced-feature bases from the checkpoint it is
about to load (:func:`bases_from_checkpoint`) instead of computing them."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

#: Set while a model is rebuilt to load a checkpoint (:func:`bases_from_checkpoint`).
_BASES_FROM_CHECKPOINT = contextvars.ContextVar("bases_from_checkpoint", default=False)


@contextlib.contextmanager
def bases_from_checkpoint() -> Iterator[None]:
    """Models built inside take their reduced-feature bases from the checkpoint they are about
    to load (``load_state_dict``) instead of computing them.

    The basis of a table is a saved buffer: computing it again (a truncated SVD of each feature
    table) on every load was thrown away by ``load_state_dict``, and it was most of the time a
    fresh server's first page took (about 10 CPU-s per multimodal model on the sample). A
    checkpoint without the basis fails the strict load, as before.
    """
    token = _BASES_FROM_CHECKPOINT.set(True)
    try:
        yield
    finally:
        _BASES_FROM_CHECKPOINT.reset(token)


def bases_come_from_checkpoint() -> bool:
    """Whether models built now are inside :func:`bases_from_checkpoint`."""
    return _BASES_FROM_CHECKPOINT.get()
