"""safe_extract_zip on good archives, find_dataset_root, and the fused-feature rule."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from anchorrec.data.archive import find_dataset_root, safe_extract_zip
from anchorrec.data.features import build_fused_features, l2_normalise_rows
from anchorrec.data.mmrec import load_mmrec
from anchorrec.errors import DatasetError
from tests.data.malformed.corpus import write_valid_mmrec


def test_a_zipped_dataset_extracts_and_loads(tmp_path: Path) -> None:
    src = write_valid_mmrec(tmp_path / "toy")
    archive = tmp_path / "toy.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("toy/", b"")  # a directory entry
        for f in src.iterdir():
            zf.write(f, f"toy/{f.name}")
        zf.writestr("__MACOSX/toy/._toy.inter", b"junk")
    target = tmp_path / "upload"
    target.mkdir()  # an empty existing folder is fine
    assert safe_extract_zip(archive, target, max_bytes=1_000_000) == target
    root = find_dataset_root(target)
    assert root == target / "toy"
    assert load_mmrec(root).fingerprint == load_mmrec(src).fingerprint


def test_extraction_refuses_a_non_empty_target(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x.txt", b"x")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    with pytest.raises(DatasetError, match="not empty"):
        safe_extract_zip(archive, target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


def test_an_archive_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * 200_000)
    # Forge the central directory so the archive claims a tiny size.
    data = bytearray(archive.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # uncompressed size
    archive.write_bytes(bytes(data))
    target = tmp_path / "out"
    with pytest.raises(DatasetError) as err:
        safe_extract_zip(archive, target, max_bytes=50_000)
    assert "bomb.zip" in str(err.value) and "corrupt" in str(err.value)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bomb.zip"]


def test_find_dataset_root_needs_exactly_one_inter_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(DatasetError, match="no .inter file"):
        find_dataset_root(tmp_path)
    (tmp_path / "a" / "x.inter").write_text("")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "y.inter").write_text("")
    with pytest.raises(DatasetError, match="several folders"):
        find_dataset_root(tmp_path)


def test_fused_feature_is_the_concatenation_of_unit_norm_halves() -> None:
    rng = np.random.default_rng(0)
    image = rng.normal(size=(5, 7)) * 100
    text = rng.normal(size=(5, 3)) * 0.01
    image[2] = 0.0  # an item without an image feature stays zero, not NaN
    fused = build_fused_features(image, text)
    assert fused.shape == (5, 10) and fused.dtype == np.float32
    norms_img = np.linalg.norm(fused[:, :7], axis=1)
    np.testing.assert_allclose(norms_img[[0, 1, 3, 4]], 1.0, rtol=1e-6)
    assert norms_img[2] == 0.0
    np.testing.assert_allclose(np.linalg.norm(fused[:, 7:], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(fused[:, 7:], l2_normalise_rows(text), rtol=1e-6)
    # direction is kept: each half is a positive multiple of the input row
    np.testing.assert_allclose(fused[0, :7] * np.linalg.norm(image[0]), image[0], rtol=1e-5)
    with pytest.raises(ValueError, match="one row per item"):
        build_fused_features(image, text[:4])


def test_validate_accepts_a_zipped_dataset(tmp_path: Path, capsys) -> None:
    from anchorrec.cli import main

    src = write_valid_mmrec(tmp_path / "toy")
    archive = tmp_path / "toy.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in src.iterdir():
            zf.write(f, f"wrapped/{f.name}")
    assert main(["validate", str(archive)]) == 0
    assert "items        8" in capsys.readouterr().out
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../x.inter", b"x")
    assert main(["validate", str(tmp_path / "evil.zip")]) == 2
    assert "evil.zip" in capsys.readouterr().err
