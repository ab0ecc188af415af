"""The one reader of product photos: a regular file, within a size limit, checked first.

Every place that opens a photo named by a data file — the catalogue import and the image
encoder, the pictures in the app's lists, the New product page — reads it through
:func:`read_photo_file`. Its size is taken from ``fstat`` before any byte is read, so a
multi-gigabyte (or sparse) file named by ``items.csv`` is refused instead of being read into
the server's memory, and a named pipe or a device is refused instead of blocking a reader.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from anchorrec.fileio import FileTooLargeError, read_regular_file

#: The largest photo file read anywhere (bytes): a product photo is a few MB; a 64 MB file
#: is a camera RAW export or not a photo at all.
MAX_PHOTO_FILE_BYTES = 64 * 1024 * 1024


def read_photo_file(path: str | os.PathLike[str], limit: int = MAX_PHOTO_FILE_BYTES) -> bytes:
    """The bytes of the photo at ``path``; ``ValueError`` saying why it cannot be used.

    Refused before reading: a missing file, a folder, a FIFO, a socket or a device, an empty
    file, and a file over ``limit`` bytes (at most ``limit + 1`` bytes are ever read).
    """
    p = Path(path)
    try:
        data = read_regular_file(p, max_bytes=limit)
    except FileTooLargeError:
        size = _size(p)
        what = f"{size / 1024**2:.1f} MB" if size is not None else "too large"
        raise ValueError(
            f"the file is {what}, over the {limit / 1024**2:.0f} MB limit for a photo; save a "
            "smaller JPEG or PNG"
        ) from None
    except FileNotFoundError:
        raise ValueError("file not found") from None
    except IsADirectoryError:
        kind = "a directory" if p.is_dir() else "not a regular file (a pipe or a device)"
        raise ValueError(f"is {kind}, not an image file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("is a looping symbolic link") from None
        raise ValueError(f"cannot be opened ({exc.strerror or exc})") from None
    if not data:
        raise ValueError("file is empty (0 bytes)")
    return data


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
