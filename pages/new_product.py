"""New product: who a product nobody has bought yet would reach under each variant, and why."""

from __future__ import annotations

import streamlit as st

from anchorrec.ui import preview_views as views
from anchorrec.ui.cold_start_views import cold_start_switch, ranked_as
from anchorrec.ui.errors import user_errors
from anchorrec.ui.state import require_dataset, require_models
from anchorrec.ui.text import plain

INTRO = (
    "Give a photo and the copy of a product that is not in the catalogue yet. Each variant "
    "places it in its catalogue as an item nobody has bought (its photo and text encoded "
    "like the catalogue's) and ranks it for every shopper, through the model's cold-start "
    "path (its photo and copy against each shopper's past purchases) unless switched off: "
    "its audience is the shoppers whose top-K it enters."
)


def render() -> None:
    state = require_dataset()
    entries = require_models(state)
    ds = state.dataset
    st.title("New product")
    st.caption(INTRO)
    views.past_launches(ds)
    product = views.product_form(ds)
    k = st.slider("Top-K", 5, 50, 20, key="np_k")
    on = cold_start_switch("np")
    if not st.toggle("Preview", key="np_go", help="Encode the product and rank it."):
        st.info("Fill in the product, then switch on Preview.")
        return
    with user_errors("New product"):
        features = views.encoded(product)
    previews = {}
    for col, e in zip(st.columns(len(entries)), entries, strict=True):
        with col, user_errors(f"Model {e.name}", stop=False):
            st.markdown(f"#### {plain(e.label)}")
            p = views.preview(ranked_as(state.loaded(e), on), features, product.digest(), k)
            previews[e.name] = (e.label, p)
            views.show_audience(ds, p)
    with user_errors("Why", stop=False):
        views.show_why(ds, previews)
    views.show_nearest(ds, previews)


render()
