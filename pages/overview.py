"""Overview: the dataset card of the bundled sample (placeholder until the dashboard lands)."""

from __future__ import annotations

import streamlit as st

st.title("AnchorRec Studio")
st.write("The dashboard is being built.")
