"""The one private Streamlit attribute the app sets, and what it relies on.

``anchorrec.ui.state._leave_pages_directory_mode`` clears
``PagesManager.uses_pages_directory`` (no public API serves; its docstring says why). These
tests fail when Streamlit renames the attribute, stops deciding the mode by it, or stops
clearing it when ``st.navigation`` runs, so the workaround is revisited rather than silently
doing nothing. tests/app/test_browser_newcomer.py opens a deep link on a fresh server.
"""

from __future__ import annotations

import inspect


def test_pages_manager_still_has_the_pages_directory_flag():
    from streamlit.runtime.pages_manager import PagesManager

    assert "uses_pages_directory" in vars(PagesManager)


def test_the_script_runner_still_runs_the_legacy_mode_by_that_flag():
    from streamlit.runtime.scriptrunner import script_runner

    source = inspect.getsource(script_runner)
    assert "PagesManager.uses_pages_directory" in source


def test_st_navigation_still_clears_the_flag():
    from streamlit.commands import navigation

    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation)
