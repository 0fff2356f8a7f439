"""Parse decoded HTML once into an lxml tree, refusing to lose content silently."""

from __future__ import annotations

from lxml import etree, html


class TooDeepError(ValueError):
    """The document nests deeper than libxml2 can represent; content would be dropped."""


class EmptyDocumentError(ValueError):
    """The text holds no HTML document at all."""


def parse_html(text: str) -> html.HtmlElement:
    """Parse HTML text with huge_tree on; raise if libxml2 dropped anything for depth.

    libxml2 truncates silently below depth 256 (2048 with huge_tree) and only leaves a
    note in the parser's error log (reliability P6), so the log is checked on every parse.
    """
    # A fresh parser per document keeps its error log to this document.
    parser = html.HTMLParser(
        huge_tree=True,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        default_doctype=False,
    )
    try:
        tree = html.document_fromstring(text.encode("utf-8", errors="replace"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise EmptyDocumentError(str(exc)) from exc
    for entry in parser.error_log:
        if "Excessive depth" in entry.message:
            raise TooDeepError(entry.message.strip())
    return tree
