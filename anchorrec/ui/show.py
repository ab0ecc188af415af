"""Drawing helpers every page uses: a table with the app's defaults."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st


def table(
    frame: Any, key: str | None = None, formats: dict[str, str] | None = None, **kwargs: Any
) -> None:
    """``st.dataframe`` without the index, full width; ``formats`` maps a column to a printf
    format (``"%.3f"``); other keyword arguments go to ``st.dataframe``."""
    config = {c: st.column_config.NumberColumn(format=f) for c, f in (formats or {}).items()}
    config.update(kwargs.pop("column_config", {}))
    if isinstance(frame, pd.DataFrame):
        frame, config = blank_missing(frame, config)
    st.dataframe(
        frame, hide_index=True, width="stretch", column_config=config or None, key=key, **kwargs
    )


def blank_missing(frame: pd.DataFrame, config: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """``frame`` with every numeric column that has a missing value written as right-aligned
    text (in its column's printf format; blank where missing), and ``config`` to match.

    The table draws any null as a grey "None", whatever a Styler or a column format says
    (checked on Streamlit 1.67): "not measured" must read as a blank, not as a value.
    """
    out, config = frame, dict(config)
    for c in frame.columns:
        column = frame[c]
        if not (pd.api.types.is_numeric_dtype(column) or column.dtype == object):
            continue
        if not column.isna().any() or not column.dropna().map(_is_number).all():
            continue
        given = config.get(c) or {}
        fmt = (given.get("type_config") or {}).get("format") or "%g"
        text = [_printf(fmt, v) for v in column]
        out = out.assign(**{c: text})
        label = given.get("label") or str(c)
        config[c] = st.column_config.TextColumn(label, help=given.get("help"), alignment="right")
    return out, config


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _printf(fmt: str, value: Any) -> str:
    if pd.isna(value):
        return ""
    try:
        return fmt % value
    except (TypeError, ValueError):  # a named format ("percent", "compact"): plain digits
        return f"{value:g}"


def formats(frame: pd.DataFrame, fmt: str, skip: tuple[str, ...] = ("variant",)) -> dict[str, str]:
    """``fmt`` for every column of ``frame`` but ``skip``."""
    return {c: fmt for c in frame.columns if c not in skip}
