"""load_mmrec: what it reads, what it repairs with a warning, and the Baby dataset via the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from anchorrec.cli import main
from anchorrec.data.dataset import FUSED, IMAGE, TEXT
from anchorrec.data.features import build_fused_features
from anchorrec.data.mmrec import load_mmrec
from anchorrec.errors import DatasetError
from tests.data.conftest import BABY_INTERACTIONS, BABY_ITEMS, BABY_USERS
from tests.data.malformed.corpus import (
    N_ITEMS,
    N_USERS,
    base_inter_rows,
    inter_text,
    write_valid_mmrec,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.shared
def test_validate_baby_via_the_cli(baby_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "anchorrec", "validate", str(baby_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is True
    assert summary["users"] == BABY_USERS
    assert summary["items"] == BABY_ITEMS
    assert summary["interactions"] == BABY_INTERACTIONS
    assert summary["modalities"] == {"image": 16, "text": 8}
    assert summary["train"] + summary["valid"] + summary["test"] == BABY_INTERACTIONS
    assert summary["dropped_users"] == 0


@pytest.mark.shared
def test_validate_baby_human_summary(baby_dir: Path, capsys) -> None:
    assert main(["validate", str(baby_dir)]) == 0
    out = capsys.readouterr().out
    assert "19,445" in out and "7,050" in out and "160,792" in out
    assert "image (16-d)" in out and "text (8-d)" in out
    assert len(out.splitlines()) <= 24  # one screen


@pytest.mark.shared
def test_baby_interactions_load_well_under_a_second(baby_dir: Path) -> None:
    (baby_dir / "image_feat.npy").unlink()
    (baby_dir / "text_feat.npy").unlink()
    load_mmrec(baby_dir)  # warm the imports
    best = min(_timed(lambda: load_mmrec(baby_dir)) for _ in range(3))
    # ~0.1 s on a 2-core machine; the bound leaves room for a busy CI runner.
    assert best < 1.0


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_loads_matrices_features_and_metadata(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    ds = load_mmrec(d)
    assert (ds.name, ds.n_users, ds.n_items) == ("toy", N_USERS, N_ITEMS)
    assert (ds.train.nnz, ds.valid.nnz, ds.test.nnz) == (12, 6, 6)
    assert ds.train.dtype == np.float32 and ds.train.shape == (N_USERS, N_ITEMS)
    assert ds.modalities == (IMAGE, TEXT)
    assert all(f.dtype == np.float32 for f in ds.features.values())
    assert ds.items is not None and list(ds.items["item_id"]) == list(range(N_ITEMS))
    assert ds.path == d and ds.warnings == () and ds.dropped_users == 0
    for u, i, x in base_inter_rows():
        assert ds.split(["train", "valid", "test"][x])[u, i] == 1.0


def test_interactions_only_is_valid_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    d = tmp_path / "idonly"
    d.mkdir()
    rows = base_inter_rows()
    text = "userID\titemID\trating\tx_label\ttimestamp\n" + "".join(
        f"{u}\t{i}\t5.0\t{x}\t1700000000\n" for u, i, x in rows
    )
    (d / "idonly.inter").write_text(text, encoding="utf-8")
    ds = load_mmrec(d)
    assert ds.features == {} and ds.modalities == ()
    assert ds.n_interactions == len(rows)


def test_float64_features_are_cast_and_fused_file_is_read(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    img = np.load(d / "image_feat.npy").astype(np.float64)
    np.save(d / "image_feat.npy", img)
    fused = build_fused_features(img, np.load(d / "text_feat.npy"))
    np.save(d / "fused_feat.npy", fused)
    ds = load_mmrec(d)
    assert ds.features[IMAGE].dtype == np.float32
    assert ds.modalities == (IMAGE, TEXT, FUSED)
    np.testing.assert_allclose(ds.features[FUSED], fused, rtol=1e-6)


def test_duplicates_are_kept_once_with_a_warning(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    with open(d / "toy.inter", "a", encoding="utf-8") as fh:
        fh.write("0\t0\t0\n0\t0\t2\n")  # same pair again in train, and in test
    ds = load_mmrec(d)
    assert ds.n_interactions == len(base_inter_rows())
    assert ds.test[0, 0] == 0 and ds.train[0, 0] == 1
    assert len(ds.warnings) == 1
    assert "2 duplicate" in ds.warnings[0] and "line 26" in ds.warnings[0]
    with pytest.raises(DatasetError, match="line 26"):
        load_mmrec(d, on_duplicate="error")


def test_valid_test_users_without_train_are_dropped_and_counted(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    rows = base_inter_rows() + [(6, 0, 1), (6, 1, 2), (7, 2, 2)]
    (d / "toy.inter").write_text(inter_text(rows), encoding="utf-8")
    ds = load_mmrec(d)
    assert ds.n_users == 8  # max id + 1, as MMRec counts
    assert ds.dropped_users == 2
    assert ds.valid[6].nnz == 0 and ds.test[6].nnz == 0 and ds.test[7].nnz == 0
    assert ds.n_interactions == len(base_inter_rows())
    assert any("2 user(s)" in w for w in ds.warnings)
    assert ds.summary()["dropped_users"] == 2


def test_items_csv_rows_are_sorted_by_id_and_other_columns_kept(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    lines = ["item_id,title,price,image"] + [
        f"{i},Item {i},{i}.5,img/{i}.png" for i in reversed(range(N_ITEMS))
    ]
    (d / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "img").mkdir()
    for i in range(N_ITEMS - 1):
        (d / "img" / f"{i}.png").write_bytes(b"png")
    ds = load_mmrec(d)
    assert list(ds.items["item_id"]) == list(range(N_ITEMS))
    assert ds.items.loc[3, "title"] == "Item 3" and ds.items.loc[3, "price"] == "3.5"
    assert any("1 image file(s) are missing" in w and "item 7" in w for w in ds.warnings)


def test_image_paths_outside_the_dataset_are_flagged(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    lines = ["item_id,image"] + [f"{i},../../etc/passwd" for i in range(N_ITEMS)]
    (d / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load_mmrec(d)
    assert any("outside the dataset directory" in w for w in ds.warnings)


def test_symbolic_links_in_image_paths_are_resolved_before_they_are_trusted(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"png")
    (d / "img").mkdir()
    for i in range(3):
        (d / "img" / f"{i}.png").write_bytes(b"png")
    (d / "img" / "out.png").symlink_to(outside / "secret.png")  # a file link leaving the dataset
    (d / "linked").symlink_to(outside, target_is_directory=True)  # a folder link leaving it
    (d / "img" / "in.png").symlink_to(d / "img" / "0.png")  # a link that stays inside
    paths = ["img/0.png", "./img/1.png", "img/out.png", "linked/secret.png", "img/in.png"]
    paths += [f"img/{i}.png" for i in range(len(paths), N_ITEMS)]
    lines = ["item_id,image"] + [f"{i},{p}" for i, p in enumerate(paths)]
    (d / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load_mmrec(d)
    (outside_warning,) = [w for w in ds.warnings if "outside the dataset directory" in w]
    assert "2 path(s)" in outside_warning and "first: item 2" in outside_warning
    (missing,) = [w for w in ds.warnings if "are missing" in w]  # img/5.png … do not exist
    assert f"{N_ITEMS - 5} image file(s)" in missing and "first: item 5" in missing


def test_name_selects_one_of_several_inter_files_and_inter_path_works(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    rows = [r for r in base_inter_rows()]
    (d / "other.inter").write_text(inter_text(rows[:-1]), encoding="utf-8")
    assert load_mmrec(d, name="toy").n_interactions == len(rows)
    assert load_mmrec(d, name="other").n_interactions == len(rows) - 1
    assert load_mmrec(d / "other.inter").name == "other"
    with pytest.raises(DatasetError, match="nope.inter"):
        load_mmrec(d, name="nope")


def test_windows_line_endings_and_utf8_bom_are_accepted(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    text = inter_text(base_inter_rows()).replace("\n", "\r\n")
    (d / "toy.inter").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_mmrec(d).n_interactions == len(base_inter_rows())


def test_validate_json_reports_errors(tmp_path: Path, capsys) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    np.save(d / "text_feat.npy", np.zeros((3, 2), np.float32))
    assert main(["validate", str(d), "--json"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["ok"] is False and "text_feat.npy" in report["errors"][0]
    assert "text_feat.npy" in captured.err


def test_image_path_resolves_inside_the_dataset_only(tmp_path: Path) -> None:
    d = write_valid_mmrec(tmp_path / "toy")
    (d / "img").mkdir()
    (d / "img" / "0.png").write_bytes(b"png")
    (tmp_path / "outside.png").write_bytes(b"png")
    paths = ["img/0.png", "../outside.png", "", "img/missing.png"] + ["img/0.png"] * 4
    lines = ["item_id,image"] + [f"{i},{p}" for i, p in enumerate(paths)]
    (d / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = load_mmrec(d)
    assert ds.image_path(0) == (d / "img" / "0.png").resolve()
    assert ds.image_path(1) is None and ds.image_path(2) is None and ds.image_path(3) is None


def test_held_out_items_name_each_later_purchase_and_its_split(tiny_dataset) -> None:
    ds = tiny_dataset
    for user in range(ds.n_users):
        later = ds.held_out_items(user)
        valid = set(ds.valid[user].indices.tolist())
        test = set(ds.test[user].indices.tolist())
        assert later == {i: "valid" for i in valid} | {i: "test" for i in test}
        assert not set(later) & set(ds.train[user].indices.tolist())
