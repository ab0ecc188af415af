"""Start the dashboard as a real server and drive it with headless Debian chromium (playwright).

Shared by tests/app/test_browser.py and bench/rebuild/screenshots.py.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, timeout: float = 120.0) -> None:
    """Wait until GET /_stcore/health answers ``ok``."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
            if r.read().strip() == b"ok":
                return
        time.sleep(0.3)
    raise TimeoutError(f"the app did not answer {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running_app(
    env: dict[str, str] | None = None, log: Path | None = None, script: Path | None = None
) -> Iterator[str]:
    """``streamlit run app.py`` (or ``script``) on a free port; yields the base URL and stops
    it afterwards."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script or ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        wait_healthy(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


@contextlib.contextmanager
def browser_page(width: int = 1440, height: int = 1000) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until the script run finished (no 'Running…' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )
    page.wait_for_timeout(300)


def wait_for_url_holding(page, text: str, timeout: float = 90_000) -> None:
    """Wait until the page's address holds ``text`` (the app mirrors its state in the URL
    after a run; a test asserts on the address only once that run got there)."""
    page.wait_for_function("t => window.location.href.includes(t)", arg=text, timeout=timeout)


def panel_point(page, point: int = 0, space: str | None = None) -> tuple[float, float, int]:
    """Viewport coordinates and item id of one point of a linked layout panel (the first panel,
    or the panel of ``space``), after scrolling the panel into view."""
    selector = "canvas.lp-top" + (f"[data-space={space}]" if space else "")
    canvas = page.locator(selector).first
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    at = canvas.evaluate("(c, k) => c.point(k)", point)
    return at["x"], at["y"], int(at["id"])
