"""The server prepares the first page as it starts (``app.py`` served as an ``st.App``).

``anchorrec.ui.warmup.prepare_first_page`` imports what the Overview imports and opens the default
dataset while the browser loads Streamlit's frontend. These tests check that it leaves the page
no library to import, fills the cache the page reads, waits for Streamlit's runtime before it
does, and that ``streamlit run app.py`` finds the app. Each runs in a fresh interpreter: what a
process has imported is the thing measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Libraries (and our package) whose first import the first page must not wait for.
PREPARED_ROOTS = {"numpy", "pandas", "pyarrow", "scipy", "PIL", "plotly", "anchorrec"}


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANCHORREC_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    out = _python(code + "\nimport sys; print('\\n'.join(sys.modules))", tmp_path).stdout
    return set(out.split())


def test_the_preparation_leaves_the_first_page_no_library_to_import(tmp_path):
    from anchorrec.ui.warmup import FIRST_PAGE_MODULES

    prepared = _modules_after(
        "import streamlit.testing.v1\n"
        "from anchorrec.ui import warmup\n"
        "warmup._runtime_started.set()\n"
        "warmup.prepare_first_page()",
        tmp_path,
    )
    page = _modules_after(
        "from anchorrec.ui import warmup\n"
        "warmup.start = lambda: None\n"  # the other pages' imports, after the first page
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=240).run()\n"
        "assert not at.exception, [e.value for e in at.exception]\n"
        "assert [t.value for t in at.title] == ['AnchorRec Studio']",
        tmp_path,
    )
    assert "torch" not in prepared  # the first page never needs it (tests/architecture)
    assert set(FIRST_PAGE_MODULES) <= page, "the list names a module the first page never uses"
    left = sorted(m for m in page - prepared if m.split(".")[0] in PREPARED_ROOTS)
    assert not left, f"the first page still imports these itself: {left}"


DATASET_READS = (
    "from anchorrec import workspace\n"
    "from anchorrec.data import mmrec\n"
    "from anchorrec.ui import cached, warmup\n"
    "reads = []\n"
    "real = mmrec.load_mmrec\n"
    "mmrec.load_mmrec = lambda path: reads.append(path) or real(path)\n"
)


def test_the_preparation_opens_the_default_dataset_into_the_pages_cache(tmp_path):
    _python(
        DATASET_READS + "warmup._runtime_started.set()\n"
        "warmup.prepare_first_page()\n"
        "assert len(reads) == 1, reads\n"
        "ds = cached.load_dataset(workspace.registered_datasets()[0])\n"
        "assert ds.n_items > 0 and len(reads) == 1, 'the page read the dataset again'",
        tmp_path,
    )


def test_the_preparation_leaves_the_caches_alone_until_the_runtime_has_started(tmp_path):
    _python(
        DATASET_READS + "warmup.prepare_first_page(runtime_timeout_s=0.05)\n"
        "assert reads == [], 'the cache was filled before Streamlit ran'\n"
        "import sys\n"
        "assert 'pandas' in sys.modules  # the imports do not wait",
        tmp_path,
    )


def test_a_failed_preparation_is_logged_and_left_to_the_page(tmp_path):
    done = _python(
        "from anchorrec.ui import warmup\n"
        "warmup.FIRST_PAGE_MODULES = ('anchorrec.no_such_module',)\n"
        "warmup.prepare_first_page()\n"
        "print('returned')",
        tmp_path,
    )
    assert "returned" in done.stdout
    assert "preparing the first page failed" in done.stderr
    assert "anchorrec.no_such_module" in done.stderr


def test_streamlit_run_serves_app_py_as_an_app_that_starts_the_preparation(tmp_path):
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"
    _python(
        "import streamlit as st\n"
        "import app\n"  # what the server does once: the router is not run
        "assert isinstance(app.app, st.App)\n"
        "thread = app.warmup.start_first_page()\n"
        "assert thread.name == 'anchorrec-first-page'\n"
        "assert app.warmup._threads == {thread.name: thread}, 'the other pages wait for the first'",
        tmp_path,
    )
