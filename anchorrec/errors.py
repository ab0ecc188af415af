"""Errors a user can cause. Each message names the file, row or field and what to do."""

from __future__ import annotations


class AnchorRecError(Exception):
    """Base of every error caused by input the user controls (files, options, models)."""


class DatasetError(AnchorRecError):
    """A dataset or catalogue is malformed: the message names the file, line or field and the fix."""


class CheckpointError(AnchorRecError):
    """A model directory is missing, truncated, edited, or trained on another dataset."""


class ConfigError(AnchorRecError):
    """An option or hyper-parameter is out of range (for example temperature 0)."""


class OutputError(AnchorRecError):
    """An output path cannot be written safely (a device, a folder, held by another run, full)."""
