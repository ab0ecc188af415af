"""RecBole atomic files and Cornac UIR/UIRT files: read, checked line by line, trained on,
evaluated, converted. The tests write the files themselves (no RecBole or Cornac needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from anchorrec.cli import main
from anchorrec.data.dataset import TEST, TRAIN, VALID
from anchorrec.data.foreign import recbole_split
from anchorrec.data.formats import convert_dataset, detect_format, load_dataset
from anchorrec.data.mmrec import load_mmrec
from anchorrec.errors import DatasetError


def _histories(seed: int = 0, users: int = 80, items: int = 50) -> list[tuple[str, str, int, int]]:
    """(user, item, rating, timestamp) rows: every user buys 5-14 distinct items."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        picks = rng.choice(items, size=int(rng.integers(5, 15)), replace=False)
        for t, i in enumerate(picks):
            rows.append((f"user-{u}", f"sku{i:03d}", int(rng.integers(1, 6)), 10_000 + 97 * u + t))
    return rows


def write_recbole(directory: Path, name: str = "shop", *, item_file: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows = _histories()
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    body = "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows)
    (directory / f"{name}.inter").write_text(header + "\n" + body, encoding="utf-8")
    if item_file:
        items = "".join(f"sku{i:03d}\tThing number {i}\tcat{i % 4}\t{i * 1.5}\n" for i in range(55))
        (directory / f"{name}.item").write_text(
            "item_id:token\tmovie_title:token_seq\tgenre:token\tprice:float\n" + items,
            encoding="utf-8",
        )
        users = "".join(f"user-{u}\t{20 + u % 50}\n" for u in range(80))
        (directory / f"{name}.user").write_text("user_id:token\tage:float\n" + users, "utf-8")
    return directory


def write_cornac(path: Path, *, with_time: bool = True, sep: str = "\t") -> Path:
    rows = _histories(seed=1)
    cut = 4 if with_time else 3
    path.write_text(
        "".join(sep.join(str(v) for v in row[:cut]) + "\n" for row in rows), encoding="utf-8"
    )
    return path


# ------------------------------------------------------------------------------- RecBole
def test_recbole_directory_reads_with_its_tokens_metadata_and_stated_split(tmp_path):
    d = write_recbole(tmp_path / "shop")
    assert detect_format(d) == "recbole"
    ds = load_dataset(d)
    rows = _histories()
    assert ds.n_users == 80 and ds.n_items == 50 and ds.n_interactions == len(rows)
    assert "RecBole" in ds.source and "random order (seed 2020), 80/10/10" in ds.source
    # ids in order of first appearance, tokens kept
    assert ds.items["original_item_id"].iloc[0] == rows[0][1]
    assert ds.users["original_user_id"].iloc[0] == "user-0"
    # .item attributes by item, the title taken from movie_title; unused catalogue rows warned
    tokens = ds.items["original_item_id"].to_numpy()
    titles = ds.items["title"].to_numpy()
    assert all(t == f"Thing number {int(k[3:])}" for k, t in zip(tokens, titles, strict=True))
    assert any("5 item(s) have no interaction" in w for w in ds.warnings)
    assert ds.users["age"].iloc[0] == "20"


def test_recbole_split_follows_recbole_rounding():
    users = np.repeat(np.arange(6), [1, 2, 3, 9, 10, 25])
    labels = recbole_split(users, seed=3)
    counts = {
        n: tuple(int(((users == u) & (labels == lab)).sum()) for lab in (TRAIN, VALID, TEST))
        for u, n in enumerate([1, 2, 3, 9, 10, 25])
    }
    # RecBole: int(0.1 n) to valid and test, then a share in (0, 1) gets one while train > 1
    assert counts == {
        1: (1, 0, 0),
        2: (1, 0, 1),
        3: (1, 1, 1),
        9: (7, 1, 1),
        10: (8, 1, 1),
        25: (21, 2, 2),
    }


def test_recbole_temporal_split_holds_out_the_latest(tmp_path):
    d = write_recbole(tmp_path / "shop", item_file=False)
    ds = load_dataset(d, split="recbole-temporal")
    assert "timestamp order" in ds.source
    rows = _histories()
    ids = {tok: n for n, tok in enumerate(ds.items["original_item_id"])}
    users = {tok: n for n, tok in enumerate(ds.users["original_user_id"])}
    last = {}
    for u, i, _, t in rows:
        last[u] = max(last.get(u, (0, "")), (t, i))
    for u, (_, item) in last.items():
        assert ids[item] in ds.user_items(users[u], "test")


def test_recbole_split_files_are_kept(tmp_path):
    d = tmp_path / "bench"
    d.mkdir()
    header = "user_id:token\titem_id:token\n"
    train = "".join(f"u{u}\ti{(u + k) % 12}\n" for u in range(10) for k in range(4))
    (d / "bench.train.inter").write_text(header + train)
    (d / "bench.valid.inter").write_text(
        header + "".join(f"u{u}\ti{(u + 5) % 12}\n" for u in range(10))
    )
    (d / "bench.test.inter").write_text(
        header + "".join(f"u{u}\ti{(u + 6) % 12}\n" for u in range(10)) + "ghost\ti1\n"
    )
    ds = load_dataset(d)
    assert (ds.train.nnz, ds.valid.nnz, ds.test.nnz) == (40, 10, 10)
    assert "given train/valid/test files" in ds.source
    assert ds.n_users == 10  # the test-only user is dropped, ids stay contiguous
    assert any("none in train" in w for w in ds.warnings)


@pytest.mark.parametrize(
    ("header", "line", "expected"),
    [
        ("user_id:token\titem_id:token", None, "line 1 (header): missing field(s) item_id"),
        ("user_id:token\titem_id:int\n", None, "field item_id: type 'int' is not a RecBole type"),
        (None, "u1\tsku001\tfive\t100", "line 3, field rating: is 'five', not a number"),
        (None, "u1\tsku001\t5", "line 3: 3 tab-separated field(s), but the header names 4"),
        (None, "\tsku001\t5\t100", "line 3, field user_id: is empty"),
        (None, "u1\tsku001\t5\t", "line 3, field timestamp: is empty"),
    ],
)
def test_recbole_errors_name_file_line_and_field(tmp_path, header, line, expected):
    d = tmp_path / "bad"
    d.mkdir()
    head = header or "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    if header and "missing" in expected:
        head = "user_id:token\tprice:float"
    body = "u0\tsku000\t4\t99\n" + (line + "\n" if line else "")
    (d / "bad.inter").write_text(head.rstrip("\n") + "\n" + body)
    with pytest.raises(DatasetError) as err:
        load_dataset(d)
    assert str(d / "bad.inter") in str(err.value)
    assert expected in str(err.value)


def test_validate_cli_reports_recbole_errors_and_summary(tmp_path, capsys):
    d = write_recbole(tmp_path / "shop")
    assert main(["validate", str(d)]) == 0
    out = capsys.readouterr().out
    assert "source       RecBole atomic files (shop.inter, shop.item, shop.user)" in out
    (d / "shop.inter").write_text("user_id:token\titem_id:token\nu1\tx\nu2\n")
    assert main(["validate", str(d), "--json"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (
        report["ok"] is False
        and "shop.inter, line 3: 1 tab-separated field(s)" in report["errors"][0]
    )


# ------------------------------------------------------------------------------- Cornac
@pytest.mark.parametrize(("with_time", "sep"), [(True, "\t"), (False, ","), (False, "::")])
def test_cornac_files_read_with_format_separator_and_split(tmp_path, with_time, sep):
    path = write_cornac(tmp_path / "ratings.txt", with_time=with_time, sep=sep)
    assert detect_format(path) == "cornac"
    ds = load_dataset(path)
    assert ds.n_interactions == len(_histories(seed=1))
    fmt = "UIRT" if with_time else "UIR"
    assert f"Cornac {fmt} file ratings.txt" in ds.source
    assert ("chronological" in ds.source) == with_time
    assert ds.valid.nnz > 0 and ds.test.nnz > 0


def test_cornac_header_is_skipped_and_errors_name_the_line(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("user\titem\trating\nu1\ti1\t4\nu1\ti2\tgood\n")
    with pytest.raises(
        DatasetError, match=r"r\.tsv, line 3, field rating: is 'good', not a number"
    ):
        load_dataset(path)
    path.write_text("u1\ti1\t4\t100\nu1\ti2\t3\n")
    with pytest.raises(DatasetError, match=r"line 2: 3 field\(s\) .* the file is UIRT"):
        load_dataset(path)


# ------------------------------------------------------------------------------- convert, train
def test_convert_writes_an_mmrec_directory_with_the_same_fingerprint(tmp_path, capsys):
    d = write_recbole(tmp_path / "shop")
    out = tmp_path / "mmrec"
    assert main(["convert", str(d), "--out", str(out)]) == 0
    assert "source       converted from RecBole" in capsys.readouterr().out
    back = load_mmrec(out)
    assert back.fingerprint == load_dataset(d).fingerprint
    assert {"item_id_map.csv", "user_id_map.csv", "items.csv", "shop.inter"} <= {
        p.name for p in out.iterdir()
    }
    assert main(["convert", str(d), "--out", str(out)]) == 2  # exists: nothing overwritten
    cornac = write_cornac(tmp_path / "c.uir", with_time=False)
    seeded = convert_dataset(cornac, tmp_path / "c1", seed=7)
    assert "seed 7" in seeded.source
    assert seeded.fingerprint != load_dataset(cornac).fingerprint  # another draw


@pytest.mark.parametrize("kind", ["recbole", "cornac"])
def test_foreign_datasets_train_and_evaluate(tmp_path, capsys, kind):
    data = (
        write_recbole(tmp_path / "shop")
        if kind == "recbole"
        else write_cornac(tmp_path / "ratings.uirt")
    )
    model = tmp_path / "models" / "mf"
    argv = ["train", str(data), "--variant", "mf", "--out", str(model), "--epochs", "2"]
    assert main([*argv, "--device", "cpu", "--quiet", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= trained["recall@20"] <= 1.0
    # evaluate finds the dataset again from the model's config.json (same fingerprint)
    assert main(["evaluate", str(model), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert evaluated["recall@20"] == pytest.approx(trained["recall@20"])
    assert main(["evaluate", str(model), "--data", str(data), "--json"]) == 0
    # segments every dataset has: activity groups partition the evaluated users
    assert main(["evaluate", str(model), "--by", "activity", "--json"]) == 0
    by = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sum(s["users"] for s in by["segments"].values()) == by["all"]["users"]
    assert all(0.0 <= s["mrr@20"] <= s["hitrate@20"] for s in by["segments"].values())
    assert main(["evaluate", str(model), "--by", "popularity", "--json"]) == 0
    by = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [name.split()[0] for name in by["segments"]][:1] == ["head"]
    assert main(["evaluate", str(model), "--by", "nonexistent"]) == 2


@pytest.mark.parametrize("kind", ["recbole", "cornac"])
def test_import_catalog_reads_recbole_or_cornac_interactions(tmp_path, kind):
    from anchorrec.data.catalog import read_catalog

    items = tmp_path / "items.csv"
    items.write_text(
        "item_id,title,image\n" + "".join(f"sku{i:03d},Thing {i},{i}.jpg\n" for i in range(45))
    )
    if kind == "recbole":
        inter = write_recbole(tmp_path / "rb", item_file=False) / "shop.inter"
        rows = _histories()
    else:
        inter = write_cornac(tmp_path / "c.uirt")
        rows = _histories(seed=1)
    catalog = read_catalog(items, inter)
    known = [r for r in rows if int(r[1][3:]) < 45]
    assert list(catalog.users) == [r[0] for r in known]
    assert list(catalog.item_ids) == [r[1] for r in known]
    assert catalog.timestamps is not None
    assert list(catalog.timestamps) == [float(r[3]) for r in known]
    skipped = len(rows) - len(known)
    assert any(f"{skipped} interaction(s) name an item_id" in w for w in catalog.warnings)
    first_unknown = next(n for n, r in enumerate(rows) if int(r[1][3:]) >= 45)
    line = first_unknown + (2 if kind == "recbole" else 1)
    assert any(f"(first: line {line}," in w for w in catalog.warnings)
