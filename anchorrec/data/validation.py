"""Checks on the files of a dataset or catalogue; every failure is a :class:`DatasetError`.

Each message names the file, the line, row or field, and what to do about it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.errors import DatasetError

#: The longest text a single CSV field may hold (characters). Product descriptions are a
#: few thousand characters; anything beyond this is a broken export, not a description.
MAX_FIELD_CHARS = 100_000
#: The largest text file the loaders read at once (bytes).
MAX_TEXT_FILE_BYTES = 2 * 1024**3
NPY_MAGIC = b"\x93NUMPY"


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file; a binary file or another encoding is a :class:`DatasetError`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: not found.") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a directory, not a file.") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}).") from None
    if len(data) > MAX_TEXT_FILE_BYTES:
        raise DatasetError(f"{path}: {len(data)} bytes is too large for a text file.")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DatasetError(
            f"{path}, line {line}: contains a NUL byte; this is a binary file, not text. "
            "Give the tab/comma-separated text export instead (compressed files must be "
            "unpacked first)."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise DatasetError(
            f"{path}, line {line}: not valid UTF-8 (byte 0x{bad}); the file is probably "
            "Latin-1/Windows-1252. Re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
        ) from None


def csv_line_of_record(text: str, record: int) -> int:
    """The 1-based line on which data record ``record`` (0-based, after the header) starts."""
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for i, _row in enumerate(reader):
            if i == record + 1:
                return line
            line = reader.line_num + 1
    except csv.Error:
        return record + 2  # not parseable line by line: one line per record is the best guess
    return line


def read_csv_table(path: Path, required: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """Read a UTF-8 CSV with a header that names every column in ``required``.

    Values stay strings (empty fields are empty strings); fields longer than
    :data:`MAX_FIELD_CHARS` are rejected. Returns the table and the raw text.
    """
    text = read_text_file(path)
    if not text.strip():
        raise DatasetError(
            f"{path}: the file is empty; it needs a header line ({', '.join(required)}) and "
            "one row per record."
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DatasetError(
            f"{path}: not a well-formed CSV ({exc}). Quote fields that contain commas or "
            "newlines and give every row as many fields as the header."
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        hint = ""
        if len(frame.columns) == 1 and any(sep in frame.columns[0] for sep in ";\t|"):
            hint = " The file must be comma-separated (it looks like ';', tab or '|' is used)."
        raise DatasetError(
            f"{path}, line 1 (header): missing column(s) {', '.join(missing)}; found "
            f"{list(frame.columns)}. The header must name {', '.join(required)}.{hint}"
        )
    for col in frame.columns:
        lengths = frame[col].str.len().to_numpy()
        if lengths.size and int(lengths.max()) > MAX_FIELD_CHARS:
            r = int(lengths.argmax())
            raise DatasetError(
                f"{path}, line {csv_line_of_record(text, r)}, field {col}: "
                f"{int(lengths[r])} characters (limit {MAX_FIELD_CHARS}); the field is "
                "absurdly long — an unclosed quote or a broken export. Fix or shorten it."
            )
    return frame, text


def parse_int_column(path: Path, frame: pd.DataFrame, text: str, col: str) -> np.ndarray:
    """The integer values of column ``col``; a non-integer or negative value is an error."""
    raw = frame[col].str.strip()
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numeric) | (numeric != np.floor(numeric)) | (numeric < 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        value = raw.iloc[r]
        what = "is empty" if value == "" else f"is {value[:40]!r}"
        raise DatasetError(
            f"{path}, line {csv_line_of_record(text, r)}, field {col}: {what}; it must be a "
            "whole number 0 or more."
        )
    return numeric.astype(np.int64)


def read_metadata_csv(path: Path, id_col: str, n: int) -> pd.DataFrame:
    """Read ``items.csv``/``users.csv`` of a dataset: one row per id ``0..n-1``, sorted by id."""
    frame, text = read_csv_table(path, (id_col,))
    ids = parse_int_column(path, frame, text, id_col)
    if ids.size and ids.max() >= n:
        r = int(ids.argmax())
        raise DatasetError(
            f"{path}, line {csv_line_of_record(text, r)}, field {id_col}: {int(ids[r])} is "
            f"not an id of the interactions (they have ids 0..{n - 1}); remove the row or fix "
            "the id."
        )
    counts = np.bincount(ids, minlength=n)
    if (counts > 1).any():
        dup = int(np.flatnonzero(counts > 1)[0])
        rows = np.flatnonzero(ids == dup)
        raise DatasetError(
            f"{path}, line {csv_line_of_record(text, int(rows[1]))}, field {id_col}: id {dup} "
            f"appears {int(counts[dup])} times; each id needs exactly one row."
        )
    if (counts == 0).any():
        absent = np.flatnonzero(counts == 0)
        raise DatasetError(
            f"{path}, column {id_col}: {absent.size} of the {n} ids of the interactions have "
            f"no row (first: {int(absent[0])}); add one row per id 0..{n - 1}."
        )
    frame[id_col] = ids
    return frame.sort_values(id_col, kind="stable").reset_index(drop=True)


def load_npy(path: Path) -> np.ndarray:
    """Load a ``.npy`` file without pickles; every failure is a :class:`DatasetError`.

    The header is read first, so a truncated file or an object (pickled) array is named as
    such before any data is read.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if size == 0:
                raise DatasetError(f"{path}: the file is empty (0 bytes); re-export the features.")
            if fh.read(len(NPY_MAGIC)) != NPY_MAGIC:
                raise DatasetError(
                    f"{path}: not a NumPy .npy file (it does not start with the .npy magic "
                    "bytes); save the features with numpy.save."
                )
            fh.seek(0)
            try:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                else:  # 2.0 and 3.0 share the 4-byte header length
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            except Exception as exc:  # numpy raises ValueError, SyntaxError or TokenError
                raise DatasetError(
                    f"{path}: truncated or corrupt .npy header ({type(exc).__name__}); re-copy "
                    "or re-export the file."
                ) from None
            offset = fh.tell()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}).") from None
    if dtype.hasobject:
        raise DatasetError(
            f"{path}: holds an object (pickled) array, which is never loaded (it could run "
            "code); save a numeric float32 matrix instead."
        )
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < expected:
        raise DatasetError(
            f"{path}: the file is truncated ({size} bytes, its header announces shape {shape} "
            f"= {expected} bytes); re-copy or re-export it."
        )
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise DatasetError(f"{path}: not a readable .npy file ({exc}).") from None


