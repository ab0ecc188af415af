"""Dashboard speed: first render of each page and typical interactions, on the bundled sample.

Each page is rendered by Streamlit's AppTest in a fresh session (new widgets, new session
state) once every import and per-model cache of the process is warm — the situation of a user
opening a page of a running server. Interactions: a point selected on *Embedding spaces*,
another shopper and the branch-level switch on *Recommendations*. Medians of 3.

    python -m bench.speed.app_render [--dataset DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(ROOT))

from bench.common.benchlib import median_time, peak_rss_mb, record  # noqa: E402

PAGES = (
    "pages/overview.py",
    "pages/spaces.py",
    "pages/recommendations.py",
    "pages/collapse.py",
    "pages/audit.py",
    "pages/train.py",
    "pages/data.py",
)


def new_app(dataset: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params["dataset"] = dataset
    return at


def check(at, what: str) -> None:
    if at.exception:
        raise SystemExit(f"{what}: {at.exception[0].message}")
    errors = [e.value for e in at.error]
    if errors:
        raise SystemExit(f"{what}: st.error {errors[0]}")


def render_page(dataset: str, page: str) -> float:
    """Seconds to render ``page`` in a fresh session (the overview is the app's first page)."""
    at = new_app(dataset)
    if page == PAGES[0]:
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
    else:
        at.run()
        at.switch_page(page)
        t0 = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - t0
    check(at, page)
    return elapsed


def main() -> int:
    from anchorrec.workspace import SAMPLE_DATASET_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(SAMPLE_DATASET_DIR))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dataset = str(Path(args.dataset).resolve())
    os.environ.setdefault("ANCHORREC_HOME", tempfile.mkdtemp(prefix="anchorrec-bench-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    cold: dict[str, float] = {}
    for page in PAGES:  # warm-up: imports, models, coalition caches, diagnostics, audits
        t0 = time.perf_counter()
        render_page(dataset, page)
        cold[page] = round(time.perf_counter() - t0, 3)

    first_render = {}
    for page in PAGES:
        med, runs = median_time(lambda p=page: render_page(dataset, p), repeats=args.repeats)
        first_render[Path(page).stem] = {
            "median_s": round(med, 3),
            "runs_s": [round(r, 3) for r in runs],
        }

    # interactions, each on a session already showing the page
    at = new_app(dataset)
    at.run()
    at.switch_page("pages/spaces.py").run()
    check(at, "spaces")
    n_items = at.session_state["_anchorrec_state"].dataset.n_items
    picks = iter(range(1, 10_000))

    def select_point() -> None:
        item = next(picks) % n_items
        at.session_state["spaces_final"] = {
            "selection": {
                "points": [{"customdata": [item]}],
                "point_indices": [],
                "box": [],
                "lasso": [],
            }
        }
        at.run()
        assert f"Inspector — item {item}" in [s.value for s in at.subheader]

    sel_med, sel_runs = median_time(select_point, repeats=args.repeats)

    rec = new_app(dataset)
    rec.run()
    rec.switch_page("pages/recommendations.py").run()
    check(rec, "recommendations")
    users = iter(range(1, 10_000))

    def other_shopper() -> None:
        rec.session_state["sel_user"] = next(users)
        rec.run()

    user_med, user_runs = median_time(other_shopper, repeats=args.repeats)
    levels = iter(["branch", "input"] * 10)

    def switch_level() -> None:
        rec.radio(key="rec_level").set_value(next(levels)).run()

    level_med, level_runs = median_time(switch_level, repeats=args.repeats)

    state = rec.session_state["_anchorrec_state"]
    record(
        "app_render",
        {
            "dataset": state.dataset.name,
            "items": state.dataset.n_items,
            "users": state.dataset.n_users,
            "variants_shown": [e.name for e in state.selected],
            "first_render": first_render,
            "interaction": {
                "select_point_spaces_s": round(sel_med, 3),
                "other_shopper_recommendations_s": round(user_med, 3),
                "attribution_level_switch_s": round(level_med, 3),
                "runs_s": {
                    "select_point": [round(r, 3) for r in sel_runs],
                    "other_shopper": [round(r, 3) for r in user_runs],
                    "level_switch": [round(r, 3) for r in level_runs],
                },
            },
            "cold_first_visit_s": cold,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "method": "AppTest, fresh session per page after a warm-up visit of every page; medians of 3",
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
