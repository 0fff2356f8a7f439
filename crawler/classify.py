"""Tell article pages from listing pages cheaply, from URL, head metadata and page shape."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

ARTICLE = "article"
LISTING = "listing"
UNKNOWN = "unknown"

_WINDOW = 512 * 1024
"""Only this many characters of the HTML are looked at: head plus the top of the body."""
_MAX_JSONLD = 256 * 1024

ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
     "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "LiveBlogPosting",
     "Report", "SatiricalArticle", "AskPublicNewsArticle"}
)  # fmt: skip
LISTING_TYPES = frozenset({"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage"})

# Tags are located by their name only and their attributes read from a bounded slice, so
# unclosed tags cannot make the scan quadratic.
_TAG_SLICE = 1024
_META_OPEN = re.compile(r"<meta\b", re.IGNORECASE)
_OG_TYPE_ATTR = re.compile(r"\bproperty\s*=\s*[\"']?og:type\b", re.IGNORECASE)
_CONTENT_ATTR = re.compile(r"\bcontent\s*=\s*[\"']?\s*([\w.-]*)", re.IGNORECASE)
_LINK_OPEN = re.compile(r"<a\s", re.IGNORECASE)
_JSONLD_OPEN = re.compile(r"<script\b[^>]{0,256}?application/ld\+json[^>]{0,256}>", re.IGNORECASE)
_SCRIPT_CLOSE = re.compile(r"</script\s*>", re.IGNORECASE)
_ARTICLE_TAG = re.compile(r"<article\b", re.IGNORECASE)
_P_OPEN = re.compile(r"<p\b[^>]{0,2048}>", re.IGNORECASE)
_P_CLOSE = re.compile(r"</p\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")

_LISTING_PATH = re.compile(
    r"/(?:tag|tags|category|author)/"  # WordPress taxonomy bases, also nested categories
    # German section words also prefix article URLs (/rubrik/lokales/slug-123.html), so only
    # /rubrik/<name>/ itself counts.
    r"|/(?:schlagwort|schlagworte|kategorie|rubrik|autor|thema|themen)/[^/.]+/?$"
    r"|/(?:page|seite)/\d+/?$"
    r"|/seite-\d+(?:\.html?)?/?$"
    r"|^/\d{4}/(?:\d{2}/){0,2}$",  # WordPress date archives: /2024/, /2024/05/, /2024/05/12/
    re.IGNORECASE,
)
_LISTING_QUERY = re.compile(r"(?:^|&)(?:page|seite|paged|s|tag|cat)=", re.IGNORECASE)
_WP_PERMALINK = re.compile(r"/\d{4}/\d{2}/(?:\d{2}/)?[^/]*[a-z][^/]*/?$", re.IGNORECASE)

# Real articles carry a few "related" teasers and a menu; a listing carries many of both.
_STRONG_TEASERS = 8
_WEAK_TEASERS = 3
_STRONG_LINKS, _STRONG_CHARS_PER_LINK = 40, 25
_WEAK_LINKS, _WEAK_CHARS_PER_LINK = 20, 60


def page_kind(url: str, html: str, article_url: bool | None) -> str:
    """Classify a page as "article", "listing" or "unknown"; the first decisive signal wins.

    1. The site's URL pattern (``article_url``), when the site has one: True → "article".
       False never gives "article": "listing" when any signal below says listing, else
       "unknown". A pattern is configuration written for this site; heuristics are generic.
    2. JSON-LD top-level ``@type`` (also in ``@graph`` and lists; nested items are ignored,
       since a section page's ItemList holds NewsArticles): one or two article objects →
       "article"; CollectionPage/ItemList/… or three or more article objects → "listing".
       WebPage alone decides nothing (Yoast emits it on every page).
    3. URL shape: ``/tag/``, ``/category/``, ``/author/``, ``/page/N``, date archives,
       ``?page=`` → "listing"; a WordPress date permalink with a slug → "article".
    4. ``og:type`` "article" → "article".
    5. Page shape in the first 512 KB: many ``<article>`` teasers, or many links with little
       paragraph text → "listing"; with ``og:type`` "website" weaker evidence suffices.

    Only regexes over a bounded prefix and small JSON-LD blocks: the article text is
    never parsed.
    """
    if article_url is True:
        return ARTICLE
    window = html[:_WINDOW]
    # Lazily, in precedence order: the page-shape scan costs ~2 ms and is rarely needed.
    signals: tuple[Callable[[], str | None], ...] = (
        lambda: _jsonld_kind(window),
        lambda: _url_kind(url),
        lambda: _og_kind(window),
        lambda: _shape_kind(window),
    )
    kinds = (signal() for signal in signals)
    if article_url is False:
        return LISTING if LISTING in kinds else UNKNOWN
    return next((kind for kind in kinds if kind is not None), UNKNOWN)


def _attributes(window: str, start: int) -> str:
    """The attribute text of the tag opened just before ``start`` (up to ``>`` or ``<``)."""
    return re.split(r"[<>]", window[start : start + _TAG_SLICE], maxsplit=1)[0]


def _og_type(window: str) -> str | None:
    for meta in _META_OPEN.finditer(window):
        tag = _attributes(window, meta.end())
        if _OG_TYPE_ATTR.search(tag):
            content = _CONTENT_ATTR.search(tag)
            return content[1].lower() if content else None
    return None


def _og_kind(window: str) -> str | None:
    return ARTICLE if _og_type(window) == "article" else None


def _link_count(window: str) -> int:
    return sum("href" in _attributes(window, a.end()).lower() for a in _LINK_OPEN.finditer(window))


def _url_kind(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if _LISTING_PATH.search(parts.path) or _LISTING_QUERY.search(parts.query):
        return LISTING
    if _WP_PERMALINK.search(parts.path):
        return ARTICLE
    return None


def _shape_kind(window: str) -> str | None:
    website = _og_type(window) == "website"
    teasers = len(_ARTICLE_TAG.findall(window))
    links = _link_count(window)
    chars = _paragraph_chars(window)
    if teasers >= _STRONG_TEASERS or (
        links >= _STRONG_LINKS and chars < links * _STRONG_CHARS_PER_LINK
    ):
        return LISTING
    if website and (
        teasers >= _WEAK_TEASERS or (links >= _WEAK_LINKS and chars < links * _WEAK_CHARS_PER_LINK)
    ):
        return LISTING
    return None


def _paragraph_chars(window: str) -> int:
    """Characters of text inside <p> elements; tags are stripped only to measure length."""
    # Splitting at <p> keeps this linear: each piece is scanned once, up to its </p>.
    total = 0
    for piece in _P_OPEN.split(window)[1:]:
        end = _P_CLOSE.search(piece)
        total += len(_TAG.sub("", piece[: end.start()] if end else piece).strip())
    return total


def _jsonld_blocks(window: str) -> Iterator[str]:
    pos = 0
    while opening := _JSONLD_OPEN.search(window, pos):
        closing = _SCRIPT_CLOSE.search(window, opening.end())
        if closing is None:
            return  # no later block can be closed either
        yield window[opening.end() : closing.start()]
        pos = closing.end()


def _jsonld_kind(window: str) -> str | None:
    articles = 0
    listing = False
    for node in _jsonld_nodes(window):
        types = node.get("@type")
        listed = types if isinstance(types, list) else [types]
        # "NewsArticle", "http://schema.org/NewsArticle" and "schema:NewsArticle" are one type.
        names = {re.split(r"[/:]", t)[-1] for t in listed if isinstance(t, str)}
        if names & ARTICLE_TYPES:
            articles += 1
        if names & LISTING_TYPES:
            listing = True
    if listing or articles > 2:
        return LISTING
    return ARTICLE if articles else None


def _jsonld_nodes(window: str) -> Iterator[dict[str, object]]:
    """Top-level JSON-LD objects: each script's object, list items and ``@graph`` members."""
    for block in _jsonld_blocks(window):
        if len(block) > _MAX_JSONLD:
            continue
        text = block.strip().removeprefix("<!--").removesuffix("-->")
        text = text.replace("//<![CDATA[", "").replace("//]]>", "").strip()
        try:
            data = json.loads(text, strict=False)  # CMSs leave raw newlines in strings
        except (ValueError, RecursionError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            graph = item.get("@graph")
            if isinstance(graph, list):
                yield from (g for g in graph if isinstance(g, dict))
            if "@type" in item:
                yield item
