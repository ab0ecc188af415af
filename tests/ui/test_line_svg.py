"""The Overview's inline SVG line charts: round ticks, every finite point drawn, names as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from anchorrec.ui.line_svg import line_chart, nice_ticks

COLOURS = ("#111111", "#222222")


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (0.0, 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]),
        (3.0, 41.0, [10.0, 20.0, 30.0, 40.0]),
        (2.0, 2.0, [2.0]),
    ],
)
def test_ticks_are_round_and_inside_the_range(low, high, expected):
    assert nice_ticks(low, high) == expected


def test_every_finite_point_is_drawn_and_gaps_are_left_out():
    y = np.array([0.1, np.nan, 0.3, 0.2])
    svg = line_chart(
        {"anchor": (np.arange(4), y)}, title="valid recall@20", x_label="epoch", colours=COLOURS
    )
    root = ET.fromstring(svg)  # well-formed SVG
    ns = {"s": "http://www.w3.org/2000/svg"}
    (line,) = root.findall("s:polyline", ns)
    assert len(line.get("points").split()) == 3
    tips = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert tips == ["anchor · epoch 0: 0.1", "anchor · epoch 2: 0.3", "anchor · epoch 3: 0.2"]


def test_names_and_titles_are_text_not_markup():
    svg = line_chart(
        {"<script>x</script>": ([0, 1], [1.0, 2.0]), "b & c": ([0, 1], [2.0, 1.0])},
        title="loss <total>",
        x_label="epoch",
        colours=COLOURS,
    )
    ET.fromstring(svg)
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt;" in svg
    assert "b &amp; c" in svg and "loss &lt;total&gt;" in svg
    assert len(re.findall("<polyline", svg)) == 2


def test_a_chart_without_values_says_so():
    svg = line_chart(
        {"anchor": ([0, 1], [np.nan, np.nan])}, title="t", x_label="epoch", colours=COLOURS
    )
    assert "no values" in svg and "<polyline" not in svg
