"""bench/rebuild/report.py: the generated tables come from the latest result row of each bench."""

from __future__ import annotations

import json
from pathlib import Path

from bench.rebuild import report
from bench.research import content_ceiling as ceiling
from bench.research import sample_seeds as seeds

MACHINE = {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "mem_gb": 23.5}


def _write(path: Path, rows: list[dict | str]) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def test_latest_row_of_each_bench_with_its_figures(tmp_path: Path) -> None:
    _write(
        tmp_path / "speed.jsonl",
        [
            {"bench": "speed", "date": "2026-11-26T19:00:00Z", "git": "new1", "machine": MACHINE,
             "epoch_seconds": 1.5, "loadavg_before": [0.4, 0, 0], "runs_seconds": [1, 2, 3]},
            {"bench": "speed", "date": "2026-11-26T18:00:00Z", "git": "old1", "machine": MACHINE,
             "epoch_seconds": 9.0},
            "{broken",
        ],
    )  # fmt: skip
    _write(
        tmp_path / "other_name.jsonl",
        [{"bench": "latency", "date": "2026-11-26T18:30:00Z", "git": "g2", "machine": MACHINE,
          "median_ms": 45.25, "valid": {"recall@20": 0.0812}, "variant": "anchor"}],
    )  # fmt: skip
    table = report.markdown_table(report.latest_by_bench(report.load_rows(tmp_path)))
    lines = table.splitlines()
    assert len(lines) == 4  # header, rule, one row per bench name
    speed = next(line for line in lines if "`speed`" in line)
    assert "epoch_seconds 1.5" in speed and "`new1`" in speed and "9.0" not in speed
    assert "0.4" in speed and "Intel Xeon, 2 cores, 23.5 GB" in speed
    assert "runs_seconds" not in speed  # raw runs are context, not figures
    latency = next(line for line in lines if "`latency`" in line)
    assert "median_ms 45.25" in latency and "valid.recall@20 0.0812" in latency


def test_update_doc_replaces_only_the_marked_tables(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        f"intro\n{report.TABLE_START}\nold table\n{report.TABLE_END}\nmiddle\n"
        f"{report.SCALE_START}\nold scale\n{report.SCALE_END}\nafter\n"
    )
    report.update_doc("| new |", doc, scale="| scale |")
    text = doc.read_text()
    assert "old table" not in text and "| new |" in text
    assert "old scale" not in text and "| scale |" in text
    assert text.startswith("intro\n") and text.endswith(f"{report.SCALE_END}\nafter\n")
    assert "\nmiddle\n" in text


def test_the_generated_tables_live_in_docs_not_the_readme() -> None:
    assert report.DOC.relative_to(report.ROOT).as_posix() == "docs/benchmarks.md"
    text = report.DOC.read_text(encoding="utf-8")
    readme = (report.ROOT / "README.md").read_text(encoding="utf-8")
    for start, end in (
        (report.TABLE_START, report.TABLE_END),
        (report.SCALE_START, report.SCALE_END),
        (report.GPU_START, report.GPU_END),
    ):
        assert (
            text.count(start) == 1 and text.count(end) == 1 and text.index(start) < text.index(end)
        )
        assert start not in readme


def test_scale_table_describes_each_training_at_scale_row() -> None:
    row = {"bench": "scale_training_synthetic_anchor_default_cpu", "date": "2026-11-26T19:29:01Z",
           "machine": MACHINE, "variant": "anchor", "preset": "default", "users": 100000,
           "items": 100000, "interactions": 985831, "batch_size": 2048, "step_seconds": 13.3081,
           "epoch_seconds": 4950.6, "epoch_mode": "extrapolated", "first_step_seconds": 576.7,
           "eval_users": 100000, "eval_seconds": 148.0, "peak_rss_mb": 5432.7,
           "loadavg_before": [8.7, 9, 6]}  # fmt: skip
    other = {"bench": "attribution_latency", "median_ms": 3.0}
    lines = report.scale_table({row["bench"]: row, "attribution_latency": other}).splitlines()
    assert len(lines) == 3  # header, rule, one row: the other bench is not about scale
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert len(cells) == len(lines[0].strip("|").split("|"))
    for part in ("100,000 × 100,000, 985,831", "13.31 s (2048)", "≈ 1.4 h (extrapolated)",
                 "9.6 min", "2.5 min (100,000 users)", "5.3 GB RSS", "8.7", "2026-11-26"):  # fmt: skip
        assert part in cells, part
    assert "no training-at-scale results" in report.scale_table({})


