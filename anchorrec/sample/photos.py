"""Real product photos for the sample: finding them, downsizing them, measuring what they show.

A photo folder holds one sub-folder per garment class (``<anything>/<class>/<name>.jpg``, as
the CC0 clothing set's ``train/`` and ``validation/``), a ``LICENSE`` file that is shipped with
the photos, and optionally ``images.csv`` (columns ``image`` = file name without ``.jpg``,
``kids`` = True/False) and a ``README.md`` of the photos' own (origin, acknowledgements),
which ships beside them.

What a photo shows is measured from its pixels, on the downsized JPEG that ships: the
dominant colour name of the central region and its brightness (dark / medium / light).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from anchorrec.errors import DatasetError
from anchorrec.photos import read_photo_file

#: Longest side of a shipped photo, in pixels, and its JPEG quality.
PHOTO_SIZE = 256
PHOTO_QUALITY = 85
#: Photo file suffixes the folder scan accepts.
PHOTO_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png")
LICENSE_FILE = "LICENSE"
README_FILE = "README.md"
IMAGES_CSV = "images.csv"
#: The central box (fractions of width and height) whose pixels give colour and brightness.
CENTRE_BOX = (0.3, 0.3, 0.7, 0.7)
#: Brightness bands on the mean luma (0..255) of the central box.
BRIGHTNESS_BANDS: tuple[tuple[str, float], ...] = (("dark", 85.0), ("medium", 165.0))
BRIGHTNESS_VALUES: tuple[str, ...] = ("dark", "medium", "light")
#: Colour names a photo can be given (the central box's most frequent pixel colour).
COLOUR_NAMES: tuple[str, ...] = (
    "black", "grey", "white", "beige", "brown", "red", "orange", "yellow", "green", "blue",
    "purple", "pink",
)  # fmt: skip


@dataclass(frozen=True)
class Photo:
    """One product photo: where it came from, its class, and the JPEG that ships."""

    source: str  #: path relative to the photo folder
    garment_class: str
    kids: bool
    jpeg: bytes
    colour: str
    brightness: str
    luma: float

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()


@dataclass(frozen=True)
class PhotoFolder:
    """Every photo of a folder with its licence text and its README (empty if none)."""

    root: Path
    photos: tuple[Photo, ...]
    license_text: str
    readme_text: str


def _hue_degrees(x: np.ndarray, mx: np.ndarray, mn: np.ndarray) -> np.ndarray:
    """HSV hue in degrees [0, 360) of rows of RGB in [0, 1] (0 where the pixel is grey)."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    d = np.where(mx > mn, mx - mn, 1.0)
    h = np.where(
        mx == r, (g - b) / d % 6.0, np.where(mx == g, (b - r) / d + 2.0, (r - g) / d + 4.0)
    )
    return np.where(mx > mn, h * 60.0 % 360.0, 0.0)


def pixel_colour_names(rgb: np.ndarray) -> np.ndarray:
    """The colour name index (into :data:`COLOUR_NAMES`) of every pixel of an ``(n, 3)`` array."""
    x = np.asarray(rgb, dtype=np.float64) / 255.0
    mx, mn = x.max(axis=1), x.min(axis=1)
    v = mx
    s = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-9), 0.0)
    h = _hue_degrees(x, mx, mn)
    name = np.full(len(x), COLOUR_NAMES.index("grey"))
    idx = {c: COLOUR_NAMES.index(c) for c in COLOUR_NAMES}
    chroma = s >= 0.18
    hue_bins = (
        (15.0, "red"), (40.0, "orange"), (68.0, "yellow"), (165.0, "green"), (255.0, "blue"),
        (290.0, "purple"), (340.0, "pink"), (361.0, "red"),
    )  # fmt: skip
    lo = 0.0
    for hi, colour in hue_bins:
        sel = chroma & (h >= lo) & (h < hi)
        name[sel] = idx[colour]
        lo = hi
    # dark oranges and yellows read as brown; pale warm low-saturation tones as beige
    name[chroma & (h >= 15) & (h < 68) & (v < 0.6)] = idx["brown"]
    name[(s >= 0.12) & (s < 0.35) & (h >= 20) & (h < 60) & (v >= 0.55)] = idx["beige"]
    grey = ~chroma & ~((s >= 0.12) & (s < 0.35) & (h >= 20) & (h < 60) & (v >= 0.55))
    name[grey & (v >= 0.72)] = idx["white"]
    name[grey & (v >= 0.22) & (v < 0.72)] = idx["grey"]
    name[v < 0.22] = idx["black"]
    return name


