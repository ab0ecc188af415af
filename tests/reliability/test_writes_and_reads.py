"""Round two of the reliability work: outputs that are links or devices are never replaced,
writes fail whole, a second writer is refused, folders follow the umask, temporary folders
are never taken for datasets, an edited config.json is refused, and files that cannot be
followed are warnings naming them."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anchorrec.cli import main
from anchorrec.data.mmrec import load_mmrec, save_mmrec
from anchorrec.errors import CheckpointError, OutputError
from anchorrec.fileio import (
    atomic_dir,
    atomic_write_bytes,
    csv_bytes,
    is_temporary_name,
    neutralise_cell,
    output_lock,
    stale_temporaries,
)
from tests.conftest import PROJECT_ROOT, make_tiny_dataset
from tests.data.malformed.corpus import write_valid_mmrec, write_valid_model


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return write_valid_model(tmp_path_factory.mktemp("model"))


# ------------------------------------------------------------------------------ audit --out
def test_audit_out_through_a_symlink_writes_the_target_and_keeps_the_link(model, tmp_path):
    target = tmp_path / "reports" / "real.html"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    csv_target = tmp_path / "real.csv"
    (tmp_path / "shares.csv").symlink_to(csv_target)  # dangling: created, as open() would
    argv = ["audit", str(model), "--out", str(link), "--csv", str(tmp_path / "shares.csv")]
    assert main([*argv, "--no-diagnostics", "--k", "3"]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html")
    assert (tmp_path / "shares.csv").is_symlink() and csv_target.is_file()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_audit_out_to_a_device_is_refused_and_the_device_stays(model, device, capsys):
    before = os.stat(device)
    assert main(["audit", str(model), "--out", device, "--no-diagnostics"]) == 2
    assert "character device" in capsys.readouterr().err
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_audit_csv_to_a_fifo_is_refused_before_any_work(model, tmp_path, capsys):
    fifo = tmp_path / "shares.csv"
    os.mkfifo(fifo)
    argv = ["audit", str(model), "--out", str(tmp_path / "r.html"), "--csv", str(fifo)]
    assert main(argv) == 2
    assert "named pipe (FIFO)" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not (tmp_path / "r.html").exists()  # refused before the HTML was written


# ------------------------------------------------------------------------------ atomic writes
def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "out.json"
    path.write_text("old", encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as err:
        atomic_write_bytes(path, b"new")
    assert err.value.errno == errno.ENOSPC
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_created_folders_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        import anchorrec.fileio as fileio

        importlib.reload(fileio)  # the umask is read once, at import
        with fileio.atomic_dir(tmp_path / "out") as tmp:
            assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o755
            (tmp / "f").write_text("x", encoding="utf-8")
        assert stat.S_IMODE(os.stat(tmp_path / "out").st_mode) == 0o755
        fileio.atomic_write_bytes(tmp_path / "out" / "g", b"x")
        assert stat.S_IMODE(os.stat(tmp_path / "out" / "g").st_mode) == 0o644
    finally:
        os.umask(old)
        importlib.reload(fileio)


def test_a_symlinked_directory_output_is_never_replaced(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "keep").write_text("keep", encoding="utf-8")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    with (
        pytest.raises(OutputError, match="symbolic link"),
        atomic_dir(tmp_path / "link", overwrite=True),
    ):
        pass
    assert (tmp_path / "link").is_symlink() and (real / "keep").read_text() == "keep"


# ------------------------------------------------------------------------------ temporaries
def test_an_interrupted_writers_temporary_folder_is_not_a_dataset_and_is_cleaned(
    tmp_path, monkeypatch
):
    from anchorrec.workspace import registered_datasets, workspace_datasets_dir

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    datasets = workspace_datasets_dir()
    dead = datasets / ".shop.tmp-999999-abcd"  # pid 999999: no such process
    write_valid_mmrec(dead)
    assert is_temporary_name(dead.name)
    assert dead not in registered_datasets()
    assert stale_temporaries(datasets) == [dead]
    # the next write of the same target removes it
    save_mmrec(make_tiny_dataset(n_users=20, n_items=12), datasets / "shop")
    assert not dead.exists() and [p.name for p in datasets.iterdir()] == ["shop"]
    assert registered_datasets()[-1] == (datasets / "shop").resolve()


# ------------------------------------------------------------------------------ locks
def test_a_second_train_on_the_same_out_is_refused_and_keeps_the_resume_state(tmp_path):
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import resume_dir_for, train

    ds = make_tiny_dataset(n_users=30, n_items=20)
    out = tmp_path / "m"
    resume = resume_dir_for(out)
    resume.mkdir()
    (resume / "marker").write_text("first run's state", encoding="utf-8")
    cfg = preset_config("default", variant="mf", epochs=1, batch_size=64)
    with output_lock(out), pytest.raises(OutputError, match="another run"):  # 1st run going
        train(ds, "mf", cfg, out_dir=out, progress=False, device="cpu")
    assert (resume / "marker").read_text(encoding="utf-8") == "first run's state"
    assert not out.exists()


def test_a_lock_is_released_when_its_holder_is_killed(tmp_path):
    out = tmp_path / "m"
    code = (
        "import sys, time; from anchorrec.fileio import output_lock\n"
        f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match=f"process {proc.pid}"), output_lock(out):
            pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with output_lock(out):  # flock dies with its process
        pass
    assert not (tmp_path / ".m.lock").exists()


# ------------------------------------------------------------------------------ checkpoints
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import train

    root = tmp_path_factory.mktemp("trained")
    ds = make_tiny_dataset()
    data = save_mmrec(ds, root / "data")
    cfg = preset_config("default", variant="anchor", epochs=1, batch_size=64, feature_dim=8)
    train(load_mmrec(data), "anchor", cfg, out_dir=root / "anchor", progress=False, device="cpu")
    return root / "anchor"


@pytest.mark.parametrize(
    "key, value", [("knn_k", 3), ("recover_lambda", 50.0), ("modality_layers", 3)]
)
def test_an_edited_config_json_is_refused(trained, tmp_path, key, value, capsys):
    from anchorrec.models.checkpoint import load_model, read_model_info

    copy = tmp_path / "anchor"
    shutil.copytree(trained, copy)
    info = json.loads((copy / "config.json").read_text())
    assert info["hyper_parameters"][key] != value
    info["hyper_parameters"][key] = value
    (copy / "config.json").write_text(json.dumps(info, indent=4))
    with pytest.raises(CheckpointError, match="config_sha256"):
        read_model_info(copy)
    with pytest.raises(CheckpointError, match="edited after training"):
        load_model(copy, load_mmrec(trained.parent / "data"))
    assert main(["recommend", str(copy), "--user", "0"]) == 2
    assert "config_sha256" in capsys.readouterr().err


def test_reindenting_config_or_moving_the_dataset_is_not_an_edit(trained, tmp_path):
    from anchorrec.models.checkpoint import load_model

    shutil.copytree(trained.parent / "data", tmp_path / "moved")
    copy = tmp_path / "models" / "anchor"
    shutil.copytree(trained, copy)
    info = json.loads((copy / "config.json").read_text())
    info["dataset"]["path"] = "../../moved"  # follows the moved dataset
    (copy / "config.json").write_text(json.dumps(info, indent=1, sort_keys=False))
    loaded = load_model(copy)
    assert Path(loaded.dataset.path).resolve() == (tmp_path / "moved").resolve()


def test_nan_weights_are_never_saved(tmp_path):
    import torch

    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.config import preset_config
    from anchorrec.models.registry import build_model

    ds = make_tiny_dataset(n_users=20, n_items=12)
    model = build_model("mf", ds, preset_config("default", variant="mf", embedding_dim=4))
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    with pytest.raises(CheckpointError, match="NaN or inf"):
        save_model(model, ds, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_train_log_names_its_line(trained, tmp_path):
    from anchorrec.models.checkpoint import read_train_log

    copy = tmp_path / "anchor"
    shutil.copytree(trained, copy)
    with open(copy / "train_log.jsonl", "a", encoding="utf-8") as fh:
        fh.write("[1, 2]\n")
    with pytest.raises(CheckpointError, match="line 2"):
        read_train_log(copy)


# ------------------------------------------------------------------------------ reads
@pytest.mark.parametrize("loop", [False, True], ids=["dangling", "looping"])
def test_a_feature_link_that_cannot_be_followed_is_a_warning_naming_it(tmp_path, loop):
    d = write_valid_mmrec(tmp_path / "ds")
    (d / "image_feat.npy").unlink()
    if loop:
        (d / "image_feat.npy").symlink_to(d / "image_feat.npy")
    else:
        (d / "image_feat.npy").symlink_to(tmp_path / "gone.npy")
    ds = load_mmrec(d)
    assert "image" not in ds.features and "text" in ds.features
    warning = next(w for w in ds.warnings if "image_feat.npy" in w)
    assert ("looping" if loop else "does not exist") in warning and "image modality" in warning


def test_features_are_memory_mapped_not_read_twice(tmp_path, monkeypatch):
    from anchorrec.data import validation

    d = write_valid_mmrec(tmp_path / "ds")
    modes = []
    real = np.load

    def spy(*args, **kwargs):
        modes.append(kwargs.get("mmap_mode"))
        return real(*args, **kwargs)

    monkeypatch.setattr(validation.np, "load", spy)
    ds = load_mmrec(d)
    assert modes == ["r", "r"] and ds.features["image"].dtype == np.float32
    assert ds.features["image"].flags.writeable  # a private copy, not the file's pages


# ------------------------------------------------------------------------------ CSV injection
@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_neutralised(cell):
    assert neutralise_cell(cell) == "'" + cell
    frame = pd.DataFrame({"segment": [cell, "plain"], "share": [-0.5, 0.25]})
    text = csv_bytes(frame).decode()
    rows = pd.read_csv(__import__("io").StringIO(text), keep_default_na=False)
    assert rows["segment"].tolist() == ["'" + cell, "plain"]
    assert rows["share"].tolist() == [-0.5, 0.25]  # numbers are left as numbers


def test_the_audit_shares_csv_is_neutralised(tmp_path):
    from types import SimpleNamespace

    from anchorrec.analysis.audit_report import shares_csv, write_shares_csv

    shares = pd.DataFrame({"segment": ['=HYPERLINK("http://x")', "ok"], "share_id": [0.1, 0.9]})
    result = SimpleNamespace(shares=shares, game="mean")
    write_shares_csv(tmp_path / "s.csv", result)
    written = (tmp_path / "s.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in written and "\n=HYPERLINK" not in written
    assert shares_csv(result) == written.encode()


def test_a_fifo_config_is_listed_as_broken_without_blocking(tmp_path):
    from anchorrec.workspace import find_models

    model = write_valid_model(tmp_path / "d")
    models = tmp_path / "d" / "data" / "models"
    models.mkdir()
    shutil.copytree(model, models / "good")
    shutil.copytree(model, models / "fifo")
    (models / "fifo" / "config.json").unlink()
    os.mkfifo(models / "fifo" / "config.json")
    entries = {e.name: e for e in find_models(tmp_path / "d" / "data", None)}
    assert entries["good"].usable
    assert not entries["fifo"].usable and "not a regular file" in entries["fifo"].error


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root may write anywhere; the corpus fakes a read-only mount"
)
def test_an_unwritable_output_parent_is_refused_before_any_work(tmp_path, capsys):
    data = write_valid_mmrec(tmp_path / "data")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        argv = ["train", str(data), "--variant", "mf", "--out", str(locked / "m"), "--quiet"]
        assert main(argv) == 2
        assert "permission denied" in capsys.readouterr().err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_an_image_name_too_long_for_the_file_system_is_a_missing_image(tmp_path):
    d = write_valid_mmrec(tmp_path / "ds")
    items = pd.read_csv(d / "items.csv")
    items["image"] = ["x" * 300 + ".png"] * len(items)
    items.to_csv(d / "items.csv", index=False)
    ds = load_mmrec(d)
    assert any("image file(s) are missing" in w for w in ds.warnings)


def test_a_model_saved_before_the_config_checksum_can_be_sealed_once(trained, tmp_path):
    from anchorrec.models.checkpoint import load_model, seal_model_dir

    copy = tmp_path / "anchor"
    shutil.copytree(trained, copy)
    info = json.loads((copy / "config.json").read_text())
    del info["config_sha256"]
    (copy / "config.json").write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="missing"):
        load_model(copy, load_mmrec(trained.parent / "data"))
    assert seal_model_dir(copy) is True
    assert seal_model_dir(copy) is False
    load_model(copy, load_mmrec(trained.parent / "data"))
    (copy / "model.safetensors").write_bytes(b"x")  # damaged weights are never sealed
    info = json.loads((copy / "config.json").read_text())
    del info["config_sha256"]
    (copy / "config.json").write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="weights_sha256"):
        seal_model_dir(copy)
