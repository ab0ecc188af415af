"""The model-directory layout and the store of derived files."""

from __future__ import annotations

import json

import pytest

import anchorrec.models.model_dir as md
from anchorrec.models.model_dir import DerivedStore, ModelDir


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    monkeypatch.setenv("ANCHORREC_HOME", str(path))
    return path


def _fake_model(path, weights_sha="ab" * 32):
    path.mkdir(parents=True)
    (path / md.CONFIG_FILE).write_text(json.dumps({"weights_sha256": weights_sha}))
    (path / md.WEIGHTS_FILE).write_bytes(b"weights")
    return ModelDir(path)


def test_layout_names_every_file(tmp_path):
    m = ModelDir(tmp_path / "anchor")
    assert m.weights.name == "model.safetensors"
    assert m.config.name == "config.json"
    assert m.metrics.name == "metrics.json"
    assert m.log.name == "train_log.jsonl"
    assert m.resume_dir == tmp_path / "anchor.resume"
    assert not m.is_model() and m.fingerprint() == ""


def test_fingerprint_follows_the_config_that_records_the_weights(tmp_path):
    a = _fake_model(tmp_path / "a")
    b = _fake_model(tmp_path / "b")
    assert a.fingerprint() == b.fingerprint() != ""  # same config bytes, same model
    a.config.write_text(json.dumps({"weights_sha256": "cd" * 32}))
    assert a.fingerprint() != b.fingerprint()


def test_store_reads_only_what_was_written_for_this_model(tmp_path, home):
    model = _fake_model(tmp_path / "anchor")
    store = model.store()
    store.write_json("report.json", "fmt-v1", {"value": 3})
    assert store.read_json("report.json", "fmt-v1")["value"] == 3
    assert store.read_json("report.json", "fmt-v2") is None  # another format
    model.config.write_text(json.dumps({"weights_sha256": "ee" * 32}))  # retrained
    assert store.read_json("report.json", "fmt-v1") is None


def test_store_falls_back_to_the_workspace_when_read_only(tmp_path, home, monkeypatch):
    model = _fake_model(tmp_path / "ro" / "anchor")
    assert DerivedStore(model).write_folder == model.path.resolve()
    monkeypatch.setattr(md, "is_writable", lambda d: False)
    store = DerivedStore(model)
    assert store.write_folder.is_relative_to(home)
    assert store.folders == [model.path.resolve(), store.write_folder]
    written = store.write_bytes("projections/x.npz", b"123")
    assert written.is_relative_to(home)
    assert store.find("projections/x.npz") == written
    assert "-" in store.stamp("projections/x.npz").split("|")[0]  # none in the model dir


def test_store_prefers_the_workspace_copy(tmp_path, home, monkeypatch):
    model = _fake_model(tmp_path / "m")
    DerivedStore(model).write_json("d.json", "f", {"v": "old"})
    monkeypatch.setattr(md, "is_writable", lambda d: False)
    DerivedStore(model).write_json("d.json", "f", {"v": "new"})
    assert DerivedStore(model).read_json("d.json", "f")["v"] == "new"


def test_a_fifo_in_the_store_is_skipped_not_waited_on(tmp_path, home):
    import os

    model = _fake_model(tmp_path / "m")
    os.mkfifo(model.path / "report.json")
    assert model.store().read_json("report.json", "f") is None  # returns at once
