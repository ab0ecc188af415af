"""The variant names, in display order, importable without the models (and torch).

The model list of a dataset is sorted by this order on the dashboard's first page, which
reads only the models' ``config.json``. :mod:`anchorrec.models.registry` maps each name to
its class and refuses to start when a class and this list disagree.
"""

from __future__ import annotations

VARIANT_ORDER: tuple[str, ...] = (
    "anchor",
    "direct",
    "none",
    "anchor-noproj",
    "anchor-noamp",
    "lightgcn",
    "mf",
    "popularity",
    "ease",
    "itemknn",
    "rp3beta",
)
