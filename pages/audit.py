"""Audit: score shares and the accuracy game by segment, exposure, cold items; CSV and HTML."""

from __future__ import annotations

import functools

import streamlit as st

from anchorrec.analysis.attribution import reading_maths
from anchorrec.analysis.audit_report import render_audit_html, shares_csv
from anchorrec.ui import cached, charts, prepared, show, tables
from anchorrec.ui.accuracy_views import show_accuracy_game, stored_accuracy_game
from anchorrec.ui.cold_start_views import show_cold_items
from anchorrec.ui.downloads import kept_bytes
from anchorrec.ui.errors import user_errors
from anchorrec.ui.games import game_note, game_switch
from anchorrec.ui.state import AppState, reference_label, require_dataset, require_models
from anchorrec.ui.text import plain


def _segments(results: dict) -> None:
    st.subheader("Share of the score by segment", help=reading_maths("input"))
    kinds = tables.segment_kinds(next(iter(results.values())))
    kind = st.radio("Segment", kinds, horizontal=True, key="audit_kind") if kinds else None
    for col, (name, r) in zip(st.columns(len(results)), results.items(), strict=True):
        seg = tables.segment_shares(r, kind)
        col.markdown(f"**{plain(name)}** · {game_note(r.game)}")
        words = {p: tables.player_word(p) for p in r.players}
        fig = charts.share_bars(seg, "label", r.players, height=90 + 28 * len(seg), words=words)
        col.plotly_chart(fig, width="stretch", key=f"audit_shares_{name}")


def _exposure(results: dict) -> None:
    st.subheader("Exposure")
    c1, c2 = st.columns(2)
    c1.markdown("**Concentration** (Lorenz curve of recommendation counts)")
    counts = {n: r.exposure["recommended"].to_numpy() for n, r in results.items()}
    c1.plotly_chart(charts.exposure_curve(counts), width="stretch", key="audit_lorenz")
    by = c2.radio("Exposure by", list(tables.EXPOSURE_BY), horizontal=True, key="audit_by")
    shares = tables.exposure_shares(results, by)
    if shares.empty:
        c2.caption(f"This dataset has no item {by}.")
        return
    c2.plotly_chart(charts.exposure_bars(shares, by), width="stretch", key="audit_exposure_by")


def _export(state: AppState, entries: list, results: dict) -> None:
    ds = state.dataset
    st.subheader("Export")
    wanted = reference_label() or "lightgcn"  # the Overview's reference, lightgcn by default
    reference = next((m for m in state.models if m.usable and m.label == wanted), None)
    reference = None if ds.test.nnz == 0 else reference  # nothing to compare on
    if reference is not None:
        st.caption(
            f"Each HTML report includes the variant's test accuracy against **{plain(reference.label)}** "
            "(the reference chosen on *Overview*), with 95% paired bootstrap intervals; the "
            "reference's own report leaves it out."
        )
    compared = {}  # every audited variant against the reference
    others = [e for e in entries if e.name in results and reference and e.path != reference.path]
    if others:
        # the Overview's comparison of every model when it is at hand (cached), else these
        pool = prepared.available([m for m in state.models if m.usable], prepared.PER_USER, ds)
        pool = pool if all(m in pool for m in [*others, reference]) else [*others, reference]
        with user_errors(f"Comparing with {reference.label}", stop=False):
            for d in cached.entry_differences(state, pool, reference.label):
                compared.setdefault(d.model, []).append(d)
    for col, (name, r) in zip(st.columns(len(results)), results.items(), strict=True):
        e, title = next(x for x in entries if x.name == name), f"{ds.name} · {name} audit"
        shares = shares_csv(r)  # bytes, not callables: a rerun cannot make a download vanish
        col.download_button(
            f"{plain(name)}: shares CSV",
            shares,  # formula-like cells neutralised
            file_name=f"{ds.name}-{name}-{r.game}-audit-shares.csv",
            mime="text/csv",
            key=f"dl_csv_{name}",
        )
        acc = compared.get(e.label, [])
        html = functools.partial(_report, r, e.path, title, acc)
        col.download_button(
            f"{plain(name)}: HTML report",
            kept_bytes((shares, e.path, title, acc), html),
            file_name=f"{ds.name}-{name}-{r.game}-audit.html",
            mime="text/html",
            key=f"dl_html_{name}",
        )


def _report(result, model_dir, title: str, accuracy: list) -> bytes:
    """The self-contained HTML report (built once per session, :func:`kept_bytes`)."""
    report = cached.stored_diagnostics(model_dir)  # None: the report leaves them out
    reliance = cached.stored_reliance(model_dir, result.game)  # likewise, under its game
    game = stored_accuracy_game(model_dir, result.game)
    return render_audit_html(result, report, title, accuracy, reliance, game).encode()


def render() -> None:
    state = require_dataset()
    entries = require_models(state)
    st.title("Audit")
    st.caption(
        "Every shopper's top-K explained: the **share of the score** each input supplies (exact "
        "Shapley values), overall and by segment; **which input earns the hits** per segment "
        "(needs held-out purchases); how often each item is recommended (exposure)."
    )
    k = st.slider("Top-K audited", 5, 50, 10, step=5, key="audit_k")
    game = game_switch("audit_game")
    entries = prepared.ready(state, entries, prepared.COALITIONS, "audit_prepare", game=game)
    results = {}
    for e in entries:
        with user_errors(f"Model {e.name}", stop=False):
            results[e.name] = cached.audit(state.loaded(e), k, game)
    if not results:
        st.stop()
    st.subheader("Summary")
    summary = tables.audit_summary_table(results)
    note = game_note(next(iter(results.values())).game)  # the results' own game
    share_help = f"share of the score: |φ|/Σ|φ|, averaged over recommendations ({note})"
    number = st.column_config.NumberColumn(format="%.3f", help=share_help)
    config = {c: number for c in summary.columns if c.endswith(" share")}  # with the help
    fmt = show.formats(summary, "%.3f", skip=("variant", "users", "recommendations"))
    show.table(summary, "audit_summary", fmt, column_config=config)
    st.caption(
        f"Shares: share of the score, {note}; the CSV and the HTML report record it. "
        "Exposure Gini: 0 = every item recommended equally often, 1 = one item takes all. "
        "Coverage: share of the catalogue recommended at least once."
    )
    _segments(results)
    show_accuracy_game(state, entries, game, "audit_accuracy")
    _exposure(results)
    show_cold_items(state.dataset, results)
    _export(state, entries, results)


render()
