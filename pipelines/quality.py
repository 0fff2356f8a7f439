"""Cheap checks on a decoded page that flag or refuse it: mojibake, truncation, nesting depth."""

from __future__ import annotations

import re

from lxml import etree, html

MOJIBAKE = "mojibake"
TRUNCATED = "truncated"

MAX_DEPTH = 400
"""Deepest element nesting cleaned; the 672 eval pages nest at most 51 deep (reliability P10)."""

# UTF-8 read as cp1252 or latin-1: a lead byte of a two-byte sequence (Ã, Â) shown as its
# character, followed by a continuation byte shown as one (U+0080–U+00BF), or the three-byte
# lead â€ of the typographic quotes and dashes. One stray hit is a name or an odd
# typo (the reliability catalogue's false positives); repeated hits are a broken source.
_CONTINUATION = "\u0080-\u00bf" + bytes(range(0x80, 0xA0)).decode("cp1252", "ignore")
_MOJIBAKE_RE = re.compile(f"[ÃÂ][{_CONTINUATION}]|â€")
_MOJIBAKE_MIN_HITS = 3
# The tail of a complete document: a closing </html> or </body>, or, for the many real
# pages that omit both, a closed tag or comment after the last text.
_TAIL_BYTES = 512
_CLOSED_END_RE = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)


def mojibake(text: str) -> bool:
    """True when the decoded text holds UTF-8 mis-decoded at the source ('StraÃŸe', 'â€ž')."""
    for hits, _match in enumerate(_MOJIBAKE_RE.finditer(text), start=1):
        if hits >= _MOJIBAKE_MIN_HITS:
            return True
    return False


def truncated(text: str) -> bool:
    """True when the document was cut: no ``</html>``/``</body>`` and it ends inside a tag
    or with text after the last tag, as a transfer cut short does.

    A document ending with ``>`` (a closed tag or comment) counts as complete: many real
    pages omit ``</body></html>`` but still end with a whole tag.
    """
    tail = text[-_TAIL_BYTES:].rstrip()
    if not tail or _CLOSED_END_RE.search(tail):
        return False
    if tail.endswith(">"):
        return False
    return "<" in text


def too_deep(tree: html.HtmlElement, limit: int = MAX_DEPTH) -> bool:
    """True when elements of ``tree`` nest more than ``limit`` deep.

    One pass of start/end events that stops at the first element past the limit.
    """
    depth = 0
    for event, _element in etree.iterwalk(tree, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > limit:
            return True
    return False
