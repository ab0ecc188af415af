"""The benchmark tables of docs/benchmarks.md, generated from ``bench/results/*.jsonl``.

Never typed by hand.

For every bench name (the ``bench`` field; any name) the latest row by date is shown with its
key figures, the machine, the date, the git revision and the load average when it was
recorded. Key figures are the row's own ``headline`` keys when it lists them; otherwise its
scalar results, timing and memory figures first (``seconds``, ``ms``, ``mb``, …), then
quality figures, then the rest, up to :data:`MAX_FIGURES`.

    python -m bench.rebuild.report                # print the markdown tables
    python -m bench.rebuild.report --update-docs  # rewrite them inside docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(ROOT))
RESULTS_DIR = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
TABLE_START = "<!-- BENCH-TABLE -->"
TABLE_END = "<!-- /BENCH-TABLE -->"
SCALE_START = "<!-- SCALE-TABLE -->"
SCALE_END = "<!-- /SCALE-TABLE -->"
GPU_START = "<!-- GPU-TABLE -->"
GPU_END = "<!-- /GPU-TABLE -->"
#: The released AnchorRec code's seconds per Baby epoch on one H100, as the issue states it (not
#: measured here: the released code is not part of this project). Speed-ups in the GPU table are
#: against it.
RELEASED_H100_EPOCH_SECONDS = 2.0
#: Bench names whose rows describe training at scale (bench/speed/scale_training.py).
SCALE_PREFIXES = ("scale_training_", "largest_dataset_")
PROVENANCE = {"bench", "date", "git", "machine", "headline"}
#: Keys that describe the run rather than measure it (shown only when nothing else is left).
CONTEXT_KEYS = re.compile(
    r"^(load_?avg.*|torch_threads|threads|seed|note|.*_note|.*_runs(_seconds)?)$"
)
TIMING = re.compile(
    r"(seconds|(^|_)(s|ms|mb|gb)($|_)|memory|per_sec|throughput|speed|time|latency)"
)
QUALITY = re.compile(r"(recall|ndcg|precision|hitrate|map@|coverage|loss|error|accuracy)")
MAX_FIGURES = 10
MAX_CHARS = 400


def load_rows(results_dir: Path = RESULTS_DIR) -> list[dict[str, Any]]:
    """Every parseable row of every ``*.jsonl`` file (a broken line is reported and skipped)."""
    rows = []
    for path in sorted(results_dir.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{n}: skipped, not JSON ({exc})", file=sys.stderr)
                continue
            if isinstance(row, dict):
                row.setdefault("bench", path.stem)
                rows.append(row)
    return rows


def latest_by_bench(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest row (by ``date``; file order breaks ties) of each bench name.

    ``driver_shares`` runs under the replaced identity-graph rule are comparisons, not the
    current figure, and are skipped.
    """
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = str(row["bench"])
        if row.get("removed_graph") == "identity":  # a comparison run of a replaced rule
            continue
        if name not in latest or str(row.get("date", "")) >= str(latest[name].get("date", "")):
            latest[name] = row
    return dict(sorted(latest.items()))


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0 or 0.01 <= abs(value) < 1e6:
            return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {_format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return str(value)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Scalar figures of a row; a dict of scalars is flattened one level (``valid.recall@20``)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in PROVENANCE:
            continue
        if isinstance(value, dict):
            if all(not isinstance(v, dict | list) for v in value.values()) and len(value) <= 8:
                for k, v in value.items():
                    out[f"{key}.{k}"] = v
            continue
        if isinstance(value, list):
            continue
        out[key] = value
    return out


def key_figures(row: dict[str, Any], limit: int = MAX_FIGURES) -> list[tuple[str, Any]]:
    """The figures shown for ``row``, most telling first."""
    headline = row.get("headline")
    if isinstance(headline, list) and headline:
        return [(k, row[k]) for k in headline if k in row][:limit]
    flat = _flat(row)

    def rank(item: tuple[str, Any]) -> int:
        key, value = item
        if CONTEXT_KEYS.match(key):
            return 4
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and TIMING.search(key.lower()):
            return 0
        if numeric and QUALITY.search(key.lower()):
            return 1
        return 2 if numeric else 3

    ordered = sorted(enumerate(flat.items()), key=lambda t: (rank(t[1]), t[0]))
    return [item for _, item in ordered if rank(item) < 4][:limit]


def _machine(m: Any) -> str:
    if not isinstance(m, dict):
        return str(m or "?")
    cpu = re.sub(r"\((R|TM)\)|CPU|Processor|@.*$", "", str(m.get("cpu", "?"))).strip()
    text = f"{' '.join(cpu.split())}, {m.get('cores', '?')} cores, {m.get('mem_gb', '?')} GB"
    if m.get("gpu"):
        text += f", {m['gpu']}"
    return text


def _load(row: dict[str, Any]) -> str:
    load = next(
        (row[k] for k in ("loadavg_before", "loadavg", "load_avg_1min", "load_avg") if k in row),
        None,
    )
    if isinstance(load, list) and load:
        return f"{load[0]:.1f}"
    if isinstance(load, int | float):
        return f"{load:.1f}"
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(latest: dict[str, dict[str, Any]]) -> str:
    """The markdown table of the latest row of each bench."""
    lines = [
        "| bench | key figures | machine | load | date (UTC) | git |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in latest.items():
        figures = "; ".join(f"{k} {_format_value(v)}" for k, v in key_figures(row))
        if len(figures) > MAX_CHARS:
            figures = figures[: MAX_CHARS - 1] + "…"
        date = str(row.get("date", "?")).replace("T", " ").removesuffix("Z")[:16]
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"`{name}`",
                    figures,
                    _machine(row.get("machine")),
                    _load(row),
                    date,
                    f"`{row.get('git', '?')}`",
                )
            )
            + " |"
        )
    if not latest:
        lines.append("| (no results yet) | | | | | |")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _step(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def scale_table(latest: dict[str, dict[str, Any]]) -> str:
    """One table row per training-at-scale run: size, step and epoch time, evaluation, memory."""
    lines = [
        "| run | model | users × items, interactions | where | step (triples) | epoch | first step, with the graph build | all-user evaluation | peak memory | load | date |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, row in latest.items():
        if not name.startswith(SCALE_PREFIXES) or "epoch_seconds" not in row:
            continue
        if name.startswith("scale_training_baby_"):  # Baby is not scale: the GPU table has it
            continue
        machine = row.get("machine") or {}
        threads = row.get("torch_threads")
        where = machine.get("gpu") or (
            f"{machine.get('cores', '?')} CPU cores"
            + (f", {threads} torch thread{'s' if threads != 1 else ''}" if threads else "")
        )
        if "eval_seconds" in row:
            evaluation = (
                f"{_duration(float(row['eval_seconds']))} ({row.get('eval_users', 0):,} users)"
            )
        else:
            evaluation = "not evaluated"
        memory = f"{float(row.get('peak_rss_mb', 0)) / 1024:.1f} GB RSS"
        if "peak_gpu_mb" in row:
            memory += f", {float(row['peak_gpu_mb']) / 1024:.1f} GB GPU"
        cells = (
            f"`{name}`",
            f"{row.get('variant')} ({row.get('preset')})",
            f"{row.get('users', 0):,} × {row.get('items', 0):,}, {row.get('interactions', 0):,}",
            where,
            f"{_step(float(row.get('step_seconds', 0)))} ({row.get('batch_size')})",
            f"≈ {_duration(float(row['epoch_seconds']))} ({row.get('epoch_mode', 'measured')})",
            _duration(float(row.get("first_step_seconds", 0))),
            evaluation,
            memory,
            _load(row) or "",
            str(row.get("date", ""))[:10],
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if len(lines) == 2:
        lines.append("| (no training-at-scale results yet) |" + " |" * 10)
    return "\n".join(lines)


def gpu_table(latest: dict[str, dict[str, Any]]) -> str:
    """The Baby-graph training rows measured on a GPU: graphed, eager and bfloat16 runs."""
    lines = [
        "| run | step | s / epoch | vs released (≈ 2 s) | all-user eval | peak GPU mem | GPU, torch | date, git |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    rows = [
        row
        for name, row in latest.items()
        if name.startswith("scale_training_baby_") and "cuda" in str(row.get("device", ""))
    ]
    order = {"default": 0, "paper": 1}
    rows.sort(
        key=lambda row: (
            row.get("variant") != "anchor",
            order.get(str(row.get("preset")), 2),
            bool(row.get("mixed_precision")),
            not row.get("cuda_graph", False),
        )
    )
    for row in rows:
        mode = ("CUDA graph" if row.get("cuda_graph") else "eager") + (
            ", bf16 autocast" if row.get("mixed_precision") else ""
        )
        epoch = float(row["epoch_seconds"])
        machine = row.get("machine") or {}
        cells = (
            f"`{row.get('variant')}` {row.get('preset')}, {mode}",
            f"{float(row.get('step_seconds', 0)) * 1000:.1f} ms",
            f"{epoch:.2f}",
            f"{RELEASED_H100_EPOCH_SECONDS / epoch:.1f}× faster"
            if row.get("variant") == "anchor"
            else "— (not AnchorRec)",
            f"{float(row['eval_seconds']):.2f} s" if "eval_seconds" in row else "—",
            f"{float(row.get('peak_gpu_mb', 0)) / 1024:.2f} GB",
            f"{machine.get('gpu', '?')}, {machine.get('torch', '?')}",
            f"{str(row.get('date', ''))[:10]}, `{row.get('git', '?')}`",
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if not rows:
        lines.append("| (no GPU results yet: run `bench/gpu.sh` on a CUDA machine) | | | | | | | |")
    return "\n".join(lines)


def _replace_between(text: str, start_marker: str, end_marker: str, body: str) -> str:
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise SystemExit(f"markers {start_marker} … {end_marker} not found")
    return text[: start + len(start_marker)] + "\n" + body + "\n" + text[end:]


def update_doc(
    table: str, doc: Path = DOC, scale: str | None = None, gpu: str | None = None
) -> None:
    """Replace the text between the BENCH-TABLE markers of ``doc`` with ``table`` (and
    between the SCALE-TABLE and GPU-TABLE markers with ``scale`` and ``gpu`` when given)."""
    from anchorrec.fileio import atomic_write_text

    text = _replace_between(doc.read_text(encoding="utf-8"), TABLE_START, TABLE_END, table)
    if scale is not None:
        text = _replace_between(text, SCALE_START, SCALE_END, scale)
    if gpu is not None and GPU_START in text:
        text = _replace_between(text, GPU_START, GPU_END, gpu)
    atomic_write_text(doc, text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--results", type=Path, default=RESULTS_DIR)
    p.add_argument(
        "--update-docs", action="store_true", help="rewrite the tables in docs/benchmarks.md"
    )
    args = p.parse_args(argv)
    latest = latest_by_bench(load_rows(args.results))
    table, scale, gpu = markdown_table(latest), scale_table(latest), gpu_table(latest)
    if args.update_docs:
        update_doc(table, scale=scale, gpu=gpu)
    print(table)
    print()
    print(scale)
    print()
    print(gpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
