"""The attribution bars: each item's signed parts stacked from 0, named by title, with an axis."""

from __future__ import annotations

import json

import pandas as pd
import plotly.io as pio

from anchorrec.ui.charts import PLAYER_COLOURS, attribution_stack


def test_attribution_bars_name_each_item_and_each_input_and_say_what_the_axis_is():
    signed = pd.DataFrame({"id": [0.5, -0.1], "image": [0.2, 0.3], "text": [-0.05, 0.0]})
    fig = attribution_stack(signed, ["1. Red dress", "2. <b>Blue</b> hat"], words={"id": "history"})
    spec = fig.to_dict()
    assert [t["name"] for t in spec["data"]] == ["history", "image", "text"]
    # titles as text: plotly would read <b> in a tick label as bold
    assert all(t["y"] == ["1. Red dress", "2. &lt;b&gt;Blue&lt;/b&gt; hat"] for t in spec["data"])
    assert spec["data"][0]["x"] == [0.5, -0.1] and spec["layout"]["barmode"] == "relative"
    assert spec["data"][1]["marker"]["color"] == PLAYER_COLOURS["image"]
    assert "contribution to the score" in spec["layout"]["xaxis"]["title"]["text"]
    assert spec["layout"]["shapes"][0]["x0"] == 0  # the line at 0 splits raised from lowered
    pio.from_json(json.dumps(spec))  # a valid plotly figure, as plotly.js will read it
