"""Deep links that try to inject Markdown, in a real browser: no fetch, no link.

``/?user=![p](http://127.0.0.1:PORT/x.png)`` once made every browser that opened the link
fetch an image from another host, and ``?variant=[Session expired - sign in again](http://…)``
drew a clickable link in the sidebar. Here a local server counts the requests the page makes
to it, and the sidebar is searched for links and images.
"""

from __future__ import annotations

import http.server
import threading
from urllib.parse import quote

import pytest

from tests.app.browser_support import browser_page, free_port, running_app, wait_idle
from tests.app.test_browser import chromium  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        type(self).hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_deep_link_values_fetch_nothing_and_draw_no_link(chromium, shop, tmp_path):  # noqa: F811
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    image = f"![p](http://127.0.0.1:{port}/x.png)"
    link = "[Session expired - sign in again](http://evil.invalid/login)"
    env = {"ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    try:
        with running_app(env) as base, browser_page() as page:
            query = f"dataset={quote(str(shop))}&user={quote(image)}&item={quote(link)}"
            page.goto(f"{base}/?{query}&variant={quote(link + ',' + image)}")
            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_text("is not a number").first.wait_for(timeout=90_000)
            wait_idle(page)
            text = sidebar.inner_text()
            text = text.replace("\u2060", "")  # the invisible joiner that stops autolinks
            assert "user='![p](http://127.0.0.1" in text  # shown as the characters it is
            assert "[Session expired - sign in again](http://evil.invalid/login)" in text
            links = sidebar.locator("a[href*='evil.invalid']")
            assert links.count() == 0, [
                links.nth(i).evaluate("a => a.parentElement.outerHTML")
                for i in range(links.count())
            ]
            assert page.locator(f"img[src*='127.0.0.1:{port}']").count() == 0
            foreign = sidebar.locator(f"a[href^='http']:not([href^='{base}'])")
            assert foreign.count() == 0  # not even an autolink; the page links stay
    finally:
        server.shutdown()
    assert _Counting.hits == [], _Counting.hits
