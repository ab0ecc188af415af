"""Screenshots of every dashboard page for the docs (docs/screenshots/<page>.png).

Starts ``streamlit run app.py`` on a free port with a private workspace, opens each page in
headless chromium on the bundled sample (or ``--dataset``), waits for the run to finish and
saves a palette-compressed PNG. On *Embedding spaces* a point is clicked first so the shared
selection and the inspector show.

    python -m bench.rebuild.screenshots [--dataset DIR] [--out docs/screenshots]
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

from tests.app.browser_support import (  # noqa: E402
    browser_page,
    panel_point,
    running_app,
    wait_idle,
)

#: url path → (file name, page heading)
PAGES = {
    "": ("overview", "AnchorRec Studio"),
    "spaces": ("spaces", "Embedding spaces"),
    "recommendations": ("recommendations", "Recommendations"),
    "audit": ("audit", "Audit"),
    "train": ("train", "Train"),
    "data": ("data", "Data"),
    "collapse": ("collapse", "Positional collapse"),
}


def compress(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> int:
    from anchorrec.workspace import SAMPLE_DATASET_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(SAMPLE_DATASET_DIR))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--user", default="1")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="anchorrec-shots-")
    query = f"dataset={quote(str(Path(args.dataset).resolve()))}&user={args.user}"
    env = {"ANCHORREC_HOME": home, "HF_HUB_OFFLINE": "1"}
    with running_app(env, log=Path(home) / "app.log") as base, browser_page(1440, 1700) as page:
        for url_path, (name, heading) in PAGES.items():
            page.goto(f"{base}/{url_path}?{query}")
            main_block = page.get_by_test_id("stMainBlockContainer")
            main_block.get_by_role("heading", name=heading).first.wait_for(timeout=600_000)
            wait_idle(page, timeout=600_000)
            if name == "spaces":
                x, y, _ = panel_point(page, 5)
                page.mouse.click(x, y)
                page.wait_for_timeout(1500)
                wait_idle(page, timeout=120_000)
                page.locator("canvas.lp-top").first.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)  # charts finish drawing
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            compress(path)
            print(f"{path} {path.stat().st_size // 1024} KiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
