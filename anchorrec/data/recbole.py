"""Reading RecBole's atomic files.

A RecBole dataset is a directory ``<name>/`` holding ``<name>.inter`` and optionally
``<name>.item`` and ``<name>.user``: tab-separated text whose header types every field as
``name:type`` with type ``token``, ``token_seq``, ``float`` or ``float_seq``, e.g.
``user_id:token  item_id:token  rating:float  timestamp:float``. The interactions need
``user_id`` and ``item_id`` (RecBole's default field names); ``timestamp`` is used by the
temporal split; every other field is checked for its type and otherwise ignored (as
RecBole's general recommenders ignore ratings unless a threshold is set: every listed
interaction counts). ``.item`` / ``.user`` columns become ``items.csv`` / ``users.csv``
attributes (names without the type). A directory with ``<name>.train.inter``,
``<name>.valid.inter`` and ``<name>.test.inter`` (RecBole's ``benchmark_filename``) keeps
that split; otherwise the interactions are split as :mod:`anchorrec.data.foreign` says.

Every message names the file, the line and the field, and what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.data.dataset import TEST, TRAIN, VALID, Dataset
from anchorrec.data.foreign import (
    Interactions,
    build_dataset,
    check_float_column,
    check_tokens,
    codes,
    drop_repeats,
    split_labels,
)
from anchorrec.data.validation import check_dataset_name, quote, read_text_file
from anchorrec.errors import DatasetError

ATOMIC_TYPES: tuple[str, ...] = ("token", "token_seq", "float", "float_seq")
USER_FIELD, ITEM_FIELD, TIME_FIELD = "user_id", "item_id", "timestamp"
#: RecBole's ``benchmark_filename`` suffixes, in split order.
BENCHMARK_PARTS: tuple[str, ...] = ("train", "valid", "test")


@dataclass(frozen=True)
class AtomicTable:
    """One atomic file: field → type, field → values (text), and each row's line number."""

    path: Path
    types: dict[str, str]
    columns: dict[str, np.ndarray]
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.lines)


def is_atomic_header(line: str) -> bool:
    """Whether ``line`` is meant as a RecBole header: a field typed ``name:type`` and no
    MMRec column (a wrong type is then reported by :func:`read_atomic_file`)."""
    fields = [f.strip() for f in line.rstrip("\r\n").lstrip("\ufeff").split("\t")]
    return any(":" in f for f in fields) and "userID" not in fields


def _parse_header(path: Path, header: str) -> dict[str, str]:
    types: dict[str, str] = {}
    for field in header.split("\t"):
        name, sep, kind = field.strip().rpartition(":")
        if not sep or not name:
            raise DatasetError(
                f"{path}, line 1 (header), field {quote(field)}: has no ':type'; a RecBole header "
                "names every field as name:type (e.g. user_id:token item_id:token "
                "timestamp:float)."
            )
        if kind not in ATOMIC_TYPES:
            raise DatasetError(
                f"{path}, line 1 (header), field {name}: type {kind!r} is not a RecBole type "
                f"({', '.join(ATOMIC_TYPES)})."
            )
        if name in types:
            raise DatasetError(f"{path}, line 1 (header), field {name}: is named twice.")
        types[name] = kind
    return types


