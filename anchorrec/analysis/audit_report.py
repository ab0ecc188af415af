"""The audit as one self-contained HTML file (inline CSS and SVG; no external URL) and a CSV."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from anchorrec.analysis.accuracy_game import NEEDS_HELD_OUT, AccuracyGame
from anchorrec.analysis.audit import SMALL_SEGMENT, AuditResult, recommendations_frame
from anchorrec.analysis.colours import PLAYER_COLOURS
from anchorrec.analysis.diagnostics_report import DiagnosticsReport, compare_with_intervals
from anchorrec.analysis.reliance import Reliance
from anchorrec.data.dataset import Dataset
from anchorrec.data.shop_ids import with_user_and_item_shop_ids
from anchorrec.evaluation.significance import PairedDifference
from anchorrec.fileio import atomic_write_bytes, atomic_write_text, csv_bytes

_FALLBACK = ("#56B4E9", "#D55E00", "#F0E442", "#000000")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.note{color:#555;font-size:.85rem}.legend span{display:inline-block;margin-right:1rem}
.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""


def colour(name: str, i: int = 0) -> str:
    return PLAYER_COLOURS.get(name, _FALLBACK[i % len(_FALLBACK)])


def _esc(x: object) -> str:
    return html.escape(str(x))


def _fmt(x: object) -> str:
    if isinstance(x, float | np.floating):
        value = float(x)
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"
    return _esc(x)


def html_table(frame: pd.DataFrame, left: tuple[str, ...] = ()) -> str:
    head = "".join(f'<th class="{"l" if c in left else ""}">{_esc(c)}</th>' for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="{"l" if c in left else ""}">{_fmt(v)}</td>'
            for c, v in zip(frame.columns, row, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def stacked_share_bars(
    labels: list[str], shares: np.ndarray, names: tuple[str, ...], title: str
) -> str:
    """An inline SVG: one horizontal bar per label, split by ``shares`` (rows sum to 1)."""
    bar_h, gap, label_w, width = 18, 6, 260, 480
    height = len(labels) * (bar_h + gap) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 20}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}">'
    ]
    for r, label in enumerate(labels):
        y = 20 + r * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">{_esc(label)}</text>'
        )
        x = float(label_w)
        for c, name in enumerate(names):
            w = float(shares[r, c]) * width
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour(name, c)}">'
                f"<title>{_esc(label)} · {_esc(name)}: {shares[r, c]:.1%}</title></rect>"
            )
            if w > 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 13}" font-size="11" fill="#fff" '
                    f'text-anchor="middle">{shares[r, c]:.0%}</text>'
                )
            x += w
    parts.append(
        f'<text x="{label_w}" y="12" font-size="12" fill="#555">{_esc(title)}</text></svg>'
    )
    return "".join(parts)


def lorenz_curve(counts: np.ndarray) -> str:
    """An inline SVG Lorenz curve of recommendation counts (the diagonal is equal exposure)."""
    size, pad = 220, 30
    x = np.sort(np.asarray(counts, dtype=np.float64))
    cum = np.concatenate([[0.0], np.cumsum(x)])
    cum = cum / cum[-1] if cum[-1] > 0 else cum
    frac = np.linspace(0, 1, len(cum))
    step = max(1, len(cum) // 200)
    pts = " ".join(
        f"{pad + f * size:.1f},{pad + size - c * size:.1f}"
        for f, c in zip(
            frac[::step].tolist() + [1.0], cum[::step].tolist() + [cum[-1]], strict=True
        )
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" height="{size + 2 * pad}" '
        'role="img" aria-label="Lorenz curve of exposure">'
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="none" stroke="#ccc"/>'
        f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#bbb" stroke-dasharray="4"/>'
        f'<polyline points="{pts}" fill="none" stroke="#0072B2" stroke-width="2"/>'
        f'<text x="{pad}" y="{pad - 8}" font-size="11" fill="#555">share of recommendations vs share of items</text>'
        "</svg>"
    )


def _shown_lists(summary: dict) -> list[str]:
    """The lists the shop shows through the cold-start path (none without one)."""
    from anchorrec.analysis.shown_lists import ShownLists

    shown = summary.get("shown_lists")
    return [f"<p>{_esc(ShownLists(**shown).sentence())}</p>"] if shown else []


def _legend(names: tuple[str, ...]) -> str:
    return (
        '<p class="legend">'
        + "".join(
            f'<span><i class="sw" style="background:{colour(n, i)}"></i>{_esc(n)}</span>'
            for i, n in enumerate(names)
        )
        + "</p>"
    )


def accuracy_section(differences: Sequence[PairedDifference]) -> list[str]:
    """HTML of the model's test accuracy against a reference, with paired intervals."""
    if not differences:
        return []
    first = differences[0]
    table = pd.DataFrame(
        {
            "metric": [d.metric for d in differences],
            first.model: [d.model_mean for d in differences],
            first.reference: [d.reference_mean for d in differences],
            "difference": [f"{d.difference:+.4f}" for d in differences],
            f"{round(first.level * 100)}% interval": [
                f"[{d.low:+.4f}, {d.high:+.4f}]" for d in differences
            ],
            "verdict": [d.verdict for d in differences],
        }
    )
    return [
        f"<h2>Accuracy against {_esc(first.reference)}</h2>",
        f'<p class="note">Test split, {first.users} users, full ranking (train and valid items '
        f"masked). The interval is a {round(first.level * 100)}% paired bootstrap interval of the "
        "difference of the means over the users; <i>above</i> / <i>below</i>: it excludes 0; "
        "<i>tie</i>: it does not. It does not cover retraining with another seed.</p>",
        html_table(
            table, left=("metric", "difference", f"{round(first.level * 100)}% interval", "verdict")
        ),
    ]


