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
    # a cached joint layout is illustration only: no number is read off it, the displacement
    # is measured in the full-dimensional spaces, with its per-item distribution
    report = run_json(capsys, ["diagnose", str(model_dir), "--json"])
    assert not [d for d in report["diagnostics"] if "2d" in d["metric"] or "(pca)" in d["space"]]
    rows = [d for d in report["diagnostics"] if d["metric"] == "coembedding_displacement"]
    assert len(rows) == 1 and rows[0]["space"] == "id_view~final"
    assert rows[0]["low"] <= rows[0]["value"] <= rows[0]["high"]
    dist = report["distributions"]["coembedding_displacement"]
    assert sum(dist["counts"]) == 30 and len(dist["values"]) == len(dist["quantiles"])


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
    from anchorrec.analysis.accuracy_game import read_accuracy_game
    from anchorrec.analysis.reliance import read_reliance

    for game in ("mean", "background"):  # the Positional collapse page's reliance table
        assert read_reliance(model_dir, game).game == game
        assert read_accuracy_game(model_dir, game).game == game  # and which input earns hits
    from anchorrec.models.model_dir import GRAPHS_FILE

    assert (model_dir / GRAPHS_FILE).is_file()  # the content graphs a load then reads


def test_prepare_measures_the_reliance_of_the_games_asked_for(model_dir, capsys):
    assert main(["prepare", str(model_dir), "--games", "mean,typical", "--quiet"]) == 2
    assert "--games" in capsys.readouterr().err


def test_prepare_refuses_an_unknown_layout_method(model_dir, capsys):
    assert main(["prepare", str(model_dir), "--methods", "pca,mds"]) == 2
    assert "--methods" in capsys.readouterr().err


def test_reliance_json_has_every_coalition_and_matches_evaluate(model_dir, capsys):
    from anchorrec.evaluation import evaluate
    from anchorrec.models.checkpoint import load_model

    out = run_json(capsys, ["reliance", str(model_dir), "--json"])
    labels = [c["label"] for c in out["coalitions"]]
    assert labels == [
        "id + image + text",
        "id + image",
        "id + text",
        "image + text",
        "id",
        "image",
        "text",
        "none",
    ]
    loaded = load_model(model_dir)
    full = evaluate(loaded.model, loaded.dataset, "test", ks=(20,))
    first = out["coalitions"][0]
    assert first["recall"] == pytest.approx(full["recall@20"], abs=1e-9)
    assert first["ndcg"] == pytest.approx(full["ndcg@20"], abs=1e-9)
    for c in out["coalitions"]:
        assert 0 <= c["recall_low"] <= c["recall"] <= c["recall_high"] <= 1
    assert out["game"] == "mean"
    background = run_json(capsys, ["reliance", str(model_dir), "--json", "--game", "background"])
    assert background["game"] == "background"
    assert background["coalitions"][0]["recall"] == pytest.approx(first["recall"])
    assert main(["reliance", str(model_dir), "--k", "0"]) == 2


def test_reliance_json_has_the_accuracy_game_per_segment(model_dir, capsys):
    out = run_json(capsys, ["reliance", str(model_dir), "--json"])
    game = out["accuracy_game"]
    assert "held-out purchases" in game["needs"] and game["k"] == 20
    rows = game["rows"]
    assert {"segment", "input", "value", "low", "high"} <= set(rows[0])
    everyone = {r["input"]: r for r in rows if r["segment"] == "all" and r["metric"] == "recall"}
    assert set(everyone) >= {"id", "image", "text", "image − text"}
    # efficient: the inputs' values add up to all inputs' Recall@20 minus no input's
    coalitions = {c["label"]: c["recall"] for c in out["coalitions"]}
    total = sum(everyone[p]["value"] for p in ("id", "image", "text"))
    assert total == pytest.approx(coalitions["id + image + text"] - coalitions["none"], abs=1e-9)
    for r in rows:
        assert r["low"] <= r["value"] + 1e-12 and r["value"] <= r["high"] + 1e-12
    capsys.readouterr()
    assert main(["reliance", str(model_dir)]) == 0
    assert "which input earns the hits" in capsys.readouterr().out


