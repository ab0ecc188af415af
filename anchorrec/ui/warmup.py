"""Import what the other pages need in the background, once the first page is drawn.

The first page (Overview) reads only stored files: the dataset, each model's ``config.json``,
metrics, per-user metrics and training log. It never imports torch, which takes longer to
import than the whole page takes to draw. The other pages load models, so
:func:`start` imports torch and the model and analysis modules in a daemon thread after the
first run of the process: while the user reads the first page, the next one's imports happen.
Python's import lock makes a page that needs a module before the thread is done wait for that
one import rather than import it twice.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

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
_thread: threading.Thread | None = None
_log = logging.getLogger(__name__)


def start() -> threading.Thread:
    """Start the background imports once per process (later calls return the same thread)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, name="anchorrec-warmup", daemon=True)
            _thread.start()
        return _thread


def _import_all() -> None:
    time.sleep(DELAY_S)
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs the module imports it again and shows why
            _log.warning("background import of %s failed", name, exc_info=True)
            return
