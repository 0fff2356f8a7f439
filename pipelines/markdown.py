"""Render the article body as Markdown: subheadings as ``#``, lists and tables kept whole."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree

_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,3}[.)])\s")


def heading_levels(body: etree._Element | None) -> dict[str, int]:
    """Subheading text (whitespace-normalised) to its level, from trafilatura's ``<head>``s.

    trafilatura renders ``<head rend="h2">`` as a plain line in its text; the level is
    only in the tree. A heading without a readable level counts as level 2.
    """
    levels: dict[str, int] = {}
    if body is None:
        return levels
    for head in body.iter("head"):
        text = " ".join("".join(head.itertext()).split())
        rend = str(head.get("rend") or "")
        level = int(rend[1]) if len(rend) == 2 and rend[0] == "h" and rend[1] in "123456" else 2
        if text:
            levels.setdefault(text, level)
    return levels


def render_markdown(lines: Sequence[str], headings: dict[str, int]) -> str:
    """The body lines as Markdown; ``lines`` are the final text's paragraphs, in order."""
    parts: list[str] = []
    previous = ""
    for line in lines:
        rendered = f"{'#' * headings[line]} {line}" if line in headings else line
        if parts:
            # a blank line would split one table or one list into many
            together = (_is_row(previous) and _is_row(line)) or (
                _LIST_ITEM.match(previous) is not None and _LIST_ITEM.match(line) is not None
            )
            parts.append("\n" if together else "\n\n")
        parts.append(rendered)
        previous = line
    return "".join(parts)


def _is_row(line: str) -> bool:
    return line.startswith("|") and line.endswith("|")
