"""The protocol's seed mean ± sd, read from a model's tuning record."""

from __future__ import annotations

import json

import pytest

from anchorrec.models.seed_spread import seed_spread


def _record(path, seeds, test):
    path.mkdir(parents=True, exist_ok=True)
    (path / "tuning.json").write_text(json.dumps({"summary": {"seeds": seeds, "test": test}}))
    return path


def test_reads_the_seed_mean_and_sd(tmp_path):
    d = _record(tmp_path / "m", [0, 1, 2], {"recall@20": {"mean": 0.13, "sd": 0.004}})
    s = seed_spread(d)
    assert (s.mean, s.sd, s.seeds, s.metric, s.split) == (0.13, 0.004, 3, "recall@20", "test")
    assert s.text() == "0.1300 ± 0.0040 (3 seeds)"
    assert seed_spread(d, "ndcg@20") is None  # not recorded


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"summary": {"seeds": [0], "test": {"recall@20": {"mean": 1, "sd": 0}}}}),
    ],
)
def test_no_spread_from_a_bad_or_single_seed_record(tmp_path, content):
    d = tmp_path / "m"
    d.mkdir()
    assert seed_spread(d) is None  # no record
    (d / "tuning.json").write_text(content)
    assert seed_spread(d) is None


def test_compare_prints_both_readings(tmp_path, capsys):
    import shutil

    from anchorrec.cli import main
    from anchorrec.data.mmrec import save_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.registry import build_model
    from tests.conftest import make_tiny_dataset

    ds = make_tiny_dataset()
    data = save_mmrec(ds, tmp_path / "tiny")
    from anchorrec.data.mmrec import load_mmrec

    ds = load_mmrec(data)
    a = save_model(build_model("lightgcn", ds, seed=0), ds, tmp_path / "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    _record(b, [0, 1, 2, 3, 4], {"recall@20": {"mean": 0.25, "sd": 0.01}})
    assert main(["compare", str(b), "--reference", str(a), "--json"]) == 0
    captured = capsys.readouterr()  # --json: the table on stderr, one document on stdout
    err = captured.err
    assert "b: 0.2500 ± 0.0100 (5 seeds)" in err and "a: no tuning record" in err
    rows = json.loads(captured.out)
    recall = next(r for r in rows if r["metric"] == "recall@20")
    assert recall["model_seed_mean"] == 0.25 and recall["reference_seed_mean"] is None
