"""Reading an AppTest's tables by their columns, never by their position on the page."""

from __future__ import annotations

import pandas as pd


def tables_with(at, *columns: str) -> list[pd.DataFrame]:
    """Every table on the page that has all of ``columns``, in page order."""
    return [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]


def table_with(at, *columns: str) -> pd.DataFrame:
    """The one table on the page that has all of ``columns``."""
    found = tables_with(at, *columns)
    assert len(found) == 1, f"{len(found)} tables have the columns {columns}"
    return found[0]


def _texts(arrays: dict, name: str) -> list[str]:
    if name not in arrays:
        return []
    raw, at = bytes(arrays[name]), arrays[f"{name}_at"]
    return [raw[at[r] : at[r + 1]].decode("utf-8") for r in range(len(at) - 1)]


def panels_data(at) -> dict:
    """The payload the page gave its linked panels (the browser draws it), read back from its
    binary form into lists: ``items``, ``titles``, ``shop_ids``, ``selected``, ``found``,
    ``colour`` and ``panels`` (``x``, ``y``, ``rows``, ``tags``, ``segments``, ...).

    A session is sent a layout once; when the last run sent only its key, the page is run
    again as a fresh session would see it."""
    from anchorrec.ui import linked_panels

    def last():
        (panels,) = [
            e for e in at.get("bidi_component") if e.proto.component_name.endswith("panels")
        ]
        return linked_panels.decode(panels.proto.bytes)

    header, arrays = last()
    if header["layout"] is None:
        at.session_state[linked_panels._SENT] = {}
        at.run()
        header, arrays = last()
    layout = header["layout"]
    out = {
        "items": arrays["items"].tolist(),
        "titles": _texts(arrays, "title"),
        "shop_ids": _texts(arrays, "shop"),
        "selected": arrays["selected"].tolist(),
        "found": arrays["found"].tolist(),
        "colour": {**header["look"]["colour"], "index": arrays.get("colour", []).tolist()}
        if "colour" in arrays
        else header["look"]["colour"],
        "fields": layout["fields"],
        "panels": [],
    }
    for n, spec in enumerate(layout["panels"]):
        panel = {**spec}
        for name in ("x", "y", "rows", "tags"):
            if f"p{n}.{name}" in arrays:
                panel[name] = arrays[f"p{n}.{name}"].tolist()
        if f"p{n}.links" in arrays:
            panel["segments"] = arrays[f"p{n}.links"].reshape(-1, 2).tolist()
        out["panels"].append(panel)
    return out
