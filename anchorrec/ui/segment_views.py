"""Accuracy by segment on the Overview: by planted shopper group (when ``users.csv`` has a
``group`` column) and by user activity (every dataset: train-interaction tertiles).

Both come from each model's stored per-user test metrics: no model is loaded to draw them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from anchorrec.evaluation.segments import activity_segments, segment_means
from anchorrec.ui import prepared, show, tables


def activity_table(by_model: dict[str, dict[str, dict[str, float]]]) -> pd.DataFrame:
    """``variant`` and ``"<Recall@20|NDCG@20> · <activity group>"`` columns, lightest group
    first, from ``{label: {group: {"recall@20", "ndcg@20", "users"}}}``."""
    rows = []
    for label, groups in by_model.items():
        row: dict[str, Any] = {"variant": label}
        for metric, key in (("Recall@20", "recall@20"), ("NDCG@20", "ndcg@20")):
            for group, values in groups.items():  # in activity order
                row[f"{metric} · {group}"] = float(values[key])
        rows.append(row)
    return pd.DataFrame(rows)


def show_segment_accuracy(state: Any, selected: list) -> None:
    """The shopper-group table (planted groups only) and the user-activity table."""
    if tables.planted_groups(state.dataset):
        st.markdown(
            "**Accuracy by shopper group** of the selected variants (test Recall@20 / NDCG@20): "
            "where a variant gains or loses against another."
        )
        wide = tables.group_accuracy_table(prepared.group_metrics(state, selected))
        show.table(wide, "overview_groups", show.formats(wide, "%.4f"))
    from anchorrec.ui.cached import entry_per_user

    usable = prepared.available(selected, prepared.PER_USER, state.dataset)
    if not usable or state.dataset.test.nnz == 0:
        return
    segments = activity_segments(state.dataset)
    by_model = {e.label: segment_means(entry_per_user(state, e), segments) for e in usable}
    st.markdown(
        "**Accuracy by user activity** (test Recall@20 / NDCG@20; users cut at the tertiles "
        "of their train interactions, so any dataset has them). By item popularity: "
        "`python -m anchorrec evaluate MODEL_DIR --by popularity`."
    )
    wide = activity_table(by_model)
    show.table(wide, "overview_activity", show.formats(wide, "%.4f"))
