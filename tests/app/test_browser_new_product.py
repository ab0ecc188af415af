"""In a real browser: upload a product photo on the New product page and see its audience."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.app.browser_support import browser_page, running_app, wait_idle
from tests.app.test_browser import ARTIFACTS, chromium  # noqa: F401  (fixture)
from tests.preview_support import encoded_shop, picture

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # starts a server and the encoders


@pytest.fixture(scope="module")
def eshop(tmp_path_factory):
    return encoded_shop(tmp_path_factory)


def test_upload_a_photo_and_see_an_audience_table(chromium, eshop, tmp_path):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    photo = tmp_path / "new-ring.png"
    photo.write_bytes(picture(7))
    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/new_product?dataset={quote(str(eshop))}&variant=anchor,lightgcn")
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_role("heading", name="New product").wait_for(timeout=90_000)
        wait_idle(page)
        main.locator("input[type=file]").set_input_files(str(photo))
        wait_idle(page)
        main.get_by_label("Title").fill("Ring model 99")
        main.get_by_label("Title").press("Enter")
        wait_idle(page)
        main.get_by_label("Description").fill("A cross ring in shade 3, made to last.")
        main.get_by_label("Title").click()  # leave the text area: its value is sent
        wait_idle(page)
        main.get_by_text("Preview", exact=True).click()
        try:
            main.get_by_text(re.compile(r"Shoppers with it in their top-20")).wait_for(
                timeout=180_000
            )
            wait_idle(page, timeout=180_000)
            main.get_by_test_id("stDataFrame").first.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_new_product_failure.png"), full_page=True)
            raise
        page.screenshot(path=str(ARTIFACTS / "browser_new_product.png"), full_page=True)
        text = main.inner_text()
        assert "cannot rank" in text  # lightgcn, beside anchor
        assert "Traceback" not in text
        grid = main.get_by_test_id("stDataFrame").first
        assert grid.is_visible()
        assert "segment" in grid.inner_text() or grid.locator("canvas").count() > 0
