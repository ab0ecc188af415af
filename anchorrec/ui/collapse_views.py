"""The Positional collapse page's words and its diagnostics table with intervals.

:func:`with_intervals` turns the wide diagnostics table into text cells ``value [low, high]``
(the bootstrap interval each stored diagnostic carries) and keeps the verdict, so no figure
appears on the page without its interval. :data:`FIGURE_CAPTION` claims only what a joint
2-D picture supports.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from anchorrec.analysis.diagnostics import DiagnosticsReport, compare_with_intervals

FIGURE_CAPTION = (
    "Positional collapse: the interaction-ID signal swamps content, and the final item "
    "vectors end up where the ID view puts them. The paper's Figure 1 draws the ID view H and "
    "the final vectors h in one projection, a grey segment joining an item's two points. The "
    "picture is an illustration, not a measurement: a joint 2-D layout tends to place an "
    "item's two points together whatever the model, so short segments here do not by "
    "themselves show collapse. The evidence is in the table below: the ID → final "
    "displacement measured in the full space, with its 95% interval and the level of "
    "unrelated pairs. Hover an item to find it in every variant's panel."
)
TABLE_CAPTION = (
    "Each figure with its 95% interval (bootstrap over items) as `value [low, high]`. "
    "`null`: the value expected by chance (see each metric's line below). `verdict`: *tie* "
    "when the variants' intervals overlap, else which is above. Blank: not measured for that "
    "model (an ID-only model has no picture or text space)."
)


def with_intervals(wide: pd.DataFrame, reports: Sequence[DiagnosticsReport]) -> pd.DataFrame:
    """``wide`` (:func:`anchorrec.ui.tables.diagnostics_table`) with each variant's cell as
    ``value [low, high]`` text ("" where not measured) and ``null`` as text."""
    cells = {
        (r["metric"], r["space"]): r
        for r in compare_with_intervals(list(reports)).to_dict("records")
    }
    raw = {(d.metric, d.space) for rep in reports for d in rep.rows}
    keys = list(zip(wide["key"], _raw_spaces(wide, reports, raw), strict=True))
    out = wide.copy()
    for rep in reports:
        v = rep.variant
        out[v] = [
            "" if pd.isna(x) else str(cells.get(k, {}).get(v, f"{x:.3f}"))
            for x, k in zip(wide[v], keys, strict=True)
        ]
    out["null"] = ["" if pd.isna(x) else f"{x:.3f}" for x in wide["null"]]
    return out


def _raw_spaces(
    wide: pd.DataFrame, reports: Sequence[DiagnosticsReport], raw: set[tuple[str, str]]
) -> list[str]:
    """The stored space name of each row (``wide`` shows titles)."""
    from anchorrec.ui.tables import space_title

    by_title = {(m, space_title(s)): s for m, s in raw}
    return [by_title.get((m, s), s) for m, s in zip(wide["key"], wide["space"], strict=True)]
