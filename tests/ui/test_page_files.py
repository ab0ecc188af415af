"""The page files stay short functions that read state, call the library and draw."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[2] / "pages").glob("*.py"))
MAX_FILE_LINES = 150
MAX_FUNCTION_LINES = 120


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_is_a_short_render_function(page):
    text = page.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_FILE_LINES
    tree = ast.parse(text)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert "render" in {f.name for f in functions}
    for f in functions:
        assert f.end_lineno - f.lineno + 1 <= MAX_FUNCTION_LINES, f.name
    # the module body only defines things and calls render() once, last
    last = tree.body[-1]
    assert isinstance(last, ast.Expr) and ast.unparse(last) == "render()"
    for node in tree.body[1:-1]:  # after the docstring
        assert not isinstance(node, ast.Expr | ast.For | ast.If | ast.With), ast.unparse(node)[:80]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_reads_no_internals_and_picks_no_column_by_prefix(page):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"\.indptr|\.indices\[", text)  # Dataset methods, not CSR internals
    assert not re.search(r"[\"'](phi|share|branch|branch_share|rank_without)_", text)
    assert not re.search(r"session_state\[[\"']_", text)  # mailboxes are ui/state functions
