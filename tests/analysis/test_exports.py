"""Exports for other tools: a space for Embedding Atlas / the TF Projector, the vectors, a
faiss index that ranks as ``recommend`` does, a figure as SVG and PNG; each names its model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anchorrec.analysis.exports import (
    EXPORT_FILE,
    build_index,
    export_space,
    final_vectors,
    index_top_k,
    read_space,
)
from anchorrec.analysis.projection import load_projection_record
from anchorrec.analysis.spaces import model_spaces
from anchorrec.cli import main
from anchorrec.models.checkpoint import load_model
from anchorrec.models.recommend import recommend
from anchorrec.workspace import MODELS_DIR, SAMPLE_DATASET_DIR

ANCHOR = SAMPLE_DATASET_DIR / MODELS_DIR / "anchor"


@pytest.fixture(scope="module")
def anchor():
    return load_model(ANCHOR)


def test_parquet_space_rereads_with_its_layout_and_neighbours(anchor, tmp_path):
    out = tmp_path / "space"
    record = export_space(anchor, out, "final", "umap")
    assert record["model_fingerprint"] == anchor.fingerprint
    table, meta = read_space(out / "space.parquet")
    assert meta["model_fingerprint"] == anchor.fingerprint
    assert json.loads((out / EXPORT_FILE).read_text())["model_fingerprint"] == anchor.fingerprint
    # the layout is the model's cached one, rows by item id
    cached = load_projection_record(ANCHOR, "final", "umap")
    order = np.argsort(cached.item_ids)
    assert (table["item_id"].to_numpy() == cached.item_ids[order]).all()
    assert np.allclose(table[["x", "y"]].to_numpy(), cached.xy[order], atol=1e-6)
    # neighbours: the 10 nearest items by cosine in the full final space
    final = model_spaces(anchor)["final"].matrix
    unit = final / np.linalg.norm(final, axis=1, keepdims=True)
    for row in (0, 17, len(table) - 1):
        item = int(table["item_id"].iloc[row])
        sims = unit @ unit[item]
        sims[item] = -np.inf
        expected = np.argsort(-sims, kind="stable")[:10]
        got = table["neighbors"].iloc[row]
        assert list(got["ids"]) == expected.tolist()
        assert np.allclose(got["distances"], 1 - sims[expected], atol=1e-5)
    assert table["title"].iloc[0] == anchor.dataset.items["title"].iloc[0]
    # the TF Projector pair: one vector line per metadata row (after its header)
    vecs = np.loadtxt(out / "vecs.tsv", delimiter="\t")
    meta_lines = (out / "meta.tsv").read_text(encoding="utf-8").splitlines()
    assert vecs.shape == final.shape and len(meta_lines) == len(vecs) + 1
    assert np.allclose(vecs, final, rtol=1e-4, atol=1e-5)


def test_faiss_top20_equals_recommend_for_100_shoppers(anchor):
    pytest.importorskip("faiss")
    users_v, items_v = final_vectors(anchor)
    shoppers = np.random.default_rng(0).choice(anchor.dataset.n_users, 100, replace=False)
    top, scores = index_top_k(build_index(items_v), users_v, shoppers, 20, anchor.dataset.train)
    recs = recommend(anchor, shoppers.tolist(), 20)
    by_user: dict[int, list] = {}
    for r in recs:
        by_user.setdefault(r.user, []).append(r)
    for row, user in enumerate(shoppers):
        mine = by_user[int(user)]
        assert len(mine) == 20
        rec_items = np.array([r.item for r in mine])
        rec_scores = np.array([r.score for r in mine])
        assert not set(top[row]) & set(anchor.dataset.user_items(int(user)))  # train masked
        assert np.allclose(scores[row], rec_scores, rtol=1e-5, atol=1e-5)
        # the same list; a swap is allowed only between items whose scores tie
        differ = top[row] != rec_items
        assert np.allclose(scores[row][differ], rec_scores[differ], rtol=1e-5, atol=1e-5)
        outside = set(top[row]) ^ set(rec_items)
        tie = rec_scores[-1]
        for item in outside:
            assert abs(float(items_v[item] @ users_v[user]) - tie) <= 1e-4 * max(1.0, abs(tie))
        assert differ.mean() <= 0.1  # ties are rare: not a different ranking


def test_export_cli_writes_vectors_index_and_figure_with_the_fingerprint(anchor, tmp_path, capsys):
    out = tmp_path / "vectors"
    assert main(["export", str(ANCHOR), "--what", "vectors", "--out", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["model_fingerprint"] == anchor.fingerprint
    users_v, items_v = final_vectors(anchor)
    assert np.array_equal(np.load(out / "user_vectors.npy"), users_v)
    assert np.array_equal(np.load(out / "item_vectors.npy"), items_v)
    assert (out / "item_ids.csv").read_text().splitlines()[0] == "row,item_id"
    # an existing --out is refused before anything is loaded; nothing is half-written
    assert main(["export", str(ANCHOR), "--what", "vectors", "--out", str(out)]) == 2
    fig = tmp_path / "fig"
    argv = ["export", str(ANCHOR), "--what", "figure", "--panel", "final", "--out", str(fig)]
    assert main(argv) == 0
    svg = (fig / "final.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and anchor.fingerprint in svg
    assert (fig / "final.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "model " + anchor.fingerprint in capsys.readouterr().out


def test_index_export_reads_back_with_faiss(anchor, tmp_path):
    faiss = pytest.importorskip("faiss")
    out = tmp_path / "index"
    assert main(["export", str(ANCHOR), "--what", "index", "--out", str(out)]) == 0
    index = faiss.read_index(str(out / "items.faiss"))
    users_v = np.load(out / "user_vectors.npy")
    assert index.ntotal == anchor.dataset.n_items
    top, _ = index_top_k(index, users_v, np.array([3]), 5, anchor.dataset.train)
    assert [r.item for r in recommend(anchor, [3], 5)] == top[0].tolist()
    assert json.loads((out / EXPORT_FILE).read_text())["model_fingerprint"] == anchor.fingerprint
