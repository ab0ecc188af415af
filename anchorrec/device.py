"""Choosing the torch device: ``auto`` means CUDA when present, else CPU."""

from __future__ import annotations

import torch

from anchorrec.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Return the device for ``name`` ("auto", "cpu", "cuda", "cuda:1", ...)."""
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
