"""Tables with gaps: a number not measured reads as a blank in the browser, not as "None"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from anchorrec.ui.show import blank_missing


def test_a_column_with_gaps_becomes_right_aligned_text_in_its_format():
    frame = pd.DataFrame(
        {"variant": ["anchor", "lightgcn"], "image share": [0.25, np.nan], "users": [3, 4]}
    )
    config = {"image share": st.column_config.NumberColumn("image share", help="h", format="%.3f")}
    out, cfg = blank_missing(frame, config)
    assert out["image share"].tolist() == ["0.250", ""]
    assert cfg["image share"]["help"] == "h" and cfg["image share"]["alignment"] == "right"
    assert out["users"].tolist() == [3, 4] and "users" not in cfg  # no gap: still numbers
    assert out["variant"].tolist() == ["anchor", "lightgcn"]
    assert frame["image share"].isna().sum() == 1  # the caller's frame is left alone


def test_a_column_without_a_format_and_one_of_words_are_handled():
    frame = pd.DataFrame({"AUC": [0.61, None], "note": ["a", None]})
    out, cfg = blank_missing(frame, {})
    assert out["AUC"].tolist() == ["0.61", ""] and cfg["AUC"]["alignment"] == "right"
    assert "note" not in cfg  # words are not numbers: left as they are
