"""The summary of a selection of items in the layout panels: how many, what they are (category
and attribute breakdowns), the items themselves with pictures, and a CSV export."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from anchorrec.data.dataset import Dataset
from anchorrec.fileio import csv_bytes
from anchorrec.ui import tables
from anchorrec.ui.images import thumbnail_uri
from anchorrec.ui.text import plain

BREAKDOWNS_SHOWN = 3


def show_selection_summary(ds: Dataset, items: Sequence[int], key: str) -> None:
    """Count, breakdowns and the table of ``items`` (nothing for fewer than two items)."""
    if len(items) < 2:
        return
    st.subheader(f"Selection — {len(items)} items")
    columns = tables.breakdown_columns(ds)[:BREAKDOWNS_SHOWN]
    for col, name in zip(st.columns(len(columns) or 1), columns, strict=False):
        with col:
            st.markdown(f"**By {plain(name)}**")
            st.dataframe(
                tables.selection_breakdown(ds, items, name),
                hide_index=True,
                width="stretch",
                column_config={"share": st.column_config.ProgressColumn(format="percent")},
                key=f"{key}_by_{name}",
            )
    table = tables.selection_table(ds, items)
    st.download_button(
        f"Download the {len(items)} items (CSV)",
        csv_bytes(table),  # the CSV-injection guard of every export
        file_name=f"{ds.name}-selection.csv",
        mime="text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
    )
    shown = table.assign(image=[thumbnail_uri(ds, int(i)) for i in table["item"]])
    st.dataframe(
        shown[["image", *table.columns]],
        hide_index=True,
        width="stretch",
        column_config={"image": st.column_config.ImageColumn("", width="small")},
        key=f"{key}_items",
    )
