"""What #34 adds to the pages: accuracy by user activity on the Overview, a user-activity
segment on the Audit, SVG/PNG downloads beside the layout panels."""

from __future__ import annotations

import numpy as np

from anchorrec.models.model_dir import ModelDir
from tests.app.app_support import panels_data


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_overview_shows_accuracy_by_user_activity(app):
    at = app.run()
    _no_exception(at)
    tables = [d.value for d in at.dataframe if any("· light" in c for c in d.value.columns)]
    assert len(tables) == 1
    table = tables[0]
    assert list(table["variant"]) == ["anchor", "lightgcn"]
    groups = [c.split(" · ", 1)[1] for c in table.columns if c.startswith("Recall@20 · ")]
    assert [g.split()[0] for g in groups] == ["light", "medium", "heavy"]
    assert all("train interactions)" in g for g in groups)
    assert table.drop(columns="variant").apply(lambda c: c.between(0, 1)).all().all()


def test_audit_offers_a_user_activity_segment(app):
    at = app.run()
    at.switch_page("pages/audit.py").run()
    _no_exception(at)
    assert "user activity" in at.radio(key="audit_kind").options


def test_every_panel_has_svg_and_png_downloads_naming_the_model(app, shop):
    from anchorrec.ui.figure_downloads import _draw
    from anchorrec.ui.linked_panels import Panel

    at = app.run()
    at.switch_page("pages/spaces.py").run()
    _no_exception(at)
    n_panels = len(panels_data(at)["panels"])
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("SVG") == n_panels and labels.count("PNG") == n_panels
    fingerprint = ModelDir(shop / "models" / "anchor").fingerprint()
    xy = np.random.default_rng(0).normal(size=(20, 2))
    panel = Panel("final", "final · trustworthiness 0.90", "", xy, np.arange(20))
    svg = _draw(panel, "svg", "anchor", fingerprint)()
    assert svg.startswith(b"<?xml") and fingerprint.encode() in svg
    assert _draw(panel, "png", "anchor", fingerprint)()[:4] == b"\x89PNG"