def provenance_section(result: AuditResult) -> list[str]:
    """HTML of what the audit was computed from (empty when unknown)."""
    p = result.provenance
    if not p:
        return []
    rows = [
        ("dataset", f"{p.get('dataset')} (fingerprint {p.get('dataset_fingerprint')})"),
        ("model", p.get("model_dir") or "—"),
        ("weights SHA-256", p.get("weights_sha256") or "— (not recorded)"),
        ("code version", p.get("code_version")),
        ("model trained with", p.get("model_code_version") or "—"),
        ("computed", p.get("time")),
        ("attribution game", f"{p.get('game')}: {p.get('game_question')}"),
    ]
    table = pd.DataFrame(rows, columns=["", "value"])
    return ["<h2>Provenance</h2>", html_table(table, left=("", "value"))]


def reliance_section(reliance: Reliance | None) -> list[str]:
    """HTML of the accuracy of every coalition of inputs."""
    if reliance is None:
        return []
    k = reliance.k
    table = pd.DataFrame(
        {
            "inputs kept": [r.label for r in reliance.rows],
            f"Recall@{k}": [r.recall for r in reliance.rows],
            "95% interval": [f"[{r.recall_low:.3f}, {r.recall_high:.3f}]" for r in reliance.rows],
            f"NDCG@{k}": [r.ndcg for r in reliance.rows],
            "95% interval ": [f"[{r.ndcg_low:.3f}, {r.ndcg_high:.3f}]" for r in reliance.rows],
        }
    )
    return [
        "<h2>Modality reliance</h2>",
        f'<p class="note">{_esc(reliance.split.capitalize())} accuracy of {reliance.users} users '
        f"when the model keeps only some inputs; the others are removed by the {reliance.game} "
        "game's rule (the same rule the attribution uses). Intervals: percentile bootstrap over "
        "users. A model that keeps its accuracy with ID alone and loses it without ID relies on "
        "ID, whatever its content features could offer.</p>",
        html_table(table, left=("inputs kept", "95% interval", "95% interval ")),
    ]


