"""Loading a model takes its reduced-feature bases from the checkpoint: no SVD at load time,
the same model as rebuilding it from scratch and loading the weights."""

from __future__ import annotations

import numpy as np
from safetensors.torch import load_file

from anchorrec.models.checkpoint import WEIGHTS_FILE, load_model
from anchorrec.models.multimodal import MultimodalRecommender
from anchorrec.models.registry import build_model
from anchorrec.training.trainer import train
from tests.conftest import make_tiny_dataset


def test_a_loaded_model_reads_its_bases_instead_of_recomputing_them(tmp_path, fast, monkeypatch):
    ds = make_tiny_dataset(n_users=40, n_items=30, seed=1)
    config = fast("anchor", epochs=1)
    model_dir = tmp_path / "anchor"
    train(ds, "anchor", config, out_dir=model_dir, device="cpu", progress=False)
    rebuilt = build_model("anchor", ds, load_model(model_dir, ds).config)  # computes the bases
    rebuilt.load_state_dict(load_file(model_dir / WEIGHTS_FILE), strict=True)
    assert any(n.startswith("basis_") for n, _ in rebuilt.named_buffers())

    def no_svd(self, m, rank):
        raise AssertionError("a basis was recomputed while loading")

    monkeypatch.setattr(MultimodalRecommender, "_principal_basis", no_svd)
    loaded = load_model(model_dir, ds).model
    assert loaded.feature_energy == rebuilt.feature_energy and loaded.feature_energy
    a, b = rebuilt.eval_embeddings(), loaded.eval_embeddings()
    np.testing.assert_allclose(a.items.detach().numpy(), b.items.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(a.users.detach().numpy(), b.users.detach().numpy(), atol=1e-6)
