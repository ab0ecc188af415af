"""Audit: shares by segment, exposure, a self-contained HTML report and a CSV."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from anchorrec.analysis.audit import audit, popularity_buckets
from anchorrec.analysis.audit_report import render_audit_html, write_audit_html, write_shares_csv
from anchorrec.analysis.diagnostics import diagnose


@pytest.fixture(scope="module")
def tiny_audit(tiny_model):
    return audit(tiny_model, k=5)


def test_popularity_buckets_split_head_torso_tail():
    b = popularity_buckets(np.arange(10)[::-1])
    assert list(b[:2]) == ["head", "head"] and list(b[-5:]) == ["tail"] * 5
    assert set(b[2:5]) == {"torso"}


def test_audit_shares_overall_and_by_segment(tiny_model, tiny_audit):
    res = tiny_audit
    recs = res.recommendations
    assert len(recs) == tiny_model.dataset.n_users * 5
    overall = res.shares[res.shares["kind"] == "all"].iloc[0]
    share_cols = [f"share_{p}" for p in res.players]
    assert overall[share_cols].sum() == pytest.approx(1.0)
    assert overall["n"] == len(recs)
    for col in share_cols:
        assert overall[col] == pytest.approx(recs[col].mean())
    pop = res.shares[res.shares["kind"] == "popularity bucket"]
    assert pop["n"].sum() == len(recs)
    counts = res.exposure["recommended"].to_numpy()
    assert counts.sum() == len(recs)
    assert res.summary["coverage"] == pytest.approx((counts > 0).mean())
    assert 0 <= res.summary["exposure_gini"] <= 1


def test_user_groups_from_users_csv_become_a_segment(tiny_model):
    from dataclasses import replace

    ds = tiny_model.dataset
    users = pd.DataFrame(
        {
            "user_id": np.arange(ds.n_users),
            "group": np.where(np.arange(ds.n_users) % 2, "odd", "even"),
        }
    )
    loaded = replace(tiny_model, dataset=replace(ds, users=users))
    res = audit(loaded, k=3)
    seg = res.shares[res.shares["kind"] == "user group"]
    assert set(seg["segment"]) == {"odd", "even"} and seg["users"].sum() == ds.n_users


def test_html_report_is_self_contained(tiny_model, tiny_audit, tmp_path):
    out = write_audit_html(
        tmp_path / "report.html", tiny_audit, diagnose(tiny_model, with_attribution=False)
    )
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "<style>" in text
    # nothing is fetched: the only URLs are SVG namespace declarations
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", text))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    assert "effective_rank" in text and "Gini" in text
    assert not list(tmp_path.glob(".*tmp"))  # written atomically, no leftovers


def test_shares_csv_round_trips(tiny_audit, tmp_path):
    path = write_shares_csv(tmp_path / "shares.csv", tiny_audit)
    back = pd.read_csv(path)
    assert list(back.columns) == [*tiny_audit.shares.columns, "game"]  # the game it used
    assert set(back["game"]) == {tiny_audit.game}
    np.testing.assert_allclose(back["share_id"], tiny_audit.shares["share_id"])
    assert "<" not in render_audit_html(tiny_audit).split("<title>")[1].split("</title>")[0]


def test_html_report_states_accuracy_against_the_reference(tiny_audit):
    from anchorrec.evaluation import PairedDifference

    accuracy = [
        PairedDifference("anchor", "lightgcn", "recall@20", 0.587, 0.581, -0.003, 0.0145, 3000),
        PairedDifference("anchor", "lightgcn", "ndcg@20", 0.332, 0.344, -0.0172, -0.0071, 3000),
    ]
    text = render_audit_html(tiny_audit, accuracy=accuracy)
    section = text.split("<h2>Accuracy against lightgcn</h2>")[1].split("<h2>")[0]
    assert "3000 users" in section and "95% paired bootstrap interval" in section
    for cell in ("+0.0060", "[-0.0030, +0.0145]", "tie", "-0.0120", "[-0.0172, -0.0071]", "below"):
        assert cell in section, cell
    assert "Accuracy against" not in render_audit_html(tiny_audit)  # only when given


def test_small_segments_are_flagged_in_the_table_and_the_report(tiny_model):
    res = audit(tiny_model, k=5, users=np.arange(4))  # 20 recommendations: every segment small
    assert res.shares["small"].all()
    big = audit(tiny_model, k=5)
    assert not big.shares.loc[big.shares["kind"] == "all", "small"].any()
    html = render_audit_html(res)
    assert html.count("too small (n &lt; 30)") == len(res.shares)


def test_audit_records_provenance_and_its_attribution_adds_up(tiny_model, tiny_audit):
    p = tiny_audit.provenance
    assert p["dataset_fingerprint"] == tiny_model.dataset.fingerprint
    assert p["game"] == "mean" and "average item" in p["game_question"]
    assert p["time"].endswith("UTC") and p["code_version"]
    a = tiny_audit.attribution
    assert a is not None and len(a) == len(tiny_audit.recommendations)
    assert a.efficiency_error() < 1e-9
    assert tiny_audit.summary["efficiency_error"] < 1e-9


def test_the_audit_reports_its_progress_over_every_user(tiny_model):
    calls: list[tuple[int, int]] = []
    result = audit(tiny_model, k=5, progress=lambda done, total: calls.append((done, total)))
    n = tiny_model.dataset.n_users
    assert calls and {total for _, total in calls} == {2 * n}  # ranking, then the moments
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 2 * n
    pd.testing.assert_frame_equal(result.shares, audit(tiny_model, k=5).shares)


def test_user_activity_is_a_segment_of_every_audit(tiny_model, tiny_audit):
    from anchorrec.evaluation.segments import user_activity

    seg = tiny_audit.shares[tiny_audit.shares["kind"] == "user activity"]
    labels = user_activity(tiny_model.dataset)
    expected = {name: int((labels == name).sum()) for name in set(labels)}
    assert dict(zip(seg["segment"], seg["users"], strict=True)) == expected
