"""One entry point for every dataset format: MMRec directories, RecBole atomic files, Cornac
UIR/UIRT files; and ``convert``, which writes any of them as an MMRec directory.

:func:`detect_format` tells them apart without reading more than a header line: a directory
whose ``.inter`` header types its fields (``user_id:token``) is RecBole's, one with
``userID itemID x_label`` is MMRec's; any other file (or a directory holding one
``.uir``/``.uirt``/``.txt``/``.tsv``/``.csv`` file) is read as Cornac's. :func:`load_dataset`
loads any of them; every command that takes a dataset reads it through here, so the same
checks and per-line messages apply to all.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from anchorrec.data.dataset import Dataset
from anchorrec.data.foreign import Interactions
from anchorrec.data.mmrec import INTER_SUFFIX, DuplicatePolicy, load_mmrec, write_mmrec_files
from anchorrec.data.recbole import is_atomic_header
from anchorrec.data.shop_ids import ITEM_MAP_FILE, USER_MAP_FILE
from anchorrec.data.validation import open_regular
from anchorrec.errors import DatasetError
from anchorrec.fileio import atomic_dir, check_output_dir, csv_bytes

Format = Literal["mmrec", "recbole", "cornac"]
FORMATS: tuple[str, ...] = ("auto", "mmrec", "recbole", "cornac")
#: ``--split`` of convert: auto is each format's default (RecBole's random order for
#: RecBole, MMRec's rule for Cornac; the split files or x_label when the data has them).
CONVERT_SPLITS: tuple[str, ...] = ("auto", "recbole", "recbole-temporal", "mmrec")


def _first_line(path: Path) -> str:
    """The first line of ``path`` if it is a regular file ('' otherwise: a FIFO is never
    opened for a blocking read; the loader then says what the path is)."""
    try:
        fd = open_regular(path)
    except (DatasetError, OSError):
        return ""
    try:
        with os.fdopen(fd, "rb") as fh:
            return fh.readline(65536).decode("utf-8-sig", errors="replace")
    except OSError:
        return ""


def detect_format(path: str | Path) -> Format:
    """``mmrec``, ``recbole`` or ``cornac`` for a dataset path (a directory or a file)."""
    path = Path(path)
    if path.is_dir():
        try:
            inter = sorted(n for n in os.listdir(path) if n.endswith(INTER_SUFFIX))
        except OSError:
            return "mmrec"  # load_mmrec says why the folder cannot be read
        if inter:
            return "recbole" if is_atomic_header(_first_line(path / inter[0])) else "mmrec"
        from anchorrec.data.cornac import CORNAC_SUFFIXES

        has_cornac = any(
            p.suffix.lower() in CORNAC_SUFFIXES and p.is_file() and p.name != "items.csv"
            for p in path.iterdir()
        )
        return "cornac" if has_cornac else "mmrec"
    if path.suffix == INTER_SUFFIX or not path.exists():
        return "recbole" if is_atomic_header(_first_line(path)) else "mmrec"
    return "cornac"


def read_foreign_interactions(path: str | Path) -> Interactions | None:
    """The interactions of a RecBole ``.inter`` file or a Cornac UIR/UIRT file given to
    ``import-catalog --interactions`` (tokens are the catalogue's item ids); None for the
    catalogue's own CSV (a header line). A Cornac file is a ``.uir``/``.uirt`` file or one
    whose first line is data: 3 or 4 fields, the third a number."""
    path = Path(path)
    first = _first_line(path).strip()
    if is_atomic_header(first):
        from anchorrec.data.recbole import ITEM_FIELD, USER_FIELD, interactions_of, read_atomic_file

        return interactions_of(read_atomic_file(path, (USER_FIELD, ITEM_FIELD)))
    from anchorrec.data.cornac import looks_like_cornac, read_cornac_file

    if path.suffix.lower() in (".uir", ".uirt") or looks_like_cornac(first):
        return read_cornac_file(path)[0]
    return None  # a CSV with a header: the catalogue reader names what it lacks


def load_dataset(
    path: str | Path,
    *,
    name: str | None = None,
    on_duplicate: DuplicatePolicy = "warn",
    fmt: str = "auto",
    split: str = "auto",
    seed: int | None = None,
) -> Dataset:
    """Load a dataset in any supported format (:func:`detect_format` when ``fmt`` is auto).

    ``split`` and ``seed`` apply to the formats that are split here (RecBole without split
    files, Cornac); ``auto`` is the format's default. An MMRec directory keeps its x_label.
    """
    if fmt not in FORMATS:
        raise DatasetError(f"format {fmt!r} is unknown; use one of {', '.join(FORMATS)}.")
    kind = detect_format(path) if fmt == "auto" else fmt
    if kind == "mmrec":
        if split not in ("auto", "mmrec") or seed is not None:
            raise DatasetError(
                f"{path}: an MMRec directory is already split (its x_label column); --split "
                "and --seed apply to RecBole and Cornac data."
            )
        return load_mmrec(path, name=name, on_duplicate=on_duplicate)
    if kind == "recbole":
        from anchorrec.data.recbole import load_recbole

        ds = load_recbole(path, name=name, split="recbole" if split == "auto" else split, seed=seed)
    else:
        from anchorrec.data.cornac import load_cornac

        ds = load_cornac(path, split="mmrec" if split == "auto" else split, seed=seed)
    if on_duplicate == "error":
        repeated = [w for w in ds.warnings if "repeated (user, item)" in w]
        if repeated:
            raise DatasetError(repeated[0].split("; each pair")[0] + "; remove the repeated lines.")
    return ds


def convert_dataset(
    source: str | Path,
    out_dir: str | Path,
    *,
    fmt: str = "auto",
    split: str = "auto",
    seed: int | None = None,
    name: str | None = None,
    overwrite: bool = False,
) -> Dataset:
    """Write the dataset at ``source`` (any format) as a complete MMRec directory, atomically:
    the ``.inter`` file with its split, ``items.csv`` / ``users.csv`` with the original ids and
    attributes, ``item_id_map.csv`` / ``user_id_map.csv``, and any feature ``.npy`` the source
    has. Returns the written dataset read back; its fingerprint equals the source's."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise DatasetError(f"{out_dir}: already exists; choose another output or pass --overwrite.")
    check_output_dir(out_dir, overwrite=overwrite)
    ds = load_dataset(source, fmt=fmt, split=split, seed=seed)
    if name is not None:
        ds = dataclasses.replace(ds, name=name)
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        write_mmrec_files(ds, tmp)
        for frame, file, col in (
            (ds.items, ITEM_MAP_FILE, "item"),
            (ds.users, USER_MAP_FILE, "user"),
        ):
            original = f"original_{col}_id"
            if frame is not None and original in frame.columns:
                ids = pd.DataFrame(
                    {"original_id": frame[original].to_numpy(), f"{col}_id": np.arange(len(frame))}
                )
                (tmp / file).write_bytes(csv_bytes(ids))
        written = load_mmrec(tmp, name=ds.name)
        if written.fingerprint != ds.fingerprint:
            raise RuntimeError("the converted dataset does not read back identically")
    return dataclasses.replace(
        written, path=out_dir, source=f"converted from {ds.source}", warnings=ds.warnings
    )
