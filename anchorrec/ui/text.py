"""Catalogue text (titles, descriptions, user attributes, messages quoting them) drawn as text.

Streamlit renders ``st.markdown``, ``st.caption``, ``st.write`` and the message boxes as
Markdown: an item description holding ``![x](http://host/x.png)`` would make every browser that
opens the page fetch that address, and ``[click](...)``, ``:red[...]`` or ``$...$`` would
change what the page shows. :func:`plain` escapes every Markdown character of a text so it is
shown exactly as written; pages wrap every value that comes from the user's files in it.
"""

from __future__ import annotations

import re

#: Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the
#: ones that Markdown, GitHub-flavoured Markdown or Streamlit (colours, icons, LaTeX) read.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&^\"'])")


def plain(value: object, limit: int | None = None) -> str:
    """``value`` as Markdown that renders as exactly its text (nothing is a link or an image).

    Line breaks are kept as line breaks; ``limit`` shortens long text (with an ellipsis).
    """
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    escaped = _SPECIAL.sub(r"\\\1", text)
    return "  \n".join(line.strip("\r") for line in escaped.split("\n"))
