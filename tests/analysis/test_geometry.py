"""Invariants of the space diagnostics (they must hold whatever model is analysed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import special_ortho_group

from anchorrec.analysis import geometry as g


@pytest.fixture(scope="module")
def gaussian():
    return np.random.default_rng(0).normal(size=(300, 16))


def rotation(d: int, seed: int = 0) -> np.ndarray:
    return special_ortho_group.rvs(d, random_state=seed)


def test_cka_is_one_under_rotation_and_scaling(gaussian):
    r = rotation(16)
    assert g.linear_cka(gaussian, gaussian @ r) == pytest.approx(1.0, abs=1e-10)
    assert g.linear_cka(gaussian, 3.0 * gaussian @ r + 5.0) == pytest.approx(1.0, abs=1e-10)


def test_cka_of_unrelated_spaces_is_near_its_permutation_null(gaussian):
    other = np.random.default_rng(1).normal(size=gaussian.shape)
    value = g.linear_cka(gaussian, other)
    null_mean, null_q95 = g.cka_permutation_null(gaussian, other, n_permutations=10)
    assert value < 0.2 and null_mean < 0.2
    assert abs(value - null_mean) < 0.05
    related = gaussian + 0.1 * other
    assert g.linear_cka(gaussian, related) > null_q95 + 0.5


def test_knn_overlap_is_one_under_rotation_and_at_chance_for_unrelated(gaussian):
    r = rotation(16, seed=2)
    assert g.knn_overlap(gaussian, gaussian @ r, k=10) == pytest.approx(1.0)
    other = np.random.default_rng(3).normal(size=gaussian.shape)
    chance = g.knn_overlap_chance(len(gaussian), 10)
    assert chance == pytest.approx(10 / 299)
    assert g.knn_overlap(gaussian, other, k=10) < 3 * chance


def test_knn_excludes_self_and_is_sorted(gaussian):
    nn = g.knn_indices(gaussian, 5)
    assert not (nn == np.arange(len(gaussian))[:, None]).any()
    xn = gaussian / np.linalg.norm(gaussian, axis=1, keepdims=True)
    sims = np.take_along_axis(xn @ xn.T, nn, axis=1)
    assert (np.diff(sims, axis=1) <= 1e-12).all()


def test_effective_rank_bounds_and_collapse(gaussian):
    erank = g.effective_rank(gaussian)
    assert 1.0 <= erank <= np.linalg.matrix_rank(gaussian - gaussian.mean(0))
    assert erank > 12  # an isotropic 16-d cloud uses nearly every direction
    rng = np.random.default_rng(4)
    line = np.outer(rng.normal(size=300), rng.normal(size=16))
    assert g.effective_rank(line) == pytest.approx(1.0, abs=1e-6)
    low = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 16))
    assert 1.0 <= g.effective_rank(low) <= 2.0 + 1e-9


def test_uniformity_tells_a_collapsed_space_from_a_gaussian(gaussian):
    rng = np.random.default_rng(5)
    collapsed = np.ones((300, 16)) + 0.05 * rng.normal(size=(300, 16))
    u_gauss, u_coll = g.uniformity(gaussian), g.uniformity(collapsed)
    assert u_coll > -0.1  # everything points the same way: log mean exp(≈0) ≈ 0
    assert u_gauss < -3.0
    assert g.effective_rank(collapsed - collapsed.mean(0)) > 1  # erank alone is scale-free


def test_alignment_zero_for_identical_and_null_for_shuffled(gaussian):
    assert g.alignment(gaussian, 2 * gaussian) == pytest.approx(0.0, abs=1e-12)
    assert g.alignment_null(gaussian, gaussian) == pytest.approx(2.0, abs=0.3)


def test_procrustes_recovers_a_rotated_scaled_shifted_layout(gaussian):
    xy = gaussian[:, :2]
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = 2.5 * xy @ rot + np.array([3.0, -1.0])
    np.testing.assert_allclose(g.procrustes_align(moved, xy), xy, atol=1e-9)


def test_co_interaction_counts():
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=np.float32))
    # item 1 shares users with 0 and 2; items 0 and 2 each with 1; item 3 with nobody
    np.testing.assert_array_equal(g.co_interaction_counts(train), [1, 2, 1, 0])


def test_sample_rows_is_seeded_and_bounded():
    a = g.sample_rows(10_000, 100, seed=3)
    assert len(a) == 100 and (np.diff(a) > 0).all()
    np.testing.assert_array_equal(a, g.sample_rows(10_000, 100, seed=3))
    np.testing.assert_array_equal(g.sample_rows(50, 100), np.arange(50))