def test_gpu_table_lists_the_baby_runs_on_cuda_with_their_speed_up() -> None:
    gpu = {**MACHINE, "gpu": "NVIDIA H100 80GB HBM3", "torch": "2.11.0+cu130"}
    base = {"machine": gpu, "date": "2026-11-26T23:15:00Z", "git": "abc", "device": "cuda",
            "preset": "default", "eval_seconds": 0.2, "peak_gpu_mb": 512.0}  # fmt: skip
    latest = {
        "scale_training_baby_anchor_default_cuda_eager": {
            **base,
            "variant": "anchor",
            "cuda_graph": False,
            "step_seconds": 0.02,
            "epoch_seconds": 1.6,
        },  # fmt: skip
        "scale_training_baby_anchor_default_cuda": {
            **base,
            "variant": "anchor",
            "cuda_graph": True,
            "step_seconds": 0.0025,
            "epoch_seconds": 0.16,
        },  # fmt: skip
        "scale_training_baby_lightgcn_default_cuda": {
            **base,
            "variant": "lightgcn",
            "cuda_graph": True,
            "step_seconds": 0.0007,
            "epoch_seconds": 0.04,
        },  # fmt: skip
        "scale_training_baby_anchor_default_cpu": {
            **base,
            "device": "cpu",
            "variant": "anchor",
            "epoch_seconds": 5.0,
        },  # fmt: skip
    }
    lines = report.gpu_table(latest).splitlines()[2:]
    assert len(lines) == 3  # the CPU row is not a GPU figure
    assert lines[0].startswith("| `anchor` default, CUDA graph | 2.5 ms | 0.16 | 12.5× faster")
    assert "eager" in lines[1] and "1.2× faster" in lines[1]
    assert "not AnchorRec" in lines[2] and "NVIDIA H100 80GB HBM3, 2.11.0+cu130" in lines[2]
    assert "run `bench/gpu.sh`" in report.gpu_table({})


def test_sample_seeds_summary_tells_a_difference_from_seed_noise() -> None:
    runs = [
        {"variant": v, "seed": s, "recall@20": r, "ndcg@20": n}
        for v, s, r, n in [
            ("anchor", 0, 0.50, 0.30), ("anchor", 1, 0.52, 0.30), ("anchor", 2, 0.51, 0.31),
            ("lightgcn", 0, 0.49, 0.31), ("lightgcn", 1, 0.53, 0.29), ("lightgcn", 2, 0.50, 0.30),
        ]
    ]  # fmt: skip
    summary = seeds.summarise(runs, "lightgcn")
    anchor = summary["anchor"]
    assert anchor["recall@20_mean"] == 0.51 and anchor["recall@20_std"] == 0.01
    assert anchor["recall@20_minus_lightgcn"] == [0.01, -0.01, 0.01]
    assert anchor["recall@20_above_lightgcn_every_seed"] is False  # seed 1 is below
    assert anchor["ndcg@20_minus_lightgcn"] == [-0.01, 0.01, 0.01]
    assert "recall@20_minus_lightgcn" not in summary["lightgcn"]  # the reference itself


