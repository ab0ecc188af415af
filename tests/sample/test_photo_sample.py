"""The photo sample: catalogue from photos, shoppers, chronological split and the headroom gate.

The photos here are generated (a coloured garment shape on a coloured background) and the
encoders are small deterministic stand-ins (a 6×4-pixel thumbnail; hashed words), so the
tests need neither ../shared nor the offline models; one test, marked ``shared``, reads the
real CC0 photos.
"""

from __future__ import annotations

import colorsys
import io
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

from anchorrec.cli import main
from anchorrec.data.mmrec import load_mmrec
from anchorrec.errors import DatasetError
from anchorrec.sample.encoding import IMAGE_MODEL, TEXT_MODEL, Encoders, FeatureCache
from anchorrec.sample.headroom import (
    HeadroomError,
    ease_weights,
    headroom_report,
    recall_ndcg,
)
from anchorrec.sample.photo_build import (
    PHOTO_ITEM_COLUMNS,
    PhotoSampleConfig,
    build_photo_sample,
    generate_photo_sample,
)
from anchorrec.sample.photos import COLOUR_NAMES, load_photo_folder, pixel_colour_names
from anchorrec.sample.tastes import NEW_ARRIVAL_TRAIN_CAP, TasteConfig, chronological_split
from anchorrec.sample.wardrobe import OCCASIONS, write_item

CLASSES = ("dress", "hat", "pants", "shoes", "t-shirt")
PER_CLASS = 16
N_USERS = 700


def _photo(rng: np.random.Generator, cls: int) -> Image.Image:
    w, h = 200, 300
    bg = tuple(int(c) for c in rng.integers(120, 256, 3))
    im = Image.new("RGB", (w, h), bg)
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.2, 1.0), rng.uniform(0.15, 1.0))
    fill = (int(255 * r), int(255 * g), int(255 * b))
    d = ImageDraw.Draw(im)
    box = [(40 + 10 * cls, 40), (160 - 5 * cls, 260 - 20 * cls)]
    (d.ellipse if cls % 2 else d.rectangle)(box, fill=fill)
    return im


