"""The one strict parser of the whole numbers a data file holds (ids, labels).

Python's ``int()`` — and NumPy's ``astype(int64)``, which calls it — accepts more than a data
file should hold: ``0_1`` (read as 1), digits of other scripts (``١``), and any Unicode space
around the number (a no-break space, an em space, a trailing U+2028 line separator). Each of
those would be taken silently, so two different files would read as the same dataset. Here a
number is ASCII digits with an optional sign, and only ASCII spaces or tabs around it; every
other value is reported with its row and why, for the caller to name the file, line and field.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Characters a well-formed column of numbers may hold (ASCII digits, signs, spaces, tabs).
_ALLOWED = b"0123456789+- \t"


@dataclass
class BadNumber(ValueError):
    """Row ``row`` (0-based) of the column is not a plain whole number; ``what`` says why."""

    row: int
    value: str
    what: str
    #: "empty", "too large" (digits only, but too many of them) or "not a number".
    kind: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.what}"


def describe_char(ch: str) -> str:
    """A character named for a message: ``U+2028 LINE SEPARATOR``."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"


def _why(value: str, signed: bool) -> str:
    odd = [ch for ch in value if not (ch.isascii() and (ch.isdigit() or ch in "+- \t"))]
    if odd:
        ch = odd[0]
        if ch == "_":
            return "holds '_' (a digit separator Python accepts, but not an id)"
        if ch.isdigit() or unicodedata.category(ch) == "Nd":
            return f"holds the non-ASCII digit {describe_char(ch)}"
        if ch.isspace() or unicodedata.category(ch)[0] in "CZ":
            return f"holds {describe_char(ch)}, which is not an ASCII space"
        return "is not an integer"
    if not signed and value.strip().startswith("-"):
        return "is negative"
    return "is not an integer"


def parse_whole_numbers(raw: pd.Series, *, signed: bool, max_digits: int) -> np.ndarray:
    """The values of the string column ``raw`` as int64, or :class:`BadNumber` for the first
    value that is not ASCII digits (with an optional sign) between optional ASCII spaces."""
    import numpy as np

    values = raw.to_numpy(dtype=object)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    try:  # one C-speed pass: is every character an ASCII digit, sign, space or tab?
        rest = "\t".join(values).encode("ascii").translate(None, _ALLOWED)
    except UnicodeEncodeError:
        rest = b"x"
    if not rest:
        try:  # the fast path
            out = values.astype(np.int64)
        except (ValueError, OverflowError):
            pass
        else:
            if int(np.abs(out).max()) < 10**max_digits:
                return out
    sign = "[+-]?" if signed else r"\+?"
    text = raw.str.strip(" \t")
    digits = text.str.fullmatch(sign + "[0-9]+").to_numpy(dtype=bool)
    too_long = text.str.lstrip("+-").str.len().to_numpy() > max_digits
    bad = ~digits | too_long
    r = int(np.flatnonzero(bad)[0])
    value = str(values[r])
    if value.strip(" \t") == "":
        raise BadNumber(r, value, "is empty", "empty")
    if digits[r]:
        n = len(value.strip(" \t").lstrip("+-"))
        raise BadNumber(r, value, f"is {value[:40]!r}, far too large ({n} digits)", "too large")
    raise BadNumber(r, value, f"is {value[:40]!r}, {_why(value, signed)}", "not a number")


def whole_number(text: str, max_digits: int = 15, *, signed: bool = False) -> int:
    """``text`` as an int when it is 1 to ``max_digits`` ASCII digits (after a ``-`` when
    ``signed``) and nothing else — no space, no ``_``, no other script's digits; else
    ``ValueError`` (for ids typed in a link or on a command line)."""
    digits = text[1:] if signed and isinstance(text, str) and text.startswith("-") else text
    if not (isinstance(digits, str) and 0 < len(digits) <= max_digits and digits.isascii()):
        raise ValueError(f"{text!r} is not a whole number of at most {max_digits} digits")
    if not digits.isdigit():
        raise ValueError(f"{text!r} is not a whole number of at most {max_digits} digits")
    return int(text)
