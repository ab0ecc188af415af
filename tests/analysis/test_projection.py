"""Projections: seeded, aligned, scored, cached on disk without pickle."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from anchorrec.analysis import projection as pj
from anchorrec.analysis.spaces import Space, model_spaces, neighbours
from anchorrec.errors import CheckpointError, ConfigError


def test_model_spaces_are_uniform_and_complete(tiny_model):
    spaces = model_spaces(tiny_model)
    for name in (
        "raw_image",
        "raw_text",
        "id_view",
        "image_view",
        "text_view",
        "final",
        "anchor_id",
    ):
        assert name in spaces and spaces[name].kind == "item"
        assert spaces[name].n_rows == tiny_model.dataset.n_items
        assert spaces[name].description
    assert spaces["final_users"].kind == "user"
    assert list(spaces)[0].startswith("raw_")


def test_neighbours_exclude_the_item_and_sort_by_cosine(tiny_model):
    space = model_spaces(tiny_model)["raw_text"]
    nb = neighbours(space, 3, k=5)
    assert 3 not in set(nb["item"]) and len(nb) == 5
    assert (np.diff(nb["cosine"]) <= 1e-6).all()
    # the tiny dataset's text features are clustered by item % 4
    assert (nb["item"] % 4 == 3 % 4).mean() >= 0.8
    with pytest.raises(ConfigError):
        neighbours(space, 999)


@pytest.mark.slow  # t-SNE and UMAP (numba compiles on first use): ~50 s on 2 cores
def test_layouts_are_seeded_and_trustworthy():
    x = np.random.default_rng(0).normal(size=(80, 8)).astype(np.float32)
    x[:40] += 4.0
    space = Space("s", x, "two blobs")
    for method in ("pca", "tsne"):
        a = pj.project_space(space, method)
        b = pj.project_space(space, method)
        np.testing.assert_array_equal(a.xy, b.xy)
        assert a.xy.dtype == np.float32 and a.xy.shape == (80, 2)
        assert 0.8 < a.trustworthiness <= 1.0


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_a_one_number_space_is_laid_out_as_that_number(method):
    # popularity's item vectors are one number each: PCA to 2-D used to raise on them
    x = np.random.default_rng(2).normal(size=(30, 1)).astype(np.float32)
    layout = pj.project_space(Space("popularity", x, "one number per item"), method)
    assert layout.xy.shape == (30, 2) and np.allclose(layout.xy[:, 1], 0.0)
    np.testing.assert_allclose(layout.xy[:, 0], x[:, 0] - x[:, 0].mean(), rtol=1e-5, atol=1e-6)


def test_aligned_layout_matches_its_reference_orientation():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 6)).astype(np.float32)
    ref = pj.project_space(Space("final", x, ""), "pca")
    # the same geometry rotated: after Procrustes it lies on the reference layout
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    rotated = pj.project_space(Space("other", (x @ q).astype(np.float32), ""), "pca", reference=ref)
    np.testing.assert_allclose(rotated.xy, ref.xy, atol=1e-4)


def test_cache_hit_reuses_files_and_needs_no_pickle(tiny_model, tmp_path, monkeypatch):
    computed = pj.precompute_projections(tiny_model, methods=("pca",), model_dir=tmp_path)
    assert ("final", "pca") in computed and (pj.ANCHOR_DOMAIN, "pca") in computed
    assert (pj.COEMBEDDING, "pca") in computed
    files = sorted((tmp_path / "projections").glob("*.npz"))
    assert files
    for f in files:
        with np.load(f, allow_pickle=False) as z:  # never pickle
            assert z["xy"].dtype == np.float32
            json.loads(str(z["meta"][()]))
        assert zipfile.is_zipfile(f)
    mtimes = {f: f.stat().st_mtime_ns for f in files}

    def no_compute(*args, **kwargs):
        raise AssertionError("a cached layout was recomputed")

    monkeypatch.setattr(pj, "embed_2d", no_compute)
    again = pj.precompute_projections(tiny_model, methods=("pca",), model_dir=tmp_path)
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes
    np.testing.assert_array_equal(again[("final", "pca")].xy, computed[("final", "pca")].xy)

    xy, ids, trust = pj.load_projection(tmp_path, "final", "pca")
    assert xy.shape == (tiny_model.dataset.n_items, 2) and 0 <= trust <= 1
    np.testing.assert_array_equal(ids, np.arange(tiny_model.dataset.n_items))
    joint = pj.load_projection_record(tmp_path, pj.ANCHOR_DOMAIN, "pca")
    assert set(joint.tag_labels) == {"anchor_id", "anchor_image", "anchor_text"}
    assert len(joint.xy) == 3 * tiny_model.dataset.n_items
    with pytest.raises(CheckpointError, match="anchorrec project"):
        pj.load_projection(tmp_path, "final", "umap")


def test_cache_key_depends_on_fingerprint_and_params():
    a = pj.cache_key("fp1", "final", "tsne", {"seed": 0})
    assert a != pj.cache_key("fp2", "final", "tsne", {"seed": 0})
    assert a != pj.cache_key("fp1", "final", "tsne", {"seed": 1})


def test_large_spaces_are_sampled(monkeypatch):
    monkeypatch.setattr(pj, "MAX_POINTS", 50)
    x = np.random.default_rng(2).normal(size=(120, 4)).astype(np.float32)
    p = pj.project_space(Space("big", x, ""), "pca")
    assert len(p.item_ids) == 50 and len(np.unique(p.item_ids)) == 50
    np.testing.assert_array_equal(p.item_ids, pj.project_space(Space("big", x, ""), "pca").item_ids)


def test_unknown_method_is_a_user_error():
    with pytest.raises(ConfigError, match="unknown"):
        pj.embed_2d(np.zeros((5, 2)), "mds")


def test_tsne_is_openTSNE_seeded_and_trustworthy():
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(6, 12)) * 4
    x = (centres[np.arange(300) % 6] + rng.normal(size=(300, 12))).astype(np.float32)
    params = {"seed": 3, "perplexity": 20.0, "max_iter": 300}
    a = pj.embed_2d(x, "tsne", params)
    np.testing.assert_allclose(a, pj.embed_2d(x, "tsne", params))  # seeded
    assert pj.layout_trustworthiness(x, a) > 0.9


def test_the_form_says_what_each_method_took_on_this_model():
    entries = {
        "final/pca": {"seconds": 0.5, "points": 1_289},
        "id_view/pca": {"seconds": 0.25, "points": 1_289},
        "final/umap": {"seconds": 12.0, "points": 23_033},
    }
    text = pj.layout_times(entries)
    assert "PCA: 0.8 s for 2 layouts (up to 1,289 points)" in text
    assert "UMAP: 12.0 s for 1 layout (up to 23,033 points)" in text
    assert "t-SNE: not computed yet" in text