def write_photo_folder(root: Path, per_class: int = PER_CLASS, seed: int = 0) -> Path:
    """A photo folder in the CC0 set's layout: train/<class>/*.jpg, LICENSE, images.csv."""
    rng = np.random.default_rng(seed)
    rows = ["image,sender_id,label,kids"]
    for c, cls in enumerate(CLASSES):
        folder = root / "train" / cls
        folder.mkdir(parents=True)
        for n in range(per_class):
            stem = f"{cls}-{n:03d}"
            _photo(rng, c).save(folder / f"{stem}.jpg", quality=90)
            rows.append(f"{stem},1,{cls},{'True' if n % 7 == 0 else 'False'}")
    (root / "images.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "LICENSE").write_text("CC0 1.0 Universal (test photos)\n", encoding="utf-8")
    (root / "README.md").write_text("Generated test photos.\n", encoding="utf-8")
    return root


def _thumbnail_features(jpegs) -> np.ndarray:
    rows = []
    for b in jpegs:
        with Image.open(io.BytesIO(b)) as im:
            small = im.convert("RGB").resize((4, 6), Image.Resampling.BILINEAR)
        rows.append(np.asarray(small, dtype=np.float32).ravel() / 255.0)
    return np.stack(rows)


def _hashed_words(texts, dim: int = 96) -> np.ndarray:
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for n, t in enumerate(texts):
        for word in t.lower().replace(".", " ").replace(",", " ").split():
            out[n, zlib.crc32(word.encode()) % dim] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


#: Stand-ins for the offline encoders, under the offline encoders' names so that a cache
#: they fill is what the CLI reads back.
TINY = Encoders(_thumbnail_features, _hashed_words, IMAGE_MODEL, TEXT_MODEL)


def _config(photos: Path, **tastes) -> PhotoSampleConfig:
    return PhotoSampleConfig(photos=photos, tastes=TasteConfig(n_users=N_USERS, **tastes))


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_photo_folder(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def built(photo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sample") / "wardrobe"
    sample = build_photo_sample(out, _config(photo_dir), encoders=TINY)
    return out, sample


def test_small_build_passes_the_gate_and_writes_the_layout(built) -> None:
    out, sample = built
    assert sample.report.passed, sample.report.failure_message()
    for name in ("wardrobe.inter", "image_feat.npy", "text_feat.npy", "fused_feat.npy",
                 "items.csv", "users.csv", "purchases.csv", "DATASHEET.md", "images/LICENSE",
                 "images/SOURCE.md", "images/README.md"):  # fmt: skip
        assert (out / name).is_file(), name
    ds = load_mmrec(out)
    assert ds.warnings == ()
    items = pd.read_csv(out / "items.csv")
    assert tuple(items.columns) == PHOTO_ITEM_COLUMNS
    assert set(items["category"]) == set(CLASSES)
    assert set(items["colour"]) <= set(COLOUR_NAMES)
    for rel in items["image"]:
        with Image.open(out / rel) as im:
            assert max(im.size) == 256 and im.format == "JPEG"
    assert "CC0" in (out / "images/LICENSE").read_text(encoding="utf-8")
    # the 5-core holds over all splits
    full = (ds.train + ds.valid + ds.test).tocsr()
    assert np.diff(full.indptr).min() >= 5 and full.sum(axis=0).min() >= 5


def test_datasheet_carries_the_gate_figures(built) -> None:
    out, sample = built
    sheet = (out / "DATASHEET.md").read_text(encoding="utf-8")
    assert sample.report.table() in sheet
    for check in sample.report.checks:
        assert check.describe() in sheet
    f = sample.report.figure("image_knn", "visual")
    assert f"{f.recall:.3f} / {f.ndcg:.3f}" in sheet
    assert "Gate (passed)" in sheet


def test_new_arrivals_are_late_and_bought_in_valid_and_test(built) -> None:
    out, sample = built
    ds = load_mmrec(out)
    items = pd.read_csv(out / "items.csv")
    new = items["new_arrival"].to_numpy(dtype=bool)
    assert 0.10 <= new.mean() <= 0.20
    assert items.loc[new, "release_date"].min() > items.loc[~new, "release_date"].max()
    train_counts = ds.item_popularity()
    assert train_counts[new].max() <= NEW_ARRIVAL_TRAIN_CAP
    assert np.asarray(ds.test.sum(axis=0)).ravel()[new].sum() > 0
    assert np.asarray(ds.valid.sum(axis=0)).ravel()[new].sum() > 0
    # chronological: every shopper's valid/test purchases come after their train purchases
    purchases = pd.read_csv(out / "purchases.csv")
    last_train = purchases[purchases["split"] == "train"].groupby("user_id")["day"].max()
    first_held = purchases[purchases["split"] != "train"].groupby("user_id")["day"].min()
    both = pd.concat([last_train, first_held], axis=1, join="inner")
    assert (both.iloc[:, 0] < both.iloc[:, 1]).all()
    # ... and purchases.csv is the .inter file with days
    assert len(purchases) == ds.n_interactions


def test_users_record_group_and_taste(built) -> None:
    out, sample = built
    users = pd.read_csv(out / "users.csv", keep_default_na=False)
    assert set(users["group"]) == {"visual", "textual", "collaborative"}
    content = users[users["group"] != "collaborative"]
    assert (content["seed_items"].str.len() > 0).all()
    assert (content["seed_photos"].str.startswith("train/")).all()
    assert (users.loc[users["group"] == "collaborative", "co_purchase_groups"].str.len() > 0).all()
    numeric = pd.read_csv(out / "users.csv")
    content_rows = numeric["group"] != "collaborative"
    assert (numeric.loc[content_rows, "temperature"] > 0).all()
    assert numeric.loc[~content_rows, "temperature"].isna().all()
    assert numeric["w_popularity"].between(0, 1).all()
    assert users["purchases"].min() >= 5


def test_copy_states_copy_only_attributes_and_never_brightness(built) -> None:
    out, _ = built
    items = pd.read_csv(out / "items.csv")
    for _, row in items.iterrows():
        text = f"{row['title']} {row['description']}".lower()
        assert row["colour"] in text and row["collection"].lower() in text
        assert row["material"] in text
        assert any(p.lower() in text for p in OCCASIONS[row["occasion"]])
        assert not any(w in text for w in ("dark", "medium", "light")), text
        # two sentences, each ending in a full stop
        assert row["description"].count(". ") == 1 and row["description"].endswith(".")


def test_same_arguments_give_the_same_sample(built, photo_dir: Path, tmp_path: Path) -> None:
    out, _ = built
    again = tmp_path / "again"
    build_photo_sample(again, _config(photo_dir), encoders=TINY)
    for name in ("wardrobe.inter", "items.csv", "users.csv", "purchases.csv", "DATASHEET.md"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_gate_fails_when_content_is_irrelevant(photo_dir: Path) -> None:
    # a huge temperature makes every item equally appealing to content shoppers
    with pytest.raises(HeadroomError, match="missed image kNN − EASE, visual shoppers"):
        generate_photo_sample(_config(photo_dir, temperature=1000.0), encoders=TINY)


def test_gate_fails_on_shuffled_features(built) -> None:
    out, sample = built
    ds = load_mmrec(out)
    users = pd.read_csv(out / "users.csv")
    items = pd.read_csv(out / "items.csv")
    perm = np.random.default_rng(0).permutation(ds.n_items)
    report = headroom_report(
        ds.train, ds.valid, ds.test, ds.features["image"][perm], ds.features["text"][perm],
        users["group"].to_numpy(dtype=str), items["new_arrival"].to_numpy(dtype=bool),
    )  # fmt: skip
    assert not report.passed
    missed = {c.name for c in report.checks if not c.passed}
    assert "image kNN − EASE, visual shoppers" in missed
    assert "text kNN − EASE, textual shoppers" in missed


def test_cli_builds_from_a_filled_cache_and_exits_2_when_the_gate_fails(
    photo_dir: Path, tmp_path: Path, capsys
) -> None:
    cache = FeatureCache(tmp_path / "cache")
    # fill the cache with the stand-in features; the CLI then encodes nothing
    generate_photo_sample(_config(photo_dir), encoders=TINY, cache=cache)
    args = ["sample", "build", "--photos", str(photo_dir), "--users", str(N_USERS),
            "--feature-cache", str(tmp_path / "cache"), "--device", "cpu", "--quiet"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "DATASHEET.md").is_file()
    failed = tmp_path / "irrelevant"
    assert main([*args, "--out", str(failed), "--temperature", "1000"]) == 2
    err = capsys.readouterr().err
    assert "headroom gate failed" in err and "missed image kNN − EASE, visual shoppers" in err
    assert "Traceback" not in err and not failed.exists()
    # --no-gate writes it anyway and the datasheet says the gate failed
    assert main([*args, "--out", str(failed), "--temperature", "1000", "--no-gate"]) == 0
    assert "Gate (FAILED)" in (failed / "DATASHEET.md").read_text(encoding="utf-8")


def test_photo_folder_errors_name_the_file(tmp_path: Path) -> None:
    root = write_photo_folder(tmp_path / "p", per_class=1)
    (root / "LICENSE").unlink()
    with pytest.raises(DatasetError, match="LICENSE"):
        load_photo_folder(root)
    (root / "LICENSE").write_text("CC0", encoding="utf-8")
    Image.new("RGB", (50, 50)).save(root / "train" / "hat" / "stranger.jpg")
    with pytest.raises(DatasetError, match=r"no row for train/hat/stranger\.jpg"):
        load_photo_folder(root)
    (root / "train" / "hat" / "stranger.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match="could not be read as an image"):
        load_photo_folder(root)


def test_cli_refuses_bad_photo_options(photo_dir: Path, tmp_path: Path, capsys) -> None:
    base = ["sample", "build", "--out", str(tmp_path / "x"), "--quiet"]
    assert main([*base, "--photos", str(tmp_path / "missing")]) == 2
    assert "--photos takes the photo folder" in capsys.readouterr().err
    assert main([*base, "--photos", str(photo_dir), "--temperature", "0"]) == 2
    assert "temperature" in capsys.readouterr().err
    assert main(["sample", "build", "--quiet"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main([*base, "--temperature", "0.1"]) == 2  # a photo option without --photos
    assert "only apply to the photo sample" in capsys.readouterr().err


def test_pixel_colour_names() -> None:
    px = np.array([[10, 10, 10], [240, 240, 240], [128, 128, 128], [220, 30, 30],
                   [30, 60, 200], [40, 180, 60], [120, 70, 20], [230, 220, 40]])  # fmt: skip
    names = [COLOUR_NAMES[n] for n in pixel_colour_names(px)]
    assert names == ["black", "white", "grey", "red", "blue", "green", "brown", "yellow"]


def test_copy_agrees_with_plural_nouns() -> None:
    seen_plural = False
    for seed in range(60):
        c = write_item("shoes", "black", False, np.random.default_rng(seed))
        if c.noun in ("trainers", "sneakers", "loafers", "boots"):
            seen_plural = True
            assert " this black" not in c.description.lower() and " is an" not in c.description
        assert "machine" not in c.description or c.material not in ("leather", "suede")
    assert seen_plural


def test_ease_and_recall_on_a_toy() -> None:
    import scipy.sparse as sp

    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]], dtype=np.float32))
    b = ease_weights(x, 1.0)
    g = (x.T @ x).toarray() + np.eye(3)
    p = np.linalg.inv(g)
    expected = np.eye(3) - p / np.diag(p)
    np.testing.assert_allclose(b, expected, atol=1e-12)
    assert np.allclose(np.diag(b), 0.0)
    truth = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 1, 1, 0]], dtype=np.float32))
    top = np.array([[2, 0], [0, 1]])
    recall, ndcg, has = recall_ndcg(top, truth, k=2)
    np.testing.assert_allclose(recall, [1.0, 0.5])
    np.testing.assert_allclose(ndcg, [1.0, (1 / np.log2(3)) / (1 + 1 / np.log2(3))])
    assert has.all()


