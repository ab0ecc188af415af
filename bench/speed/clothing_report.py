"""The docs' table of the dashboard at Amazon Clothing's size, from the bench's own rows.

Reads the latest full-size ``library`` and ``server`` rows of
``bench/results/clothing_scale.jsonl`` (written by :mod:`bench.speed.clothing_scale`) and
prints, or with ``--update-docs`` writes into docs/scale.md between its markers, one
line per goal: what was measured, the 1-minute load average when it was taken, and whether
the goal is met. Nothing here is typed by hand.

    python -m bench.speed.clothing_report [--update-docs]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common.benchlib import RESULTS_DIR, ROOT, rewrite_between  # noqa: E402
from bench.speed.clothing_scale import TITLES  # noqa: E402

RESULTS = RESULTS_DIR / "clothing_scale.jsonl"
DOC = ROOT / "docs" / "scale.md"
MARKERS = ("<!-- CLOTHING -->", "<!-- /CLOTHING -->")
#: Each page by its heading (the Overview's heading is the app's name).
PAGE_WORDS = {**TITLES, "overview": "Overview"}
INTERACTION_WORDS = {
    "pick_shopper_s": "pick a shopper (Recommendations)",
    "switch_level_s": "switch the attribution level",
    "select_point_s": "select a point (Embedding spaces)",
    "change_colour_s": "change the colour",
    "zoom_s": "zoom every linked panel",
    "filter_s": "filter: hide one category in every panel",
}
#: Goals, in seconds.
MODEL_LOAD_S = 10.0
PAGE_S = 2.0
INTERACTION_S = 1.0
EXPLAIN_MS = 50.0


def latest(stage: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest row of ``stage`` at Clothing's full size (no ``scale`` below 1)."""
    found = [r for r in rows if r.get("stage") == stage and float(r.get("scale", 1.0)) == 1.0]
    return found[-1] if found else None


def _loads(values: list[float] | None) -> str:
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return f"{lo:.2f}" if lo == hi else f"{lo:.2f}–{hi:.2f}"


def _met(value: float, goal: float) -> str:
    return "**yes**" if value <= goal else f"no (+{value - goal:.2f})"


def _median_row(what: str, fig: dict[str, Any], goal: float) -> str:
    if "failed" in fig:
        return f"| {what} | ≤ {goal:g} s | failed: {fig['failed']} | — | no |"
    runs = ", ".join(f"{x:.2f}" for x in fig["runs_s"])
    loads = _loads(fig.get("loads"))
    return f"| {what} | ≤ {goal:g} s | {fig['median_s']:.2f} s ({runs}) | {loads} | " + (
        f"{_met(fig['median_s'], goal)} |"
    )


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown table (and the runs it came from) of the latest full-size rows."""
    library, server = latest("library", rows), latest("server", rows)
    lines = [
        "| what | goal | measured (median; runs) | load (1 min) | met |",
        "|---|---|---|---|---|",
    ]
    runs = []
    if library is not None:
        runs.append(library)
        for variant in ("anchor", "direct", "lightgcn"):
            fig = library.get(variant)
            if not fig:
                continue
            load_s = fig["load_model_s"]
            lines.append(
                f"| `{variant}`: model load (stored graphs read) | ≤ {MODEL_LOAD_S:g} s | "
                f"{load_s:.1f} s | {fig.get('load_model_load', '—')} | "
                f"{_met(load_s, MODEL_LOAD_S)} |"
            )
            games = fig.get("games") or {fig.get("game", "mean"): fig}
            for game, g in games.items():
                ms = g["explain_top10_ms"]
                lines.append(
                    f"| `{variant}`: explain a top-10, {game} game (median of "
                    f"{library.get('users_timed', 20)} shoppers) | ≤ {EXPLAIN_MS:g} ms | "
                    f"{ms:.1f} ms (cache {'read' if g.get('coalition_cache_was_stored') else 'built'} "
                    f"in {g['coalition_cache_s']:.1f} s) | {_loads(g.get('explain_loads'))} | "
                    f"{'**yes**' if ms <= EXPLAIN_MS else f'no (+{ms - EXPLAIN_MS:.1f})'} |"
                )
    if server is not None:
        runs.append(server)
        shown = ", ".join(f"`{v}`" for v in server.get("variants_shown", []))
        for page, fig in server.get("first_render", {}).items():
            what = f"{PAGE_WORDS.get(page, page)}: first render, fresh session ({shown})"
            lines.append(_median_row(what, fig, PAGE_S))
        for key, fig in server.get("interaction", {}).items():
            lines.append(_median_row(INTERACTION_WORDS.get(key, key), fig, INTERACTION_S))
        lines.append(
            f"| server memory (peak RSS of the process tree) | ≤ 8 GB | "
            f"{server['server_peak_rss_mb'] / 1024:.2f} GB | — | "
            f"{'**yes**' if server['server_peak_rss_mb'] <= 8192 else 'no'} |"
        )
    lines += ["", "| stage | date (UTC) | git | machine | load before → after (1/5/15 min) |"]
    lines.append("|---|---|---|---|---|")
    for r in runs:
        m = r["machine"]
        before = " / ".join(f"{x:.2f}" for x in r.get("loadavg_before", []))
        after = " / ".join(f"{x:.2f}" for x in r.get("loadavg_after", []))
        lines.append(
            f"| {r['stage']} | {r['date'][:16].replace('T', ' ')} | `{r['git']}` | "
            f"{m['cores']}-core {m['cpu']}, {m['mem_gb']} GB | {before} → {after} |"
        )
    return "\n".join(lines)


def update_docs(doc: Path = DOC, results: Path = RESULTS) -> None:
    """Rewrite the generated part of ``doc`` from ``results``."""
    rows = [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines() if x.strip()]
    rewrite_between(doc, MARKERS, table(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--update-docs", action="store_true", help="rewrite docs/scale.md")
    args = ap.parse_args(argv)
    if args.update_docs:
        update_docs()
        return 0
    rows = [json.loads(x) for x in RESULTS.read_text(encoding="utf-8").splitlines() if x.strip()]
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
