"""Unpacking uploaded dataset archives safely.

:func:`safe_extract_zip` refuses members whose path escapes the target directory (``../``,
absolute paths, drive letters), links, and archives whose content exceeds a byte budget
(checked on the bytes actually written, not only on the sizes the archive claims). Nothing
is left behind when it refuses: the archive is unpacked into a temporary directory that is
renamed into place only on success.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from anchorrec.data.validation import open_regular
from anchorrec.errors import DatasetError
from anchorrec.fileio import atomic_dir

#: Default budget for an uploaded dataset once unpacked (bytes).
DEFAULT_MAX_BYTES = 2 * 1024**3
#: The most members an archive may hold.
MAX_MEMBERS = 200_000
#: The longest name of one path component (bytes; the limit of common file systems), the
#: deepest nesting and the longest member path an archive may hold.
MAX_COMPONENT_BYTES = 255
MAX_DEPTH = 32
MAX_PATH_BYTES = 1024
_CHUNK = 1 << 20


def _member_path(zip_path: Path, info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The safe relative path of a member, or None for a directory entry; raise if unsafe."""
    name = info.filename.replace("\\", "/")
    if "\x00" in name:
        raise DatasetError(f"{zip_path}, member {info.filename!r}: the name holds a NUL byte.")
    parts = PurePosixPath(name).parts
    if (
        name.startswith("/")
        or (parts and len(parts[0]) == 2 and parts[0][1] == ":")
        or ".." in parts
    ):
        raise DatasetError(
            f"{zip_path}, member {info.filename!r}: the path escapes the extraction directory "
            "(absolute or containing '..'); refusing the archive. Re-create it with relative "
            "paths inside one folder."
        )
    if info.flag_bits & 0x1:
        raise DatasetError(
            f"{zip_path}, member {info.filename!r}: is encrypted (password-protected); "
            "encrypted archives are refused. Zip the files again without a password."
        )
    long_parts = [
        p for p in parts if len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES
    ]
    if long_parts:
        raise DatasetError(
            f"{zip_path}, member {info.filename[:80]!r}...: a name in its path is "
            f"{len(long_parts[0].encode('utf-8', 'surrogateescape'))} bytes long (limit "
            f"{MAX_COMPONENT_BYTES}); rename it and zip again."
        )
    if len(parts) > MAX_DEPTH or len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise DatasetError(
            f"{zip_path}, member {info.filename[:80]!r}...: nested {len(parts)} folders deep "
            f"(limit {MAX_DEPTH}, {MAX_PATH_BYTES} bytes in all); a dataset archive holds one "
            "folder of files. Zip the dataset folder itself."
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DatasetError(
            f"{zip_path}, member {info.filename!r}: is a symbolic link; archives with links "
            "are refused. Put the real files in the archive."
        )
    clean = [p for p in parts if p not in ("", ".")]
    if not clean or info.is_dir():
        return None
    return PurePosixPath(*clean)


def _check_file_folder_clashes(
    zip_path: Path, members: list[tuple[zipfile.ZipInfo, PurePosixPath | None]]
) -> None:
    """Refuse an archive in which a path is both a file and a folder (``a`` then ``a/b``),
    or holds the same file twice."""
    files: dict[PurePosixPath, str] = {}
    folders: dict[PurePosixPath, str] = {}
    for info, rel in members:
        if rel is None:
            continue
        if rel in files:
            raise DatasetError(
                f"{zip_path}, member {info.filename!r}: the archive holds this file twice "
                f"(also as {files[rel]!r}); re-create it."
            )
        if rel in folders:
            raise DatasetError(
                f"{zip_path}, member {info.filename!r}: is a file, but member "
                f"{folders[rel]!r} puts files inside a folder of that name; re-create the "
                "archive."
            )
        for parent in rel.parents:
            if parent in files:
                raise DatasetError(
                    f"{zip_path}, member {info.filename!r}: needs the folder {str(parent)!r}, but "
                    f"the archive also holds a file {files[parent]!r} of that name; re-create "
                    "the archive."
                )
            folders.setdefault(parent, info.filename)
        files[rel] = info.filename


def safe_extract_zip(
    zip_path: str | Path, target_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> Path:
    """Unpack ``zip_path`` into ``target_dir`` (which must not exist or be empty).

    Raises :class:`DatasetError` for a file that is not a zip, a member path escaping the
    target, a link, or content larger than ``max_bytes`` in total; ``target_dir`` is then
    unchanged. Returns ``target_dir``.
    """
    zip_path = Path(zip_path)
    target_dir = Path(target_dir)
    if target_dir.exists() and (not target_dir.is_dir() or any(target_dir.iterdir())):
        raise DatasetError(f"{target_dir}: exists and is not empty; extract into a new folder.")
    fh = os.fdopen(open_regular(zip_path), "rb")  # a FIFO or a device is refused, not read
    try:
        zf = zipfile.ZipFile(fh)
    except (RuntimeError, NotImplementedError) as exc:
        fh.close()
        raise DatasetError(f"{zip_path}: not a readable zip archive ({exc}).") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        fh.close()
        raise DatasetError(f"{zip_path}: not a readable zip archive ({exc}).") from None
    with fh, zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise DatasetError(
                f"{zip_path}: holds {len(infos)} members (limit {MAX_MEMBERS}); split it."
            )
        members = [(info, _member_path(zip_path, info)) for info in infos]
        _check_file_folder_clashes(zip_path, members)
        declared = sum(info.file_size for info, rel in members if rel is not None)
        if declared > max_bytes:
            raise DatasetError(
                f"{zip_path}: unpacks to {declared} bytes, over the limit of {max_bytes} bytes; "
                "upload a smaller dataset or raise the limit."
            )
        written = 0
        with atomic_dir(target_dir, overwrite=target_dir.exists()) as tmp:
            for info, rel in members:
                if rel is None:
                    continue
                dest = tmp.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with zf.open(info) as src, open(dest, "wb") as out:
                        while chunk := src.read(_CHUNK):
                            written += len(chunk)
                            if written > max_bytes:
                                raise DatasetError(
                                    f"{zip_path}, member {info.filename!r}: the archive "
                                    f"unpacks to more than {max_bytes} bytes (its headers "
                                    "understate the size); refusing it."
                                )
                            out.write(chunk)
                except (
                    zipfile.BadZipFile,
                    OSError,
                    EOFError,
                    NotImplementedError,
                    RuntimeError,  # zipfile: "File is encrypted" and friends
                ) as exc:
                    raise DatasetError(
                        f"{zip_path}, member {info.filename!r}: cannot be unpacked "
                        f"({type(exc).__name__}: {exc}); the archive is corrupt or truncated."
                    ) from None
    return target_dir


def find_dataset_root(directory: str | Path, shown: str | Path | None = None) -> Path:
    """The folder of an unpacked archive that holds the ``.inter`` file (itself or one below).

    Archives often wrap the dataset in one top-level folder; this finds it. Messages name
    ``shown`` (the archive) instead of ``directory`` when given.
    """
    directory = Path(directory)
    name = shown if shown is not None else directory
    if any(directory.glob("*.inter")):
        return directory
    candidates = sorted({p.parent for p in directory.rglob("*.inter") if "__MACOSX" not in p.parts})
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        inner = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.zip"))
        if inner:
            raise DatasetError(
                f"{name}: holds no .inter file, only another archive ({', '.join(inner[:3])}); "
                "archives inside archives are not unpacked. Unzip it and zip the dataset "
                "folder itself."
            )
        raise DatasetError(
            f"{name}: the archive holds no .inter file; an MMRec dataset needs "
            "<name>.inter (and optionally image_feat.npy, text_feat.npy, items.csv)."
        )
    names = ", ".join(str(c.relative_to(directory)) for c in candidates[:5])
    raise DatasetError(f"{name}: several folders hold .inter files ({names}); upload one.")


def as_named_in(exc: DatasetError, folder: Path, archive: Path) -> DatasetError:
    """``exc`` with the temporary folder an archive was unpacked into replaced by the
    archive's own name (``shop.zip/shop/toy.inter, line 3``): that folder is gone by the time
    anyone reads the message."""
    text = str(exc)
    for seen in {str(folder.resolve()), str(folder)}:
        text = text.replace(seen, str(archive))
    return DatasetError(text)


@contextlib.contextmanager
def unpacked_dataset(zip_path: str | Path) -> Iterator[Path]:
    """Unpack a zipped dataset into a temporary folder and yield the folder that holds its
    ``.inter`` file; every :class:`DatasetError` raised inside names the zip, not that folder."""
    zip_path = Path(zip_path)
    with tempfile.TemporaryDirectory(prefix="anchorrec-unzip-") as tmp:
        folder = Path(tmp) / "x"
        safe_extract_zip(zip_path, folder)
        try:
            yield find_dataset_root(folder, shown=zip_path)
        except DatasetError as exc:
            raise as_named_in(exc, folder, zip_path) from None
