"""The progress bar of long steps and the plotly scatter of the co-embedding figure."""

from __future__ import annotations


def test_tqdm_lines_drive_a_progress_bar():
    from tqdm import tqdm

    from anchorrec.ui.progress import _ProgressWriter

    class Bar:
        def __init__(self):
            self.calls = []

        def progress(self, value, text=""):
            self.calls.append((value, text))

    bar = Bar()
    writer = _ProgressWriter(bar, "Encoding")
    for _ in tqdm(range(4), desc="images", file=writer, mininterval=0):
        pass
    values = [v for v, _ in bar.calls]
    assert values[-1] == 1.0 and values == sorted(values)
    assert bar.calls[-1][1] == "Encoding: images 4/4"


def test_scatter_carries_item_ids_and_uses_webgl_only_for_large_plots():
    import numpy as np

    from anchorrec.ui.charts import WEBGL_MIN_POINTS, layout_scatter

    ids = np.arange(100, 130)
    small = layout_scatter(np.random.default_rng(0).normal(size=(30, 2)), ids, selected=[105])
    data = small.to_dict()["data"]
    assert data[0]["type"] == "scatter"
    assert [int(c[0]) for c in data[0]["customdata"]] == list(range(100, 130))
    assert [int(c[0]) for c in data[-1]["customdata"]] == [105]  # the selection ring
    n = WEBGL_MIN_POINTS + 1
    big = layout_scatter(np.zeros((n, 2)), np.arange(n))
    assert big.to_dict()["data"][0]["type"] == "scattergl"


def test_colour_by_category_keeps_every_category_in_its_own_colour():
    import numpy as np

    from anchorrec.ui.charts import layout_scatter

    n, levels = 140, 14  # the sample's 14 categories
    categories = np.array([f"category {i % levels:02d}" for i in range(n)])
    fig = layout_scatter(
        np.random.default_rng(0).normal(size=(n, 2)),
        np.arange(n),
        colour=categories,
        colour_name="category",
    )
    data = fig.to_dict()["data"]
    names = [t["name"] for t in data]
    assert sorted(names) == sorted(set(categories)) and "other" not in names
    assert len({t["marker"]["color"] for t in data}) == levels
    for t in data:  # each trace holds exactly its category's items
        assert {str(categories[int(c[0])]) for c in t["customdata"]} == {t["name"]}


def test_the_toolbar_of_a_layout_panel_stands_aside_from_its_title():
    import numpy as np

    from anchorrec.ui.charts import layout_scatter

    fig = layout_scatter(np.zeros((5, 2)), np.arange(5), title="final · trustworthiness 0.9")
    layout = fig.to_dict()["layout"]
    assert layout["modebar"]["orientation"] == "v" and layout["title"]["xanchor"] == "left"
