"""The bundled sample the app opens on: complete on its own, Baby-like, with new arrivals,
and built past the content-headroom gate. Read from the files; no id is hard-coded."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.data.features import build_fused_features
from anchorrec.workspace import SAMPLE_DATASET_DIR


@pytest.fixture(scope="module")
def sample():
    from anchorrec.data.mmrec import load_mmrec

    return load_mmrec(SAMPLE_DATASET_DIR)


def test_it_loads_cleanly_with_both_encoders_features(sample) -> None:
    assert sample.warnings == () and sample.dropped_users == 0
    assert set(sample.features) == {"image", "text", "fused"}
    for m in ("image", "text", "fused"):
        assert sample.features[m].shape[0] == sample.n_items
    # the shipped fused matrix is the project's rule, so every model treats it as derived
    expected = build_fused_features(sample.features["image"], sample.features["text"])
    np.testing.assert_allclose(sample.features["fused"], expected, rtol=1e-6, atol=1e-6)


def test_every_photo_ships_with_its_licence_and_source(sample) -> None:
    images = SAMPLE_DATASET_DIR / "images"
    assert (images / "LICENSE").is_file() and (images / "SOURCE.md").is_file()
    assert "CC0" in (images / "LICENSE").read_text(encoding="utf-8")
    paths = sample.items["image"].astype(str)
    assert paths.is_unique
    missing = [p for p in paths if not (SAMPLE_DATASET_DIR / p).is_file()]
    assert not missing, missing[:5]
    for column in ("title", "description", "category", "price", "release_date"):
        assert sample.items[column].notna().all(), column


def test_density_is_like_amazon_baby(sample) -> None:
    per_user = np.diff(sample.train.tocsr().indptr)
    per_item = np.asarray(sample.train.sum(axis=0)).ravel()
    assert 4 <= np.median(per_user) <= 6
    assert (per_item < 5).mean() >= 0.15
    assert per_user.min() >= 1


def test_new_arrivals_are_few_in_train_and_bought_later(sample) -> None:
    new = sample.items["new_arrival"].astype(str).str.lower().eq("true").to_numpy()
    assert 0.10 <= new.mean() <= 0.20
    train = np.asarray(sample.train.sum(axis=0)).ravel()
    assert train[new].max() <= 2
    assert sample.valid[:, new].nnz > 0 and sample.test[:, new].nnz > 0
    old_last = sample.items.loc[~new, "release_date"].max()
    assert (sample.items.loc[new, "release_date"] > old_last).all()


def test_shoppers_are_visual_textual_or_collaborative(sample) -> None:
    groups = sample.users["group"].astype(str)
    assert set(groups) == {"visual", "textual", "collaborative"}
    assert groups.value_counts().min() >= 0.2 * sample.n_users


def test_the_datasheet_records_a_passed_gate() -> None:
    sheet = (SAMPLE_DATASET_DIR / "DATASHEET.md").read_text(encoding="utf-8")
    assert "Gate (passed)" in sheet and "FAILED" not in sheet
    assert sheet.count("- passed:") == 3
