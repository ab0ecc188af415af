"""AnchorRec Studio — Streamlit entry point: the shared sidebar and the router.

Run with ``streamlit run app.py``. It opens on the bundled photo sample (sample_data/wardrobe/)
and its trained variants; nothing is trained or projected at start-up.

This file plays two parts:

- **the server** imports it once as it starts (Streamlit's CLI finds ``app = st.App(…)`` below
  and serves that app). The import starts ``anchorrec.ui.warmup``'s first-page preparation: the
  first page's libraries and the default dataset are loaded while the browser loads Streamlit's
  own frontend;
- **each session** runs it as a script (``__main__``): the page settings and the router. The
  first page reads only stored files (no torch); once it is drawn, ``anchorrec.ui.warmup``
  imports what the other pages need in a background thread.

Each page is a file of ``pages/`` that defines ``render()`` (a few small functions around it)
and calls it. The router gives ``st.Page`` the file rather than the function: a file page's
URL path is its file name (``/spaces``, ``/recommendations``…, the links people share), and
``AppTest.switch_page`` finds only pages registered by file, so the app tests drive the real
router. Everything a page shows is computed by the library (``anchorrec.ui.tables``,
``anchorrec.ui.cached``); the page reads state, calls it and draws.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `streamlit run app.py` from anywhere finds the package
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded at run time

import streamlit as st  # noqa: E402

from anchorrec.ui import warmup  # noqa: E402

# The page icon is a file served by the app itself: a ":material/…:" page icon makes the
# browser fetch its picture from a font CDN on every page (nothing leaves the machine).
ICON = ROOT / "anchorrec" / "ui" / "icon.png"
PAGES_DIR = ROOT / "pages"


def run_session() -> None:
    """One run of a session: the page settings, then the page the URL or the sidebar picked."""
    st.set_page_config(page_title="AnchorRec Studio", page_icon=str(ICON), layout="wide")
    pages = [
        st.Page(
            str(PAGES_DIR / "overview.py"),
            title="Overview",
            icon=":material/dashboard:",
            default=True,
        ),
        st.Page(
            str(PAGES_DIR / "spaces.py"), title="Embedding spaces", icon=":material/scatter_plot:"
        ),
        st.Page(
            str(PAGES_DIR / "recommendations.py"),
            title="Recommendations",
            icon=":material/shopping_bag:",
        ),
        st.Page(
            str(PAGES_DIR / "new_product.py"), title="New product", icon=":material/new_releases:"
        ),
        st.Page(
            str(PAGES_DIR / "collapse.py"), title="Positional collapse", icon=":material/compress:"
        ),
        st.Page(str(PAGES_DIR / "audit.py"), title="Audit", icon=":material/fact_check:"),
        st.Page(str(PAGES_DIR / "train.py"), title="Train", icon=":material/model_training:"),
        st.Page(str(PAGES_DIR / "data.py"), title="Data", icon=":material/database:"),
    ]
    try:
        st.navigation(pages).run()  # every page draws the shared sidebar first (anchorrec.ui.state)
    finally:  # after the first page (even one that stopped early): the next page's imports
        warmup.start()


if __name__ == "__main__":  # a session's run
    run_session()
else:  # imported once by `streamlit run app.py`: the server itself
    warmup.start_first_page()  # the first page's imports begin with the server's start-up
    app = st.App(__file__, lifespan=warmup.server_lifespan)
