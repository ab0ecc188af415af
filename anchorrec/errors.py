"""Errors a user can cause. Each message names the file, row or field and what to do."""

from __future__ import annotations

import re

#: Line breaks and other control characters, the Unicode line and paragraph separators and
#: the bidirectional overrides (which reorder what a terminal shows).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return {"\n": "\\n", "\r": "\\r"}.get(ch) or (
        f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    )


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with its control characters escaped (``\\n``, ``\\x1b``, ``\\u2028``), so that a
    file name holding a line break or a terminal escape cannot split or recolour a message.
    Tabs are kept; ``keep_newlines`` keeps the line breaks a multi-line message is made of."""
    if keep_newlines:
        return "\n".join(printable(line) for line in text.split("\n"))
    return _UNPRINTABLE.sub(_escape, text)


class AnchorRecError(Exception):
    """Base of every error caused by input the user controls (files, options, models).

    Its message is one line: control characters of the names and values it quotes are
    escaped (:func:`printable`); a subclass whose message is several lines sets
    ``multiline``.
    """

    multiline = False

    def __str__(self) -> str:
        return printable(super().__str__(), keep_newlines=self.multiline)


class DatasetError(AnchorRecError):
    """A dataset or catalogue is malformed: the message names the file, line or field and the fix."""


class CheckpointError(AnchorRecError):
    """A model directory is missing, truncated, edited, or trained on another dataset."""


class ConfigError(AnchorRecError):
    """An option or hyper-parameter is out of range (for example temperature 0)."""


class OutputError(AnchorRecError):
    """An output path cannot be written safely (a device, a folder, held by another run, full)."""
