"""Reading an AppTest's tables by their columns, never by their position on the page."""

from __future__ import annotations

import pandas as pd


def tables_with(at, *columns: str) -> list[pd.DataFrame]:
    """Every table on the page that has all of ``columns``, in page order."""
    return [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]


def table_with(at, *columns: str) -> pd.DataFrame:
    """The one table on the page that has all of ``columns``."""
    found = tables_with(at, *columns)
    assert len(found) == 1, f"{len(found)} tables have the columns {columns}"
    return found[0]


def panels_data(at) -> dict:
    """The payload the Embedding spaces page gave its linked panels (the browser draws it)."""
    import json

    (panels,) = [e for e in at.get("bidi_component") if e.proto.component_name.endswith("panels")]
    return json.loads(panels.proto.json)
