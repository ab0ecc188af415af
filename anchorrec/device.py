"""Choosing the torch device: ``auto`` means CUDA when present, else CPU."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from anchorrec.errors import ConfigError

if TYPE_CHECKING:  # torch is imported on first use, so data-only callers never load it
    import torch


def resolve_device(name: str = "auto") -> torch.device:
    """Return the device for ``name`` ("auto", "cpu", "cuda", "cuda:1", ...)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"--device {name}: no CUDA device is available here; use --device cpu or auto."
        )
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ConfigError(
            f"--device {name!r} is not a device name; use auto, cpu or cuda."
        ) from exc


def no_grad(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``torch.no_grad()`` around ``fn``, with torch imported when ``fn`` runs rather than when
    its module is imported (a page that only reads stored tables never loads torch)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        import torch

        with torch.no_grad():
            return fn(*args, **kwargs)

    return run
