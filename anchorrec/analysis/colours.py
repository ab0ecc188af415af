"""The colour of each input player and branch, shared by the dashboard's charts and the HTML
audit report (colour-blind safe, Okabe–Ito). A module of its own so that a chart needs no
part of the report."""

from __future__ import annotations

PLAYER_COLOURS: dict[str, str] = {
    "id": "#0072B2",
    "image": "#E69F00",
    "text": "#009E73",
    "fused": "#CC79A7",
    "recover": "#999999",
}