def test_chronological_split_holds_out_the_latest() -> None:
    users = np.array([0, 0, 0, 0, 1, 1, 1])
    day = np.array([1.0, 9.0, 2.0, 8.0, 5.0, 6.0, 7.0])
    held = np.array([False, True, False, True, False, False, True])
    assert chronological_split(users, day, held).tolist() == [0, 2, 0, 1, 0, 0, 2]


@pytest.mark.shared
def test_real_photos_are_read_and_measured(shared_dir: Path) -> None:
    photos = shared_dir / "data" / "clothing_cc0"
    if not (photos / "LICENSE").is_file():
        pytest.skip("../shared/data/clothing_cc0 is absent")
    folder = load_photo_folder(photos, limit_per_class=2)
    assert len(folder.photos) == 20
    assert len({p.garment_class for p in folder.photos}) == 10
    assert "CC0" in folder.license_text
    assert all(max(Image.open(io.BytesIO(p.jpeg)).size) == 256 for p in folder.photos)


def test_rankers_cope_with_fewer_items_than_the_cut_off() -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    dense = (rng.random((30, 12)) < 0.4).astype(np.float32)
    train = sp.csr_matrix(dense * (rng.random(dense.shape) < 0.6))
    held = sp.csr_matrix(dense) - train
    valid = sp.csr_matrix(held.toarray() * (rng.random(dense.shape) < 0.5))
    test = (held - valid).tocsr()
    feats = rng.normal(size=(12, 4)).astype(np.float32)
    groups = np.array(["visual", "textual", "collaborative"] * 10)
    report = headroom_report(train, valid, test, feats, feats, groups, np.zeros(12, dtype=bool))
    # 12 items < K = 20: every held-out item is in everyone's top 20
    assert report.figure("ease", "all").recall == pytest.approx(1.0)
