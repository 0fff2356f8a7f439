"""Small pure normalisers for article metadata: language, word count, whitespace."""

from __future__ import annotations

import re

import py3langid
from lxml import html

_LANG_CODE = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]+)*$")
_WORD = re.compile(r"\w+")


def page_language(tree: html.HtmlElement, text: str) -> str | None:
    """ISO 639-1 code: the page's ``<html lang>`` when well-formed, else detected from text."""
    declared = str(tree.get("lang") or tree.get("xml:lang") or "").strip()
    if declared and _LANG_CODE.match(declared):
        return declared[:2].lower()
    if len(text) < 20:
        return None
    code, _ = py3langid.classify(text[:5000])
    return str(code)


def word_count(text: str) -> int:
    """Number of word tokens (Unicode ``\\w+``)."""
    return sum(1 for _ in _WORD.finditer(text))


def clean_str(value: str | None) -> str | None:
    """Whitespace-normalised string, or None when empty."""
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None