def measure_photo(image: Image.Image) -> tuple[str, str, float]:
    """``(colour, brightness, luma)`` of the central box of ``image`` (RGB)."""
    w, h = image.size
    x0, y0, x1, y1 = CENTRE_BOX
    box = image.crop((int(x0 * w), int(y0 * h), max(int(x1 * w), 1), max(int(y1 * h), 1)))
    small = box.resize((24, 24), Image.Resampling.BILINEAR)
    px = np.asarray(small.convert("RGB"), dtype=np.float64).reshape(-1, 3)
    names = pixel_colour_names(px)
    colour = COLOUR_NAMES[int(np.bincount(names, minlength=len(COLOUR_NAMES)).argmax())]
    luma = float((px @ np.array([0.299, 0.587, 0.114])).mean())
    brightness = BRIGHTNESS_VALUES[-1]
    for band, top in BRIGHTNESS_BANDS:
        if luma < top:
            brightness = band
            break
    return colour, brightness, luma


def downsize(image: Image.Image, size: int = PHOTO_SIZE) -> bytes:
    """``image`` with its longest side at most ``size`` px, as JPEG bytes (EXIF rotation applied)."""
    im = ImageOps.exif_transpose(image) or image
    im = im.convert("RGB")
    im.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=PHOTO_QUALITY, optimize=True)
    return buf.getvalue()


def _read_kids(path: Path) -> dict[str, bool]:
    """``image`` (file stem) → kids flag from ``images.csv``."""
    out: dict[str, bool] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"image", "kids"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(
                f"{path}: has no column {', '.join(sorted(missing))}; images.csv needs the "
                "columns image (file name without .jpg) and kids (True/False)."
            )
        for line, row in enumerate(reader, start=2):
            value = (row["kids"] or "").strip().lower()
            if value not in ("true", "false"):
                raise DatasetError(
                    f"{path}, line {line}: kids is {row['kids']!r}; write True or False."
                )
            out[row["image"].strip()] = value == "true"
    return out


def find_photo_files(root: Path) -> list[Path]:
    """Every photo under ``root`` (any depth), sorted by relative path."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)


def load_photo_folder(
    root: str | Path, *, limit_per_class: int | None = None, size: int = PHOTO_SIZE
) -> PhotoFolder:
    """Read, downsize and measure every photo of ``root`` (see the module docstring).

    ``limit_per_class`` keeps the first photos of each class (by path) for a small build.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: is not a directory; --photos takes the photo folder.")
    license_path = root / LICENSE_FILE
    if not license_path.is_file():
        raise DatasetError(
            f"{root}: has no {LICENSE_FILE} file; the photos' licence ships with the sample, so "
            "put the licence text in a LICENSE file beside the class folders."
        )
    kids = _read_kids(root / IMAGES_CSV) if (root / IMAGES_CSV).is_file() else {}
    files = find_photo_files(root)
    if not files:
        raise DatasetError(
            f"{root}: holds no photos (.jpg, .jpeg, .png) in class sub-folders; lay them out as "
            "<folder>/<class>/<photo>.jpg."
        )
    per_class: dict[str, int] = {}
    photos: list[Photo] = []
    for path in files:
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            raise DatasetError(
                f"{path}: sits directly in the photo folder; put every photo in a sub-folder "
                "named after its garment class."
            )
        cls = rel.parts[-2].lower()
        if limit_per_class is not None and per_class.get(cls, 0) >= limit_per_class:
            continue
        try:
            data = read_photo_file(path)  # a regular file within the limit, checked first
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                jpeg = downsize(im, size)
        except (OSError, SyntaxError, ValueError) as exc:
            raise DatasetError(
                f"{path}: could not be read as an image ({type(exc).__name__}: {exc}); remove "
                "or replace the file."
            ) from None
        with Image.open(io.BytesIO(jpeg)) as small:
            colour, brightness, luma = measure_photo(small.convert("RGB"))
        if kids and path.stem not in kids:
            raise DatasetError(
                f"{root / IMAGES_CSV}: has no row for {rel} (image {path.stem!r}); add the row "
                "or remove images.csv."
            )
        per_class[cls] = per_class.get(cls, 0) + 1
        photos.append(
            Photo(
                source=rel.as_posix(),
                garment_class=cls,
                kids=kids.get(path.stem, False),
                jpeg=jpeg,
                colour=colour,
                brightness=brightness,
                luma=luma,
            )
        )
    readme = root / README_FILE
    readme_text = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    return PhotoFolder(
        root=root,
        photos=tuple(photos),
        license_text=license_path.read_text(encoding="utf-8", errors="replace"),
        readme_text=readme_text,
    )