def read_atomic_file(path: Path, required: tuple[str, ...] = ()) -> AtomicTable:
    """Read one atomic file; its header must type every field and name ``required``."""
    text = read_text_file(path)
    if not text.strip():
        raise DatasetError(
            f"{path}: the file is empty; it needs a header line (e.g. user_id:token<TAB>"
            "item_id:token) and one line per record."
        )
    raw_lines = text.split("\n")
    types = _parse_header(path, raw_lines[0].rstrip("\r"))
    missing = [f for f in required if f not in types]
    if missing:
        raise DatasetError(
            f"{path}, line 1 (header): missing field(s) {', '.join(missing)}; found "
            f"{quote(list(types))}. RecBole's general recommenders need "
            f"{' and '.join(f + ':token' for f in required)}."
        )
    width = len(types)
    rows: list[list[str]] = []
    numbers: list[int] = []
    for n, line in enumerate(raw_lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue  # blank lines are skipped, as RecBole's reader does
        parts = line.split("\t")
        if len(parts) != width:
            last = n == len(raw_lines) and not text.endswith("\n")
            fix = (
                "the file looks truncated (it ends mid-line); re-export it."
                if last
                else "every line needs one tab-separated value per header field."
            )
            raise DatasetError(
                f"{path}, line {n}: {len(parts)} tab-separated field(s), but the header names "
                f"{width} ({', '.join(types)}); {fix}"
            )
        rows.append(parts)
        numbers.append(n)
    lines = np.asarray(numbers, dtype=np.int64)
    matrix = np.asarray(rows, dtype=object).reshape(len(rows), width)
    columns = {name: matrix[:, j] for j, name in enumerate(types)}
    for name, kind in types.items():
        if kind == "float":
            check_float_column(path, columns[name], lines, name)
    return AtomicTable(path, types, columns, lines)


def interactions_of(table: AtomicTable) -> Interactions:
    """The interactions of an atomic ``.inter`` table (tokens, timestamps when typed float)."""
    users = check_tokens(table.path, table.columns[USER_FIELD], table.lines, USER_FIELD)
    items = check_tokens(table.path, table.columns[ITEM_FIELD], table.lines, ITEM_FIELD)
    stamps = None
    if TIME_FIELD in table.types:
        if table.types[TIME_FIELD] != "float":
            raise DatasetError(
                f"{table.path}, line 1 (header), field {TIME_FIELD}: is typed "
                f"{table.types[TIME_FIELD]}; a timestamp is timestamp:float."
            )
        stamps = check_float_column(table.path, table.columns[TIME_FIELD], table.lines, TIME_FIELD)
    return Interactions(table.path, users, items, table.lines, stamps)


def atomic_files(directory: Path, name: str | None = None) -> dict[str, Path]:
    """The atomic files of a RecBole directory: ``inter`` (or ``train``/``valid``/``test``),
    and ``item``/``user`` when present."""
    if not directory.is_dir():
        raise DatasetError(f"{directory}: not a directory; give the RecBole dataset directory.")
    entries = sorted(os.listdir(directory))
    if name is None:
        stems = {e.removesuffix(".inter").split(".")[0] for e in entries if e.endswith(".inter")}
        if len(stems) != 1:
            raise DatasetError(
                f"{directory}: {'no' if not stems else 'several'} <name>.inter file(s)"
                f"{'' if not stems else ' (' + ', '.join(sorted(stems)) + ')'}; a RecBole "
                "dataset directory holds <name>.inter (choose one with --name)."
            )
        name = stems.pop()
    check_dataset_name(name, "--name")
    found: dict[str, Path] = {}
    parts = [directory / f"{name}.{p}.inter" for p in BENCHMARK_PARTS]
    if all(p.is_file() for p in parts):
        found.update(zip(BENCHMARK_PARTS, parts, strict=True))
    elif (directory / f"{name}.inter").is_file():
        found["inter"] = directory / f"{name}.inter"
    else:
        raise DatasetError(
            f"{directory}: no {name}.inter (nor {name}.train/.valid/.test.inter); a RecBole "
            "dataset directory needs its interactions."
        )
    for kind in ("item", "user"):
        if (directory / f"{name}.{kind}").is_file():
            found[kind] = directory / f"{name}.{kind}"
    return found


def _metadata(
    path: Path, id_field: str, tokens: np.ndarray, warnings: list[str], what: str
) -> pd.DataFrame:
    """The ``.item``/``.user`` rows of ``tokens`` in id order (names without their type);
    ids it lacks get empty values (warned), rows for ids without interactions are dropped."""
    table = read_atomic_file(path, (id_field,))
    ids = check_tokens(path, table.columns[id_field], table.lines, id_field)
    frame = pd.DataFrame({k: v for k, v in table.columns.items() if k != id_field})
    repeated = pd.Series(ids).duplicated().to_numpy()
    if repeated.any():
        r = int(np.flatnonzero(repeated)[0])
        raise DatasetError(
            f"{path}, line {int(table.lines[r])}, field {id_field}: {ids[r]!r} appears more "
            f"than once; each {what} needs one line."
        )
    frame.index = pd.Index(ids, dtype=object)
    known = frame.index.isin(tokens)
    if (~known).any():
        warnings.append(
            f"{path.name}: {int((~known).sum())} {what}(s) have no interaction and were left "
            "out (a model can only rank what it has seen)."
        )
    out = frame.reindex(pd.Index(tokens, dtype=object), fill_value="").reset_index(drop=True)
    absent = ~pd.Index(tokens, dtype=object).isin(frame.index)
    if absent.any():
        warnings.append(
            f"{path.name}: {int(absent.sum())} {what}(s) of the interactions have no line "
            f"(first: {tokens[np.flatnonzero(absent)[0]]!r}); their attributes are empty."
        )
    if what == "item" and "title" not in out.columns:
        titled = [c for c in out.columns if c.endswith("title") or c in ("name", "item_name")]
        if titled:
            out["title"] = out[titled[0]]
    return out


def load_recbole(
    path: str | Path,
    *,
    name: str | None = None,
    split: str = "recbole",
    seed: int | None = None,
) -> Dataset:
    """Load a RecBole atomic dataset directory (or its ``.inter`` file) as a :class:`Dataset`.

    ``split`` is ``recbole`` (RecBole's default: per user, random order, 80/10/10),
    ``recbole-temporal`` or ``mmrec`` (:mod:`anchorrec.data.foreign`); split files, when the
    directory has them, are used as they are. :attr:`Dataset.source` states which.
    """
    path = Path(path)
    if path.is_file() and path.suffix == ".inter":
        path, name = path.parent, path.name.removesuffix(".inter").split(".")[0]
    files = atomic_files(path, name)
    name = files[next(iter(files))].name.split(".")[0]
    warnings: list[str] = []
    if "inter" in files:
        inter = interactions_of(read_atomic_file(files["inter"], (USER_FIELD, ITEM_FIELD)))
        if len(inter.users) == 0:
            raise DatasetError(f"{files['inter']}: has a header but no interactions.")
        users, user_tokens = codes(inter.users)
        items, item_tokens = codes(inter.items)
        keep, note = drop_repeats(inter, users, items, len(item_tokens))
        if note:
            warnings.append(note)
        users, items = users[keep], items[keep]
        stamps = inter.timestamps[keep] if inter.timestamps is not None else None
        labels, how = split_labels(users, split, seed, stamps, files["inter"])
        source = f"RecBole atomic files ({', '.join(p.name for p in files.values())}); split: {how}"
    else:
        parts = [
            interactions_of(read_atomic_file(files[p], (USER_FIELD, ITEM_FIELD)))
            for p in BENCHMARK_PARTS
        ]
        all_users = np.concatenate([p.users for p in parts])
        all_items = np.concatenate([p.items for p in parts])
        users, user_tokens = codes(all_users)
        items, item_tokens = codes(all_items)
        labels = np.concatenate(
            [
                np.full(len(p.users), lab, np.int8)
                for p, lab in zip(parts, (TRAIN, VALID, TEST), strict=True)
            ]
        )
        joined = Interactions(
            files["train"], all_users, all_items, np.concatenate([p.lines for p in parts])
        )
        keep, note = drop_repeats(joined, users, items, len(item_tokens))
        if note:
            warnings.append(note.replace(files["train"].name, "the split files"))
        users, items, labels = users[keep], items[keep], labels[keep]
        source = (
            f"RecBole atomic files ({', '.join(p.name for p in files.values())}); split: the "
            "given train/valid/test files"
        )
    item_frame = (
        _metadata(files["item"], ITEM_FIELD, item_tokens, warnings, "item")
        if "item" in files
        else None
    )
    user_frame = (
        _metadata(files["user"], USER_FIELD, user_tokens, warnings, "user")
        if "user" in files
        else None
    )
    return build_dataset(
        name=name,
        path=path,
        users=users,
        items=items,
        labels=labels,
        user_tokens=user_tokens,
        item_tokens=item_tokens,
        source=source,
        warnings=warnings,
        items_frame=item_frame,
        users_frame=user_frame,
    )
