"""diagnose(): every metric is present, finite, beside its null, with a meaning."""

from __future__ import annotations

import numpy as np

from anchorrec.analysis.diagnostics import (
    MEANINGS,
    coembedding_displacement,
    compare,
    diagnose,
    neighbour_coherence,
)


def test_diagnose_reports_every_metric_with_null_and_meaning(tiny_model):
    report = diagnose(tiny_model)
    table = report.table()
    assert set(table["metric"]) <= set(MEANINGS)
    assert {"effective_rank", "uniformity", "linear_cka", "knn_overlap", "id_dominance"} <= set(
        table["metric"]
    )
    assert {"neighbour_text_cosine", "neighbour_image_cosine", "neighbour_co_interactions"} <= set(
        table["metric"]
    )
    assert table["value"].map(np.isfinite).all() and table["null"].map(np.isfinite).all()
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
