"""Checks on the files of a dataset or catalogue; every failure is a :class:`DatasetError`.

Each message names the file, the line, row or field, and what to do about it.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.errors import DatasetError
from anchorrec.fileio import file_kind

#: The longest text a single CSV field may hold (characters). Product descriptions are a
#: few thousand characters; anything beyond this is a broken export, not a description.
MAX_FIELD_CHARS = 100_000
#: The largest text file the loaders read at once (bytes).
MAX_TEXT_FILE_BYTES = 2 * 1024**3
NPY_MAGIC = b"\x93NUMPY"
#: The most memory an item feature matrix may take once loaded as float32 (bytes), and the
#: most dimensions it may have: checked on the .npy header before any data is read.
MAX_FEATURE_BYTES = 8 * 1024**3
MAX_FEATURE_DIM = 65_536
#: Longest message excerpt of a header or value quoted back to the user (characters).
QUOTE_CHARS = 120
#: A dataset name: it names ``<name>.inter``, so it is one path component of safe characters.
_DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_dataset_name(name: str, what: str = "dataset name") -> str:
    """``name`` if it can name ``<name>.inter`` inside a dataset folder, else a DatasetError.

    One path component of letters, digits, ``.``, ``-`` and ``_`` (no ``/``, no ``..``), so a
    name can never write outside its folder.
    """
    if not isinstance(name, str) or not _DATASET_NAME.fullmatch(name) or ".." in name:
        raise DatasetError(
            f"{what} {quote(name)} cannot name a dataset: use 1-100 letters, digits, '.', '-' "
            "or '_', starting with a letter or digit (no '/' and no '..')."
        )
    return name


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)``, shortened to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path`` after resolving links, only if it is a regular file.

    Opened non-blocking and checked with ``fstat`` before any read, so a named pipe never
    blocks the reader and a device is never read; every refusal is a :class:`DatasetError`.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        if os.path.islink(path):
            raise DatasetError(
                f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist; fix "
                "or remove the link."
            ) from None
        raise DatasetError(f"{path}: not found.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DatasetError(f"{path}: is a looping symbolic link; remove it.") from None
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}).") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DatasetError(
            f"{path}: is {file_kind(mode)}, not a regular file; only regular files are read. "
            "Copy the data into a file."
        )
    os.set_blocking(fd, True)
    return fd


def link_problem(path: Path) -> str | None:
    """Why a symbolic link at ``path`` cannot be followed (dangling, looping), else None."""
    if not os.path.islink(path):
        return None
    try:
        os.stat(path)
    except FileNotFoundError:
        return f"a symbolic link to {os.readlink(path)}, which does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a looping symbolic link"
        return f"a symbolic link that cannot be followed ({exc.strerror})"
    return None


def _wide_encoding(data: bytes) -> tuple[str, str] | None:
    """``(name, iconv name)`` when ``data`` looks like UTF-32 or UTF-16 text (a byte-order mark,
    or the NUL bytes every ASCII character carries in those encodings), else None.

    UTF-32 is tested first: its little-endian mark ``FF FE 00 00`` starts with UTF-16's.
    """
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "UTF-32", "utf-32"
    head = data[:400]
    if len(head) >= 16 and len(head) % 4 == 0:
        lanes = [head[k::4] for k in range(4)]
        mostly_nul = [lane.count(0) >= 0.9 * len(lane) for lane in lanes]
        if mostly_nul[1:] == [True, True, True] and lanes[0].count(0) == 0:
            return "UTF-32 (little-endian)", "utf-32le"
        if mostly_nul[:3] == [True, True, True] and lanes[3].count(0) == 0:
            return "UTF-32 (big-endian)", "utf-32be"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16", "utf-16"
    head = data[:200]
    if len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
            return "UTF-16 (little-endian)", "utf-16le"
        if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
            return "UTF-16 (big-endian)", "utf-16be"
    return None


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file; a binary file or another encoding is a :class:`DatasetError`."""
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > MAX_TEXT_FILE_BYTES:
            raise DatasetError(
                f"{path}: {size} bytes is too large for a text file (limit {MAX_TEXT_FILE_BYTES})."
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_TEXT_FILE_BYTES + 1)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}).") from None
    finally:
        os.close(fd)
    wide = _wide_encoding(data)
    if wide is not None:
        raise DatasetError(
            f"{path}: is {wide[0]} text, not UTF-8; re-save it as UTF-8 (e.g. iconv -f "
            f"{wide[1]} -t utf-8)."
        )
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
            f"{quote(list(frame.columns))}. The header must name {', '.join(required)}.{hint}"
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
    """The integer values of column ``col``; a non-integer or negative value is an error
    (:func:`anchorrec.data.ids.parse_whole_numbers`: ASCII digits only)."""
    from anchorrec.data.ids import BadNumber, parse_whole_numbers

    try:
        return parse_whole_numbers(frame[col], signed=False, max_digits=15)
    except BadNumber as bad:
        what = (
            bad.what
            if bad.kind != "too large"
            else bad.what.replace("far too large", "far too large for an id")
        )
        raise DatasetError(
            f"{path}, line {csv_line_of_record(text, bad.row)}, field {col}: {what}; it must be "
            "a whole number 0 or more in ASCII digits (at most 15 digits)."
        ) from None


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


