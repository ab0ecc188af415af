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
    st.dataframe(
        frame, hide_index=True, width="stretch", column_config=config or None, key=key, **kwargs
    )


def formats(frame: pd.DataFrame, fmt: str, skip: tuple[str, ...] = ("variant",)) -> dict[str, str]:
    """``fmt`` for every column of ``frame`` but ``skip``."""
    return {c: fmt for c in frame.columns if c not in skip}
