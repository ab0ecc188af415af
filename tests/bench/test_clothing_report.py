"""bench/speed/clothing_report.py: the Clothing-size table comes from the latest full-size rows."""

from __future__ import annotations

from bench.speed import clothing_report as cr

MACHINE = {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "mem_gb": 23.5}


def _library(date: str, explain_ms: float, scale: float = 1.0) -> dict:
    game = {
        "coalition_cache_s": 0.4,
        "coalition_cache_was_stored": True,
        "explain_top10_ms": explain_ms,
        "explain_loads": [0.3, 0.5],
    }
    return {
        "bench": "clothing_scale", "stage": "library", "date": date, "git": "g1",
        "machine": MACHINE, "scale": scale, "users_timed": 20,
        "anchor": {"load_model_s": 12.5, "load_model_load": 0.4,
                   "games": {"mean": game, "background": {**game, "explain_top10_ms": 61.0}}},
        "loadavg_before": [0.2, 0.3, 0.4], "loadavg_after": [0.5, 0.4, 0.4],
    }  # fmt: skip


def test_the_latest_full_size_rows_and_whether_each_goal_is_met():
    server = {
        "bench": "clothing_scale", "stage": "server", "date": "2026-12-08T05:00:00Z",
        "git": "g2", "machine": MACHINE, "variants_shown": ["anchor", "direct"],
        "first_render": {"spaces": {"median_s": 1.5, "runs_s": [1.4, 1.5, 1.6],
                                    "loads": [0.5, 0.6]}},
        "interaction": {"zoom_s": {"median_s": 0.02, "runs_s": [0.02, 0.03, 0.02]},
                        "select_point_s": {"failed": "TimeoutError: waited"}},
        "server_peak_rss_mb": 2048.0, "loadavg_before": [0.1, 0.1, 0.1],
        "loadavg_after": [0.9, 0.5, 0.3],
    }  # fmt: skip
    rows = [
        _library("2026-12-08T04:00:00Z", 30.0),
        _library("2026-12-08T04:30:00Z", 99.0, scale=0.05),  # a smoke run: never reported
        server,
    ]
    table = cr.table(rows)
    line = {row.split(" | ")[0].lstrip("| "): row for row in table.splitlines()}
    load = line["`anchor`: model load (stored graphs read)"]
    assert "12.5 s" in load and "no (+2.50)" in load
    mean = line["`anchor`: explain a top-10, mean game (median of 20 shoppers)"]
    assert "30.0 ms" in mean and "**yes**" in mean and "0.30–0.50" in mean
    assert (
        "no (+11.0)" in line["`anchor`: explain a top-10, background game (median of 20 shoppers)"]
    )
    spaces = line["Embedding spaces: first render, fresh session (`anchor`, `direct`)"]
    assert "1.50 s (1.40, 1.50, 1.60)" in spaces and "**yes**" in spaces
    assert "failed: TimeoutError" in line["select a point (Embedding spaces)"]
    assert "2.00 GB" in line["server memory (peak RSS of the process tree)"]
    assert "99.0" not in table and "| library | 2026-12-08 04:00 | `g1` |" in table
