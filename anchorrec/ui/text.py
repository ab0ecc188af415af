"""Catalogue text (titles, descriptions, user attributes, messages quoting them) drawn as text.

Streamlit renders ``st.markdown``, ``st.caption``, ``st.write`` and the message boxes as
Markdown: an item description holding ``![x](http://host/x.png)`` would make every browser that
opens the page fetch that address, and ``[click](...)``, ``:red[...]`` or ``$...$`` would
change what the page shows. :func:`plain` escapes every Markdown character of a text so it is
shown exactly as written; pages wrap every value that comes from the user's files in it.
"""

from __future__ import annotations

import re
import string

#: Characters that start Markdown anywhere in a line: emphasis, code, links and images, raw
#: HTML and autolinks, strikethrough, tables, LaTeX (backslash-escaping them is CommonMark's way
#: of saying "this character as itself").
_INLINE = re.compile(r"([\\`*_\[\]<>!$~|])")
#: What GitHub-flavoured Markdown (which Streamlit renders) turns into a link without any
#: brackets: ``http://host``, ``www.host`` and ``name@host``. Streamlit finds them in the text
#: *after* backslash escapes are undone, so escaping cannot stop them; an invisible U+2060
#: WORD JOINER before the ``://``, the ``.`` of ``www.`` and the ``@`` does (the text reads
#: the same).
_AUTOLINK = re.compile(r"(?i)(?=://)|(?<=\bwww)(?=\.)|(?<=\w)(?=@\w)")
WORD_JOINER = "\u2060"
#: What makes a line a heading, a list item, a quote or a setext underline at its start.
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def plain(value: object, limit: int | None = None, *, inline: bool = False) -> str:
    """``value`` as Markdown that renders as exactly its text (nothing is a link or an image).

    Line breaks are kept as line breaks; ``limit`` shortens long text (with an ellipsis).
    ``inline``: the text follows other text on its first line, so only its later lines can
    start a heading or a list (``-3`` mid-sentence stays ``-3``).
    """
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _AUTOLINK.sub(WORD_JOINER, _INLINE.sub(r"\\\1", line))
        m = None if inline and not lines else _LINE_START.match(line)
        if m:
            if m.group(2)[0].isdigit():  # "1." or "1)" starts an ordered list: escape the mark
                end = m.end(2)
                line = line[:end] + "\\" + line[end:]
            else:
                line = line[: m.start(2)] + "\\" + line[m.start(2) :]
        lines.append(line)
    return "  \n".join(lines)


class _Escaping(string.Formatter):
    """A formatter whose every substituted value is escaped with :func:`plain`."""

    def format_field(self, value: object, format_spec: str) -> str:
        return plain(super().format_field(value, format_spec), inline=True)

    def convert_field(self, value: object, conversion: str | None) -> object:
        return super().convert_field(value, conversion)


_ESCAPING = _Escaping()


def md(template: str, /, *args: object, **kwargs: object) -> str:
    """``template.format(*args, **kwargs)`` where ``template`` is our own Markdown and every
    value is shown as its text (:func:`plain`): the one rule for a value from a URL, an upload
    or a data file that reaches Markdown. ``md("The link's {}={!r} …", key, value)``. A value
    is taken to follow text on its line: a template never starts a line with one."""
    return _ESCAPING.format(template, *args, **kwargs)


def _fence(text: str, mark: str, least: int) -> str:
    longest = max((len(run) for run in re.findall(f"{re.escape(mark)}+", text)), default=0)
    return mark * max(least, longest + 1)


def code(value: object) -> str:
    """``value`` as an inline code span that it cannot close (a command with a path in it)."""
    text = " ".join(str(value).splitlines())
    fence = _fence(text, "`", 1)
    return f"{fence} {text} {fence}"


def code_block(value: object) -> str:
    """``value`` (a log tail) as a fenced code block that it cannot close."""
    text = str(value)
    fence = _fence(text, "`", 3)
    return f"{fence}\n{text}\n{fence}"