def test_recommend_explain_because_adds_up_to_the_explained_part(model_dir, capsys):
    records = run_json(
        capsys, ["recommend", str(model_dir), "--user", "2,7", "--k", "4", "--explain", "--json"]
    )
    for rec in records:
        for it in rec["items"]:
            because = it["because"]
            total = sum(h["contribution"] for h in because["items"])
            assert total == pytest.approx(because["explained"], abs=1e-9)
            assert because["unowned"] + because["explained"] == pytest.approx(
                it["score"], rel=1e-5, abs=1e-5
            )
            for h in because["items"]:
                assert sum(h["paths"].values()) == pytest.approx(h["contribution"], abs=1e-9)
    plain = run_json(
        capsys, ["recommend", str(model_dir), "--user", "2", "--k", "4", "--explain", "--json"]
    )
    assert main(["recommend", str(model_dir), "--user", "2", "--k", "4", "--explain"]) == 0
    assert "because you bought #" in capsys.readouterr().out
    assert plain[0]["game"] == "mean"


def test_recommend_explain_background_game_is_efficient(model_dir, capsys):
    records = run_json(
        capsys,
        [
            "recommend",
            str(model_dir),
            "--user",
            "1",
            "--k",
            "5",
            "--explain",
            "--json",
            "--game",
            "background",
        ],
    )
    mean = run_json(
        capsys, ["recommend", str(model_dir), "--user", "1", "--k", "5", "--explain", "--json"]
    )
    assert records[0]["game"] == "background"
    for it, ref in zip(records[0]["items"], mean[0]["items"], strict=True):
        assert it["item"] == ref["item"]  # the ranking is the model's, whatever the game
        total = it["baseline"] + sum(it["attribution"].values())
        assert total == pytest.approx(it["score"], rel=1e-6, abs=1e-6)
    with pytest.raises(SystemExit) as exc:  # argparse rejects an unknown game (exit 2)
        main(["recommend", str(model_dir), "--user", "1", "--explain", "--game", "x"])
    assert exc.value.code == 2


def test_audit_reports_the_accuracy_game_in_html_and_csv(model_dir, tmp_path, capsys):
    out, acc = tmp_path / "r.html", tmp_path / "acc.csv"
    args = ["audit", str(model_dir), "--out", str(out), "--k", "5", "--no-diagnostics"]
    assert main([*args, "--accuracy-csv", str(acc)]) == 0
    html = out.read_text()
    assert "Which input earns the hits (accuracy game)" in html
    assert "needs held-out purchases" in html and "Share of the score" in html
    import pandas as pd

    frame = pd.read_csv(acc)
    assert {"segment", "input", "value", "low", "high", "game"} <= set(frame.columns)
    assert set(frame["metric"]) == {"recall", "ndcg"}
    assert (frame["low"] <= frame["value"] + 1e-12).all()


def test_audit_exports_re_add_to_the_scores_and_state_provenance(model_dir, tmp_path, capsys):
    import pandas as pd

    out, recs, hist = tmp_path / "r.html", tmp_path / "recs.csv", tmp_path / "hist.csv"
    argv = ["audit", str(model_dir), "--out", str(out), "--k", "5", "--no-diagnostics"]
    assert main([*argv, "--recommendations-csv", str(recs), "--history-csv", str(hist)]) == 0
    table = pd.read_csv(recs)
    assert list(table.columns[:5]) == ["user", "rank", "item", "score", "baseline"]
    assert len(table) == 40 * 5
    phi = table[[c for c in table.columns if c.startswith("phi_")]].sum(axis=1)
    np.testing.assert_allclose(table["baseline"] + phi, table["score"], rtol=1e-9, atol=1e-9)
    branch = table[[c for c in table.columns if c.startswith("branch_")]].sum(axis=1)
    np.testing.assert_allclose(branch, table["score"], rtol=1e-4, atol=1e-5)
    assert set(table["game"]) == {"mean"}
    split = pd.read_csv(hist)
    added = split.groupby(["user", "rank"])["contribution"].sum()
    scores = table.set_index(["user", "rank"])["score"]
    np.testing.assert_allclose(added.loc[scores.index], scores, rtol=1e-5, atol=1e-5)
    assert (split.groupby(["user", "rank"])["bought"].first() == -1).all()  # the unowned row
    html = out.read_text()
    info = json.loads((model_dir / "config.json").read_text())
    assert "<h2>Provenance</h2>" in html and info["weights_sha256"] in html
    assert "mean: what the input adds over an average item" in html
    assert "<h2>Modality reliance</h2>" in html
    assert main([*argv, "--game", "background"]) == 0
    assert "background: what the input adds over a typical item" in out.read_text()
