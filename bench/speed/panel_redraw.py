"""How long a browser takes to redraw nine layout panels, without the dashboard around them.

Runs ``bench/speed/panel_redraw_app.py`` (nine synthetic panels of the photo sample's size,
drawn by the dashboard's own chart code) in a fresh Streamlit server and headless chromium,
and times three colour changes in each layout — nine plotly charts (what *Embedding spaces*
drew before), one chart with nine subplots as SVG, the same as WebGL, and the linked canvas
panels the page draws now — interleaved, ``--rounds`` times.
Each change is timed from the click until the run is drawn and the browser is idle again. The
script's own server time is small (a few hundredths of a second), so the figures are the
browser's drawing. Prints the table and appends a record to
``bench/results/panel_redraw.jsonl``.

    python -m bench.speed.panel_redraw [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(ROOT))

from bench.common.benchlib import record  # noqa: E402
from tests.app.browser_support import CHROMIUM, CHROMIUM_ARGS, free_port, wait_healthy  # noqa: E402

APP = ROOT / "bench" / "speed" / "panel_redraw_app.py"
LAYOUTS = (("grid", "scatter"), ("one", "scatter"), ("one", "scattergl"), ("canvas", "canvas"))
NAMES = {
    ("canvas", "canvas"): "linked canvas panels (the page today)",
    ("grid", "scatter"): "nine charts, SVG (the page before)",
    ("one", "scatter"): "one chart, nine subplots, SVG",
    ("one", "scattergl"): "one chart, nine subplots, WebGL",
}


def _idle(page) -> None:
    page.wait_for_timeout(100)
    while page.query_selector('[data-testid="stStatusWidget"]'):
        page.wait_for_timeout(10)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")


def measure(rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
           "--server.headless", "true", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: dict[str, list[float]] = {NAMES[k]: [] for k in LAYOUTS}
    try:
        wait_healthy(port)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(rounds):
                for mode, kind in LAYOUTS:
                    page = browser.new_page(viewport={"width": 1440, "height": 1000})
                    page.goto(f"http://127.0.0.1:{port}/?mode={mode}&kind={kind}")
                    page.get_by_text("drawn: category").wait_for(timeout=120_000)
                    _idle(page)
                    page.wait_for_timeout(1500)
                    for target in ("popularity", "category", "popularity"):
                        t0 = time.perf_counter()
                        page.get_by_test_id("stSelectbox").click()
                        page.get_by_role("option", name=target, exact=True).click()
                        page.get_by_text(f"drawn: {target}").wait_for(timeout=120_000)
                        _idle(page)
                        times[NAMES[(mode, kind)]].append(round(time.perf_counter() - t0, 3))
                    page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    times = measure(args.rounds)
    medians = {name: statistics.median(v) for name, v in times.items()}
    record("panel_redraw", {"seconds": times, "median_s": medians, "headline": ["median_s"]})
    print("| layout | colour changes (s) | median (s) |\n|---|---|---|")
    for name, v in times.items():
        print(f"| {name} | {', '.join(f'{x:.2f}' for x in v)} | {medians[name]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
