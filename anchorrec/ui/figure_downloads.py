"""Download buttons beside the layout panels: each panel as SVG or PNG for a paper.

The picture is drawn only when a button is clicked (Streamlit runs a callable ``data`` on
click), offline with matplotlib (:mod:`anchorrec.analysis.figures`), and states the model's
fingerprint in its caption and metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from anchorrec.analysis.figures import FORMATS, figure_bytes, panel_figure
from anchorrec.models.model_dir import ModelDir
from anchorrec.ui.linked_panels import Panel
from anchorrec.ui.text import plain
from anchorrec.workspace import ModelEntry

MIME = {"svg": "image/svg+xml", "png": "image/png"}


def _draw(panel: Panel, fmt: str, model: str, fingerprint: str) -> Callable[[], bytes]:
    def draw() -> bytes:
        note = f"{model} · model {fingerprint}"
        fig = panel_figure(
            panel.xy,
            title=panel.title,
            note=note,
            tags=panel.tags,
            item_ids=panel.item_ids,
            links=panel.links,
        )
        return figure_bytes(
            fig, fmt, f"AnchorRec Studio panel {panel.space} of model {fingerprint}"
        )

    return draw


def panel_downloads(
    panels: Sequence[Panel], models: ModelEntry | Sequence[ModelEntry], key: str
) -> None:
    """A popover with an SVG and a PNG button per panel. ``models``: the one model every panel
    shows, or one model per panel (matched by name, as on *Positional collapse*)."""
    entries = [models] if isinstance(models, ModelEntry) else list(models)
    with st.popover("Download panels (SVG / PNG)", icon=":material/download:"):
        for n, panel in enumerate(panels):
            entry = (
                entries[0]
                if len(entries) == 1
                else next((e for e in entries if e.name == panel.space), entries[0])
            )
            fingerprint = ModelDir(entry.path).fingerprint() or "unknown"
            cols = st.columns([3, 1, 1])
            cols[0].markdown(plain(panel.title))
            for col, fmt in zip(cols[1:], FORMATS, strict=True):
                col.download_button(
                    fmt.upper(),
                    data=_draw(panel, fmt, entry.label, fingerprint),
                    file_name=f"{entry.name}-{panel.space}.{fmt}",
                    mime=MIME[fmt],
                    key=f"{key}_dl_{n}_{fmt}",
                    on_click="ignore",
                )
