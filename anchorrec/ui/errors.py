"""Errors a user can cause, shown as an ``st.error`` that says what to do — never a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from anchorrec.errors import AnchorRecError, printable
from anchorrec.fileio import describe_os_error
from anchorrec.ui.text import plain

#: Exceptions raised by input the user controls (files, paths, options, models).
USER_ERRORS: tuple[type[BaseException], ...] = (AnchorRecError, FileNotFoundError, PermissionError)


def show_error(exc: BaseException, context: str = "") -> None:
    """Draw ``exc`` as an error box; ``context`` says what was being done."""
    prefix = f"{context}: " if context else ""
    # Messages quote file names and values from the user's files: shown as text, not Markdown.
    if isinstance(exc, PermissionError):
        st.error(
            plain(f"{prefix}permission denied ({exc}). Choose a folder you can read and write.")
        )
    elif isinstance(exc, FileNotFoundError):
        st.error(plain(f"{prefix}{exc}. Check the path."))
    else:
        st.error(plain(f"{prefix}{exc}", limit=2000))


@contextlib.contextmanager
def user_errors(context: str = "", *, stop: bool = True) -> Iterator[None]:
    """Catch the errors a user can cause inside the block and show them with :func:`show_error`.

    With ``stop`` the page ends there (``st.stop()``); otherwise drawing continues after the
    block. Any other exception is a bug and propagates.
    """
    try:
        yield
    except USER_ERRORS as exc:
        show_error(exc, context)
        if stop:
            st.stop()
    except OSError as exc:  # a full disk (NumPy's short write too), a read-only folder
        message = describe_os_error(exc)
        if message is None:
            raise
        st.error(plain(printable(f"{context}: {message} Nothing was left half-written.")))
        if stop:
            st.stop()
