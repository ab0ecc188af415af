"""What the dashboard shows, as plain library calls (no Streamlit).

- spaces: :func:`model_spaces`, :class:`Space`, :func:`neighbours`
- attribution: :func:`attribute` → :class:`Attribution` (the one builder of attribution
  values; ``game="mean"`` or ``"background"`` on :func:`coalition_cache`),
  :func:`attribute_top_k`, :func:`explain_user`, :func:`explain_items`,
  :func:`explain_all_items`, :func:`whatif`, :func:`top_k_attribution` (its table),
  :func:`describe_recommendation`
- reliance: :func:`reliance` → :class:`Reliance` (accuracy of every coalition of inputs)
- history: :func:`because_you_bought` → :class:`HistoryAttribution`
- diagnostics: :func:`diagnose` → :class:`DiagnosticsReport`, :func:`compare`
- projections: :func:`precompute_projections`, :func:`load_projection`,
  :func:`load_projection_record`, :func:`available_projections`
- audit: :func:`audit` → :class:`AuditResult`, :func:`write_audit_html`, :func:`write_shares_csv`

``umap`` is imported only when a UMAP layout is computed.
"""

from anchorrec.analysis.attribution import (
    Attribution,
    CoalitionCache,
    UserExplanation,
    WhatIf,
    attribute,
    attribute_top_k,
    coalition_cache,
    describe_recommendation,
    explain_all_items,
    explain_items,
    explain_user,
    top_k_attribution,
    whatif,
)
from anchorrec.analysis.audit import AuditResult, audit
from anchorrec.analysis.audit_report import render_audit_html, write_audit_html, write_shares_csv
from anchorrec.analysis.diagnostics import Diagnostic, DiagnosticsReport, compare, diagnose
from anchorrec.analysis.history import HistoryAttribution, because_you_bought
from anchorrec.analysis.projection import (
    ANCHOR_DOMAIN,
    COEMBEDDING,
    Projection,
    available_projections,
    load_projection,
    load_projection_record,
    precompute_projections,
)
from anchorrec.analysis.reliance import Reliance, reliance
from anchorrec.analysis.spaces import Space, model_spaces, neighbours

__all__ = [
    "ANCHOR_DOMAIN",
    "COEMBEDDING",
    "Attribution",
    "AuditResult",
    "CoalitionCache",
    "Diagnostic",
    "HistoryAttribution",
    "DiagnosticsReport",
    "Projection",
    "Reliance",
    "Space",
    "UserExplanation",
    "WhatIf",
    "attribute",
    "attribute_top_k",
    "audit",
    "available_projections",
    "because_you_bought",
    "coalition_cache",
    "compare",
    "diagnose",
    "explain_all_items",
    "explain_items",
    "describe_recommendation",
    "explain_user",
    "load_projection",
    "load_projection_record",
    "model_spaces",
    "neighbours",
    "precompute_projections",
    "reliance",
    "render_audit_html",
    "top_k_attribution",
    "whatif",
    "write_audit_html",
    "write_shares_csv",
]
