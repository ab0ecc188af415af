"""In a real browser: nothing leaves the machine, and two variants' shares (and what-if
ranks) fit at 1280 px."""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest

from tests.app.browser_support import browser_page, running_app, wait_idle
from tests.app.test_browser import ARTIFACTS, chromium  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # each starts a server: ~50 s
PAGES = ("spaces", "", "recommendations", "collapse", "audit", "train", "data")
ROUTER_TITLES = ("Overview", "Embedding spaces", "Positional collapse", "Audit", "Train", "Data")


def _wait_page(page) -> None:
    page.get_by_test_id("stMainBlockContainer").get_by_role("heading").first.wait_for(
        timeout=90_000
    )
    wait_idle(page)


def test_no_request_leaves_the_machine_over_a_tour_of_every_page(chromium, shop, tmp_path):  # noqa: F811
    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    outside: list[str] = []

    def route(r) -> None:
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.context.route("**/*", route)
        query = f"?dataset={quote(str(shop))}&variant=anchor,lightgcn"
        for n, path in enumerate(PAGES):  # the first is a deep link on a fresh server
            page.goto(f"{base}/{path}{query}")
            _wait_page(page)
            if n == 0:  # it went through the router: its titles, not the file names
                nav = page.get_by_test_id("stSidebarNav").inner_text()
                assert all(t in nav for t in ROUTER_TITLES), nav
        page.wait_for_timeout(1000)
    assert outside == []


def test_two_variants_shares_fit_at_1280_px(chromium, shop, tmp_path):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page(1280, 900) as page:
        page.goto(f"{base}/recommendations?dataset={quote(str(shop))}&variant=anchor,lightgcn")
        _wait_page(page)
        grids = page.get_by_test_id("stDataFrame")
        grids.nth(1).wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "recommendations_1280.png"), full_page=True)
        grids.nth(2).scroll_into_view_if_needed()  # anchor's what-if table
        page.wait_for_timeout(500)
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid=stDataFrame]')].slice(0, 3)
                 .map(d => { const s = d.querySelector('.dvn-scroller');
                             const r = d.getBoundingClientRect();
                             return [s.scrollWidth, s.clientWidth, r.left, r.right]; })"""
        )
    assert len(sizes) == 3  # two top-K lists, then anchor's what-if (lightgcn has one input)
    for scroll, client, left, right in sizes:  # no sideways scrolling, all on screen
        assert scroll <= client + 1, sizes
        assert 0 <= left < right <= 1280, sizes
    assert sizes[0][3] <= sizes[1][2]  # side by side, not stacked


def test_a_run_survives_leaving_the_page_and_its_model_joins_the_toggle(chromium, shop, tmp_path):  # noqa: F811
    import re

    home = tmp_path / "home"
    env = {"ANCHORREC_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/train?dataset={quote(str(shop))}&variant=anchor")
        _wait_page(page)
        form = page.get_by_test_id("stForm")
        form.get_by_test_id("stSelectbox").first.click()
        page.get_by_role("option", name=re.compile(r"^lightgcn")).click()
        form.get_by_label("Epochs (max)").fill("3")
        form.get_by_role("button", name="Train").click()
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text(re.compile(r"Training lightgcn-")).first.wait_for(timeout=60_000)
        sidebar.get_by_test_id("stSidebarNavLink").filter(has_text="Overview").click()
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_role("heading", name="AnchorRec Studio").wait_for(timeout=60_000)
        # the run goes on; once saved, the page reruns and the model joins the toggle
        chip = sidebar.get_by_test_id("stMultiSelect").get_by_text(re.compile(r"^lightgcn-"))
        try:
            chip.wait_for(timeout=240_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_train_failure.png"), full_page=True)
            raise
        assert "Overview" in page.get_by_test_id("stSidebarNav").inner_text()
        assert main.get_by_role("heading", name="AnchorRec Studio").is_visible()
    (model,) = list((home / "models").glob("*/lightgcn-*"))
    assert (model / "model.safetensors").is_file()


def test_a_box_selection_shows_its_summary_and_exports_csv(chromium, shop, tmp_path):  # noqa: F811
    import csv
    import re

    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/spaces?dataset={quote(str(shop))}&variant=anchor")
        _wait_page(page)
        drag = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
        drag.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        box = drag.bounding_box()
        # the default drag draws the box: no toolbar click
        page.mouse.move(box["x"] + 4, box["y"] + 4)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] - 4, steps=8)
        page.mouse.up()
        heading = page.get_by_role("heading", name=re.compile(r"Selection — \d+ items"))
        try:
            heading.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_box_failure.png"), full_page=True)
            raise
        wait_idle(page)
        count = int(re.search(r"(\d+) items", heading.inner_text()).group(1))
        assert count >= 2
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile(r"Download the \d+ items")).click()
        path = tmp_path / "selection.csv"
        download.value.save_as(path)
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == count and {"item", "title", "category"} <= set(rows[0])
