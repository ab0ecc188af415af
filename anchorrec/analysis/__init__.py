"""What the dashboard shows, as plain library calls (no Streamlit).

- spaces: :func:`model_spaces`, :class:`Space`, :func:`neighbours`
- attribution: :func:`attribute` → :class:`Attribution` (the one builder of attribution
  values; ``game="mean"`` or ``"background"`` on :func:`coalition_cache`),
  :func:`attribute_top_k`, :func:`explain_user`, :func:`explain_items`,
  :func:`explain_all_items`, :func:`whatif`, :func:`top_k_attribution` (its table),
  :func:`describe_recommendation`
- reliance: :func:`reliance` → :class:`Reliance` (accuracy of every coalition of inputs)
- accuracy game: :func:`accuracy_game` → :class:`AccuracyGame` (which input earns each
  segment's hits; needs held-out purchases)
- rank game: :func:`rank_values`, :func:`rank_top_k` → :class:`RankAttribution` ("what ranks
  it": each input's part of an item's top-k place)
- history: :func:`because_you_bought` → :class:`HistoryAttribution`
- diagnostics: :func:`diagnose` → :class:`DiagnosticsReport`, :func:`compare`
- projections: :func:`precompute_projections`, :func:`load_projection`,
  :func:`load_projection_record`, :func:`available_projections`
- audit: :func:`audit` → :class:`AuditResult`, :func:`write_audit_html`, :func:`write_shares_csv`

``umap`` is imported only when a UMAP layout is computed.

The names are loaded on first use (PEP 562): importing one submodule does not import
the others (and torch with them).
"""

from __future__ import annotations

from anchorrec.lazy import lazy_names

_EXPORTS = {
    "AccuracyGame": "anchorrec.analysis.accuracy_game",
    "RankAttribution": "anchorrec.analysis.attribution",
    "accuracy_game": "anchorrec.analysis.accuracy_game",
    "rank_top_k": "anchorrec.analysis.attribution",
    "rank_values": "anchorrec.analysis.attribution",
    "ANCHOR_DOMAIN": "anchorrec.analysis.projection",
    "COEMBEDDING": "anchorrec.analysis.projection",
    "Attribution": "anchorrec.analysis.attribution",
    "AuditResult": "anchorrec.analysis.audit",
    "CoalitionCache": "anchorrec.analysis.attribution",
    "Diagnostic": "anchorrec.analysis.diagnostics",
    "HistoryAttribution": "anchorrec.analysis.history",
    "DiagnosticsReport": "anchorrec.analysis.diagnostics",
    "Projection": "anchorrec.analysis.projection",
    "Reliance": "anchorrec.analysis.reliance",
    "Space": "anchorrec.analysis.spaces",
    "UserExplanation": "anchorrec.analysis.attribution",
    "WhatIf": "anchorrec.analysis.attribution",
    "attribute": "anchorrec.analysis.attribution",
    "attribute_top_k": "anchorrec.analysis.attribution",
    "audit": "anchorrec.analysis.audit",
    "available_projections": "anchorrec.analysis.projection",
    "because_you_bought": "anchorrec.analysis.history",
    "coalition_cache": "anchorrec.analysis.attribution",
    "compare": "anchorrec.analysis.diagnostics",
    "diagnose": "anchorrec.analysis.diagnostics",
    "explain_all_items": "anchorrec.analysis.attribution",
    "explain_items": "anchorrec.analysis.attribution",
    "describe_recommendation": "anchorrec.analysis.attribution",
    "explain_user": "anchorrec.analysis.attribution",
    "load_projection": "anchorrec.analysis.projection",
    "load_projection_record": "anchorrec.analysis.projection",
    "model_spaces": "anchorrec.analysis.spaces",
    "neighbours": "anchorrec.analysis.spaces",
    "precompute_projections": "anchorrec.analysis.projection",
    "reliance": "anchorrec.analysis.reliance",
    "render_audit_html": "anchorrec.analysis.audit_report",
    "top_k_attribution": "anchorrec.analysis.attribution",
    "whatif": "anchorrec.analysis.attribution",
    "write_audit_html": "anchorrec.analysis.audit_report",
    "write_shares_csv": "anchorrec.analysis.audit_report",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_names(__name__, _EXPORTS, globals())
