"""AnchorRec Studio — Streamlit entry point (router)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent

st.set_page_config(page_title="AnchorRec Studio", page_icon=":material/hub:", layout="wide")

pages = [
    st.Page(str(ROOT / "pages" / "overview.py"), title="Overview", icon=":material/dashboard:", default=True),
]
st.navigation(pages).run()
