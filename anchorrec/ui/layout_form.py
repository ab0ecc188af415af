"""The *Compute layouts* form of Embedding spaces: a method, its parameters, and what each
method took on this model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from anchorrec.analysis.projection import DEFAULT_PARAMS, METHODS, layout_times
from anchorrec.ui import cached, prepared, tables
from anchorrec.ui.errors import user_errors

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from anchorrec.ui.state import AppState
    from anchorrec.workspace import ModelEntry

NAMES = tables.METHOD_TITLES


def _layout_params(method: str) -> dict[str, Any]:
    """The method's own parameters, drawn as soon as the method is picked (no form)."""
    p = dict(DEFAULT_PARAMS[method])
    for key, label, low, high, kind in tables.LAYOUT_PARAMETERS[method]:
        p[key] = st.number_input(
            label, kind(low), kind(high), kind(p[key]), key=f"lay_{method}_{key}"
        )
    return p


def compute_layouts_form(
    state: AppState, entry: ModelEntry, where: DeltaGenerator, layouts: dict[str, Any]
) -> None:
    """*Compute layouts*: a method, its parameters and each method's time on this model; the
    layouts computed are cached beside the model and the page reruns."""
    n_items = state.dataset.n_items if state.dataset is not None else 0
    with where.popover("Compute layouts", icon=":material/calculate:"):
        methods: list[str] = list(prepared.inline_methods(METHODS, n_items))  # others: prepare
        method: str = (
            st.selectbox("Method", methods, format_func=lambda m: NAMES.get(m, m), key="lay_method")
            or methods[0]
        )
        params = _layout_params(method)
        go = st.button("Compute", type="primary", key="lay_go")
        st.caption(layout_times({k: e for k, (_, e) in layouts.items()}))  # this model's
        st.caption(tables.LAYOUT_TIMES)
    if go:
        with user_errors("Layouts"), st.spinner(f"Computing {NAMES[method]} layouts…"):
            cached.compute_layouts(state.loaded(entry), method, params)
        st.rerun()
