"""Every page of the dashboard renders on a dataset with trained models, without an exception."""

from __future__ import annotations

import pytest

from tests.app.app_support import panels_data, table_with, tables_with


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [s.value for s in at.subheader] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


def _plotly_count(at) -> int:
    return len(at.get("plotly_chart"))


def test_overview_opens_with_dataset_card_variants_and_curves(app):
    at = app.run()
    _no_exception(at)
    assert at.title[0].value == "AnchorRec Studio"
    assert [m.label for m in at.metric][:2] == ["Users", "Items"]
    assert at.metric[1].value == "60"
    variants = table_with(at, "variant", "test recall@20")
    assert list(variants["variant"]) == ["anchor", "lightgcn"]
    assert variants["test recall@20"].notna().all()
    # beside this run's figure, the protocol's seed mean ± sd (blank: no tuning record here)
    seeds = list(variants.columns).index("test recall@20, seed mean ± sd")
    assert seeds == list(variants.columns).index("test recall@20") + 1
    assert any("**Seed mean ± sd**" in c.value for c in at.caption)
    curves = [m.value for m in at.markdown if m.value.startswith("<svg")]
    assert len(curves) == 2  # training curves: valid Recall@20 and loss, one line a variant
    assert all(c.count("<polyline") == 2 and ">anchor<" in c and ">lightgcn<" in c for c in curves)
    assert _plotly_count(at) == 0  # the first page loads no chart library
    significance = table_with(at, "Recall@20 difference")  # each against the reference
    assert at.selectbox(key="overview_reference").value == "lightgcn"
    assert list(significance["variant"]) == ["anchor"]
    row = significance.iloc[0]
    for metric in ("Recall@20", "NDCG@20"):
        low, high = (float(v) for v in row[f"{metric} 95% interval"][1:-1].split(","))
        assert low <= row[f"{metric} difference"] <= high
        assert row[f"{metric} verdict"] == (
            "tie" if low <= 0 <= high else "above" if low > 0 else "below"
        )
    at.selectbox(key="overview_reference").set_value("anchor").run()
    flipped = table_with(at, "Recall@20 difference")
    assert list(flipped["variant"]) == ["lightgcn"]
    assert flipped.iloc[0]["Recall@20 difference"] == -row["Recall@20 difference"]
    groups = table_with(at, "Recall@20 · textual")  # accuracy by planted shopper group
    assert list(groups["variant"]) == ["anchor", "lightgcn"]
    for metric in ("Recall@20", "NDCG@20"):
        for group in ("textual", "visual"):
            assert groups[f"{metric} · {group}"].between(0, 1).all()
    headline = table_with(at, "ID→final displacement")
    assert list(headline["variant"]) == ["anchor", "lightgcn"]
    assert headline["ID→final displacement"].notna().all()
    assert {"Merchandiser", "Researcher", "Auditor"} <= {
        w for m in at.markdown for w in ("Merchandiser", "Researcher", "Auditor") if w in m.value
    }


def test_url_carries_dataset_variants_and_selection(app, shop):
    app.query_params.update({"variant": "lightgcn", "user": "5", "item": "7"})
    at = app.run()
    _no_exception(at)
    assert at.multiselect[0].value == ["lightgcn"]
    assert at.number_input[0].value == 5 and at.number_input[1].value == 7
    assert at.query_params["dataset"] == str(shop.resolve())
    assert at.query_params["item"] == "7"


def test_the_url_says_model_and_old_variant_links_still_open(app):
    app.query_params.update({"model": "lightgcn,anchor"})
    at = app.run()
    _no_exception(at)
    assert at.multiselect[0].label == "Models"
    assert at.multiselect[0].value == ["lightgcn", "anchor"]
    assert at.query_params["model"] == "lightgcn,anchor"


def test_an_old_variant_link_opens_and_is_rewritten_to_model(app):
    app.query_params.update({"variant": "lightgcn"})
    at = app.run()
    _no_exception(at)
    assert at.multiselect[0].value == ["lightgcn"]
    assert at.query_params["model"] == "lightgcn"
    assert "variant" not in at.query_params


@pytest.mark.parametrize(
    "page, title, subheaders",
    [
        ("pages/spaces.py", "Embedding spaces", []),
        (
            "pages/recommendations.py",
            "Recommendations",
            ["What if an input were removed?", "Similar items"],
        ),
        ("pages/collapse.py", "Positional collapse", ["Diagnostics, side by side"]),
        (
            "pages/audit.py",
            "Audit",
            [
                "Summary",
                "Share of the score by segment",
                "Which input earns the hits",
                "Exposure",
                "Export",
            ],
        ),
        ("pages/train.py", "Train", []),
        ("pages/data.py", "Data", []),
    ],
)
def test_page_renders(app, page, title, subheaders):
    at = app.run()
    at.switch_page(page).run()
    _no_exception(at)
    assert at.title[0].value == title
    heads = [s.value for s in at.subheader]
    for h in subheaders:
        assert h in heads


def test_spaces_page_draws_every_layout_with_trustworthiness(app):
    at = app.run()
    at.switch_page("pages/spaces.py").run()
    _no_exception(at)
    panels = panels_data(at)["panels"]
    # anchor: raw image/text/fused, id view, modality views, final, and the anchor domain
    assert len(panels) >= 5 and all("trustworthiness" in p["title"] for p in panels)
    (anchor,) = [p for p in panels if p["wide"]]
    assert anchor["heading"] == "Anchor domain" and len(anchor["tag_names"]) >= 4
    assert len(anchor["x"]) == len(anchor["rows"]) == len(anchor["tags"])


