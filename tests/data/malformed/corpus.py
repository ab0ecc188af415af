"""A corpus of malformed datasets, catalogues and archives, generated on demand.

Every case builds its broken input under a fresh directory and names the substrings the
resulting error must contain (the file and the line, row or field). Kinds:

* ``mmrec``, ``catalog``, ``zip``: a :class:`DatasetError` from the loader, the importer or the
  unpacker (and exit 2 from ``validate`` / ``import-catalog``);
* ``checkpoint``: a model directory under ``model/`` (its dataset under ``data/``) that
  ``load_model`` refuses with a :class:`CheckpointError` (and ``evaluate`` with exit 2);
* ``cli``: ``build`` returns the command line; it exits 2 with the needles on stderr, and
  every output named in ``options["untouched"]`` keeps its kind (a device stays a device).
  ``options["fault"]`` names a fault the test injects (a full disk, a held lock).

Run this file as a script to write the whole corpus to a folder for inspection::

    python tests/data/malformed/corpus.py /tmp/malformed
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

# ----------------------------------------------------------------------------- valid bases
N_USERS, N_ITEMS, FEAT_DIM = 6, 8, 4


def base_inter_rows() -> list[tuple[int, int, int]]:
    """6 users × 4 interactions (labels 0, 0, 1, 2) over items 0..7: a valid split."""
    rows = []
    for u in range(N_USERS):
        for j, label in enumerate((0, 0, 1, 2)):
            rows.append((u, (u + j) % N_ITEMS, label))
    return rows


def inter_text(rows: list[tuple[int, int, int]], header: str = "userID\titemID\tx_label") -> str:
    return header + "\n" + "".join(f"{u}\t{i}\t{x}\n" for u, i, x in rows)


def write_valid_mmrec(d: Path) -> Path:
    """A small valid MMRec directory (interactions, image/text features, items.csv)."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "toy.inter").write_text(inter_text(base_inter_rows()), encoding="utf-8")
    rng = np.random.default_rng(0)
    np.save(d / "image_feat.npy", rng.normal(size=(N_ITEMS, FEAT_DIM)).astype(np.float32))
    np.save(d / "text_feat.npy", rng.normal(size=(N_ITEMS, FEAT_DIM)).astype(np.float32))
    items = "item_id,title,category\n" + "".join(f"{i},Item {i},toys\n" for i in range(N_ITEMS))
    (d / "items.csv").write_text(items, encoding="utf-8")
    return d


CAT_ITEMS = 6


def png_bytes(colour: tuple[int, int, int], size: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="PNG")
    return buf.getvalue()


