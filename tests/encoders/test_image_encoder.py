"""The offline image encoder: shapes, failures that never crash, class structure, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anchorrec.encoders.image import IMAGE_DIM, ImageEncoder, ImageFailure


@pytest.fixture(scope="module")
def encoder() -> ImageEncoder:
    return ImageEncoder(device="cpu")


def _square(colour: tuple[int, ...], mode: str = "RGB", size: int = 64) -> Image.Image:
    return Image.new(mode, (size, size), colour)


def test_encode_images_shape_dtype_and_modes(encoder: ImageEncoder) -> None:
    images = [
        _square((200, 30, 30)),
        _square((200, 30, 30, 255), "RGBA"),
        _square(128, "L"),
        _square((10, 200, 10)).convert("P"),
    ]
    feats = encoder.encode_images(images)
    assert feats.shape == (4, IMAGE_DIM) == (4, encoder.dim)
    assert feats.dtype == np.float32
    assert np.isfinite(feats).all()
    # An opaque RGBA image encodes like its RGB twin.
    np.testing.assert_allclose(feats[0], feats[1], atol=1e-4)


def test_transparent_pixels_are_composited_on_white(encoder: ImageEncoder) -> None:
    transparent = _square((0, 0, 0, 0), "RGBA")
    white = _square((255, 255, 255))
    a, b = encoder.encode_images([transparent, white])
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_failures_are_reported_and_rows_are_zero(
    encoder: ImageEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good.png"
    _square((20, 20, 180)).save(good)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    big = tmp_path / "bomb.png"
    _square((1, 2, 3), size=300).save(big)
    missing = tmp_path / "missing.jpg"
    # 300×300 = 90,000 px: above a 40,000-px limit (warning) and 2× it (error).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40_000)
    paths = [good, empty, corrupt, missing, truncated, big]
    feats, failures = encoder.encode_paths(paths, batch_size=4)
    assert feats.shape == (6, IMAGE_DIM)
    by_index = {f.index: f for f in failures}
    assert set(by_index) == {1, 2, 3, 4, 5}
    assert all(isinstance(f, ImageFailure) and f.path == str(paths[f.index]) for f in failures)
    assert "empty" in by_index[1].reason
    assert "not found" in by_index[3].reason
    assert "decompression bomb" in by_index[5].reason
    assert np.abs(feats[0]).sum() > 0
    assert not feats[1:].any()


def test_bomb_warning_zone_is_a_failure_too(
    encoder: ImageEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "large.png"
    _square((5, 5, 5), size=250).save(p)  # 62,500 px: between the limit and twice the limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40_000)
    _, failures = encoder.encode_paths([p])
    assert len(failures) == 1 and "decompression bomb" in failures[0].reason


def test_deterministic(encoder: ImageEncoder) -> None:
    images = [_square((i * 40, 100, 255 - i * 40)) for i in range(3)]
    np.testing.assert_array_equal(encoder.encode_images(images), encoder.encode_images(images))


@pytest.mark.shared
def test_same_class_photos_are_closer_than_other_classes(
    encoder: ImageEncoder, shared_dir: Path
) -> None:
    root = shared_dir / "data" / "clothing_cc0" / "validation"
    classes = ["shoes", "dress", "pants", "hat"]
    paths, labels = [], []
    for k, name in enumerate(classes):
        files = sorted((root / name).glob("*.jpg"))[:6]
        if len(files) < 2:
            pytest.skip(f"too few images of {name} in {root}")
        paths += files
        labels += [k] * len(files)
    feats, failures = encoder.encode_paths(paths, batch_size=8)
    assert failures == []
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    sim = unit @ unit.T
    labels_arr = np.asarray(labels)
    same = labels_arr[:, None] == labels_arr[None, :]
    off_diag = ~np.eye(len(labels), dtype=bool)
    within = sim[same & off_diag].mean()
    across = sim[~same].mean()
    assert within > across + 0.05
