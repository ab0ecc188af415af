"""Reading Cornac's ``UIR`` / ``UIRT`` interaction files.

Cornac's ``Reader.read(fpath, fmt="UIR", sep="\\t", skip_lines=0)`` reads one interaction per
line: ``user<sep>item<sep>rating`` (``UIR``) or ``user<sep>item<sep>rating<sep>timestamp``
(``UIRT``), no header. Here the format follows from the number of fields (3 or 4, the same
on every line), the separator from the first line (a tab, else ``::``, else a comma, else
spaces), and a first line whose rating is not a number is taken for a header and skipped.
Every listed interaction counts, whatever its rating (the rating is checked to be a number).
The split is MMRec's per-user rule, chronological for ``UIRT`` and seeded random for ``UIR``
(:mod:`anchorrec.data.foreign`), and stated in :attr:`Dataset.source`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from anchorrec.data.dataset import Dataset
from anchorrec.data.foreign import (
    Interactions,
    build_dataset,
    check_float_column,
    check_tokens,
    codes,
    drop_repeats,
    split_labels,
)
from anchorrec.data.validation import read_text_file
from anchorrec.errors import DatasetError

#: Suffixes taken for Cornac files when a directory is given.
CORNAC_SUFFIXES: tuple[str, ...] = (".uir", ".uirt", ".txt", ".tsv", ".csv", ".dat")
FORMATS = {3: "UIR", 4: "UIRT"}


def _separator(line: str) -> str:
    if "\t" in line:
        return "\t"
    if "::" in line:
        return "::"
    if "," in line:
        return ","
    return " "


def _split_line(line: str, sep: str) -> list[str]:
    return re.split(r" +", line.strip()) if sep == " " else line.split(sep)


def looks_like_cornac(line: str) -> bool:
    """Whether ``line`` reads as a UIR/UIRT data line: 3 or 4 fields, the rating a number."""
    if not line.strip():
        return False
    parts = _split_line(line.rstrip("\r\n"), _separator(line))
    if len(parts) not in FORMATS:
        return False
    try:
        float(parts[2])
    except ValueError:
        return False
    return True


def read_cornac_file(path: Path) -> tuple[Interactions, str, str]:
    """The interactions of a UIR/UIRT file, its format name and its separator's name."""
    text = read_text_file(path)
    lines = text.split("\n")
    body = [(n, ln.rstrip("\r")) for n, ln in enumerate(lines, start=1) if ln.strip()]
    if not body:
        raise DatasetError(
            f"{path}: the file is empty; Cornac's UIR format is one 'user<TAB>item<TAB>rating' "
            "line per interaction (UIRT adds a timestamp)."
        )
    sep = _separator(body[0][1])
    first = _split_line(body[0][1], sep)
    if len(first) not in FORMATS:
        raise DatasetError(
            f"{path}, line {body[0][0]}: {len(first)} field(s) separated by {sep!r}; Cornac's "
            "UIR lines have 3 (user, item, rating) and UIRT lines 4 (… timestamp)."
        )
    width = len(first)
    try:
        float(first[2])
    except ValueError:
        body = body[1:]  # a header line (Cornac's skip_lines=1)
    if not body:
        raise DatasetError(f"{path}: has a header but no interactions.")
    rows: list[list[str]] = []
    numbers: list[int] = []
    for n, line in body:
        parts = _split_line(line, sep)
        if len(parts) != width:
            raise DatasetError(
                f"{path}, line {n}: {len(parts)} field(s) separated by {sep!r}, but the file is "
                f"{FORMATS[width]} ({width} per line); fix or remove the line."
            )
        rows.append(parts)
        numbers.append(n)
    at = np.asarray(numbers, dtype=np.int64)
    matrix = np.asarray(rows, dtype=object).reshape(len(rows), width)
    users = check_tokens(path, matrix[:, 0], at, "user")
    items = check_tokens(path, matrix[:, 1], at, "item")
    check_float_column(path, matrix[:, 2], at, "rating")
    stamps = check_float_column(path, matrix[:, 3], at, "timestamp") if width == 4 else None
    name = {"\t": "tab", "::": "'::'", ",": "comma", " ": "space"}[sep]
    return Interactions(path, users, items, at, stamps), FORMATS[width], name


def find_cornac_file(directory: Path) -> Path:
    """The one UIR/UIRT file of ``directory``."""
    found = sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in CORNAC_SUFFIXES
    )
    if len(found) != 1:
        raise DatasetError(
            f"{directory}: {'no' if not found else 'several'} interaction file(s) "
            f"({', '.join(CORNAC_SUFFIXES)}); give the path of the UIR/UIRT file itself."
        )
    return found[0]


def load_cornac(path: str | Path, *, split: str = "mmrec", seed: int | None = None) -> Dataset:
    """Load a Cornac UIR/UIRT file as a :class:`Dataset` (ids in order of first appearance,
    the original ids kept as ``original_item_id`` / ``original_user_id``)."""
    path = Path(path)
    if path.is_dir():
        path = find_cornac_file(path)
    inter, fmt, sep = read_cornac_file(path)
    users, user_tokens = codes(inter.users)
    items, item_tokens = codes(inter.items)
    warnings: list[str] = []
    keep, note = drop_repeats(inter, users, items, len(item_tokens))
    if note:
        warnings.append(note)
    users, items = users[keep], items[keep]
    stamps = inter.timestamps[keep] if inter.timestamps is not None else None
    labels, how = split_labels(users, split, seed, stamps, path)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._-") or "cornac"
    return build_dataset(
        name=stem,
        path=path,
        users=users,
        items=items,
        labels=labels,
        user_tokens=user_tokens,
        item_tokens=item_tokens,
        source=f"Cornac {fmt} file {path.name} ({sep}-separated); split: {how}",
        warnings=warnings,
    )
