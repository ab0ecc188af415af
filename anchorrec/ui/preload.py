"""Start the browser's chart library while the user reads the first page.

The first plotly chart of a session makes the browser fetch, parse and start Streamlit's
plotly chunk (4.7 MB of script on 1.67): about a second of painting in headless chromium on
a 2-core machine, paid by whichever page draws plotly first (docs/benchmarks.md). The first
page draws none (its curves are inline SVG), and once it has been drawn and the browser is
idle, this invisible component imports that same chunk from the app's own server. The page
that later draws a chart finds the module already started. Nothing is fetched from
elsewhere; with no such chunk (another Streamlit build) it does nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path

COMPONENT = "anchorrec.preload"
#: Milliseconds after the first page's run before the import starts (the page paints first).
DELAY_MS = 2500

#: Resolved against Streamlit's own entry script, as its bundle resolves its chunks, so the
#: browser's module map holds one copy.
JS = """
export default function (component) {
  const { data } = component;
  if (!data || !data.chunk || window.__anchorrecPreloaded) return;
  window.__anchorrecPreloaded = true;
  const entry = [...document.scripts].find((s) => /\\/static\\/js\\/index\\.[^/]*\\.js/.test(s.src));
  if (!entry) return;
  const url = new URL(data.chunk, entry.src).href;
  const start = () => import(url).catch(() => {});
  const idle = window.requestIdleCallback || ((f) => setTimeout(f, 0));
  setTimeout(() => idle(start, { timeout: 5000 }), data.delay_ms);
}
"""

_RENDERER = None


@functools.cache
def plotly_chunk() -> str | None:
    """The file name of the installed Streamlit's plotly chunk, or None (looked up once: the
    installed Streamlit does not change under a running server)."""
    import streamlit

    folder = Path(streamlit.__file__).parent / "static" / "static" / "js"
    found = sorted(folder.glob("PlotlyChart.*.js"))
    return found[0].name if found else None


def preload_charts() -> None:
    """Mount the invisible component that starts the plotly chunk in the browser's idle time."""
    global _RENDERER
    chunk = plotly_chunk()
    if chunk is None:
        return
    if _RENDERER is None:
        import streamlit as st

        _RENDERER = st.components.v2.component(COMPONENT, js=JS)
    _RENDERER(key="anchorrec_preload", data={"chunk": f"./{chunk}", "delay_ms": DELAY_MS})
