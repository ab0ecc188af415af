"""One answer per question: every attribution on the pages names its game, the default
reading is the share of the score, and the accuracy game says it needs held-out purchases."""

from __future__ import annotations

import pytest

from tests.app.app_support import tables_with


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [s.value for s in at.subheader] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def test_recommendations_show_the_default_reading_with_its_label(app):
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    _no_exception(at)
    radio = at.radio(key="rec_level")
    assert radio.value == "input" and list(radio.options) == [
        "Share of the score",
        "What ranks it",
        "Branch of the model",
    ]
    assert "**Share of the score** · |φ|/Σ|φ| of the score" in _texts(at)
    radio.set_value("rank").run()
    _no_exception(at)
    assert "**What ranks it** · each input's part of the top-10 place" in _texts(at)
    top = tables_with(at, "score", "bought later")[0]
    assert {"id share", "image share", "text share"} <= set(top.columns)


def test_why_dialog_names_each_reading_and_says_why_they_differ(app):
    at = app.run()
    at.switch_page("pages/recommendations.py").run()
    at.button(key="rec_why").click().run()
    _no_exception(at)
    text = _texts(at)
    assert "first the **share of the score** (the default reading)" in text
    assert "Its largest share of the score is the" in text
    assert "**What ranks it** — What put it in the top-10" in text
    assert "**Branch of the model**" in text and "Why the readings differ" in text
    (why,) = tables_with(at, "share of the score", "score φ", "what ranks it")
    assert why["share of the score"].sum() == pytest.approx(1.0)
    # the rank game's values of a recommended item add up to at most its whole place (1)
    assert why["what ranks it"].sum() <= 1.0 + 1e-9


def test_audit_labels_the_shares_and_measures_the_accuracy_game_on_request(app):
    at = app.run()
    at.switch_page("pages/audit.py").run()
    _no_exception(at)
    heads = [s.value for s in at.subheader]
    assert "Share of the score by segment" in heads and "Which input earns the hits" in heads
    assert "not measured yet" in _texts(at)
    at.button(key="audit_accuracy_compute").click().run()
    _no_exception(at)
    text = _texts(at)
    assert "needs held-out purchases" in text
    (table,) = tables_with(at, "segment", "shoppers", "picture − text")
    assert (
        table["picture − text"].str.match(r"^[+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]$").all()
    )
    at.radio(key="audit_accuracy_kind").set_value("planted group").run()
    _no_exception(at)
    (groups,) = tables_with(at, "segment", "shoppers", "picture − text")
    assert set(groups["segment"]) == {"visual", "textual"}


def test_collapse_shows_each_diagnostic_with_its_interval_and_a_modest_caption(app):
    at = app.run()
    at.switch_page("pages/collapse.py").run()
    _no_exception(at)
    (table,) = tables_with(at, "metric", "space", "null", "verdict")
    row = table[table["key"] == "coembedding_displacement"].iloc[0]
    assert row["anchor"].count("[") == 1 and row["anchor"].endswith("]")
    text = _texts(at)
    assert "illustration, not a measurement" in text and "95% interval" in text
    assert "Which input earns the hits" in text
