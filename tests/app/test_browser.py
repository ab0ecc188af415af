"""The dashboard in a real browser: switch a variant, click a point, see the inspector."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.app.browser_support import (
    CHROMIUM,
    browser_page,
    panel_point,
    running_app,
    wait_for_url_holding,
    wait_idle,
)

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
        # the URL follows the run that took the toggle: on a loaded machine that run may end
        # after the status widget first goes idle, so wait for the URL itself
        wait_for_url_holding(page, "lightgcn")
        assert "lightgcn" in page.url
        # the embedding spaces of anchor: click a point of the first panel
        page.goto(f"{base}/spaces?dataset={quote(str(shop))}&variant=anchor,lightgcn")
        main.get_by_role("heading", name="Embedding spaces").wait_for(timeout=90_000)
        wait_idle(page)
        x, y, item = panel_point(page, 3)
        page.mouse.click(x, y)
        heading = page.get_by_role("heading", name=re.compile(rf"Inspector — item {item}\b"))
        try:
            heading.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_failure.png"), full_page=True)
            raise
        wait_idle(page)
        heading.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "browser_inspector.png"))
        wait_for_url_holding(page, f"item={item}")
        assert f"item={item}" in page.url


def test_upload_a_catalogue_with_a_photo_zip_and_import_it(chromium, shop, tmp_path):
    """The Data page's real upload path: two CSVs and a zip through the browser, then encoding."""
    import zipfile

    from tests.data.malformed.corpus import write_valid_catalog

    cat = write_valid_catalog(tmp_path / "cat")
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for photo in sorted(cat["images"].iterdir()):
            z.write(photo, photo.name)
    home = tmp_path / "home"
    env = {"ANCHORREC_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=tmp_path / "app.log") as base, browser_page() as page:
        page.goto(f"{base}/data?dataset={quote(str(shop))}")
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_role("heading", name="Data").first.wait_for(timeout=90_000)
        wait_idle(page)
        main.get_by_role("tab", name=re.compile("catalogue", re.I)).click()
        form = page.get_by_test_id("stForm")
        form.get_by_label("Dataset name").fill("uploaded-shop")
        uploads = form.locator("input[type=file]")
        uploads.nth(0).set_input_files(str(cat["items"]))
        uploads.nth(1).set_input_files(str(cat["interactions"]))
        uploads.nth(2).set_input_files(str(archive))
        page.wait_for_timeout(1000)
        form.get_by_role("button", name="Import and encode").click()
        # the 5-core default empties this small catalogue: the error names the uploaded file
        error = main.get_by_text(re.compile("uploaded interactions.csv: the 5-core filter"))
        error.wait_for(timeout=180_000)
        assert ".upload-" not in error.inner_text()
        assert "--" not in error.inner_text()  # the page's words, not the command line's
        wait_idle(page)
        assert main.get_by_test_id("stProgress").count() == 0  # no empty bar above the error
        form.get_by_label("k-core").fill("3")  # the small catalogue has 4 purchases a shopper
        form.get_by_role("button", name="Import and encode").click()
        try:
            main.get_by_text(re.compile("Imported uploaded-shop")).wait_for(timeout=180_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser_upload_failure.png"), full_page=True)
            raise
    out = home / "datasets" / "uploaded-shop"
    assert (out / "uploaded-shop.inter").is_file()
    assert (out / "image_feat.npy").is_file() and (out / "text_feat.npy").is_file()
    assert not list(out.parent.glob(".upload-*"))  # the temporary upload folder is gone
