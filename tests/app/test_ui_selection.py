"""Reading a plotly selection by item id, in every shape the browser sends it."""

from __future__ import annotations

import pytest

from anchorrec.ui.state import selection_ids


@pytest.mark.parametrize(
    "custom",
    [[42], {"0": 42}, 42, (42,)],  # list (injected), typed array from WebGL traces, scalar
)
def test_selection_ids_reads_custom_data_in_every_shape(custom):
    event = {"selection": {"points": [{"customdata": custom, "point_index": 3}]}}
    assert selection_ids(event) == [42]


def test_selection_ids_keeps_order_drops_duplicates_and_ignores_indices():
    points = [{"customdata": [7]}, {"customdata": [3]}, {"customdata": [7]}, {"point_index": 5}]
    assert selection_ids({"selection": {"points": points}}) == [7, 3]
    assert selection_ids(None) == [] and selection_ids({"selection": {}}) == []
