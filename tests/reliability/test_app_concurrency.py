"""Two app sessions (two browser contexts on one real server) browse while a third party
trains and swaps in new versions of a model: neither session ever shows an error or a
traceback. (That a reader never mixes two versions is pinned by test_concurrency.py.)"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.app.browser_support import CHROMIUM, CHROMIUM_ARGS, running_app, wait_idle
from tests.app.conftest import build_shop

VERSIONS = 5
#: pause between versions, so that page loads of both sessions interleave with the swaps
WRITE_INTERVAL_S = 0.7
PAGES = ("", "recommendations", "collapse")

pytestmark = pytest.mark.browser


def _problems(page) -> list[str]:
    found = page.locator('[data-testid="stException"]').all_inner_texts()
    found += [t for t in page.locator('[data-testid="stAlertContentError"]').all_inner_texts() if t]
    return found


def test_two_sessions_browse_while_new_versions_are_trained(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    from anchorrec.data.mmrec import load_mmrec
    from anchorrec.models.checkpoint import save_model
    from anchorrec.models.config import preset_config
    from anchorrec.training.trainer import train

    home = tmp_path / "home"
    shop = build_shop(tmp_path)
    ds = load_mmrec(shop)
    model_dir = shop / "models" / "lightgcn"
    failures: list[BaseException] = []
    versions_written: list[int] = []

    def trainer() -> None:
        try:
            cfg = preset_config("default", variant="lightgcn").replace(epochs=2, embedding_dim=16)
            for seed in range(1, VERSIONS + 1):
                result = train(ds, "lightgcn", cfg, seed=seed, device="cpu", progress=False)
                save_model(result.model, ds, model_dir, metrics=result.metrics, overwrite=True)
                versions_written.append(seed)
                time.sleep(WRITE_INTERVAL_S)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    query = urllib.parse.urlencode({"dataset": str(shop), "variant": "anchor,lightgcn"})
    env = {"ANCHORREC_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    seen: list[str] = []
    with running_app(env=env, log=tmp_path / "server.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            sessions = [browser.new_context().new_page() for _ in range(2)]
            for page in sessions:  # warm both sessions before the writer starts
                page.goto(f"{base}/?{query}")
                wait_idle(page)
            writer = threading.Thread(target=trainer, daemon=True)
            writer.start()
            rounds = 0
            while writer.is_alive() or rounds < 2:
                for i, page in enumerate(sessions):
                    path = PAGES[(rounds + i) % len(PAGES)]
                    page.goto(f"{base}/{path}?{query}")
                    wait_idle(page)
                    problems = _problems(page)
                    assert not problems, f"session {i} on /{path}: {problems[:2]}"
                    seen.append(path)
                rounds += 1
            writer.join(timeout=300)
        finally:
            browser.close()
    assert not failures, failures[0]
    assert versions_written == list(range(1, VERSIONS + 1))
    assert len(seen) >= 4
