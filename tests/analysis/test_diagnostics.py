"""diagnose(): every metric is present, finite, beside its null, with a meaning."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.analysis.diagnostics import (
    MEANINGS,
    DiagnosticsReport,
    branch_variance_shares,
    coembedding_displacement,
    compare,
    compare_with_intervals,
    diagnose,
    displacement_per_item,
    neighbour_coherence,
    neighbour_coherence_values,
)


def test_diagnose_reports_every_metric_with_null_and_meaning(tiny_model):
    report = diagnose(tiny_model)
    table = report.table()
    assert set(table["metric"]) <= set(MEANINGS)
    assert {"effective_rank", "uniformity", "linear_cka", "knn_overlap", "id_dominance"} <= set(
        table["metric"]
    )
    assert {
        "neighbour_text_cosine",
        "neighbour_image_cosine",
        "neighbour_shared_users",
        "neighbour_two_hop_share",
    } <= set(table["metric"])
    assert table["value"].map(np.isfinite).all() and table["null"].map(np.isfinite).all()
    # every diagnostic carries an interval around its value
    assert table["low"].map(np.isfinite).all() and table["high"].map(np.isfinite).all()
    assert (table["low"] <= table["value"] + 1e-9).all()
    assert (table["value"] <= table["high"] + 1e-9).all()
    assert "coembedding_displacement_2d" not in set(table["metric"])
    assert (table["meaning"].str.len() > 20).all()
    assert 0.0 <= report.value("id_dominance") <= 1.0
    assert report.to_json()["variant"] == "tiny"


def test_neighbour_coherence_follows_the_space_that_built_the_neighbours(tiny_model):
    ds = tiny_model.dataset
    text = ds.features["text"]
    out = neighbour_coherence(text, ds.train, {"text": text, "image": ds.features["image"]}, k=3)
    value, null = out["neighbour_text_cosine"]
    assert value > null + 0.3  # neighbours taken in the text space share text


def test_coembedding_displacement_small_when_final_sits_on_id():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(200, 8))
    assert coembedding_displacement(h, h + 0.01 * rng.normal(size=h.shape)) < 0.05
    assert 0.8 < coembedding_displacement(h, rng.normal(size=h.shape)) < 1.2


def test_compare_puts_variants_side_by_side(tiny_model):
    r = diagnose(tiny_model, with_attribution=False)
    r2 = diagnose(tiny_model, with_attribution=False)
    r2.variant = "other"
    wide = compare([r, r2])
    assert {"tiny", "other", "null", "metric", "space"} <= set(wide.columns)
    np.testing.assert_allclose(wide["tiny"], wide["other"])


def test_co_interaction_metrics_count_users_shared_with_the_neighbours():
    import scipy.sparse as sp

    # items 0 and 1 share two users; item 2 shares none with 0; item 3 is very popular but
    # shares nobody with item 0 (its degree must not count)
    rows = [0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    cols = [0, 1, 0, 1, 2, 3, 3, 3, 3, 3, 3, 3]
    train = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(10, 4))
    final = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    out = neighbour_coherence_values(final, train, {}, k=1)
    shared, _ = out["neighbour_shared_users"]
    two_hop, _ = out["neighbour_two_hop_share"]
    # neighbours: 0↔1 (2 shared users), 2↔3 (none)
    np.testing.assert_array_equal(shared, [2, 2, 0, 0])
    np.testing.assert_array_equal(two_hop, [1, 1, 0, 0])


def test_displacement_distribution_and_branch_variance_shares():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(300, 8))
    per_item = displacement_per_item(h, h + 0.05 * rng.normal(size=h.shape))
    assert per_item.shape == (300,) and per_item.mean() < 0.1
    branches = {"id": rng.normal(size=(300, 8)), "text": 0.1 * rng.normal(size=(300, 8))}
    shares = branch_variance_shares(branches)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["id"] > 0.9


def test_side_by_side_says_tie_where_intervals_overlap():
    a = DiagnosticsReport("a", 10)
    b = DiagnosticsReport("b", 10)
    a.add("effective_rank", "final", 5.0, 8.0, "gaussian", (4.5, 5.5))
    b.add("effective_rank", "final", 5.2, 8.0, "gaussian", (4.9, 5.6))
    a.add("uniformity", "final", -3.0, -4.0, "gaussian", (-3.1, -2.9))
    b.add("uniformity", "final", -2.0, -4.0, "gaussian", (-2.1, -1.9))
    wide = compare_with_intervals([a, b]).set_index("metric")
    assert wide.loc["effective_rank", "verdict"] == "tie"
    assert wide.loc["uniformity", "verdict"] == "b > a"
    assert wide.loc["uniformity", "a"] == "-3 [-3.1, -2.9]"


def test_stale_stored_reports_are_recomputed(tiny_model, tmp_path):
    import json
    from dataclasses import replace

    from anchorrec.analysis.diagnostics import DIAGNOSTICS_FILE, read_diagnostics, store_diagnostics

    (tmp_path / "config.json").write_text("{}")
    loaded = replace(tiny_model, model_dir=tmp_path)
    store_diagnostics(loaded, diagnose(tiny_model, with_attribution=False))
    assert read_diagnostics(tmp_path) is not None
    path = tmp_path / DIAGNOSTICS_FILE
    data = json.loads(path.read_text())
    data["format"] = "anchorrec-diagnostics-v1"  # a report stored under the old definitions
    path.write_text(json.dumps(data))
    assert read_diagnostics(tmp_path) is None


def test_cka_of_every_resample_at_once_equals_one_resample_at_a_time():
    from anchorrec.analysis.diagnostics import (
        BOOTSTRAP,
        _centred_gram,
        cka_from_grams,
        cka_resamples,
        resample_weights,
    )

    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 5))
    y = x @ rng.normal(size=(5, 7)) + 0.5 * rng.normal(size=(60, 7))
    kx, ky = _centred_gram(x), _centred_gram(y)
    weights = resample_weights(60, seed=11, resamples=BOOTSTRAP)
    draws = np.random.default_rng(11)
    one_by_one = [
        cka_from_grams(kx[np.ix_(r, r)], ky[np.ix_(r, r)])
        for r in (draws.integers(0, 60, size=60) for _ in range(BOOTSTRAP))
    ]
    np.testing.assert_allclose(cka_resamples(kx, ky, weights), one_by_one, rtol=1e-9, atol=1e-12)