def accuracy_game_section(game: AccuracyGame | None) -> list[str]:
    """HTML of the accuracy game by segment: which input earns each segment's hits."""
    if game is None:
        return []
    frame = game.to_frame()
    frame = frame[(frame["metric"] == "recall") & frame["input"].isin(game.players)]
    table = pd.DataFrame(
        {
            "kind": frame["kind"],
            "segment": frame["segment"],
            "shoppers": frame["users"],
            "input": frame["input"],
            f"value (Recall@{game.k})": frame["value"],
            "95% interval": [
                f"[{lo:+.4f}, {hi:+.4f}]"
                for lo, hi in zip(frame["low"], frame["high"], strict=True)
            ],
        }
    )
    return [
        "<h2>Which input earns the hits (accuracy game)</h2>",
        f'<p class="note">Per shopper, each input\'s exact Shapley value of the {_esc(game.split)} '
        f"Recall@{game.k} with only some inputs kept (the others removed by the {_esc(game.game)} "
        "rule); per shopper the values add up to all inputs' Recall minus no input's. Mean by "
        "segment, 95% percentile bootstrap over the shoppers. A negative value: the input costs "
        f"the segment hits. It {_esc(NEEDS_HELD_OUT)}, so it describes segments, never one "
        "recommendation. NDCG and the paired differences are in the CSV.</p>",
        html_table(table, left=("kind", "segment", "input", "95% interval")),
    ]


def render_audit_html(
    result: AuditResult,
    diagnostics: DiagnosticsReport | None = None,
    title: str = "",
    accuracy: Sequence[PairedDifference] = (),
    reliance: Reliance | None = None,
    accuracy_game: AccuracyGame | None = None,
) -> str:
    """The whole audit as a standalone HTML document.

    ``accuracy``: the model's paired comparison with a reference
    (:func:`anchorrec.evaluation.compare_to_reference`), shown first when given;
    ``reliance``: the accuracy of every coalition of inputs; ``accuracy_game``: which input
    earns each segment's hits.
    """
    players, branches = result.players, result.branches
    s = result.summary
    shares = result.shares
    labels = [
        f"{r.kind}: {r.segment}" if r.kind != "all" else "all recommendations"
        for r in shares.itertuples()
    ]
    player_shares = shares[[f"share_{p}" for p in players]].to_numpy()
    branch_shares = shares[[f"branch_share_{b}" for b in branches]].to_numpy()
    view = shares[["kind", "segment", "n", "users", *[f"share_{p}" for p in players]]].rename(
        columns={f"share_{p}": f"{p} share" for p in players}
    )
    small = shares["small"] if "small" in shares else shares["n"] < SMALL_SEGMENT
    view["reading"] = np.where(small, f"too small (n < {SMALL_SEGMENT})", "")
    labels = [
        f"{lab} (n < {SMALL_SEGMENT})" if sm else lab for lab, sm in zip(labels, small, strict=True)
    ]
    removal = (
        "its features replaced by those of catalogue items drawn at random (users likewise), "
        "averaged over seeded draws"
        if result.game == "background"
        else "its features replaced by the catalogue mean, its item graph by the mean graph "
        "(every item equally similar), ID embeddings by their mean"
    )
    signed = shares[
        ["kind", "segment", *[f"phi_{p}" for p in players], "baseline", "score"]
    ].rename(columns={f"phi_{p}": f"φ {p}" for p in players})
    top_items = result.exposure.sort_values("recommended", ascending=False).head(15)
    body = [
        f"<h1>Recommendation audit — {_esc(title or result.variant)}</h1>",
        f'<p class="note">Top-{result.k} lists of {s["users"]} users ({s["recommendations"]} recommendations) '
        f"over {s['items']} items. Input-level shares are exact Shapley values of the players "
        f"{', '.join(players)} under the <b>{_esc(result.game)}</b> game (a player removed = "
        f"{removal}), shown as |φ|/Σ|φ| per recommendation "
        "and averaged. Branch-level shares split the score along the model's additive branches; since "
        "every modality branch is gated by the ID embedding, the two differ. Segments with fewer "
        f"than {SMALL_SEGMENT} recommendations are marked too small to read.</p>",
        *provenance_section(result),
        *accuracy_section(accuracy),
        *reliance_section(reliance),
        *accuracy_game_section(accuracy_game),
        "<h2>Share of the score (input level)</h2>",
        _legend(players),
        stacked_share_bars(labels, player_shares, players, "mean |φ| share per recommendation"),
        html_table(view, left=("kind", "segment", "reading")),
        "<h2>Signed attribution (mean φ; negative pushed items down)</h2>",
        html_table(signed, left=("kind", "segment")),
        "<h2>Branch of the model (branch level)</h2>",
        _legend(branches),
        stacked_share_bars(labels, branch_shares, branches, "mean |φ| share per branch"),
        "<h2>Exposure</h2>",
        f"<p>Gini of recommendation counts: <b>{s['exposure_gini']:.3f}</b> (0 = every item recommended "
        f"equally often); catalogue coverage: <b>{s['coverage']:.1%}</b> of items recommended at least once.</p>",
        *_shown_lists(s),
        lorenz_curve(result.exposure["recommended"].to_numpy()),
        html_table(top_items, left=()),
    ]
    if diagnostics is not None:
        body += [
            "<h2>Collapse and dominance diagnostics</h2>",
            '<p class="note">Each value with its 95% interval (bootstrap over items) and the '
            "level it would have by chance.</p>",
            html_table(
                compare_with_intervals([diagnostics]),
                left=("metric", "space", diagnostics.variant, "null"),
            ),
        ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title or result.variant)} audit</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_audit_html(
    path: str | Path,
    result: AuditResult,
    diagnostics: DiagnosticsReport | None = None,
    title: str = "",
    accuracy: Sequence[PairedDifference] = (),
    reliance: Reliance | None = None,
    accuracy_game: AccuracyGame | None = None,
) -> Path:
    """Write the HTML report atomically."""
    atomic_write_text(
        path, render_audit_html(result, diagnostics, title, accuracy, reliance, accuracy_game)
    )
    return Path(path)


