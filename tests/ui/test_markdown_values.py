"""Every value from a URL, an upload or a data file reaches Markdown escaped.

Streamlit renders the text of ``st.markdown``, ``st.caption``, ``st.error`` / ``warning`` /
``info`` / ``success``, ``st.write``, and the labels of expanders, buttons, metrics and
downloads as Markdown. A deep link such as ``/?user=![p](http://host/x.png)`` or a model
folder named ``[sign in](http://evil)`` would otherwise make the browser fetch an image or
show a link. The rule: such a value goes through :func:`anchorrec.ui.text.plain` (a whole
message) or :func:`anchorrec.ui.text.md` (our Markdown template, every value escaped).

This test reads the source of ``anchorrec/ui`` and ``pages/`` and fails on a Markdown call
that interpolates, unescaped, a value whose name says it comes from outside (a name, a
label, a path, a title, an error, a log, a link's value).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Streamlit calls whose first argument (text or label) is rendered as Markdown.
MARKDOWN_CALLS = {
    "markdown", "caption", "error", "warning", "info", "success", "toast", "write",
    "subheader", "header", "title", "expander", "button", "download_button", "metric",
    "spinner", "popover", "link_button", "status",
}  # fmt: skip
#: Identifiers that hold outside text: file and folder names, model and dataset names,
#: catalogue titles, error messages, log tails, values of a link.
OUTSIDE = {
    "name", "names", "label", "path", "title", "error", "exc", "out_dir", "target", "bad",
    "unknown", "chosen", "description", "message", "reason", "log_tail", "value", "raw",
    "SAMPLE_DATASET_DIR",
}  # fmt: skip
#: Calls whose result is escaped Markdown.
ESCAPERS = {"plain", "md", "code", "code_block"}


def _escaper(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ESCAPERS
    )


def _outside(expr: ast.AST) -> str | None:
    """The outside identifier ``expr`` uses unescaped, if any."""
    if _escaper(expr):
        return None
    for sub in ast.walk(expr):
        if _escaper(sub):
            return None  # conservatively: an escaper inside (e.g. ", ".join(plain(c) ...))
        ident = sub.id if isinstance(sub, ast.Name) else getattr(sub, "attr", None)
        if ident in OUTSIDE:
            return ident
    return None


#: A comment that marks a call whose interpolated values are the app's own words (metric
#: names, table headings), not outside text.
OWN_TEXT = "# own text"


def unescaped_values(source: str) -> list[tuple[int, str, str]]:
    """``(line, call, identifier)`` of each Markdown call that interpolates outside text."""
    found = []
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in MARKDOWN_CALLS or not node.args:
            continue
        span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if any(OWN_TEXT in line for line in span):
            continue
        text = node.args[0]
        if _escaper(text):
            continue
        parts = [v.value for v in _formatted_values(text)]
        if not isinstance(text, ast.JoinedStr | ast.Constant):
            parts.append(text)  # a bare variable or expression
        for part in parts:
            ident = _outside(part)
            if ident is not None:
                found.append((node.lineno, node.func.attr, ident))
    return found


def _formatted_values(node: ast.AST) -> list[ast.FormattedValue]:
    """The f-string values in ``node``, not looking inside an escaper's arguments."""
    if _escaper(node):
        return []
    found = [node] if isinstance(node, ast.FormattedValue) else []
    for child in ast.iter_child_nodes(node):
        found.extend(_formatted_values(child))
    return found


def _sources() -> list[Path]:
    return sorted([*(ROOT / "anchorrec" / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py")])


def test_the_scanner_finds_an_unescaped_deep_link_value() -> None:
    bad = 'st.sidebar.error(f"The link\'s {key}={bad!r} is not a number")\n'
    good = 'st.sidebar.error(md("The link\'s {}={!r} is not a number", key, bad))\n'
    assert unescaped_values(bad) == [(1, "error", "bad")]
    assert unescaped_values(good) == []
    assert unescaped_values("st.caption(f'**{plain(e.label)}** {n:,}')") == []
    assert unescaped_values("st.warning(job.log_tail())") == [(1, "warning", "log_tail")]


def test_no_markdown_call_interpolates_outside_text_unescaped() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: st.{call}(...) shows {ident} unescaped"
        for path in _sources()
        for line, call, ident in unescaped_values(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "\n".join(problems)