def test_content_ceiling_oracle_features_code_exactly_the_planted_attributes() -> None:
    import numpy as np
    import pandas as pd

    items = pd.DataFrame(
        {
            "pattern": ["stripes", "dots", "stripes"], "shade": ["deep", "deep", "pastel"],
            "occasion": ["office", "office", "travel"], "collection": ["Alpine"] * 3,
            "sustainability": ["organic", "recycled", "organic"], "category": ["tote"] * 3,
        }
    )  # fmt: skip
    feats = ceiling.oracle_features(items)
    assert feats["image"].shape == (3, 2 + 2 + 1) and feats["text"].shape == (3, 2 + 1 + 2 + 1)
    codes = np.round(feats["image"] / 0.5) * 0.5  # the noise (sd 0.05) rounded away
    assert codes.tolist() == [[0, 1, 1, 0, 0.5], [1, 0, 1, 0, 0.5], [0, 1, 0, 1, 0.5]]


def test_content_ceiling_cold_items_keep_only_their_first_purchases(tiny_dataset) -> None:
    import numpy as np

    cold = ceiling.with_cold_items(tiny_dataset, n_items=5, keep=2, seed=0)
    before = np.diff(tiny_dataset.train.tocsc().indptr)
    after = np.diff(cold.train.tocsc().indptr)
    changed = np.flatnonzero(after != before)
    assert len(changed) == 5 and (after[changed] == 2).all()
    assert (cold.train.toarray() <= tiny_dataset.train.toarray()).all()  # only removals
    assert (cold.valid != tiny_dataset.valid).nnz == 0 and (cold.test != tiny_dataset.test).nnz == 0


def test_content_ceiling_gaps_pair_each_anchor_run_with_lightgcn_on_the_same_interactions() -> None:
    runs = [
        {"setting": s, "variant": v, "seed": seed, "recall@20": r, "ndcg@20": n}
        for s, v, seed, r, n in [
            ("dense/encoded", "lightgcn", 0, 0.50, 0.30), ("dense/encoded", "anchor", 0, 0.51, 0.29),
            ("dense/oracle", "anchor", 0, 0.53, 0.31), ("dense/encoded", "lightgcn", 1, 0.40, 0.20),
            ("dense/encoded", "anchor", 1, 0.43, 0.20), ("dense/oracle", "anchor", 1, 0.45, 0.22),
        ]
    ]  # fmt: skip
    gaps = ceiling.gaps(runs)
    assert gaps["dense/encoded"]["recall@20"] == {"0": 0.01, "1": 0.03}
    assert gaps["dense/oracle"]["recall@20"] == {"0": 0.03, "1": 0.05}
    assert gaps["dense/oracle"]["recall@20_mean"] == 0.04
    assert gaps["dense/encoded"]["ndcg@20_mean"] == -0.005


def test_the_generated_parts_of_the_docs_match_the_recorded_results() -> None:
    """docs/ shows what bench/results holds: regenerate after recording a row
    (python -m bench.rebuild.report --update-docs; python -m bench.rebuild.analysis_docs)."""
    import re

    from bench.rebuild import analysis_docs

    def between(text: str, start: str, end: str) -> str:
        return text[text.index(start) + len(start) : text.index(end)].strip("\n")

    latest = report.latest_by_bench(report.load_rows())
    bench_doc = report.DOC.read_text(encoding="utf-8")
    assert between(bench_doc, report.TABLE_START, report.TABLE_END) == report.markdown_table(latest)
    assert between(bench_doc, report.SCALE_START, report.SCALE_END) == report.scale_table(latest)
    assert between(bench_doc, report.GPU_START, report.GPU_END) == report.gpu_table(latest)
    analysis = analysis_docs.DOC.read_text(encoding="utf-8")
    generated = between(analysis, analysis_docs.START, analysis_docs.END)
    assert generated == analysis_docs.render().strip("\n")
    assert re.search(r"^### Runs$", generated, re.M)
    from bench.speed import clothing_report

    scale_doc = clothing_report.DOC.read_text(encoding="utf-8")
    rows = report.load_rows()
    clothing = [r for r in rows if r.get("bench") == "clothing_scale"]
    assert between(scale_doc, *clothing_report.MARKERS) == clothing_report.table(clothing)
