"""Screenshot of the *Why this recommendation?* dialog for the docs (docs/screenshots/why-dialog.png).

Starts ``streamlit run app.py`` on the bundled sample with a private workspace, opens
*Recommendations* for one shopper in headless chromium, clicks *Why this recommendation?* and
saves the dialog: the default reading (share of the score), what ranks it, the branch of the
model, each labelled.

    python -m bench.rebuild.why_screenshot [--dataset DIR] [--user 1] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(ROOT))

from bench.rebuild.screenshots import compress  # noqa: E402
from tests.app.browser_support import browser_page, running_app, wait_idle  # noqa: E402


def main() -> int:
    from anchorrec.workspace import SAMPLE_DATASET_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(SAMPLE_DATASET_DIR))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--user", default="1")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="anchorrec-why-")
    query = f"dataset={quote(str(Path(args.dataset).resolve()))}&user={args.user}&variant=anchor"
    env = {"ANCHORREC_HOME": home, "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=Path(home) / "app.log") as base, browser_page(1440, 1300) as page:
        page.goto(f"{base}/recommendations?{query}")
        main_block = page.get_by_test_id("stMainBlockContainer")
        main_block.get_by_role("heading", name="Recommendations").first.wait_for(timeout=600_000)
        wait_idle(page, timeout=600_000)
        page.get_by_role("button", name="Why this recommendation?").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Why the readings differ").wait_for(timeout=300_000)
        wait_idle(page, timeout=300_000)
        page.wait_for_timeout(1500)  # images and tables finish drawing
        path = out / "why-dialog.png"
        page.screenshot(path=str(path))
        compress(path)
        print(f"{path} {path.stat().st_size // 1024} KiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
