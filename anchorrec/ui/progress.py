"""Progress bars in the page for library calls that report progress through tqdm.

:func:`tqdm_progress` redirects ``sys.stderr`` while a block runs and turns every tqdm line
(``desc: 45%|####  | 9/20 …``) into an update of an ``st.progress`` bar, so a long library
call (encoding a catalogue) shows its progress without the library knowing about Streamlit.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

import streamlit as st

_TQDM_LINE = re.compile(
    r"(?:(?P<desc>[^\r\n|:]{1,60}):\s*)?(?P<pct>\d{1,3})%\|[^\r\n]*?(?P<n>\d+)/(?P<total>\d+)"
)


class _ProgressWriter(io.TextIOBase):
    def __init__(self, bar, label: str) -> None:
        self.bar = bar
        self.label = label
        self.last = ""

    def write(self, text: str) -> int:
        matches = list(_TQDM_LINE.finditer(text))
        if matches:
            m = matches[-1]
            desc = (m.group("desc") or "").strip() or self.label
            pct = min(100, int(m.group("pct")))
            status = f"{self.label}: {desc} {m.group('n')}/{m.group('total')}"
            if status != self.last:
                self.last = status
                self.bar.progress(pct / 100, text=status)
        return len(text)

    def flush(self) -> None:  # tqdm flushes after each line
        return None


@contextlib.contextmanager
def tqdm_progress(label: str) -> Iterator[None]:
    """Show the tqdm progress of the calls inside the block as an ``st.progress`` bar."""
    bar = st.progress(0.0, text=label)
    writer = _ProgressWriter(bar, label)
    try:
        with contextlib.redirect_stderr(writer):
            yield
    except BaseException:
        bar.empty()  # no half-filled bar left above the error the page shows
        raise
    bar.progress(1.0, text=f"{label}: done")
