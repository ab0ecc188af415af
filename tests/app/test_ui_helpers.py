"""The progress bar of long steps."""

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
