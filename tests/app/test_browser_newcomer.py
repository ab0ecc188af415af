"""In a real browser: nothing leaves the machine, and two variants' shares (and what-if
ranks) fit at 1280 px."""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest

from tests.app.browser_support import browser_page, running_app, wait_idle
from tests.app.test_browser import ARTIFACTS, chromium  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # each starts a server: ~50 s
PAGES = ("spaces", "", "recommendations", "collapse", "audit", "train", "data")
PLOTLY_FETCHED = (
    "() => performance.getEntriesByType('resource').some(e => /PlotlyChart\\./.test(e.name))"
)
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
            if path == "":  # the Overview draws no plotly chart, then starts it in idle time
                assert not page.locator(".js-plotly-plot").count()
                page.wait_for_function(PLOTLY_FETCHED, timeout=30_000)
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


def _drag(page, canvas, path: list[tuple[float, float]]) -> None:
    """Press, move along ``path`` (fractions of the panel) and release in ``canvas``."""
    box = canvas.bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in path]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=4)
    page.mouse.up()


def test_the_linked_panels_select_by_box_lasso_and_legend_and_export_csv(chromium, shop, tmp_path):  # noqa: F811
    import csv
    import re

    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    heading = re.compile(r"Selection — (\d+) items")
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/spaces?dataset={quote(str(shop))}&variant=anchor")
        _wait_page(page)
        canvas = page.locator("canvas.lp-top").first
        canvas.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        root = page.locator(".lp-root")
        # hovering a point names its item
        at = canvas.evaluate("c => c.point(7)")
        page.mouse.move(at["x"], at["y"])
        tip = page.locator(".lp-tip")
        tip.wait_for(state="visible", timeout=10_000)
        assert f"item {at['id']}" in tip.inner_text()
        # the default drag draws a box: no toolbar click
        _drag(page, canvas, [(0.01, 0.01), (0.6, 0.99)])
        summary = page.get_by_role("heading", name=heading)
        try:
            summary.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_box_failure.png"), full_page=True)
            raise
        wait_idle(page)
        count = int(heading.search(summary.inner_text()).group(1))
        assert count >= 2 and root.get_attribute("data-selected") == str(count)
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile(r"Download the \d+ items")).click()
        path = tmp_path / "selection.csv"
        download.value.save_as(path)
        with open(path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == count and {"item", "title", "category"} <= set(rows[0])
        # a lasso around the middle of the panel, then a click on a legend entry
        page.get_by_role("button", name="Lasso", exact=True).click()
        _drag(page, canvas, [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)])
        page.wait_for_function(
            "([n]) => document.querySelector('[data-testid=stMainBlockContainer]')"
            ".innerText.match(/Selection — (\\d+) items/)?.[1] !== String(n)",
            arg=[count],
            timeout=60_000,
        )
        wait_idle(page)
        page.locator(".lp-legend button", has_text="shoes").click()
        page.get_by_role("heading", name="Selection — 15 items").wait_for(timeout=60_000)
        wait_idle(page)
        assert "shoes" in page.get_by_test_id("stMainBlockContainer").inner_text()
        # a double-click deselects: the summary goes
        canvas.dblclick()
        page.get_by_role("heading", name=heading).wait_for(state="detached", timeout=60_000)
        assert root.get_attribute("data-selected") == "0"
