"""Download buttons whose file never vanishes.

A ``st.download_button`` given a callable registers a *deferred* file: Streamlit runs the
callable on the click, and forgets it when the page reruns. A click made while a rerun is
under way (a second or two after the page was drawn, or right after another download, which
reruns the page) then asks for a file the server no longer has: the browser gets nothing and
the server logs "Deferred file … not found". Bytes given directly are stored under their
content's hash, so the same bytes on the next run keep the same address and a click during
the rerun still finds them. :func:`kept_bytes` builds such bytes once per session (they are
kept in session state, so a rerun does not rebuild them) and the page passes them eagerly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import streamlit as st

_STORE = "_anchorrec_downloads"
#: The most files a session keeps (the oldest is dropped first).
MAX_KEPT = 24


def kept_bytes(depends_on: object, build: Callable[[], bytes]) -> bytes:
    """The bytes ``build()`` returns, built on this session's first request and kept in its
    state; ``depends_on`` holds everything they depend on (its ``repr`` is the key)."""
    key = hashlib.sha256(repr(depends_on).encode()).hexdigest()
    store: dict[str, bytes] = st.session_state.setdefault(_STORE, {})
    if key not in store:
        store[key] = build()
        while len(store) > MAX_KEPT:
            store.pop(next(iter(store)))
    return store[key]
