"""The dashboard in a real browser: switch a variant, click a point, see the inspector."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.app.browser_support import CHROMIUM, browser_page, point_position, running_app, wait_idle

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI: install Debian's chromium package.")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


def test_switch_variant_click_point_and_inspect(chromium, shop, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/?dataset={quote(str(shop))}&variant=anchor")
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_role("heading", name="AnchorRec Studio").wait_for(timeout=90_000)
        wait_idle(page)
        # switch the variant: add lightgcn in the sidebar's toggle
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_test_id("stMultiSelect").click()
        page.get_by_role("option", name="lightgcn").click()
        page.keyboard.press("Escape")
        wait_idle(page)
        assert "lightgcn" in page.url
        # the embedding spaces of anchor: click a point of the first panel
        page.goto(f"{base}/spaces?dataset={quote(str(shop))}&variant=anchor,lightgcn")
        main.get_by_role("heading", name="Embedding spaces").wait_for(timeout=90_000)
        wait_idle(page)
        page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        x, y, item = point_position(page, 0, 0, 3)
        page.mouse.click(x - page.evaluate("window.scrollX"), y - page.evaluate("window.scrollY"))
        heading = page.get_by_role("heading", name=re.compile(rf"Inspector — item {item}\b"))
        try:
            heading.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=True)
            raise
        wait_idle(page)
        heading.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "browser_inspector.png"))
        assert f"item={item}" in page.url
