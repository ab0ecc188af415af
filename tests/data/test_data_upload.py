"""An uploaded catalogue: caps, refusals and errors that name the uploaded file."""

from __future__ import annotations

import pytest

from anchorrec.data.upload import MB, Upload, check_size, import_uploaded_catalog
from anchorrec.errors import DatasetError
from tests.data.malformed.corpus import write_valid_catalog


def _uploads(cat):
    return (
        Upload("items.csv", cat["items"].read_bytes()),
        Upload("interactions.csv", cat["interactions"].read_bytes()),
    )


def test_a_file_over_its_cap_is_refused_by_name():
    check_size(Upload("small.csv", b"x" * MB), 1)
    with pytest.raises(DatasetError, match=r"big\.csv is 2 MB; the limit is 1 MB"):
        check_size(Upload("big.csv", b"x" * (2 * MB)), 1)


def test_missing_files_photos_or_a_taken_name_are_refused(tmp_path):
    cat = write_valid_catalog(tmp_path / "cat")
    items, inter = _uploads(cat)
    with pytest.raises(DatasetError, match="Upload both"):
        import_uploaded_catalog(tmp_path / "out", items, None, photos_dir=str(cat["images"]))
    with pytest.raises(DatasetError, match="photo folder's path or upload a zip"):
        import_uploaded_catalog(tmp_path / "out", items, inter)
    (tmp_path / "taken").mkdir()
    with pytest.raises(DatasetError, match="already exists"):
        import_uploaded_catalog(tmp_path / "taken", items, inter, photos_dir=str(cat["images"]))


def test_an_import_error_names_the_uploaded_file_not_its_temporary_copy(tmp_path):
    cat = write_valid_catalog(tmp_path / "cat")
    items, inter = _uploads(cat)
    out = tmp_path / "datasets" / "shop"
    with pytest.raises(DatasetError) as err:  # 4 purchases a shopper: the 5-core empties it
        import_uploaded_catalog(out, items, inter, photos_dir=str(cat["images"]), k_core=5)
    assert "uploaded interactions.csv" in str(err.value)
    assert ".upload-" not in str(err.value)
    assert not out.exists() and not list(out.parent.glob(".upload-*"))  # nothing left behind


def test_photos_zipped_in_one_top_folder_are_found(tmp_path):
    from anchorrec.data.upload import photo_root

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "p0.png").write_bytes(b"x")
    assert photo_root(flat) == flat
    nested = tmp_path / "nested"
    (nested / "photos").mkdir(parents=True)
    (nested / "__MACOSX").mkdir()
    (nested / "photos" / "p0.png").write_bytes(b"x")
    assert photo_root(nested) == nested / "photos"


def test_import_errors_speak_the_pages_words(tmp_path):
    cat = write_valid_catalog(tmp_path / "cat")
    items, inter = _uploads(cat)
    with pytest.raises(DatasetError) as err:
        import_uploaded_catalog(
            tmp_path / "out", items, inter, photos_dir=str(cat["images"]), k_core=5
        )
    assert "--" not in str(err.value) and "k-core" in str(err.value)


# ------------------------------------------------------------------------------ round three
def _zip_bytes(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_an_uploaded_utf32_items_csv_is_named_with_its_encoding(tmp_path):
    cat = write_valid_catalog(tmp_path / "cat")
    items = Upload("items.csv", cat["items"].read_text(encoding="utf-8").encode("utf-32"))
    inter = Upload("interactions.csv", cat["interactions"].read_bytes())
    with pytest.raises(DatasetError) as err:
        import_uploaded_catalog(tmp_path / "out", items, inter, photos_dir=str(cat["images"]))
    message = str(err.value)
    assert "uploaded items.csv" in message and "UTF-32" in message and "utf-32" in message
    assert ".upload-" not in message and not (tmp_path / "out").exists()


def test_an_uploaded_photo_zip_holding_only_a_zip_says_so(tmp_path):
    cat = write_valid_catalog(tmp_path / "cat")
    items, inter = _uploads(cat)
    photos = {f.name: f.read_bytes() for f in sorted(cat["images"].iterdir())}
    nested = Upload("photos.zip", _zip_bytes({"inner.zip": _zip_bytes(photos)}))
    with pytest.raises(DatasetError) as err:
        import_uploaded_catalog(tmp_path / "out", items, inter, photos_zip=nested, k_core=3)
    assert "photos.zip" in str(err.value) and "only another archive (inner.zip)" in str(err.value)
    assert ".upload-" not in str(err.value) and not (tmp_path / "out").exists()
