"""Import what the pages need in the background: the first page's before anyone asks for it,
the other pages' once the first page is drawn.

``streamlit run app.py`` imports ``app.py`` once as the server starts (``st.App`` mode: the
script assigns ``app = st.App(…)``), which calls :func:`start_first_page`. In a thread, while
Streamlit's runtime starts and the browser loads Streamlit's own frontend (about a second),
the server imports the first page's libraries and opens the default dataset, so the first
page's run does not wait for them.

The first page (Overview) reads only stored files: the dataset, each model's ``config.json``,
metrics, per-user metrics and training log. It never imports torch, which takes longer to
import than the whole page takes to draw. The other pages load models, so
:func:`start` imports torch and the model and analysis modules in a daemon thread after the
first run of the process: while the user reads the first page, the next one's imports happen.
Python's import lock makes a page that needs a module before the thread is done wait for that
one import rather than import it twice.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

#: What the first page (Overview) imports, the libraries first (most of the time).
FIRST_PAGE_MODULES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "pyarrow",
    "scipy.sparse",
    "PIL.Image",
    "PIL.PngImagePlugin",  # the page icon; PIL opens it with the other common formats
    "PIL.JpegImagePlugin",
    "PIL.GifImagePlugin",
    "PIL.BmpImagePlugin",
    "PIL.PpmImagePlugin",
    "plotly.graph_objects",
    "streamlit.dataframe_util",
    "anchorrec.evaluation.significance",
    "anchorrec.analysis.accuracy_game",
    "anchorrec.models.cold_start_store",
    "anchorrec.models.seed_spread",
    "anchorrec.data.mmrec",
    "anchorrec.data.items",
    "anchorrec.evaluation.segments",
    "anchorrec.evaluation.stored",
    "anchorrec.models.model_info",
    "anchorrec.models.names",
    "anchorrec.ui.state",
    "anchorrec.ui.accuracy_views",
    "anchorrec.ui.cold_start_views",
    "anchorrec.ui.games",
    "anchorrec.ui.overview_views",
    "anchorrec.ui.segment_views",
    "anchorrec.ui.cached",
    "anchorrec.ui.charts",
    "anchorrec.ui.finder",
    "anchorrec.ui.images",
    "anchorrec.ui.line_svg",
    "anchorrec.ui.prepared",
    "anchorrec.ui.preload",
    "anchorrec.ui.show",
    "anchorrec.ui.tables",
)

#: Imported in this order: torch first (most of the time), then what the pages load with it.
MODULES: tuple[str, ...] = (
    "torch",
    "anchorrec.models.checkpoint",
    "anchorrec.evaluation.metrics",
    "anchorrec.analysis.attribution",
    "anchorrec.analysis.spaces",
    "anchorrec.analysis.projection",
    "plotly.express",
)

#: Seconds the thread waits before its first import: the browser draws the first page
#: meanwhile (on two cores, importing torch at once competes with that drawing).
DELAY_S = 1.5

_lock = threading.Lock()
#: The threads started in this process, by name (each is started once).
_threads: dict[str, threading.Thread] = {}
_runtime_started = threading.Event()
_log = logging.getLogger(__name__)
_THREAD_NAME = "anchorrec-first-page"


def _start_once(name: str, target: Callable[[], None]) -> threading.Thread:
    with _lock:
        if name not in _threads:
            _threads[name] = threading.Thread(target=target, name=name, daemon=True)
            _threads[name].start()
        return _threads[name]


def start() -> threading.Thread:
    """Start the background imports once per process (later calls return the same thread)."""
    return _start_once("anchorrec-warmup", _import_all)


def _import_all() -> None:
    time.sleep(DELAY_S)
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs the module imports it again and shows why
            _log.warning("background import of %s failed", name, exc_info=True)
            return


#: Streamlit's logger of "missing ScriptRunContext!": the dataset cache's spinner, which has no
#: session to show in when this thread fills the cache, logs it once.
_NO_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"


class _NotThisThread(logging.Filter):
    """Drops the records of :func:`prepare_first_page`'s thread (only the one above's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != _THREAD_NAME


@contextlib.asynccontextmanager
async def server_lifespan(app: Any) -> AsyncIterator[None]:
    """``st.App``'s start-up hook: Streamlit's runtime has started when it runs, so
    :func:`prepare_first_page` may now fill the app's caches."""
    _runtime_started.set()
    yield


def start_first_page() -> threading.Thread:
    """Start :func:`prepare_first_page` once per process (later calls return the same thread)."""
    return _start_once(_THREAD_NAME, prepare_first_page)


def prepare_first_page(runtime_timeout_s: float = 60.0) -> None:
    """Do what the first run of the Overview would otherwise wait for:

    - import :data:`FIRST_PAGE_MODULES` (about a second on an idle 2-core machine);
    - call :func:`inspect.stack` once: Streamlit's first element of a process calls it, and its
      first call maps every loaded module to its file (0.2–0.3 s of the first page's run);
    - once the server's runtime has started (:func:`server_lifespan`), open the default dataset
      (the sidebar's first choice) into the app's dataset cache.

    A failure is logged and left to the page, which does the same work and shows why.
    """
    logging.getLogger(_NO_CONTEXT_LOGGER).addFilter(_NotThisThread())
    try:
        for name in FIRST_PAGE_MODULES:
            importlib.import_module(name)
        inspect.stack()
        if not _runtime_started.wait(runtime_timeout_s):
            return
        from anchorrec import workspace
        from anchorrec.ui import cached

        known = workspace.registered_datasets()
        if known:
            cached.load_dataset(known[0])
    except Exception:
        _log.warning("preparing the first page failed", exc_info=True)