def read_npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, bool, int, int]:
    """``(shape, dtype, fortran_order, data offset, file size)`` from a ``.npy`` header.

    Only the header is read (a regular file only: a FIFO or a device is refused); a
    truncated file, a corrupt header or an object (pickled) array is a :class:`DatasetError`.
    """
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        with os.fdopen(fd, "rb", closefd=False) as fh:
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
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                else:  # 2.0 and 3.0 share the 4-byte header length
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            except Exception as exc:  # numpy raises ValueError, SyntaxError or TokenError
                raise DatasetError(
                    f"{path}: truncated or corrupt .npy header ({type(exc).__name__}); re-copy "
                    "or re-export the file."
                ) from None
            offset = fh.tell()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror}).") from None
    finally:
        os.close(fd)
    if dtype.hasobject:
        raise DatasetError(
            f"{path}: holds an object (pickled) array, which is never loaded (it could run "
            "code); save a numeric float32 matrix instead."
        )
    return tuple(int(n) for n in shape), dtype, bool(fortran), offset, size


def load_npy(path: Path, *, rows: int | None = None) -> np.ndarray:
    """Load an item feature ``.npy`` file without pickles; every failure is a DatasetError.

    Everything that can be told from the header is checked first, before any data is read:
    the magic bytes, a pickled array, the dtype, rank 2, ``rows`` rows (when given), at most
    :data:`MAX_FEATURE_DIM` columns and :data:`MAX_FEATURE_BYTES` once in float32, and that
    the file holds as many bytes as the header announces. The data is then memory-mapped,
    not read into a second buffer.
    """
    shape, dtype, _, offset, size = read_npy_header(path)
    if dtype.kind not in "fiu":
        raise DatasetError(
            f"{path}: dtype {dtype} is not numeric; item features must be a float "
            "matrix (items × dimensions)."
        )
    if len(shape) != 2:
        raise DatasetError(
            f"{path}: has rank {len(shape)} (shape {shape}); item features must be a 2-D "
            "matrix (items × dimensions)."
        )
    if rows is not None and shape[0] != rows:
        raise DatasetError(
            f"{path}: has {shape[0]} rows but the interactions have {rows} items "
            f"(ids 0..{rows - 1}); row i must hold the features of item i."
        )
    if shape[1] == 0:
        raise DatasetError(f"{path}: has 0 columns; item features need at least 1 dimension.")
    if shape[1] > MAX_FEATURE_DIM:
        raise DatasetError(
            f"{path}: has {shape[1]} columns (limit {MAX_FEATURE_DIM}); item features are a few "
            "hundred to a few thousand dimensions — reduce them (e.g. PCA) first."
        )
    count = shape[0] * shape[1]
    if count * 4 > MAX_FEATURE_BYTES:
        raise DatasetError(
            f"{path}: shape {shape} would take {count * 4 / 1024**3:.1f} GiB as float32 (limit "
            f"{MAX_FEATURE_BYTES / 1024**3:.0f} GiB); reduce the dimensions first."
        )
    expected = offset + count * dtype.itemsize
    if size < expected:
        raise DatasetError(
            f"{path}: the file is truncated ({size} bytes, its header announces shape {shape} "
            f"= {expected} bytes); re-copy or re-export it."
        )
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if count else None)
    except (ValueError, EOFError, OSError) as exc:
        raise DatasetError(f"{path}: not a readable .npy file ({exc}).") from None


def check_feature_matrix(path: Path, n_items: int) -> np.ndarray:
    """Load an item feature matrix: rank 2, one row per item, finite; returned as float32.

    The shape, dtype and size are checked from the header before any data is read
    (:func:`load_npy`).
    """
    arr = load_npy(path, rows=n_items)
    with np.errstate(over="ignore"):  # one float32 copy of the memory-mapped data
        out = np.array(arr, dtype=np.float32, order="C", copy=True)
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
