"""The analysis CLI on a real saved model: recommend --explain JSON contract, diagnose,
project (cache hit), audit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from anchorrec.cli import main
from tests.conftest import make_tiny_dataset


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    from anchorrec.data.mmrec import load_mmrec, save_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.registry import build_model

    root = tmp_path_factory.mktemp("cli")
    data_dir = save_mmrec(make_tiny_dataset(n_users=40, n_items=30), root / "tiny")
    ds = load_mmrec(data_dir)
    model = build_model("anchor", ds, seed=0)
    return save_model(model, ds, root / "model")


def run_json(capsys, argv: list[str]):
    assert main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_recommend_explain_json_contract(model_dir, capsys):
    records = run_json(
        capsys, ["recommend", str(model_dir), "--user", "1,4", "--k", "5", "--explain", "--json"]
    )
    assert [r["user"] for r in records] == [1, 4]
    for rec in records:
        assert len(rec["items"]) == 5
        assert [it["rank"] for it in rec["items"]] == [1, 2, 3, 4, 5]
        for it in rec["items"]:
            assert set(it["attribution"]) == {"id", "image", "text"}
            total = rec["baseline"] + sum(it["attribution"].values())
            assert total == pytest.approx(it["score"], rel=1e-6, abs=1e-6)
            assert sum(it["branch_attribution"].values()) == pytest.approx(
                it["score"], rel=1e-4, abs=1e-5
            )


def test_recommend_explain_matches_plain_recommend(model_dir, capsys):
    explained = run_json(
        capsys, ["recommend", str(model_dir), "--user", "3", "--k", "5", "--explain", "--json"]
    )
    assert main(["recommend", str(model_dir), "--user", "3", "--k", "5", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["item"] for r in plain] == [it["item"] for it in explained[0]["items"]]
    np.testing.assert_allclose(
        [r["score"] for r in plain], [it["score"] for it in explained[0]["items"]], rtol=1e-4
    )


def test_recommend_all_users_and_bad_user(model_dir, capsys):
    records = run_json(
        capsys, ["recommend", str(model_dir), "--user", "all", "--k", "2", "--explain", "--json"]
    )
    assert [r["user"] for r in records] == list(range(40))
    assert main(["recommend", str(model_dir), "--user", "x1", "--explain"]) == 2
    assert "comma-separated" in capsys.readouterr().err
    assert main(["recommend", str(model_dir), "--user", "99", "--explain"]) == 2


def test_diagnose_json(model_dir, capsys):
    report = run_json(capsys, ["diagnose", str(model_dir), "--json"])
    metrics = {d["metric"] for d in report["diagnostics"]}
    assert {"effective_rank", "linear_cka", "knn_overlap", "id_dominance", "alignment"} <= metrics
    assert all(d["meaning"] for d in report["diagnostics"])


def test_diagnose_store_writes_what_the_dashboard_reads(model_dir, capsys):
    from anchorrec.analysis.diagnostics import read_diagnostics

    assert read_diagnostics(model_dir) is None
    report = run_json(capsys, ["diagnose", str(model_dir), "--json", "--store"])
    stored = read_diagnostics(model_dir)
    assert stored is not None
    ranks = {(d["metric"], d["space"]): d["value"] for d in report["diagnostics"]}
    assert stored.value("effective_rank", "final") == pytest.approx(
        ranks[("effective_rank", "final")]
    )


def test_project_then_cache_hit(model_dir, capsys):
    assert main(["project", str(model_dir), "--methods", "pca"]) == 0
    first = capsys.readouterr().out
    assert "final" in first and "anchor_domain" in first
    assert main(["project", str(model_dir), "--methods", "pca"]) == 0
    second = capsys.readouterr().out
    assert "trustworthiness" not in second  # every layout came from the cache
    assert main(["project", str(model_dir), "--methods", "mds"]) == 2
    capsys.readouterr()
    # diagnose now also measures the Figure-1 displacement in the cached joint layout
    report = run_json(capsys, ["diagnose", str(model_dir), "--json"])
    rows = [d for d in report["diagnostics"] if d["metric"] == "coembedding_displacement_2d"]
    assert len(rows) == 1 and rows[0]["space"] == "id_view~final (pca)" and rows[0]["value"] >= 0


def test_audit_writes_html_and_csv(model_dir, tmp_path, capsys):
    out, csv = tmp_path / "r.html", tmp_path / "s.csv"
    assert (
        main(
            [
                "audit",
                str(model_dir),
                "--out",
                str(out),
                "--csv",
                str(csv),
                "--k",
                "5",
                "--no-diagnostics",
            ]
        )
        == 0
    )
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert csv.read_text().startswith("kind,segment,n,users,share_id")
    assert "Accuracy against" not in out.read_text()
    # against a reference model (here the model itself, under another directory name)
    import shutil

    twin = tmp_path / "twin"
    shutil.copytree(model_dir, twin)
    shutil.rmtree(twin / "projections", ignore_errors=True)
    capsys.readouterr()
    argv = ["audit", str(model_dir), "--out", str(out), "--k", "5", "--no-diagnostics"]
    assert main([*argv, "--reference", str(twin)]) == 0
    printed = capsys.readouterr().out
    assert "recall@20 against twin: +0.0000 [+0.0000, +0.0000] (tie)" in printed
    assert "<h2>Accuracy against twin</h2>" in out.read_text()


def test_stale_layouts_are_refused_after_retraining(model_dir, tmp_path, capsys):
    import shutil

    from anchorrec.analysis.projection import load_projection
    from anchorrec.errors import CheckpointError

    shutil.copytree(model_dir.parent, tmp_path / "root")  # the dataset path is relative
    copy = tmp_path / "root" / model_dir.name
    shutil.rmtree(copy / "projections", ignore_errors=True)
    assert main(["project", str(copy), "--methods", "pca"]) == 0
    load_projection(copy, "final", "pca")  # fresh: fine
    config = copy / "config.json"
    config.write_text(config.read_text().replace('"weights_sha256": "', '"weights_sha256": "0'))
    with pytest.raises(CheckpointError, match="another version"):
        load_projection(copy, "final", "pca")


def test_prepare_stores_what_the_dashboard_reads(model_dir, capsys, tmp_path, monkeypatch):
    from anchorrec.analysis.diagnostics import read_diagnostics
    from anchorrec.analysis.projection import available_projections
    from anchorrec.evaluation.stored import read_per_user_metrics

    monkeypatch.setenv("ANCHORREC_HOME", str(tmp_path / "home"))
    argv = ["prepare", str(model_dir), "--methods", "pca", "--quiet"]
    assert main(argv) == 0
    assert "prepared 1 model(s)" in capsys.readouterr().out
    assert read_per_user_metrics(str(model_dir)) is not None
    assert read_diagnostics(model_dir) is not None
    assert any(key.endswith("/pca") for key in available_projections(model_dir))
    assert list((model_dir / "attribution").glob("coalitions-*.npz"))


def test_prepare_refuses_an_unknown_layout_method(model_dir, capsys):
    assert main(["prepare", str(model_dir), "--methods", "pca,mds"]) == 2
    assert "--methods" in capsys.readouterr().err
