"""Encoding the sample's photos and copy once, with an on-disk cache keyed by content.

The sample's shoppers choose in the feature spaces the offline encoders produce, so the
build needs the features before it can draw a single purchase. Encoding 1,341 photos on a
CPU takes minutes; :class:`FeatureCache` keeps every feature under the SHA-256 of what was
encoded (the JPEG bytes, the text) and of the encoder's name, so a rebuild with other shopper
settings encodes nothing again, and a changed photo or description is encoded afresh.

:class:`Encoders` is what the build calls: the offline encoders by default; tests pass small
deterministic ones (or fill the cache with precomputed features).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anchorrec.errors import DatasetError
from anchorrec.fileio import atomic_write_bytes

ImageEncodeFn = Callable[[Sequence[bytes]], np.ndarray]
TextEncodeFn = Callable[[Sequence[str]], np.ndarray]

#: Names of the offline encoders (part of every cache key).
IMAGE_MODEL = "efficientnet-lite0-imagenet-gap"
TEXT_MODEL = "all-MiniLM-L6-v2-mean-l2"


@dataclass(frozen=True)
class Encoders:
    """An image encoder (JPEG bytes → rows) and a text encoder (strings → rows), with names."""

    image: ImageEncodeFn
    text: TextEncodeFn
    image_name: str
    text_name: str


def offline_encoders(device: str = "auto", progress: bool = False) -> Encoders:
    """The project's offline encoders: EfficientNet-Lite0 (1280-d) and MiniLM (384-d)."""

    def image(jpegs: Sequence[bytes]) -> np.ndarray:
        from PIL import Image

        from anchorrec.encoders.image import ImageEncoder

        pictures = [Image.open(io.BytesIO(b)).convert("RGB") for b in jpegs]
        return ImageEncoder(device).encode_images(pictures, progress=progress)

    def text(texts: Sequence[str]) -> np.ndarray:
        from anchorrec.encoders.text import TextEncoder

        return TextEncoder(device).encode(list(texts), progress=progress)

    return Encoders(image=image, text=text, image_name=IMAGE_MODEL, text_name=TEXT_MODEL)


def content_key(model: str, payload: bytes) -> str:
    """The cache key of ``payload`` encoded by ``model``."""
    return hashlib.sha256(model.encode("utf-8") + b"\0" + payload).hexdigest()


class FeatureCache:
    """Features on disk under ``directory/<model>.npz`` (keys and rows), looked up by content.

    Without a directory it is a no-op: everything is encoded.
    """

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None

    def _file(self, model: str) -> Path:
        assert self.directory is not None
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
        return self.directory / f"{safe}.npz"

    def _read(self, model: str) -> dict[str, np.ndarray]:
        if self.directory is None or not self._file(model).is_file():
            return {}
        path = self._file(model)
        try:
            with np.load(path, allow_pickle=False) as z:
                keys, rows = z["keys"], z["rows"]
        except (OSError, ValueError, KeyError) as exc:
            raise DatasetError(
                f"{path}: is not a readable feature cache ({type(exc).__name__}: {exc}); delete "
                "it and the build encodes afresh."
            ) from None
        return {str(k): rows[n] for n, k in enumerate(keys)}

    def _write(self, model: str, table: dict[str, np.ndarray]) -> None:
        if self.directory is None or not table:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        keys = sorted(table)
        buf = io.BytesIO()
        np.savez(buf, keys=np.array(keys), rows=np.stack([table[k] for k in keys]))
        atomic_write_bytes(self._file(model), buf.getvalue())

    def encode(
        self, model: str, payloads: Sequence[bytes], encode: Callable[[list[int]], np.ndarray]
    ) -> tuple[np.ndarray, int]:
        """Rows for ``payloads``: cached ones read back, the rest from ``encode(indices)``.

        Returns the float32 matrix and how many rows were encoded now.
        """
        keys = [content_key(model, p) for p in payloads]
        table = self._read(model)
        missing = [n for n, k in enumerate(keys) if k not in table]
        if missing:
            fresh = np.asarray(encode(missing), dtype=np.float32)
            if fresh.shape[0] != len(missing):
                raise ValueError(
                    f"encoder {model} returned {fresh.shape[0]} rows for {len(missing)}"
                )
            for n, row in zip(missing, fresh, strict=True):
                table[keys[n]] = row
            self._write(model, table)
        dims = {table[k].shape for k in keys}
        if len(dims) != 1:
            raise DatasetError(
                f"{self._file(model)}: holds features of different widths {sorted(dims)}; delete "
                "it and the build encodes afresh."
            )
        return np.stack([table[k] for k in keys]).astype(np.float32), len(missing)


def encode_catalogue(
    jpegs: Sequence[bytes],
    texts: Sequence[str],
    encoders: Encoders,
    cache: FeatureCache,
) -> tuple[np.ndarray, np.ndarray]:
    """Image features of ``jpegs`` and text features of ``texts``, through ``cache``."""
    image, _ = cache.encode(
        encoders.image_name, list(jpegs), lambda idx: encoders.image([jpegs[i] for i in idx])
    )
    text, _ = cache.encode(
        encoders.text_name,
        [t.encode("utf-8") for t in texts],
        lambda idx: encoders.text([texts[i] for i in idx]),
    )
    return image, text