def test_recommendations_show_each_variant_side_by_side(app, shop):
    app.query_params["variant"] = "anchor,lightgcn"
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    top = tables_with(at, "score", "bought later")
    assert len(top) >= 2 and all(len(t) == 10 for t in top[:2])
    assert "id share" in top[0].columns and "image share" in top[0].columns
    metrics = [m.label for m in at.metric]
    assert "without picture" in metrics and "without history" in metrics
    # held-out purchases are marked, and each list says how many it recovers
    from anchorrec.data.mmrec import load_mmrec

    later = load_mmrec(shop).held_out_items(int(at.session_state["rec_user"]))
    assert later, "the shopper has held-out purchases"
    for t in top[:2]:
        marks = dict(zip(t["item"], t["bought later"], strict=True))
        assert marks == {i: f"✓ {later[int(i)]}" if int(i) in later else "" for i in t["item"]}
    hits = [c.value for c in at.caption if "later purchases in this top-10" in c.value]
    assert len(hits) == 2 and all(
        h.endswith(f"of {len(later)} later purchases in this top-10") for h in hits
    )


def test_branch_level_switch_changes_the_columns(app):
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    at.radio(key="rec_level").set_value("branch").run()
    _no_exception(at)
    first = tables_with(at, "score")[0]
    assert any(
        c.endswith(" share") and c.split()[0] not in ("image", "text") for c in first.columns
    )


def test_collapse_page_lists_metrics_with_nulls(app):
    at = app.run()
    at.switch_page("pages/collapse.py").run()
    table = table_with(at, "metric", "space", "null")
    assert "coembedding_displacement" in set(table["key"])  # the library's name, kept aside
    assert "ID → final displacement" in set(table["metric"])  # what the page shows
    assert "ID view ~ final vectors" in set(table["space"])
    assert not [w for c in ("metric", "space") for w in table[c] if "_" in w]  # no raw keys
    assert "chance" in _texts(at) or "null" in _texts(at)


def test_audit_offers_csv_and_html_downloads(app):
    at = app.run()
    at.switch_page("pages/audit.py").run()
    _no_exception(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("CSV" in lbl for lbl in labels) and any("HTML" in lbl for lbl in labels)
    assert any(
        "HTML report includes the variant's test accuracy against **lightgcn**" in c.value
        for c in at.caption
    )
    # the reference chosen on the Overview carries over to the export
    at.switch_page("pages/overview.py").run()
    at.selectbox(key="overview_reference").set_value("anchor").run()
    at.switch_page("pages/audit.py").run()
    _no_exception(at)
    assert any("accuracy against **anchor**" in c.value for c in at.caption)
    at.switch_page("pages/overview.py").run()  # and back: the Overview remembers it too
    assert at.selectbox(key="overview_reference").value == "anchor"
    at.switch_page("pages/audit.py").run()
    # the cold-item line counts recommendations exactly, not as a percentage rounded to 0.0 %
    cold = [m.value for m in at.markdown if "cold items (≤" in m.value]
    summary = table_with(at, "exposure Gini")
    assert len(cold) == len(summary)
    for line, total in zip(cold, summary["recommendations"], strict=True):
        assert f" of {int(total):,} recommendations (" in line


def test_figure_one_joins_each_items_two_points_in_every_variants_panel(app):
    app.query_params["variant"] = "anchor,lightgcn"
    at = app.run()
    at.switch_page("pages/collapse.py").run()
    _no_exception(at)
    data = panels_data(at)
    assert [p["space"] for p in data["panels"]] == ["anchor", "lightgcn"]
    for p in data["panels"]:
        assert set(p["tag_names"]) == {"id_view", "final"} and p["segments"]
        for a, b in p["segments"]:  # a segment joins one item's ID-view and final points
            assert p["rows"][a] == p["rows"][b] and p["tags"][a] != p["tags"][b]
    # a selection in the figure makes its first item the current one
    at.session_state["collapse_figure"] = {
        "selection": {"items": [9, 4], "gesture": "box", "space": "anchor", "seq": 1}
    }
    at.run()
    at.run()  # (AppTest runs no callback: the page takes it, the next run's sidebar shows it)
    assert at.sidebar.number_input[1].value == 9


def test_one_diagnostic_chart_at_a_time_and_every_meaning_listed(app):
    from anchorrec.analysis.diagnostics import MEANINGS

    at = app.run()
    at.switch_page("pages/collapse.py").run()
    _no_exception(at)
    charts = lambda: [c.proto.id for c in at.get("plotly_chart") if "diag_" in c.proto.id]  # noqa: E731
    first = at.selectbox(key="diag_chart").value
    assert len(charts()) == 1 and charts()[0].endswith(f"diag_{first}")
    keys = list(dict.fromkeys(table_with(at, "key", "metric")["key"]))
    at.selectbox(key="diag_chart").set_value(keys[1]).run()
    _no_exception(at)
    second = at.selectbox(key="diag_chart").value
    assert second != first and len(charts()) == 1 and charts()[0].endswith(f"diag_{second}")
    listed = [
        k for k in MEANINGS if MEANINGS[k] and any(MEANINGS[k] in m.value for m in at.markdown)
    ]
    assert len(listed) == len(keys)  # every one explained