def write_valid_catalog(d: Path) -> dict[str, Path]:
    """A small valid catalogue: 6 items with photos, 6 users × 4 interactions (k-core 3)."""
    images = d / "photos"
    images.mkdir(parents=True, exist_ok=True)
    lines = ["item_id,title,description,category,image,price"]
    for i in range(CAT_ITEMS):
        (images / f"p{i}.png").write_bytes(png_bytes((40 * i, 255 - 40 * i, 90)))
        lines.append(f"I{i},Product {i},A thing,toys,p{i}.png,{i}.99")
    (d / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inter = ["user_id,item_id,timestamp"]
    t = 0
    for u in range(6):
        for j in range(4):
            t += 1
            inter.append(f"U{u},I{(u + j) % CAT_ITEMS},{t}")
    (d / "interactions.csv").write_text("\n".join(inter) + "\n", encoding="utf-8")
    return {
        "items": d / "items.csv",
        "interactions": d / "interactions.csv",
        "images": images,
        "out": d / "out",
    }


def replace_line(path: Path, line: int, new: str | bytes) -> None:
    """Replace 1-based ``line`` of a text file (bytes allowed for encoding cases)."""
    data = path.read_bytes().split(b"\n")
    data[line - 1] = new if isinstance(new, bytes) else new.encode("utf-8")
    path.write_bytes(b"\n".join(data))


# ----------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    """One malformed input: ``kind`` is mmrec, catalog or zip; ``build`` breaks a valid base."""

    name: str
    kind: str
    build: Callable[[Path], object]
    needles: tuple[str, ...]
    options: dict[str, object] = field(default_factory=dict)


CASES: list[Case] = []


def case(kind: str, *needles: str, **options: object):
    def deco(fn: Callable[[Path], object]) -> Callable[[Path], object]:
        CASES.append(Case(fn.__name__, kind, fn, needles, options))
        return fn

    return deco


# --- .inter --------------------------------------------------------------------------
@case("mmrec", "toy.inter", "line 1", "x_label")
def inter_missing_column(d: Path) -> None:
    write_valid_mmrec(d)
    rows = base_inter_rows()
    (d / "toy.inter").write_text(
        "userID\titemID\n" + "".join(f"{u}\t{i}\n" for u, i, _ in rows), encoding="utf-8"
    )


@case("mmrec", "toy.inter", "line 1", "tab-separated")
def inter_comma_separated(d: Path) -> None:
    write_valid_mmrec(d)
    text = inter_text(base_inter_rows()).replace("\t", ",")
    (d / "toy.inter").write_text(text, encoding="utf-8")


@case("mmrec", "toy.inter", "line 4", "userID", "'abc'")
def inter_non_integer_id(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 4, "abc\t2\t1")


@case("mmrec", "toy.inter", "line 3", "itemID", "'1.5'")
def inter_fractional_id(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 3, "0\t1.5\t0")


@case("mmrec", "toy.inter", "line 6", "userID", "-1")
def inter_negative_id(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 6, "-1\t3\t0")


@case("mmrec", "toy.inter", "itemID", "not contiguous", "first missing: 8")
def inter_ids_not_contiguous(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 2, "0\t9\t0")  # item 8 never appears


@case("mmrec", "toy.inter", "userID", "not contiguous", "first missing: 0")
def inter_users_from_one(d: Path) -> None:
    write_valid_mmrec(d)
    rows = [(u + 1, i, x) for u, i, x in base_inter_rows()]
    (d / "toy.inter").write_text(inter_text(rows), encoding="utf-8")


@case("mmrec", "toy.inter", "line 5", "x_label is 3")
def inter_bad_label(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 5, "0\t3\t3")


@case("mmrec", "toy.inter", "line 25", "truncated")
def inter_truncated(d: Path) -> None:
    write_valid_mmrec(d)
    data = (d / "toy.inter").read_bytes()
    (d / "toy.inter").write_bytes(data[: len(data) - 4])  # cut inside the last line


@case("mmrec", "toy.inter", "binary")
def inter_binary_gzip(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(gzip.compress(inter_text(base_inter_rows()).encode()))


@case("mmrec", "toy.inter", "line 7", "UTF-8")
def inter_latin1(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 7, "1\t2\t0\tcaf\xe9".encode("latin-1"))
    text = (d / "toy.inter").read_bytes().replace(b"x_label\n", b"x_label\tnote\n", 1)
    (d / "toy.inter").write_bytes(text)


@case("mmrec", "toy.inter", "empty")
def inter_empty_file(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(b"")


@case("mmrec", "toy.inter", "no interactions")
def inter_header_only(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_text("userID\titemID\tx_label\n", encoding="utf-8")


@case("mmrec", "toy.inter", "valid split is empty")
def inter_empty_valid_split(d: Path) -> None:
    write_valid_mmrec(d)
    rows = [(u, i, 0 if x == 1 else x) for u, i, x in base_inter_rows()]
    (d / "toy.inter").write_text(inter_text(rows), encoding="utf-8")


@case("mmrec", "toy.inter", "test split is empty")
def inter_empty_test_split(d: Path) -> None:
    write_valid_mmrec(d)
    rows = [(u, i, 1 if x == 2 else x) for u, i, x in base_inter_rows()]
    (d / "toy.inter").write_text(inter_text(rows), encoding="utf-8")


@case("mmrec", "toy.inter", "duplicate", "line 26", on_duplicate="error")
def inter_duplicate_rejected(d: Path) -> None:
    write_valid_mmrec(d)
    with open(d / "toy.inter", "a", encoding="utf-8") as fh:
        fh.write("0\t0\t0\n")


@case("mmrec", "several interaction files", "a.inter", "toy.inter")
def inter_two_files(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "a.inter").write_text(inter_text(base_inter_rows()), encoding="utf-8")


@case("mmrec", "no *.inter file")
def inter_absent(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").unlink()


# --- .npy ---------------------------------------------------------------------------
@case("mmrec", "image_feat.npy", "7 rows", "8 items")
def npy_wrong_row_count(d: Path) -> None:
    write_valid_mmrec(d)
    np.save(d / "image_feat.npy", np.zeros((7, FEAT_DIM), np.float32))


@case("mmrec", "text_feat.npy", "row 3", "NaN")
def npy_nan(d: Path) -> None:
    write_valid_mmrec(d)
    x = np.ones((N_ITEMS, FEAT_DIM), np.float32)
    x[3, 2] = np.nan
    np.save(d / "text_feat.npy", x)


@case("mmrec", "image_feat.npy", "row 5", "inf")
def npy_inf(d: Path) -> None:
    write_valid_mmrec(d)
    x = np.ones((N_ITEMS, FEAT_DIM), np.float64)
    x[5, 0] = -np.inf
    np.save(d / "image_feat.npy", x)


@case("mmrec", "image_feat.npy", "row 1", "too large for float32")
def npy_overflows_float32(d: Path) -> None:
    write_valid_mmrec(d)
    x = np.ones((N_ITEMS, FEAT_DIM), np.float64)
    x[1, 1] = 1e300
    np.save(d / "image_feat.npy", x)


@case("mmrec", "text_feat.npy", "rank 1")
def npy_rank1(d: Path) -> None:
    write_valid_mmrec(d)
    np.save(d / "text_feat.npy", np.zeros(N_ITEMS, np.float32))


@case("mmrec", "fused_feat.npy", "rank 3")
def npy_rank3(d: Path) -> None:
    write_valid_mmrec(d)
    np.save(d / "fused_feat.npy", np.zeros((N_ITEMS, 2, 2), np.float32))


@case("mmrec", "image_feat.npy", "pickled")
def npy_object_array(d: Path) -> None:
    write_valid_mmrec(d)
    arr = np.empty((N_ITEMS, 1), dtype=object)
    arr[:, 0] = [{"x": i} for i in range(N_ITEMS)]
    np.save(d / "image_feat.npy", arr, allow_pickle=True)


@case("mmrec", "image_feat.npy", "truncated")
def npy_truncated(d: Path) -> None:
    write_valid_mmrec(d)
    data = (d / "image_feat.npy").read_bytes()
    (d / "image_feat.npy").write_bytes(data[: len(data) - 20])


@case("mmrec", "text_feat.npy", "not a NumPy .npy file")
def npy_not_numpy(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "text_feat.npy").write_text("0.1,0.2\n0.3,0.4\n", encoding="utf-8")


@case("mmrec", "image_feat.npy", "0 bytes")
def npy_zero_bytes(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "image_feat.npy").write_bytes(b"")


@case("mmrec", "text_feat.npy", "not numeric")
def npy_strings(d: Path) -> None:
    write_valid_mmrec(d)
    np.save(d / "text_feat.npy", np.full((N_ITEMS, FEAT_DIM), "x"))


@case("mmrec", "image_feat.npy", "truncated or corrupt")
def npy_bad_header(d: Path) -> None:
    write_valid_mmrec(d)
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (8, 4"  # unterminated
    (d / "image_feat.npy").write_bytes(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
    )


# --- items.csv / users.csv of a dataset ---------------------------------------------------
@case("mmrec", "items.csv", "line 1", "item_id")
def items_csv_missing_id_column(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "items.csv").write_text("id,title\n0,a\n", encoding="utf-8")


@case("mmrec", "items.csv", "line 4", "UTF-8", "Latin-1")
def items_csv_latin1(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 4, "2,Caf\xe9 cr\xe8me,food".encode("latin-1"))


@case("mmrec", "items.csv", "line 3", "field title", "absurdly long")
def items_csv_absurdly_long_field(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 3, "1," + "x" * 150_000 + ",toys")


@case("mmrec", "items.csv", "item_id", "first: 5")
def items_csv_missing_item(d: Path) -> None:
    write_valid_mmrec(d)
    lines = (d / "items.csv").read_text(encoding="utf-8").splitlines()
    del lines[6]  # item 5
    (d / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@case("mmrec", "items.csv", "line 2", "field item_id", "'first'")
def items_csv_non_integer_id(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 2, "first,Item,toys")


@case("mmrec", "items.csv", "binary")
def items_csv_binary(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "items.csv").write_bytes(b"PK\x03\x04\x00\x00binary")


@case("mmrec", "users.csv", "line 4", "user_id", "2 times")
def users_csv_duplicate_id(d: Path) -> None:
    write_valid_mmrec(d)
    lines = ["user_id,age"] + [f"{u},30" for u in range(N_USERS)]
    lines.insert(3, "1,31")
    (d / "users.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- catalogue ------------------------------------------------------------------------
@case("catalog", "items.csv", "line 1", "image")
def cat_items_missing_image_column(d: Path) -> None:
    p = write_valid_catalog(d)
    lines = p["items"].read_text(encoding="utf-8").splitlines()
    lines = [",".join(line.split(",")[:4]) for line in lines]
    p["items"].write_text("\n".join(lines) + "\n", encoding="utf-8")


@case("catalog", "items.csv", "line 3", "UTF-8")
def cat_items_latin1(d: Path) -> None:
    p = write_valid_catalog(d)
    replace_line(p["items"], 3, "I1,Caf\xe9,A thing,toys,p1.png,1.99".encode("latin-1"))


@case("catalog", "items.csv", "line 5", "field description", "absurdly long")
def cat_items_absurdly_long_field(d: Path) -> None:
    p = write_valid_catalog(d)
    replace_line(p["items"], 5, "I3,Product 3," + "y" * 200_000 + ",toys,p3.png,3.99")


@case("catalog", "items.csv", "line 4", "'I1'", "more than once")
def cat_items_duplicate_id(d: Path) -> None:
    p = write_valid_catalog(d)
    replace_line(p["items"], 4, "I1,Product 2,A thing,toys,p2.png,2.99")


@case("catalog", "items.csv", "not a well-formed CSV")
def cat_items_unclosed_quote(d: Path) -> None:
    p = write_valid_catalog(d)
    replace_line(p["items"], 3, 'I1,"Product 1,A thing,toys,p1.png,1.99')


@case("catalog", "items.csv", "line 1", "comma-separated")
def cat_items_semicolon_separated(d: Path) -> None:
    p = write_valid_catalog(d)
    p["items"].write_text(p["items"].read_text(encoding="utf-8").replace(",", ";"), "utf-8")


@case("catalog", "interactions.csv", "line 1", "user_id")
def cat_inter_missing_user_column(d: Path) -> None:
    p = write_valid_catalog(d)
    text = p["interactions"].read_text(encoding="utf-8").replace("user_id", "customer", 1)
    p["interactions"].write_text(text, encoding="utf-8")


@case("catalog", "interactions.csv", "line 3", "field user_id", "empty")
def cat_inter_empty_user(d: Path) -> None:
    p = write_valid_catalog(d)
    replace_line(p["interactions"], 3, ",I1,2")


@case("catalog", "interactions.csv", "line 6", "timestamp", "'yesterday'")
def cat_inter_bad_timestamp(d: Path) -> None:
    p = write_valid_catalog(d)
    replace_line(p["interactions"], 6, "U1,I1,yesterday")


@case("catalog", "interactions.csv", "binary")
def cat_inter_binary(d: Path) -> None:
    p = write_valid_catalog(d)
    p["interactions"].write_bytes(gzip.compress(p["interactions"].read_bytes()))


@case("catalog", "interactions.csv", "items.csv", "same item ids")
def cat_inter_unknown_items(d: Path) -> None:
    p = write_valid_catalog(d)
    text = p["interactions"].read_text(encoding="utf-8").replace(",I", ",SKU")
    p["interactions"].write_text(text, encoding="utf-8")


@case("catalog", "interactions.csv", "--k-core", k_core=50)
def cat_k_core_removes_everything(d: Path) -> None:
    write_valid_catalog(d)


@case("catalog", "interactions.csv", "chronological", "timestamp", split="chronological")
def cat_chronological_without_timestamps(d: Path) -> None:
    p = write_valid_catalog(d)
    lines = p["interactions"].read_text(encoding="utf-8").splitlines()
    lines = [",".join(line.split(",")[:2]) for line in lines]
    p["interactions"].write_text("\n".join(lines) + "\n", encoding="utf-8")


@case("catalog", "items.csv", "'I2'", "p2.png", "file not found")
def cat_image_missing(d: Path) -> None:
    p = write_valid_catalog(d)
    (p["images"] / "p2.png").unlink()


@case("catalog", "items.csv", "'I4'", "p4.png", "0 bytes")
def cat_image_zero_bytes(d: Path) -> None:
    p = write_valid_catalog(d)
    (p["images"] / "p4.png").write_bytes(b"")


@case("catalog", "items.csv", "'I1'", "p1.png", "not a recognised image")
def cat_image_not_an_image(d: Path) -> None:
    p = write_valid_catalog(d)
    (p["images"] / "p1.png").write_text("this is not a picture", encoding="utf-8")


@case("catalog", "items.csv", "'I3'", "p3.jpg", "decoded")
def cat_image_truncated_jpeg(d: Path) -> None:
    p = write_valid_catalog(d)
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, format="JPEG")
    (p["images"] / "p3.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    text = p["items"].read_text(encoding="utf-8").replace("p3.png", "p3.jpg")
    p["items"].write_text(text, encoding="utf-8")


@case("catalog", "items.csv", "'I0'", "p0.png", "decompression bomb")
def cat_image_decompression_bomb(d: Path) -> None:
    p = write_valid_catalog(d)
    # 1-bit 12,000 × 12,000 (144 Mpx > PIL's limit of ~89 Mpx) compresses to ~20 KB.
    Image.new("1", (12_000, 12_000)).save(p["images"] / "p0.png", optimize=False)


@case("catalog", "items.csv", "'I5'", "outside the image folder")
def cat_image_path_escapes(d: Path) -> None:
    p = write_valid_catalog(d)
    (d / "secret.png").write_bytes(png_bytes((1, 2, 3)))
    text = p["items"].read_text(encoding="utf-8").replace("p5.png", "../secret.png")
    p["items"].write_text(text, encoding="utf-8")


@case("catalog", "photos", "image folder does not exist")
def cat_images_dir_missing(d: Path) -> None:
    p = write_valid_catalog(d)
    p["images"].rename(d / "elsewhere")


# --- zip archives ----------------------------------------------------------------------
def _zip(d: Path, members: dict[str, bytes]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    path = d / "upload.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@case("zip", "upload.zip", "'../evil.inter'", "escapes")
def zip_parent_path(d: Path) -> None:
    _zip(d, {"ds/toy.inter": b"userID\titemID\tx_label\n", "../evil.inter": b"x"})


@case("zip", "upload.zip", "'ds/../../evil.txt'", "escapes")
def zip_nested_parent_path(d: Path) -> None:
    _zip(d, {"ds/../../evil.txt": b"x"})


@case("zip", "upload.zip", "'/etc/evil'", "escapes")
def zip_absolute_path(d: Path) -> None:
    _zip(d, {"/etc/evil": b"x"})


@case("zip", "upload.zip", "escapes")
def zip_backslash_parent_path(d: Path) -> None:
    _zip(d, {"..\\evil.txt": b"x"})


@case("zip", "upload.zip", "'link'", "symbolic link")
def zip_symlink(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    path = d / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16) | 0
        zf.writestr(info, "/etc/passwd")


@case("zip", "upload.zip", "over the limit", max_bytes=10_000)
def zip_oversized(d: Path) -> None:
    _zip(d, {"ds/big.npy": b"\0" * 50_000})


@case("zip", "upload.zip", "not a readable zip archive")
def zip_not_a_zip(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "upload.zip").write_bytes(b"just text, not an archive")


@case("zip", "upload.zip", "not a readable zip archive")
def zip_truncated(d: Path) -> None:
    path = _zip(d, {"ds/toy.inter": b"userID\titemID\tx_label\n" * 100})
    path.write_bytes(path.read_bytes()[:40])


# ============================================================ round two: inputs read before checked
def _sparse_npy(path: Path, shape: tuple[int, ...], dtype: str = "<f4") -> None:
    """A .npy whose header declares ``shape`` and whose (sparse) size matches it."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1), dtype))
    header["shape"] = shape
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        offset = fh.tell()
    n = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    os.truncate(path, offset + n)


@case("mmrec", "image_feat.npy", "1000000000 rows", "8 items")
def npy_header_declares_a_billion_rows(d: Path) -> None:
    write_valid_mmrec(d)
    _sparse_npy(d / "image_feat.npy", (10**9, FEAT_DIM))  # 14.9 GiB, none of it on disk


@case("mmrec", "text_feat.npy", "268435456 columns", "limit 65536")
def npy_header_declares_2_28_columns(d: Path) -> None:
    write_valid_mmrec(d)
    _sparse_npy(d / "text_feat.npy", (N_ITEMS, 2**28))  # 8 GiB declared


@case("mmrec", "image_feat.npy", "complex", "not numeric")
def npy_complex(d: Path) -> None:
    write_valid_mmrec(d)
    np.save(d / "image_feat.npy", np.zeros((N_ITEMS, FEAT_DIM), np.complex64))


@case("mmrec", "image_feat.npy", "named pipe (FIFO)", "regular file")
def npy_fifo(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "image_feat.npy").unlink()
    os.mkfifo(d / "image_feat.npy")


@case("mmrec", "text_feat.npy", "a directory", "regular file")
def npy_directory(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "text_feat.npy").unlink()
    (d / "text_feat.npy").mkdir()


@case("mmrec", "toy.inter", "named pipe (FIFO)")
def inter_fifo(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").unlink()
    os.mkfifo(d / "toy.inter")


@case("mmrec", "toy.inter", "symbolic link", "does not exist")
def inter_dangling_symlink(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").unlink()
    (d / "toy.inter").symlink_to(d / "gone.inter")


@case("mmrec", "toy.inter", "carriage return", "LF")
def inter_cr_only_line_endings(d: Path) -> None:
    write_valid_mmrec(d)
    text = inter_text(base_inter_rows()).replace("\n", "\r")
    (d / "toy.inter").write_bytes(text.encode())


@case("mmrec", "toy.inter", "UTF-16", "UTF-8")
def inter_utf16_with_bom(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(inter_text(base_inter_rows()).encode("utf-16"))


@case("mmrec", "toy.inter", "UTF-16", "UTF-8")
def inter_utf16_without_bom(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(inter_text(base_inter_rows()).encode("utf-16-le"))


@case("mmrec", "toy.inter", "line 20", "userID", "'100000000000000000000'", "too large")
def inter_huge_id_late(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 20, "100000000000000000000\t2\t0")


@case("mmrec", "toy.inter", "line 22", "itemID", "'1e300'")
def inter_exponent_id_late(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 22, "5\t1e300\t0")


@case("mmrec", "toy.inter", "line 23", "itemID", "absurdly large")
def inter_int64_but_absurd_id_late(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 23, f"5\t{10**17}\t0")


@case("mmrec", "toy.inter", "line 25", "x_label", "'two'")
def inter_bad_label_on_last_line(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", 25, "5\t0\ttwo")


@case("mmrec", "toy.inter", "line 1", "missing column")
def inter_huge_header_without_tabs(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_text("h" * 100_000 + "\n0\n", encoding="utf-8")


@case("mmrec", "items.csv", "line 3", "field item_id", "'1e300'")
def items_csv_id_1e300(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 3, "1e300,Item 1,toys")


@case("mmrec", "items.csv", "line 4", "field item_id", "too large")
def items_csv_id_1e20(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 4, "100000000000000000000,Item 2,toys")


@case("mmrec", "users.csv", "line 5", "field user_id", "too large")
def users_csv_id_1e20(d: Path) -> None:
    write_valid_mmrec(d)
    lines = ["user_id,age"] + [f"{u},30" for u in range(N_USERS)]
    lines[4] = "100000000000000000000,30"
    (d / "users.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@case("mmrec", "items.csv", "named pipe (FIFO)")
def items_csv_fifo(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "items.csv").unlink()
    os.mkfifo(d / "items.csv")


@case("mmrec", "items.csv", "UTF-16")
def items_csv_utf16(d: Path) -> None:
    write_valid_mmrec(d)
    text = (d / "items.csv").read_text(encoding="utf-8")
    (d / "items.csv").write_bytes(text.encode("utf-16"))


@case("catalog", "items.csv", "'I2'", "File name too long")
def cat_image_name_too_long(d: Path) -> None:
    p = write_valid_catalog(d)
    text = p["items"].read_text(encoding="utf-8").replace("p2.png", "p" * 300 + ".png")
    p["items"].write_text(text, encoding="utf-8")


@case("catalog", "items.csv", "'I3'", "not a regular file")
def cat_image_is_a_fifo(d: Path) -> None:
    p = write_valid_catalog(d)
    (p["images"] / "p3.png").unlink()
    os.mkfifo(p["images"] / "p3.png")


# --- catalogue names and outputs -------------------------------------------------------------
@case("catalog", "--name", "'/tmp/x/victim'", "cannot name a dataset", name="/tmp/x/victim")
def cat_name_absolute_path(d: Path) -> None:
    write_valid_catalog(d)


@case("catalog", "--name", "'../x'", "cannot name a dataset", name="../x")
def cat_name_parent(d: Path) -> None:
    write_valid_catalog(d)


@case("catalog", "--name", "'a/b'", "cannot name a dataset", name="a/b")
def cat_name_with_slash(d: Path) -> None:
    write_valid_catalog(d)


@case("catalog", "items.csv", "UTF-16")
def cat_items_utf16(d: Path) -> None:
    p = write_valid_catalog(d)
    p["items"].write_bytes(p["items"].read_text(encoding="utf-8").encode("utf-16"))


@case("catalog", "interactions.csv", "named pipe (FIFO)")
def cat_interactions_fifo(d: Path) -> None:
    p = write_valid_catalog(d)
    p["interactions"].unlink()
    os.mkfifo(p["interactions"])


@case("catalog", "out", "symbolic link", out_exists=True, overwrite=True)
def cat_out_is_a_symlink(d: Path) -> None:
    p = write_valid_catalog(d)
    (d / "elsewhere").mkdir()
    (d / "elsewhere" / "keep.txt").write_text("keep", encoding="utf-8")
    p["out"].symlink_to(d / "elsewhere", target_is_directory=True)


# --- zip edge cases ---------------------------------------------------------------------------
@case("zip", "upload.zip", "'a/b'", "folder 'a'", "file 'a'")
def zip_file_then_folder_of_the_same_name(d: Path) -> None:
    _zip(d, {"a": b"x", "a/b": b"y"})


@case("zip", "upload.zip", "'a'", "is a file", "'a/b'")
def zip_folder_then_file_of_the_same_name(d: Path) -> None:
    _zip(d, {"a/b": b"y", "a": b"x"})


@case("zip", "upload.zip", "300 bytes long", "limit 255")
def zip_component_over_255(d: Path) -> None:
    _zip(d, {"ds/" + "n" * 300: b"x"})


@case("zip", "upload.zip", "nested 101 folders deep")
def zip_deep_nesting(d: Path) -> None:
    _zip(d, {"/".join(["d"] * 100) + "/f": b"x"})


@case("zip", "upload.zip", "'ds/toy.inter'", "encrypted")
def zip_encryption_flag(d: Path) -> None:
    path = _zip(d, {"ds/toy.inter": b"userID\titemID\tx_label\n"})
    data = bytearray(path.read_bytes())  # zipfile cannot encrypt: set the flag bit by hand
    data[data.find(b"PK\x03\x04") + 6] |= 0x1  # local header, general-purpose flags
    data[data.find(b"PK\x01\x02") + 8] |= 0x1  # central directory entry
    path.write_bytes(bytes(data))


@case("zip", "upload.zip", "'ds/a.txt'", "twice")
def zip_duplicate_member(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(d / "upload.zip", "w") as zf, _quiet_duplicates():
        zf.writestr("ds/a.txt", b"one")
        zf.writestr("ds/a.txt", b"two")


@case("zip", "upload.zip", "named pipe (FIFO)")
def zip_fifo(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    os.mkfifo(d / "upload.zip")


def _quiet_duplicates():
    import warnings

    cm = warnings.catch_warnings()
    cm.__enter__()
    warnings.simplefilter("ignore", UserWarning)  # zipfile warns "Duplicate name"

    class _Exit:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            cm.__exit__(*exc)

    return _Exit()


# --- checkpoints ------------------------------------------------------------------------------
def write_valid_model(d: Path) -> Path:
    """A valid MMRec directory under ``d/data`` and an (untrained) mf model of it at
    ``d/model``; returns the model directory."""
    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.config import preset_config
    from anchorrec.models.registry import build_model

    ds = load_mmrec(write_valid_mmrec(d / "data"))
    config = preset_config("default", variant="mf", embedding_dim=8, feature_dim=4, epochs=1)
    save_model(build_model("mf", ds, config, seed=0), ds, d / "model")
    return d / "model"


def _edit_config(model: Path, edit: Callable[[dict], None], *, forge: bool) -> None:
    """Apply ``edit`` to config.json; with ``forge`` also recompute its checksum (as an
    attacker who knows the format would), so only the field checks can catch it."""
    from anchorrec.models.checkpoint import CONFIG_CHECKSUM, config_checksum

    path = model / "config.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    edit(info)
    if forge:
        info[CONFIG_CHECKSUM] = config_checksum(info)
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")


def _hp(key: str, value: object) -> Callable[[dict], None]:
    def edit(info: dict) -> None:
        info["hyper_parameters"][key] = value

    return edit


@case("checkpoint", "config.json", "config_sha256", "edited")
def ckpt_knn_k_edited(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("knn_k", 3), forge=False)


@case("checkpoint", "config.json", "config_sha256", "edited")
def ckpt_recover_lambda_edited(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("recover_lambda", 50.0), forge=False)


@case("checkpoint", "config.json", "config_sha256", "edited")
def ckpt_variant_edited(d: Path) -> None:
    _edit_config(write_valid_model(d), lambda i: i.update(variant="lightgcn"), forge=False)


@case("checkpoint", "config.json", "config_sha256", "missing")
def ckpt_checksum_removed(d: Path) -> None:
    _edit_config(write_valid_model(d), lambda i: i.pop("config_sha256"), forge=False)


@case("checkpoint", "config.json", "embedding_dim", "1000000000", "outside 0..8192")
def ckpt_embedding_dim_1e9_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("embedding_dim", 10**9), forge=True)


@case("checkpoint", "config.json", "embedding_dim", "1000000000.0", "not a valid int")
def ckpt_embedding_dim_float_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("embedding_dim", 1e9), forge=True)


@case("checkpoint", "config.json", "id_layers", "10000000", "outside 0..64")
def ckpt_id_layers_1e7_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("id_layers", 10**7), forge=True)


@case("checkpoint", "config.json", "learning_rate", "nan", "finite")
def ckpt_learning_rate_nan_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("learning_rate", float("nan")), forge=True)


@case("checkpoint", "config.json", "recover_lambda", "inf", "finite")
def ckpt_recover_lambda_inf_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("recover_lambda", float("inf")), forge=True)


@case("checkpoint", "config.json", "unknown name", "surprise")
def ckpt_unknown_hyper_parameter_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("surprise", 1), forge=True)


@case("checkpoint", "config.json", "'hyper_parameters'", "not an object")
def ckpt_hyper_parameters_a_string(d: Path) -> None:
    _edit_config(write_valid_model(d), lambda i: i.update(hyper_parameters="x"), forge=True)


@case("checkpoint", "config.json", "'dataset'", "not an object")
def ckpt_dataset_a_list(d: Path) -> None:
    _edit_config(write_valid_model(d), lambda i: i.update(dataset=[1, 2]), forge=True)


@case("checkpoint", "config.json", "'n_users'", "not an integer")
def ckpt_dataset_n_users_a_string(d: Path) -> None:
    def edit(info: dict) -> None:
        info["dataset"]["n_users"] = "six"

    _edit_config(write_valid_model(d), edit, forge=True)


@case("checkpoint", "config.json", "'variant'", "not a string")
def ckpt_variant_a_number(d: Path) -> None:
    _edit_config(write_valid_model(d), lambda i: i.update(variant=5), forge=True)


@case("checkpoint", "model.safetensors", "user_id", "shape")
def ckpt_embedding_dim_disagrees_with_weights_forged(d: Path) -> None:
    _edit_config(write_valid_model(d), _hp("embedding_dim", 16), forge=True)


@case("checkpoint", "config.json", "cannot be read")
def ckpt_config_is_a_directory(d: Path) -> None:
    model = write_valid_model(d)
    (model / "config.json").unlink()
    (model / "config.json").mkdir()


@case("checkpoint", "config.json", "regular file")
def ckpt_config_is_a_fifo(d: Path) -> None:
    model = write_valid_model(d)
    (model / "config.json").unlink()
    os.mkfifo(model / "config.json")


@case("checkpoint", "config.json", "not valid JSON")
def ckpt_config_nested_too_deep(d: Path) -> None:
    model = write_valid_model(d)
    (model / "config.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


# --- command lines ----------------------------------------------------------------------------
@case("cli", "/dev/null", "character device", untouched=("/dev/null",))
def cli_audit_out_dev_null(d: Path) -> list[str]:
    return ["audit", str(write_valid_model(d)), "--out", "/dev/null", "--no-diagnostics"]


@case("cli", "/dev/full", "character device", untouched=("/dev/full",))
def cli_audit_csv_dev_full(d: Path) -> list[str]:
    model = write_valid_model(d)
    return ["audit", str(model), "--out", str(d / "r.html"), "--csv", "/dev/full"]


@case("cli", "report", "is a directory")
def cli_audit_out_a_directory(d: Path) -> list[str]:
    model = write_valid_model(d)
    (d / "report").mkdir()
    return ["audit", str(model), "--out", str(d / "report"), "--no-diagnostics"]


@case("cli", "pipe.html", "named pipe (FIFO)", untouched=("pipe.html",))
def cli_audit_out_a_fifo(d: Path) -> list[str]:
    model = write_valid_model(d)
    os.mkfifo(d / "pipe.html")
    return ["audit", str(model), "--out", str(d / "pipe.html"), "--no-diagnostics"]


@case("cli", "same file")
def cli_audit_out_and_csv_the_same(d: Path) -> list[str]:
    model = write_valid_model(d)
    return ["audit", str(model), "--out", str(d / "x"), "--csv", str(d / "x")]


@case("cli", "read-only", fault="read-only")
def cli_audit_read_only_parent(d: Path) -> list[str]:
    model = write_valid_model(d)
    (d / "ro").mkdir()
    return ["audit", str(model), "--out", str(d / "ro" / "r.html"), "--no-diagnostics"]


@case("cli", "--device 'tpu'", "not a device name")
def cli_evaluate_device_tpu(d: Path) -> list[str]:
    return ["evaluate", str(write_valid_model(d)), "--device", "tpu"]


@case("cli", "--device cuda", "no CUDA device", needs_no_gpu=True)
def cli_recommend_device_cuda_without_gpu(d: Path) -> list[str]:
    return ["recommend", str(write_valid_model(d)), "--user", "0", "--device", "cuda"]


@case("cli", "--device 'tpu'", "not a device name")
def cli_train_device_tpu(d: Path) -> list[str]:
    write_valid_mmrec(d / "data")
    return ["train", str(d / "data"), "--variant", "mf", "--out", str(d / "m"), "--device", "tpu"]


def _train(d: Path, *extra: str) -> list[str]:
    write_valid_mmrec(d / "data")
    return ["train", str(d / "data"), "--variant", "mf", "--epochs", "1", "--quiet", *extra]


@case("cli", "--lr nan", "finite")
def cli_train_lr_nan(d: Path) -> list[str]:
    return _train(d, "--out", str(d / "m"), "--lr", "nan")


@case("cli", "--lr inf", "finite")
def cli_train_lr_inf(d: Path) -> list[str]:
    return _train(d, "--out", str(d / "m"), "--lr", "inf")


@case("cli", "--temperature -inf", "finite")
def cli_train_temperature_minus_inf(d: Path) -> list[str]:
    return _train(d, "--out", str(d / "m"), "--temperature=-inf")


@case("cli", "current folder", cwd="data")
def cli_train_out_dot_with_overwrite(d: Path) -> list[str]:
    return _train(d, "--out", ".", "--overwrite")


@case("cli", "current folder", cwd="data")
def cli_train_out_parent_with_overwrite(d: Path) -> list[str]:
    return _train(d, "--out", "..", "--overwrite")


@case("cli", "dataset folder")
def cli_train_out_is_the_dataset(d: Path) -> list[str]:
    return _train(d, "--out", str(d / "data"), "--overwrite")


@case("cli", "symbolic link")
def cli_train_out_is_a_symlink(d: Path) -> list[str]:
    argv = _train(d, "--out", str(d / "link"), "--overwrite")
    (d / "real").mkdir()
    (d / "link").symlink_to(d / "real", target_is_directory=True)
    return argv


@case("cli", "already exists", "--overwrite")
def cli_train_out_exists(d: Path) -> list[str]:
    (d / "m").mkdir(parents=True)
    return _train(d, "--out", str(d / "m"))


@case("cli", "no space left", "m.resume", "--resume", fault="enospc", allowed=("m.resume",))
def cli_train_disk_full(d: Path) -> list[str]:
    return _train(d, "--out", str(d / "m"))


@case("cli", "read-only", fault="read-only")
def cli_train_read_only_parent(d: Path) -> list[str]:
    (d / "ro").mkdir(parents=True)
    return _train(d, "--out", str(d / "ro" / "m"))


@case("cli", "another run", "process", fault="lock")
def cli_train_out_locked_by_another_run(d: Path) -> list[str]:
    return _train(d, "--out", str(d / "m"))


@case("cli", "temporary folder", "unfinished")
def cli_validate_a_temporary_folder(d: Path) -> list[str]:
    write_valid_mmrec(d / ".shop.tmp-999999-abcd")
    return ["validate", str(d / ".shop.tmp-999999-abcd")]


@case("cli", "folder cannot be read", "Permission denied", fault="unreadable")
def cli_validate_an_unreadable_folder(d: Path) -> list[str]:
    write_valid_mmrec(d / "data")
    return ["validate", str(d / "data")]


# --- round three: strict ids, wide encodings, names with control characters ----------------
def _inter_value(d: Path, line: int, user: str, item: str = "2", label: str = "0") -> None:
    write_valid_mmrec(d)
    replace_line(d / "toy.inter", line, f"{user}\t{item}\t{label}")


@case("mmrec", "toy.inter", "line 3", "'0_1'", "'_'")
def inter_id_with_digit_separator(d: Path) -> None:
    _inter_value(d, 3, "0_1")  # int() reads 1: the same fingerprint as the clean file


@case("mmrec", "toy.inter", "line 4", "+1_0", "'_'")
def inter_signed_id_with_digit_separator(d: Path) -> None:
    _inter_value(d, 4, "+1_0")


@case("mmrec", "toy.inter", "line 5", "userID", "U+00A0")
def inter_id_after_no_break_space(d: Path) -> None:
    _inter_value(d, 5, "\xa01")


@case("mmrec", "toy.inter", "line 6", "itemID", "U+2003")
def inter_id_before_em_space(d: Path) -> None:
    _inter_value(d, 6, "1", item="3\u2003")


@case("mmrec", "toy.inter", "line 7", "x_label", "U+2028")
def inter_label_with_line_separator(d: Path) -> None:
    _inter_value(d, 7, "1", item="4", label="0\u2028")


@case("mmrec", "toy.inter", "line 8", "U+2009")
def inter_id_with_thin_space(d: Path) -> None:
    _inter_value(d, 8, "1\u2009")


@case("mmrec", "toy.inter", "line 9", "non-ASCII digit", "ARABIC-INDIC")
def inter_id_in_arabic_indic_digits(d: Path) -> None:
    _inter_value(d, 9, "\u0662")


@case("mmrec", "toy.inter", "line 10", "itemID", "FULLWIDTH")
def inter_id_in_fullwidth_digits(d: Path) -> None:
    _inter_value(d, 10, "2", item="\uff13")


@case("mmrec", "toy.inter", "line 11", "not an integer")
def inter_id_superscript_two(d: Path) -> None:
    _inter_value(d, 11, "\u00b2")


@case("mmrec", "toy.inter", "line 2", "U+0085")
def inter_id_with_next_line_control(d: Path) -> None:
    _inter_value(d, 2, "0\x85")


@case("mmrec", "items.csv", "line 3", "field item_id", "'_'")
def items_csv_id_with_digit_separator(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 3, "0_1,Item 1,toys")


@case("mmrec", "items.csv", "line 4", "field item_id", "U+00A0")
def items_csv_id_after_no_break_space(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 4, "\xa02,Item 2,toys")


@case("mmrec", "items.csv", "line 5", "field item_id", "FULLWIDTH")
def items_csv_id_in_fullwidth_digits(d: Path) -> None:
    write_valid_mmrec(d)
    replace_line(d / "items.csv", 5, "\uff13,Item 3,toys")


@case("mmrec", "users.csv", "line 3", "field user_id", "U+2028")
def users_csv_id_with_line_separator(d: Path) -> None:
    write_valid_mmrec(d)
    lines = ["user_id,age"] + [f"{u},30" for u in range(N_USERS)]
    lines[2] = "1\u2028,30"
    (d / "users.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@case("mmrec", "toy.inter", "UTF-32 text", "iconv -f utf-32 ")
def inter_utf32_with_bom(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(inter_text(base_inter_rows()).encode("utf-32"))


@case("mmrec", "toy.inter", "UTF-32 (little-endian)", "iconv -f utf-32le")
def inter_utf32_le_without_bom(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(inter_text(base_inter_rows()).encode("utf-32-le"))


@case("mmrec", "toy.inter", "UTF-32 (big-endian)", "iconv -f utf-32be")
def inter_utf32_be_without_bom(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").write_bytes(inter_text(base_inter_rows()).encode("utf-32-be"))


@case("mmrec", "items.csv", "UTF-32", "utf-32")
def items_csv_utf32(d: Path) -> None:
    write_valid_mmrec(d)
    text = (d / "items.csv").read_text(encoding="utf-8")
    (d / "items.csv").write_bytes(text.encode("utf-32"))


@case("mmrec", "to\\ny.inter", "line 3", absent=("to\ny",))
def inter_file_name_with_a_newline(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").rename(d / "to\ny.inter")
    replace_line(d / "to\ny.inter", 3, "abc\t1\t0")


@case("mmrec", "\\x1b[31m.inter", "line 4", absent=("\x1b",))
def inter_file_name_with_a_terminal_escape(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "toy.inter").rename(d / "\x1b[31m.inter")
    replace_line(d / "\x1b[31m.inter", 4, "abc\t1\t0")


@case("mmrec", "several interaction files", "TOY.inter", "--name", absent=("name=<name>",))
def inter_two_files_differing_in_case(d: Path) -> None:
    write_valid_mmrec(d)
    (d / "TOY.inter").write_bytes((d / "toy.inter").read_bytes())


@case("catalog", "items.csv", "UTF-32")
def cat_items_utf32(d: Path) -> None:
    p = write_valid_catalog(d)
    p["items"].write_bytes(p["items"].read_text(encoding="utf-8").encode("utf-32"))


@case("catalog", "items.csv", "'I0'", "'I1'", "'I2'", "'I3'", "'I4'", "'I5'", "6 item image(s)")
def cat_six_photos_missing_each_named(d: Path) -> None:
    p = write_valid_catalog(d)
    for i in range(CAT_ITEMS):
        (p["images"] / f"p{i}.png").unlink()


@case("catalog", "items.csv", "'I1'", "'I3'", "'I5'", "3 item image(s)", "not a recognised")
def cat_three_photos_undecodable_each_named(d: Path) -> None:
    p = write_valid_catalog(d)
    for i in (1, 3, 5):
        (p["images"] / f"p{i}.png").write_bytes(b"not a picture at all")


@case("catalog", "items.csv", "'I2'", "p2.png", "over the 64 MB limit")
def cat_photo_sparse_and_huge(d: Path) -> None:
    p = write_valid_catalog(d)
    with open(p["images"] / "p2.png", "r+b") as fh:
        fh.truncate(3 * 1024**3)  # 3 GB, sparse: refused from its size, never read


@case("catalog", "photos.zip", "zip archive", "Unzip", images="photos.zip")
def cat_images_given_as_a_zip(d: Path) -> None:
    p = write_valid_catalog(d)
    with zipfile.ZipFile(d / "photos.zip", "w") as zf:
        for f in sorted(p["images"].iterdir()):
            zf.write(f, f"photos/{f.name}")


@case("catalog", "items.csv", "'I2'", "![x](http:\\n).png", "file not found", absent=("\n",))
def cat_image_name_with_a_newline_and_markdown(d: Path) -> None:
    p = write_valid_catalog(d)
    text = p["items"].read_text(encoding="utf-8").replace("p2.png", '"![x](http:\n).png"')
    p["items"].write_text(text, encoding="utf-8")


@case("catalog", "items.csv", "'I4'", "p4.png", "not a regular file")
def cat_image_is_a_socket(d: Path) -> None:
    import socket

    p = write_valid_catalog(d)
    (p["images"] / "p4.png").unlink()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(p["images"] / "p4.png"))
    sock.close()


@case("cli", "upload.zip", "only another archive", "inner.zip", absent=("anchorrec-unzip",))
def cli_validate_a_zip_holding_only_a_zip(d: Path) -> list[str]:
    inner = _zip(d / "in", {"ds/toy.inter": inter_text(base_inter_rows()).encode()})
    _zip(d, {"inner.zip": inner.read_bytes()})
    return ["validate", str(d / "upload.zip")]


@case("cli", "upload.zip", "TOY.inter", "--name", absent=("anchorrec-unzip", "name=<name>"))
def cli_validate_a_zip_with_two_inter_files(d: Path) -> list[str]:
    text = inter_text(base_inter_rows()).encode()
    _zip(d, {"ds/toy.inter": text, "ds/TOY.inter": text})
    return ["validate", str(d / "upload.zip")]


@case("cli", "upload.zip/ds/toy.inter", "line 12", "'4_0'", absent=("anchorrec-unzip",))
def cli_validate_a_zip_with_a_bad_line(d: Path) -> list[str]:
    rows = inter_text(base_inter_rows()).replace("2\t4\t1", "2\t4_0\t1", 1)
    _zip(d, {"ds/toy.inter": rows.encode()})
    return ["validate", str(d / "upload.zip")]


@case("cli", "no space left", "_feat.npy", "requested and", fault="short-write")
def cli_import_catalog_disk_full_while_writing_features(d: Path) -> list[str]:
    p = write_valid_catalog(d)
    return [
        "import-catalog", "--items", str(p["items"]), "--interactions", str(p["interactions"]),
        "--images", str(p["images"]), "--out", str(p["out"]), "--k-core", "3",
        "--device", "cpu", "--no-progress",
    ]  # fmt: skip


def main(out: str) -> None:
    root = Path(out)
    for c in CASES:
        c.build(root / c.kind / c.name)
    print(f"wrote {len(CASES)} malformed cases under {root}")


if __name__ == "__main__":
    main(sys.argv[1])
