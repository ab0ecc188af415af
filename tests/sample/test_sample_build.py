"""The sample catalogue: layout, determinism and the planted signals (a small build, ~1 min)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from anchorrec.cli import main
from anchorrec.data.mmrec import load_mmrec
from anchorrec.sample.boutique_items import COLOURS, PATTERNS, SHADES
from anchorrec.sample.build import ITEM_COLUMNS, SampleConfig, draft_sample
from anchorrec.sample.shoppers import DRIVERS, iterative_k_core
from anchorrec.sample.signals import measure_signals, one_signal_recall

N_ITEMS, N_USERS = 120, 200
ARGS = ["--items", str(N_ITEMS), "--users", str(N_USERS), "--device", "cpu", "--quiet"]


def _build(out: Path, seed: int) -> Path:
    assert main(["sample", "build", str(out), "--seed", str(seed), *ARGS]) == 0
    return out


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("sample") / "boutique", seed=0)


@pytest.fixture(scope="module")
def dataset(built: Path):
    return load_mmrec(built)


def test_layout_loads_cleanly(built: Path, dataset) -> None:
    for name in ("boutique.inter", "image_feat.npy", "text_feat.npy", "fused_feat.npy",
                 "items.csv", "users.csv", "DATASHEET.md"):  # fmt: skip
        assert (built / name).is_file(), name
    assert dataset.name == "boutique" and dataset.warnings == ()
    n = dataset.n_items
    assert 0.9 * N_ITEMS <= n <= N_ITEMS and dataset.n_users >= 0.9 * N_USERS
    assert dataset.features["image"].shape == (n, 1280)
    assert dataset.features["text"].shape == (n, 384)
    assert dataset.features["fused"].shape == (n, 1664)
    assert all(f.dtype == np.float32 for f in dataset.features.values())
    items = pd.read_csv(built / "items.csv")
    assert list(items.columns) == list(ITEM_COLUMNS)
    assert items["category"].nunique() >= 12
    assert items["description"].str.count(r"\. ").ge(1).all()  # two sentences
    for rel in items["image"].iloc[:5]:
        with Image.open(built / rel) as im:
            assert im.size[0] >= 128 and im.size[1] >= 128
    assert len(list((built / "images").iterdir())) == n
    # The 5-core holds and every split is non-empty.
    full = (dataset.train + dataset.valid + dataset.test).tocsr()
    assert np.diff(full.indptr).min() >= 5 and full.sum(axis=0).min() >= 5


def test_copy_never_names_image_only_attributes(built: Path) -> None:
    items = pd.read_csv(built / "items.csv")
    text = (items["title"] + " " + items["description"]).str.lower()
    for word in (*PATTERNS, *SHADES):
        assert not text.str.contains(rf"\b{word}\b").any(), word
    # ... while the colour word of every item is in its copy.
    assert all(c in t for c, t in zip(items["colour"], text, strict=True))
    assert set(items["colour"]) <= set(COLOURS)


def test_users_record_driver_mix_and_group(built: Path) -> None:
    users = pd.read_csv(built / "users.csv")
    w = users[[f"w_{d}" for d in DRIVERS]].to_numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-3)
    dominant = np.asarray(DRIVERS)[w.argmax(axis=1)]
    assert (dominant == users["group"].to_numpy()).all()
    shares = users["group"].value_counts(normalize=True)
    assert set(shares.index) == {"visual", "textual", "collaborative"}
    assert shares.min() > 0.25


def test_driver_weights_stay_probabilities_when_rounding_overshoots() -> None:
    # seed 1's catalogue, then its shoppers: one mix rounded to (0.9485, 0.004, 0.0476) left
    # -0.0001 for popularity, and drawing that shopper's purchases crashed
    from anchorrec.sample.boutique_items import generate_attributes
    from anchorrec.sample.shoppers import GROUPS, generate_shoppers

    rng = np.random.default_rng(1)
    generate_attributes(1200, rng, 40)
    shoppers = generate_shoppers(3000, 40, rng)
    w = shoppers[[f"w_{d}" for d in DRIVERS]].to_numpy()
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-9)
    group = shoppers["group"].map(GROUPS.index).to_numpy()
    assert (w.argmax(axis=1) == group).all()
    assert w[1532].tolist() == [0.9484, 0.004, 0.0476, 0.0]


def test_same_seed_gives_identical_files(built: Path, tmp_path: Path) -> None:
    again = _build(tmp_path / "again", seed=0)
    assert _digests(again) == _digests(built)


def test_different_seed_gives_different_data() -> None:
    a = draft_sample(SampleConfig(seed=0, n_items=N_ITEMS, n_users=N_USERS))
    b = draft_sample(SampleConfig(seed=1, n_items=N_ITEMS, n_users=N_USERS))
    assert not a.items.equals(b.items)
    assert a.images != b.images


def test_existing_output_is_refused_without_overwrite(built: Path, capsys) -> None:
    assert main(["sample", "build", str(built), *ARGS]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_planted_signals_are_present(dataset) -> None:
    s = measure_signals(dataset)
    for space in ("image", "text"):
        p = s.purity("category", space)
        assert p.purity > 3 * p.chance, p
    # Image-only pattern shows in the image space, not in the text space.
    assert s.purity("pattern", "image").purity > 1.2 * s.purity("pattern", "image").chance
    assert (
        s.purity("pattern", "image", within_category=True).purity
        > 2 * s.purity("pattern", "image").chance
    )
    assert s.purity("pattern", "text").purity < 1.2 * s.purity("pattern", "text").chance
    # Text-only occasion shows in the text space, not in the image space.
    assert s.purity("occasion", "text").purity > 1.3 * s.purity("occasion", "text").chance
    assert s.purity("occasion", "image").purity < 1.2 * s.purity("occasion", "image").chance
    # Each group's interactions follow its own driver more than the other groups' do.
    v, t, c = s.group("visual"), s.group("textual"), s.group("collaborative")
    assert v.visual_match > 3 * v.visual_base and v.visual_match > 2 * max(
        t.visual_match, c.visual_match
    )
    assert t.textual_match > 3 * t.textual_base and t.textual_match > 2 * max(
        v.textual_match, c.textual_match
    )
    assert c.collaborative_match > 1.5 * c.collaborative_base
    assert c.collaborative_match > 1.3 * max(v.collaborative_match, t.collaborative_match)
    assert s.popularity_gini > 0.15
    assert {r.group for r in s.recalls} == {"visual", "textual", "collaborative"}


def test_datasheet_reports_the_measured_numbers(built: Path, dataset) -> None:
    sheet = (built / "DATASHEET.md").read_text(encoding="utf-8")
    s = measure_signals(dataset)
    for attr, space in (("category", "image"), ("category", "text"), ("pattern", "image"),
                        ("occasion", "text")):  # fmt: skip
        p = s.purity(attr, space)
        assert f"| {attr} |" in sheet and f"| {p.purity:.3f} | {p.chance:.3f} |" in sheet
    assert f"{s.popularity_gini:.3f}" in sheet
    assert f"--items {N_ITEMS} --users {N_USERS}" in sheet


def test_iterative_k_core_removes_until_stable() -> None:
    # Item 2 has one buyer; without it user 2 has one item left, so user 2 goes too.
    users = np.array([0, 0, 1, 1, 2, 2])
    items = np.array([0, 1, 0, 1, 1, 2])
    keep = iterative_k_core(users, items, k=2)
    assert keep.tolist() == [True, True, True, True, False, False]


def test_one_signal_recall_prefers_the_informative_space() -> None:
    from tests.conftest import make_tiny_dataset

    tiny = make_tiny_dataset(n_users=60, n_items=40, seed=3)
    rng = np.random.default_rng(0)
    features = {
        "image": tiny.features["image"],  # clustered like the users' preferences
        "text": rng.normal(size=tiny.features["text"].shape).astype(np.float32),  # noise
    }
    users = pd.DataFrame({"user_id": np.arange(60), "group": "visual"})
    ds = replace(tiny, features=features, users=users)
    (r,) = one_signal_recall(ds, k=5)
    assert r.group == "visual"
    assert r.image > 1.5 * r.text
