"""A large catalogue without ``prepare``'s files: the pages say so instead of computing.

The shop has 60 items; the limits below which a page still computes a missing result itself
(``anchorrec.ui.prepared.INLINE_MAX_ITEMS``) are lowered to 10 items, so the shop stands for
a catalogue above them. Its models are copied without any derived file (no layouts, no
diagnostics, no per-user metrics, no coalition cache).
"""

from __future__ import annotations

import shutil
import time

import pytest

from anchorrec.models.model_dir import CONFIG_FILE, LOG_FILE, METRICS_FILE, WEIGHTS_FILE
from tests.app.conftest import APP

MODEL_FILES = {CONFIG_FILE, LOG_FILE, METRICS_FILE, WEIGHTS_FILE}
COMMAND = "python -m anchorrec prepare"


@pytest.fixture
def bare_shop(shop, tmp_path):
    """A copy of the shop whose models hold only what training wrote."""
    copy = tmp_path / "bare" / "shop"
    shutil.copytree(shop, copy)
    for model in (copy / "models").iterdir():
        for path in model.iterdir():
            if path.name not in MODEL_FILES:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    return copy


@pytest.fixture
def large(monkeypatch):
    from anchorrec.ui import prepared

    for kind in prepared.INLINE_MAX_ITEMS:
        monkeypatch.setitem(prepared.INLINE_MAX_ITEMS, kind, 10)


def _open(dataset, page: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"dataset": str(dataset), "variant": "anchor,lightgcn"})
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _notices(at) -> list[str]:
    return [i.value for i in at.info if COMMAND in i.value]


def _prepare_buttons(at) -> list:
    return [b for b in at.button if b.label == "Prepare in the background"]


@pytest.mark.parametrize(
    ("page", "what"),
    [
        ("pages/recommendations.py", "coalition cache"),
        ("pages/audit.py", "coalition cache"),
        ("pages/collapse.py", "collapse diagnostics"),
        ("pages/spaces.py", "2-D layouts"),
    ],
)
def test_a_page_names_prepare_instead_of_computing(bare_shop, app_home, large, page, what):
    at = _open(bare_shop, page)
    (notice,) = [n for n in _notices(at) if what in n]
    assert str(bare_shop / "models" / "anchor") in notice  # the command names the model
    assert _prepare_buttons(at)
    assert not (bare_shop / "models" / "anchor" / "attribution").exists()  # nothing computed
    assert not (bare_shop / "models" / "anchor" / "projections").exists()


def test_the_overview_compares_nothing_it_would_have_to_rank(bare_shop, app_home, large):
    at = _open(bare_shop)
    (notice,) = [n for n in _notices(at) if "per-user test metrics" in n]
    assert "anchor" in notice and "lightgcn" in notice
    assert not (bare_shop / "models" / "anchor" / "per_user").exists()


def test_a_small_catalogue_is_still_computed_on_the_page(bare_shop, app_home):
    at = _open(bare_shop, "pages/recommendations.py")  # default limits: 60 items is small
    assert not _notices(at)
    assert at.markdown  # the top-K lists are drawn
    stored = list((bare_shop / "models" / "anchor" / "attribution").glob("*.npz"))
    assert stored  # and the coalition cache is kept for the next process


def test_a_running_job_shows_its_progress_on_every_page(bare_shop, app_home, large, monkeypatch):
    from anchorrec.training import prepare_jobs

    real = prepare_jobs.spawn
    launched = []

    def fake_spawn(command, log_path):  # a process that only writes its progress and waits
        launched.append(command)
        progress = command[command.index("--progress-file") + 1]
        record = '{"done": 4, "total": 8, "step": "anchor: layouts (pca)", "finished": false}'
        script = (
            f"import pathlib, time; pathlib.Path({progress!r}).write_text({record!r}); "
            "time.sleep(60)"
        )
        return real([prepare_jobs.sys.executable, "-c", script], log_path)

    monkeypatch.setattr(prepare_jobs, "spawn", fake_spawn)
    at = _open(bare_shop, "pages/recommendations.py")
    _prepare_buttons(at)[0].click().run()
    assert launched and launched[0][1:4] == ["-m", "anchorrec", "prepare"]
    (job,) = prepare_jobs.find_prepare_jobs()
    try:
        deadline = time.monotonic() + 30
        while job.progress()[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job.status() == "running" and job.progress() == (0.5, "anchor: layouts (pca)")
        other = _open(bare_shop, "pages/audit.py")  # another session, another page
        assert not _prepare_buttons(other)  # no second run offered while one runs
        texts = [p.proto.text for p in other.get("progress")]
        assert any("Preparing anchor" in t and "anchor: layouts" in t for t in texts), texts
    finally:
        import os
        import signal

        os.kill(job.pid, signal.SIGTERM)
