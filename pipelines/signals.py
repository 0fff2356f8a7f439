"""PageSignals: the parsed page plus its head meta tags and JSON-LD, read once for every reader."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from lxml import html

from pipelines.jsonld import JsonLdArticle, read_jsonld


@dataclass(frozen=True, slots=True)
class HeadMeta:
    """The ``<meta>`` tags and ``<title>`` of a page's head, in page order."""

    tags: tuple[tuple[str, str], ...] = ()
    """(key, content): key is the lowercased ``property``, ``name`` or ``itemprop``."""
    title: str | None = None
    """The ``<title>`` text, whitespace-normalised; None when absent or empty."""

    def first(self, keys: Collection[str]) -> str | None:
        """The first non-empty content among tags whose key is in ``keys``."""
        return next(self.values(keys), None)

    def values(self, keys: Collection[str]) -> Iterator[str]:
        """Non-empty contents of tags whose key is in ``keys``, in page order."""
        return (content for key, content in self.tags if key in keys and content)

    def matching(self, pattern: re.Pattern[str]) -> Iterator[str]:
        """Non-empty contents of tags whose whole key matches ``pattern``, in page order."""
        return (content for key, content in self.tags if content and pattern.fullmatch(key))


@dataclass(frozen=True, slots=True)
class PageSignals:
    """What the metadata readers (title, byline, dates, page type) look at, read once per page."""

    tree: html.HtmlElement
    """The page parsed once (``pipelines.htmltree.parse_html``); readers must not change it."""
    source: str
    """The decoded HTML text: substring pre-tests on it are far cheaper than XPath on the tree."""
    url: str
    """The URL that answered (after redirects)."""
    jsonld: JsonLdArticle | None
    meta: HeadMeta


def read_head_meta(tree: html.HtmlElement) -> HeadMeta:
    """The head's meta tags and title (the whole document when the parser found no head)."""
    head = tree.find("head")
    tags: list[tuple[str, str]] = []
    title: str | None = None
    for element in (head if head is not None else tree).iter("meta", "title"):
        if element.tag == "title":
            if title is None:
                title = " ".join(element.text_content().split()) or None
            continue
        key = element.get("property") or element.get("name") or element.get("itemprop")
        if key:
            tags.append((key.strip().lower(), (element.get("content") or "").strip()))
    return HeadMeta(tuple(tags), title)


def read_signals(tree: html.HtmlElement, source: str, url: str) -> PageSignals:
    """Read the head meta tags and the JSON-LD article of a parsed page."""
    return PageSignals(tree, source, url, read_jsonld(tree, source), read_head_meta(tree))