def shares_csv(result: AuditResult) -> bytes:
    """The per-segment shares (``AuditResult.shares``) and the ``game`` they were computed
    under, as CSV bytes, every text cell (segment names come from the catalogue) neutralised
    against spreadsheet formulas."""
    return csv_bytes(result.shares.assign(game=result.game))


def _write_frame(path: str | Path, frame: pd.DataFrame) -> Path:
    """``frame`` as CSV, atomically, every text cell neutralised against spreadsheet formulas."""
    atomic_write_bytes(path, csv_bytes(frame))
    return Path(path)


def write_recommendations_csv(
    path: str | Path, result: AuditResult, dataset: Dataset | None = None
) -> Path:
    """Write one row per recommendation (:func:`recommendations_frame`), atomically; with the
    ``dataset`` of an imported catalogue, the shop's own user and item ids beside ours."""
    return _write_frame(path, with_user_and_item_shop_ids(recommendations_frame(result), dataset))


def write_history_csv(
    path: str | Path, frame: pd.DataFrame, dataset: Dataset | None = None
) -> Path:
    """Write the per-recommendation history split (:func:`history_frame`), atomically; the
    shop's own ids beside ours as in :func:`write_recommendations_csv`."""
    return _write_frame(path, with_user_and_item_shop_ids(frame, dataset))


def write_accuracy_game_csv(path: str | Path, game: AccuracyGame) -> Path:
    """Write the accuracy game by segment (one row per segment, metric and input or pair of
    inputs: ``kind``, ``segment``, ``metric``, ``input``, ``value``, ``low``, ``high``,
    ``users``) and the removal rule it ran under, atomically."""
    return _write_frame(path, game.to_frame().assign(game=game.game, k=game.k, split=game.split))


def write_shares_csv(path: str | Path, result: AuditResult) -> Path:
    """Write :func:`shares_csv` atomically."""
    atomic_write_bytes(path, shares_csv(result))
    return Path(path)