def check_feature_matrix(path: Path, n_items: int) -> np.ndarray:
    """Load an item feature matrix: rank 2, one row per item, finite; returned as float32."""
    arr = load_npy(path)
    if not isinstance(arr, np.ndarray):
        raise DatasetError(f"{path}: holds {type(arr).__name__}, not one array.")
    if arr.dtype.kind not in "fiu":
        raise DatasetError(
            f"{path}: dtype {arr.dtype} is not numeric; item features must be a float "
            "matrix (items × dimensions)."
        )
    if arr.ndim != 2:
        raise DatasetError(
            f"{path}: has rank {arr.ndim} (shape {arr.shape}); item features must be a 2-D "
            "matrix (items × dimensions)."
        )
    if arr.shape[0] != n_items:
        raise DatasetError(
            f"{path}: has {arr.shape[0]} rows but the interactions have {n_items} items "
            f"(ids 0..{n_items - 1}); row i must hold the features of item i."
        )
    if arr.shape[1] == 0:
        raise DatasetError(f"{path}: has 0 columns; item features need at least 1 dimension.")
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(out).all(axis=1)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite)
        r = int(bad_rows[0])
        col = int(np.flatnonzero(~np.isfinite(out[r]))[0])
        orig = arr[r, col]
        kind = "NaN" if np.isnan(orig) else ("inf" if np.isinf(orig) else "too large for float32")
        raise DatasetError(
            f"{path}: row {r} (item {r}), column {col} is {kind}; {bad_rows.size} row(s) hold "
            "non-finite values. Recompute or replace those features."
        )
    return out
