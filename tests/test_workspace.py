"""The model registry and the writable workspace (anchorrec.workspace)."""

from __future__ import annotations

import json

import pytest

from anchorrec import workspace as ws
from anchorrec.data.mmrec import save_mmrec
from anchorrec.errors import DatasetError
from anchorrec.models.checkpoint import save_model
from anchorrec.models.registry import build_model
from tests.conftest import make_tiny_dataset


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(ws.HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def dataset_dir(tmp_path):
    ds = make_tiny_dataset()
    out = tmp_path / "tiny"
    save_mmrec(ds, out)
    from anchorrec.data.mmrec import load_mmrec

    return out, load_mmrec(out)


def test_workspace_home_follows_the_environment(home):
    assert ws.workspace_home() == home
    assert ws.workspace_models_dir("abcd1234") == home / "models" / "abcd1234"


def test_workspace_home_defaults_to_the_user_folder(monkeypatch):
    monkeypatch.delenv(ws.HOME_ENV, raising=False)
    assert ws.workspace_home() == ws.DEFAULT_HOME.expanduser()


def test_find_models_lists_dataset_models_in_variant_order_then_workspace(home, dataset_dir):
    out, ds = dataset_dir
    for variant in ("lightgcn", "anchor"):
        save_model(build_model(variant, ds, seed=0), ds, out / "models" / variant)
    trained = ws.new_model_dir(ds.fingerprint, "direct")
    save_model(build_model("direct", ds, seed=0), ds, trained)
    entries = ws.find_models(out, ds.fingerprint)
    assert [e.name for e in entries] == ["anchor", "lightgcn", trained.name]
    assert [e.source for e in entries] == ["dataset", "dataset", "workspace"]
    assert all(e.usable for e in entries)
    assert entries[2].variant == "direct" and "trained in app" in entries[2].label


def test_find_models_flags_broken_and_foreign_models_without_raising(home, dataset_dir, tmp_path):
    out, ds = dataset_dir
    other = make_tiny_dataset(seed=1)
    save_model(build_model("lightgcn", other, seed=0), other, out / "models" / "foreign")
    (out / "models" / "broken").mkdir()
    (out / "models" / "broken" / "config.json").write_text("{not json")
    entries = {e.name: e for e in ws.find_models(out, ds.fingerprint)}
    assert not entries["broken"].usable and "config.json" in entries["broken"].error
    assert not entries["foreign"].usable and "fingerprint" in entries["foreign"].error


def test_new_model_dir_never_reuses_a_directory(home):
    import datetime as dt

    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    first = ws.new_model_dir("abcd", "anchor", now=now)
    first.mkdir(parents=True)
    second = ws.new_model_dir("abcd", "anchor", now=now)
    assert first.name == "anchor-20260102-030405" and second != first


@pytest.mark.parametrize(
    "raw, fragment",
    [("", "No dataset path"), ("/does/not/exist", "does not exist")],
)
def test_check_dataset_dir_explains_bad_paths(raw, fragment):
    with pytest.raises(DatasetError, match=fragment):
        ws.check_dataset_dir(raw)


def test_check_dataset_dir_refuses_a_folder_without_inter_file(tmp_path):
    with pytest.raises(DatasetError, match="no .inter file"):
        ws.check_dataset_dir(tmp_path)


def test_register_dataset_makes_it_known(home, dataset_dir):
    out, _ = dataset_dir
    assert out.resolve() not in ws.registered_datasets()
    ws.register_dataset(out)
    ws.register_dataset(out / "tiny.inter")  # the .inter file names the same directory
    assert ws.registered_datasets().count(out.resolve()) == 1
    listed = json.loads((home / ws.REGISTRY_FILE).read_text())["datasets"]
    assert listed == [str(out.resolve())]


def test_safe_name_keeps_a_directory_name_safe():
    assert ws.safe_name("My shop / 2026") == "My-shop-2026"
    with pytest.raises(DatasetError):
        ws.safe_name("../..")
