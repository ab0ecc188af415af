"""A product catalogue uploaded as files (two CSVs and a zip of photos or a photo folder).

What the dashboard's Data page does with an upload, without the page: size caps, a private
temporary folder beside the target (so the final move is a rename), safe unzipping, the
import, and error messages that name the uploaded file rather than its temporary copy.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anchorrec.errors import AnchorRecError, DatasetError

if TYPE_CHECKING:
    from anchorrec.data.catalog import SplitMode

MB = 1024 * 1024
#: Upload caps (the server-wide cap is server.maxUploadSize in .streamlit/config.toml).
MAX_CSV_MB = 50
MAX_ZIP_MB = 200
#: A zip may unpack to at most this many times its cap.
UNPACK_FACTOR = 4


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the user chose it and its bytes."""

    name: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def check_size(upload: Upload | None, cap_mb: int) -> None:
    """DatasetError naming the file when ``upload`` is larger than ``cap_mb`` MB."""
    if upload is not None and upload.size > cap_mb * MB:
        raise DatasetError(
            f"{upload.name} is {upload.size / MB:.0f} MB; the limit is {cap_mb} MB. "
            "For larger catalogues give the folder path instead, or use "
            "`python -m anchorrec import-catalog`."
        )


#: The command line's words in import errors, and the Data page's for the same thing.
PAGE_WORDS = (
    (" Or pass --on-missing-image mean to give such items the mean image feature.", ""),
    ("relative to --images", "relative to the photo folder"),
    ("check --images", "check the photos"),
    ("--k-core", "k-core"),
    ("--split", "the split"),
    ("--device", "the device"),
)
#: Folders a zip tool adds beside the photos.
_ZIP_NOISE = ("__MACOSX",)


def _renamed(exc: AnchorRecError, tmp: Path) -> AnchorRecError:
    """The same error in the page's words, naming the uploaded file instead of its
    temporary copy."""
    text = str(exc).replace(f"{tmp}/images/", "").replace(f"{tmp}/", "uploaded ")
    text = text.replace(str(tmp), "upload")
    for cli, page in PAGE_WORDS:
        text = text.replace(cli, page)
    return type(exc)(text)


def photo_root(folder: Path) -> Path:
    """The folder the photos sit in: ``folder``, or its only subfolder when a zip of a folder
    ("compress folder") put everything one level down."""
    entries = [
        p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in _ZIP_NOISE
    ]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def import_uploaded_catalog(
    out_dir: Path,
    items: Upload | None,
    interactions: Upload | None,
    *,
    photos_zip: Upload | None = None,
    photos_dir: str = "",
    k_core: int = 5,
    split: SplitMode = "auto",
    device: str = "auto",
    progress: bool = False,
):
    """Import an uploaded catalogue into ``out_dir`` (which must not exist) and return its
    :class:`~anchorrec.data.dataset.Dataset`.

    The photos come from ``photos_zip`` (unpacked safely: paths escaping the folder are
    refused) or else from the folder ``photos_dir`` on this machine. Every error is a
    :class:`DatasetError` (or another :class:`AnchorRecError`) that names the uploaded file.
    """
    from anchorrec.data.archive import safe_extract_zip
    from anchorrec.data.catalog import import_catalog

    if items is None or interactions is None:
        raise DatasetError("Upload both items.csv and interactions.csv.")
    check_size(items, MAX_CSV_MB)
    check_size(interactions, MAX_CSV_MB)
    check_size(photos_zip, MAX_ZIP_MB)
    if out_dir.exists():
        raise DatasetError(f"{out_dir} already exists; choose another dataset name.")
    if photos_zip is None and not photos_dir.strip():
        raise DatasetError("Give the photo folder's path or upload a zip of the photos.")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".upload-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "items.csv").write_bytes(items.data)
        (tmp_path / "interactions.csv").write_bytes(interactions.data)
        try:
            if photos_zip is not None:
                (tmp_path / "images.zip").write_bytes(photos_zip.data)
                cap = UNPACK_FACTOR * MAX_ZIP_MB * MB
                unpacked = safe_extract_zip(
                    tmp_path / "images.zip", tmp_path / "images", max_bytes=cap
                )
                photos = photo_root(unpacked)
                inner = sorted(p.name for p in photos.iterdir() if p.suffix.lower() == ".zip")
                if inner and not any(p.is_file() and p.suffix != ".zip" for p in photos.iterdir()):
                    raise DatasetError(
                        f"{photos_zip.name}: holds only another archive ({', '.join(inner[:3])});"
                        " archives inside archives are not unpacked. Zip the photos themselves."
                    )
            else:
                photos = Path(photos_dir.strip()).expanduser()
            return import_catalog(
                tmp_path / "items.csv",
                tmp_path / "interactions.csv",
                photos,
                out_dir,
                k_core=int(k_core),
                split=split,
                device=device,
                progress=progress,
                name=out_dir.name,
            )
        except AnchorRecError as exc:  # name the uploaded file, not its temporary copy
            raise _renamed(exc, tmp_path) from exc
