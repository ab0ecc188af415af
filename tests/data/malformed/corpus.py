"""A corpus of malformed datasets, catalogues and archives, generated on demand.

Every case builds its broken input under a fresh directory and names the substrings the
resulting :class:`DatasetError` must contain (the file and the line, row or field). Run this
file as a script to write the whole corpus to a folder for inspection::

    python tests/data/malformed/corpus.py /tmp/malformed
"""

from __future__ import annotations

import gzip
import io
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


def main(out: str) -> None:
    root = Path(out)
    for c in CASES:
        c.build(root / c.kind / c.name)
    print(f"wrote {len(CASES)} malformed cases under {root}")


if __name__ == "__main__":
    main(sys.argv[1])
