"""The content kNN graphs stored beside a model: written when it is saved, read on load
instead of rebuilt, ignored when they belong to other data or are damaged, and the opt-in
approximate build with its recall against the exact graph."""

from __future__ import annotations

import numpy as np
import pytest

from anchorrec.models import graphs, multimodal, stored_graphs
from anchorrec.models.checkpoint import load_model, save_model
from anchorrec.models.model_dir import GRAPHS_FILE
from anchorrec.training import train
from tests.conftest import make_tiny_dataset
from tests.models.conftest import fast_config


def _scores(model) -> np.ndarray:
    emb = model.compute_embeddings()
    return (emb.users @ emb.items.T).numpy()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    ds = make_tiny_dataset()
    result = train(ds, "anchor", fast_config("anchor", epochs=1), progress=False)
    out = tmp_path_factory.mktemp("graphs") / "anchor"
    save_model(result.model, ds, out, metrics=result.metrics)
    return ds, result, out


def _no_rebuild(monkeypatch) -> list[int]:
    calls: list[int] = []

    def counted(*args, **kwargs):
        calls.append(1)
        return graphs.knn_rows(*args, **kwargs)

    monkeypatch.setattr(multimodal, "knn_rows", counted)
    return calls


def test_a_load_reads_the_graphs_instead_of_building_them(saved, monkeypatch):
    ds, result, out = saved
    assert (out / GRAPHS_FILE).is_file()
    calls = _no_rebuild(monkeypatch)
    loaded = load_model(out, ds)
    np.testing.assert_allclose(_scores(loaded.model), _scores(result.model), rtol=1e-5, atol=1e-6)
    assert calls == []  # every view's graph came from the file
    for view, (values, columns) in result.model.graph_rows().items():
        stored_values, stored_columns = loaded.model.graph_rows()[view]
        np.testing.assert_array_equal(stored_columns, columns)
        np.testing.assert_allclose(stored_values, values, rtol=1e-6)


def test_an_old_model_directory_without_them_loads_and_rebuilds(saved, tmp_path, monkeypatch):
    ds, result, out = saved
    old = tmp_path / "old"
    save_model(result.model, ds, old, metrics=result.metrics)
    (old / GRAPHS_FILE).unlink()
    calls = _no_rebuild(monkeypatch)
    loaded = load_model(old, ds)
    np.testing.assert_allclose(_scores(loaded.model), _scores(result.model), rtol=1e-5, atol=1e-6)
    assert len(calls) == len(loaded.model.views)


def test_a_damaged_or_foreign_file_is_ignored(saved, tmp_path, monkeypatch):
    ds, result, out = saved
    copy = tmp_path / "copy"
    save_model(result.model, ds, copy, metrics=result.metrics)
    (copy / GRAPHS_FILE).write_bytes(b"PK\x03\x04 not a zip")
    calls = _no_rebuild(monkeypatch)
    loaded = load_model(copy, ds)
    np.testing.assert_allclose(_scores(loaded.model), _scores(result.model), rtol=1e-5, atol=1e-6)
    assert len(calls) == len(loaded.model.views)
    # rows stored for other data (another dataset fingerprint) are not read
    keys = {
        v: stored_graphs.graph_key("other", v, 5, x) for v, x in result.model.graph_inputs().items()
    }
    blob = stored_graphs.encode_rows(result.model.graph_rows(), keys, {"approximate": False})
    (copy / GRAPHS_FILE).write_bytes(blob)
    assert stored_graphs.attach_stored_graphs(loaded.model, copy, ds.fingerprint) == 0


def test_columns_out_of_range_are_refused(saved, tmp_path):
    ds, result, _ = saved
    model = result.model
    keys = {
        v: stored_graphs.graph_key(ds.fingerprint, v, model.config.knn_k, x)
        for v, x in model.graph_inputs().items()
    }
    rows = {v: (vals, cols + ds.n_items) for v, (vals, cols) in model.graph_rows().items()}
    path = tmp_path / "bad.npz"
    path.write_bytes(stored_graphs.encode_rows(rows, keys, {}))
    assert stored_graphs.decode_rows(path, keys, ds.n_items) == {}


@pytest.mark.slow  # pynndescent compiles with numba on first use
def test_the_approximate_build_finds_the_exact_neighbours_and_says_how_many():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 16))
    x = (centres[rng.integers(0, 40, 3_000)] + 0.3 * rng.normal(size=(3_000, 16))).astype(
        np.float32
    )
    values, columns = stored_graphs.approximate_rows(x, 10)
    exact_values, exact_columns = graphs.knn_rows(x, 10)
    assert values.shape == exact_values.shape == (3_000, 10)
    assert (columns[:, 0] == np.arange(3_000)).all() and (values[:, 0] == 1).all()
    found = stored_graphs.recall(x, columns, 10)
    assert 0.9 <= found <= 1.0
    # the measured recall is the share of exact neighbours held
    overlap = np.mean(
        [len(set(a[1:]) & set(b[1:])) / 9 for a, b in zip(columns, exact_columns, strict=True)]
    )
    assert abs(found - overlap) < 0.03
    # a graph of random rows from nowhere near: low recall, reported as such
    assert stored_graphs.recall(x, rng.integers(0, 3_000, size=(3_000, 10)), 10) < 0.05


@pytest.mark.slow
def test_prepare_stores_the_graphs_and_an_approximate_build_records_its_recall(saved, tmp_path):
    ds, result, out = saved
    copy = tmp_path / "prep"
    save_model(result.model, ds, copy, metrics=result.metrics)
    (copy / GRAPHS_FILE).unlink()
    loaded = load_model(copy, ds)
    path = stored_graphs.store_graphs(loaded)
    assert path == copy / GRAPHS_FILE and stored_graphs.read_meta(path)["approximate"] is False
    path = stored_graphs.store_graphs(loaded, approximate=True)
    meta = stored_graphs.read_meta(path)
    assert meta["approximate"] is True
    assert set(meta["recall"]) == set(loaded.model.views)
    assert all(0.0 <= r <= 1.0 for r in meta["recall"].values())
