"""The linked layout panels in a real browser: zoom and pan move every panel, a filter hides
points in every panel, and a selection at Amazon Clothing's size is summarised without the
layout travelling again."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.app.browser_support import browser_page, running_app, wait_idle
from tests.app.test_browser import ARTIFACTS, chromium  # noqa: F401

pytestmark = pytest.mark.browser
FIXTURE_APP = Path(__file__).with_name("clothing_panels_app.py")
POINTS = "cs => cs.map(c => { const p = c.point(0); return [p.x, p.y]; })"


def _canvases(page):
    canvas = page.locator("canvas.lp-top")
    canvas.first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    return canvas


def _positions(page) -> list[list[float]]:
    return page.locator("canvas.lp-top").evaluate_all(POINTS)


def _visible(page) -> list[int]:
    return [int(v) for v in page.locator("canvas.lp-top").evaluate_all(
        "cs => cs.map(c => c.dataset.visible)"
    )]  # fmt: skip


def test_zoom_pan_and_filter_move_and_hide_in_every_panel(chromium, shop, tmp_path):  # noqa: F811
    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/spaces?dataset={quote(str(shop))}&variant=anchor")
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_role("heading", name="Embedding spaces").wait_for(timeout=90_000)
        wait_idle(page)
        canvases = _canvases(page)
        n = canvases.count()
        assert n >= 3
        root = page.locator(".lp-root")
        assert root.get_attribute("data-renderer") in {"webgl", "canvas"}
        before = _positions(page)
        # the wheel over the first panel zooms every panel
        box = canvases.first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
        page.mouse.wheel(0, -400)
        handle = root.element_handle()  # the component draws in a shadow root
        page.wait_for_function("r => Number(r.dataset.zoom) > 1", arg=handle)
        zoomed = _positions(page)
        assert float(root.get_attribute("data-zoom")) > 1
        assert all(a != b for a, b in zip(before, zoomed, strict=True)), "a panel did not zoom"
        # Pan: a drag in the second panel moves every panel by the same fraction
        page.get_by_role("button", name="Pan", exact=True).click()
        second = canvases.nth(1).bounding_box()
        page.mouse.move(second["x"] + 100, second["y"] + 100)
        page.mouse.down()
        page.mouse.move(second["x"] + 160, second["y"] + 130, steps=5)
        page.mouse.up()
        panned = _positions(page)
        for a, b in zip(zoomed, panned, strict=True):
            assert b[0] > a[0] and b[1] > a[1], "a panel did not follow the pan"
        assert root.get_attribute("data-selected") == "0"  # panning selects nothing
        page.get_by_role("button", name="Reset view").click()
        page.wait_for_function("r => r.dataset.zoom === '1.0000'", arg=handle)
        assert _positions(page) == before
        # the filter: show one category only; every panel hides the others' points
        shown = _visible(page)
        page.get_by_label("Show only").select_option(label="category")
        chips = page.locator(".lp-filter .lp-chip")
        assert chips.count() >= 2
        assert _visible(page) == shown  # every level ticked: nothing hidden yet
        for i in range(1, chips.count()):  # untick all but the first category
            chips.nth(i).click()
        filtered = _visible(page)
        assert all(0 < f < s for f, s in zip(filtered, shown, strict=True)), (filtered, shown)
        # a box over the whole first panel selects only the points left
        page.get_by_role("button", name="Box", exact=True).click()
        box = canvases.first.bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=6)
        page.mouse.up()
        summary = page.get_by_role("heading", name=re.compile(r"Selection — (\d+) items"))
        try:
            summary.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_filter_failure.png"), full_page=True)
            raise
        first_panel = int(canvases.first.get_attribute("data-visible"))
        assert root.get_attribute("data-selected") == str(first_panel)


@pytest.mark.slow
def test_a_selection_at_clothing_size_shows_its_summary_and_sends_no_layout(chromium, tmp_path):  # noqa: F811
    frames: list[int] = []
    with running_app({}, log=tmp_path / "app.log", script=FIXTURE_APP) as base, browser_page() as page:  # fmt: skip
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f))))
        page.goto(base)
        page.get_by_role("heading", name="Panels at Clothing's size").wait_for(timeout=120_000)
        wait_idle(page, timeout=180_000)
        canvases = _canvases(page)
        page.locator("canvas.lp-top[data-visible]").nth(7).wait_for(timeout=60_000)
        points = [int(v) for v in canvases.evaluate_all("cs => cs.map(c => c.dataset.points)")]
        assert points == [23_033] * 7 + [2 * 23_033]  # every item, no sample
        layout = max(frames)
        assert layout > 23_033 * 8 * 4  # the first run sent every point
        frames.clear()
        root = page.locator(".lp-root")
        page.wait_for_timeout(500)
        draws = root.get_attribute("data-base-draws")
        box = canvases.first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=6)
        page.mouse.up()
        summary = page.get_by_role("heading", name=re.compile(r"Selection — (\d+) items"))
        try:
            summary.wait_for(timeout=120_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_clothing_failure.png"), full_page=True)
            raise
        wait_idle(page, timeout=120_000)
        count = int(re.search(r"(\d+) items", summary.inner_text()).group(1))
        assert count > 100
        assert page.locator(".lp-root").get_attribute("data-selected") == str(count)
        # the rerun sent the selection and the colouring, not the layout again
        assert frames and max(frames) < layout / 5, (max(frames), layout)
        # the selection was drawn on its own layer: no panel's points were drawn again
        assert root.get_attribute("data-base-draws") == draws
