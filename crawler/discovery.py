"""Find article URLs in sitemaps, feeds, robots.txt and archive pagination, without Scrapy."""

from __future__ import annotations

import html
import html.entities
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree

MAX_XML_BYTES = 50 * 1024 * 1024
"""Largest sitemap or feed accepted, after decompression (the sitemaps.org limit is 50 MB)."""

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1024 * 1024


class DiscoveryError(ValueError):
    """A sitemap or feed body that cannot be read: not XML, corrupt or oversized gzip, etc."""


@dataclass(frozen=True, slots=True)
class Link:
    """A candidate article URL found by discovery, with what the source said about it."""

    url: str
    """Absolute http(s) URL, resolved against the document's base."""
    published: str | None = None
    """ISO 8601 as the source gave it (lastmod, news:publication_date, Atom dates);
    RSS pubDate (RFC 822) converted to ISO 8601 with offset; None when absent or unreadable."""
    title: str | None = None
    """Headline from news:title or the feed entry; None when absent."""
    source: str = ""
    """Where the link came from: "sitemap", "news_sitemap" or "feed"."""


@dataclass(frozen=True, slots=True)
class Sitemap:
    """What one sitemap document yields: page links (urlset) and child sitemaps (index)."""

    links: list[Link] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def _safe_parser() -> etree.XMLParser:
    # P15/P16: never expand entities, never fetch a DTD or anything over the network.
    # recover=True keeps what precedes an error: a sitemap cut off mid-way still yields
    # its complete entries (see _Doc); a body with no element at all raises DiscoveryError.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )


def _gunzip(body: bytes) -> bytes:
    """Decompress all gzip members, refusing output above MAX_XML_BYTES or a truncated stream."""
    out = bytearray()
    data = body
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = data
        try:
            while chunk:
                # max_length bounds memory: a bomb is stopped after MAX_XML_BYTES + 1 MB.
                out += inflater.decompress(chunk, _CHUNK)
                if len(out) > MAX_XML_BYTES:
                    raise DiscoveryError(f"gzip body exceeds {MAX_XML_BYTES} bytes")
                chunk = inflater.unconsumed_tail
        except zlib.error as exc:
            raise DiscoveryError(f"corrupt gzip body: {exc}") from exc
        if not inflater.eof:
            raise DiscoveryError("truncated gzip body")
        data = inflater.unused_data.lstrip(b"\0")  # some servers pad between members
        if data and not data.startswith(_GZIP_MAGIC):
            raise DiscoveryError("trailing garbage after gzip body")
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Doc:
    root: etree._Element
    damaged: bool
    """The parser had to recover: the last entry may be cut mid-value, so callers drop it."""

    def complete(self, entries: list[etree._Element]) -> list[etree._Element]:
        return entries[:-1] if self.damaged else entries


# Undefined entities (``&auml;`` in old RSS) cost only themselves; see _text.
_HARMLESS_ERRORS = frozenset({"ERR_UNDECLARED_ENTITY", "WAR_UNDECLARED_ENTITY"})


def _parse(body: bytes, base_url: str) -> _Doc:
    if body.startswith(_GZIP_MAGIC):
        body = _gunzip(body)
    if len(body) > MAX_XML_BYTES:
        raise DiscoveryError(f"body exceeds {MAX_XML_BYTES} bytes")
    root, parser = _fromstring(body, base_url)
    if b"<!ENTITY" not in body and any(
        e.type_name == "ERR_UNDECLARED_ENTITY" for e in parser.error_log
    ):
        # Old RSS uses HTML entities without a DTD; libxml2's recovery then also drops later
        # &amp; and &lt;. Numeric references from Python's fixed table parse cleanly.
        root, parser = _fromstring(_HTML_ENTITY.sub(_numeric_ref, body), base_url)
    errors = [e for e in parser.error_log if e.type_name not in _HARMLESS_ERRORS]
    # libxml2 stops at its entity amplification limit (billion laughs) and keeps a torn
    # tree; hostile input gets no partial result.
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in errors):
        raise DiscoveryError("XML exceeds parser resource limits (entity amplification?)")
    if root is None:
        raise DiscoveryError("not XML: no root element")
    return _Doc(root, damaged=bool(errors))


def _fromstring(body: bytes, base_url: str) -> tuple[etree._Element | None, etree.XMLParser]:
    parser = _safe_parser()
    try:
        return etree.fromstring(body, parser, base_url=base_url or None), parser
    except (etree.LxmlError, ValueError, LookupError) as exc:
        raise DiscoveryError(f"not XML: {exc}") from exc


_HTML_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _numeric_ref(match: re.Match[bytes]) -> bytes:
    name = match[1].decode("ascii")
    if name in _XML_ENTITIES or f"{name};" not in html.entities.html5:
        return match[0]
    return "".join(f"&#{ord(c)};" for c in html.entities.html5[f"{name};"]).encode("ascii")


def _local(el: etree._Element) -> str:
    tag = el.tag
    # "{namespace}name" → "name"; not etree.QName, which raises on names that recovering
    # parsers let through ("<:" gives a root tagged ":").
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _child(el: etree._Element, name: str) -> etree._Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _text(el: etree._Element | None, *, strict: bool = False) -> str | None:
    """Text of an element with surrounding whitespace collapsed; None when empty.

    Entity references stay unexpanded nodes (resolve_entities=False). Never use XPath
    ``string()`` here: it expands them. With ``strict`` (URLs) any entity voids the value,
    so a billion-laughs or XXE reference cannot build a URL; otherwise HTML's own named
    entities (``&auml;`` in old RSS 0.91 feeds) come from Python's table, others are dropped.
    """
    if el is None:
        return None
    parts = [el.text or ""]
    for child in el:
        if isinstance(child, etree._Entity):
            if strict:
                return None
            parts.append(html.unescape(f"&{child.name};") if child.name in _HTML_NAMES else "")
        elif isinstance(child.tag, str):
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    text = " ".join("".join(parts).split())
    return text or None


_HTML_NAMES = frozenset(name.rstrip(";") for name in html.entities.html5)


def _url(raw: str | None, base: str) -> str | None:
    """Resolve a loc/href against its base; keep only absolute http(s) URLs with a host."""
    if raw is None:
        return None
    url = urljoin(base, raw.strip()) if base else raw.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def _base(el: etree._Element, fallback: str) -> str:
    # lxml combines xml:base attributes with the document URL (Atom relies on xml:base).
    return el.base or fallback


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    """Read a sitemap, sitemap index or Google News sitemap (plain or gzip) into links.

    ``news:publication_date`` is preferred over ``lastmod`` as ``published``; image, video
    and xhtml extensions are ignored. An RSS/Atom feed submitted as a sitemap yields its
    entries. Raises DiscoveryError when the body is not XML or gzip fails.
    """
    doc = _parse(body, base_url)
    root = doc.root
    kind = _local(root)
    if kind in ("rss", "feed", "RDF"):
        return Sitemap(links=_feed_links(doc, base_url))
    if kind == "sitemapindex":
        entries = doc.complete(_children(root, "sitemap"))
        found = (_url(_text(_child(s, "loc"), strict=True), _base(s, base_url)) for s in entries)
        return Sitemap(sitemaps=_unique(u for u in found if u))
    if kind != "urlset":
        raise DiscoveryError(f"not a sitemap: root element <{kind}>")
    links: list[Link] = []
    for entry in doc.complete(_children(root, "url")):
        url = _url(_text(_child(entry, "loc"), strict=True), _base(entry, base_url))
        if url is None:
            continue
        news = _child(entry, "news")
        if news is not None:
            published = _text(_child(news, "publication_date")) or _text(_child(entry, "lastmod"))
            links.append(Link(url, published, _text(_child(news, "title")), "news_sitemap"))
        else:
            links.append(Link(url, _text(_child(entry, "lastmod")), None, "sitemap"))
    return Sitemap(links=_dedupe(links))


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Read an RSS 2.0, RSS 1.0 (RDF) or Atom feed (plain or gzip) into links.

    Raises DiscoveryError when the body is not XML or not a feed.
    """
    doc = _parse(body, base_url)
    if _local(doc.root) not in ("rss", "feed", "RDF"):
        raise DiscoveryError(f"not a feed: root element <{_local(doc.root)}>")
    return _feed_links(doc, base_url)


def _feed_links(doc: _Doc, base_url: str) -> list[Link]:
    root = doc.root
    if _local(root) == "feed":
        return _dedupe(_atom_link(e, base_url) for e in doc.complete(_children(root, "entry")))
    # RSS 2.0 nests items in <channel>; RSS 0.9/1.0 (RDF) puts them beside it.
    channel = _child(root, "channel")
    items = _children(root, "item") + (_children(channel, "item") if channel is not None else [])
    return _dedupe(_rss_link(i, base_url) for i in doc.complete(items))


def _rss_link(item: etree._Element, base_url: str) -> Link | None:
    base = _base(item, base_url)
    # FeedBurner rewrites <link> to its own redirector and keeps the real URL in origLink.
    url = _url(_text(_child(item, "origLink"), strict=True), base)
    url = url or _url(_text(_child(item, "link"), strict=True), base)
    guid = _child(item, "guid")
    if url is None and guid is not None and guid.get("isPermaLink", "true").strip() != "false":
        url = _url(_text(guid, strict=True), base)
    if url is None:
        url = _atom_href(item, base)
    if url is None:
        return None
    pub = _text(_child(item, "pubDate"))
    published = _rfc822_to_iso(pub) if pub else _text(_child(item, "date"))  # dc:date
    return Link(url, published, _text(_child(item, "title")), "feed")


def _atom_href(entry: etree._Element, base: str) -> str | None:
    for link in _children(entry, "link"):
        if link.get("rel", "alternate").strip() == "alternate":
            url = _url(link.get("href"), _base(link, base))
            if url:
                return url
    return None


def _atom_link(entry: etree._Element, base_url: str) -> Link | None:
    url = _atom_href(entry, _base(entry, base_url))
    if url is None:
        return None
    published = _text(_child(entry, "published")) or _text(_child(entry, "updated"))
    title_el = _child(entry, "title")
    title = _text(title_el)
    if title and title_el is not None and title_el.get("type") == "html":
        title = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", title)).split()) or None
    return Link(url, published, title, "feed")


# German feeds (some CMS templates) localise RFC 822 day and month names.
_GERMAN_MONTHS = {"mär": "Mar", "mrz": "Mar", "mai": "May", "okt": "Oct", "dez": "Dec"}


def _rfc822_to_iso(value: str) -> str | None:
    """RFC 822 date → ISO 8601 with offset (UTC when the zone is unknown); ISO kept as is."""
    text = re.sub(r"^[^\W\d]+\.?,\s*", "", value.strip())  # the day name is optional
    text = re.sub(
        r"\b(mär|mrz|mai|okt|dez)\w*\.?", lambda m: _GERMAN_MONTHS[m[1].lower()], text, flags=re.I
    )
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return value if _parse_iso(value) else None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def _unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))


def _dedupe(links: Iterable[Link | None]) -> list[Link]:
    """Drop Nones and repeated URLs, keeping the first occurrence and document order."""
    seen: dict[str, Link] = {}
    for link in links:
        if link is not None and link.url not in seen:
            seen[link.url] = link
    return list(seen.values())


_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE)


def sitemaps_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """The URLs on ``Sitemap:`` lines of a robots.txt (any case), resolved, unique, in order."""
    found: list[str] = []
    for line in robots_txt.lstrip("\ufeff").splitlines():
        match = _SITEMAP_LINE.match(line.split("#", 1)[0])
        url = _url(match[1], base_url) if match else None
        if url and url not in found:
            found.append(url)
    return found


_PAGINATION_URL = re.compile(
    r"/(?:page|seite)/\d+(?:/|$)"  # WordPress /page/2/, German /seite/2/
    r"|/seite-\d+(?:[/.]|$)"  # /lokales/seite-2.html
    r"|[?&](?:page|seite|paged|pg)=\d+(?:&|$)",  # ?page=2, WordPress ?paged=2
    re.IGNORECASE,
)
_PAGINATION_TEXT = frozenset(
    {
        "ältere beiträge",
        "ältere artikel",
        "ältere einträge",
        "ältere nachrichten",
        "nächste seite",
        "weiter",
        "mehr laden",
        "mehr anzeigen",
        "weitere artikel",
        "weitere beiträge",
        "»",
        "›",
        "older posts",
        "older entries",
        "older articles",
        "next",
        "next page",
        "load more",
    }
)
_ARROWS = "«»‹›←→<>|"


def is_archive_link(url: str, anchor_text: str) -> bool:
    """True when a link leads to the next page of a section or archive listing.

    Matches pagination URLs (``/page/N/``, ``?page=N``, ``?seite=N``, ``/seite-N``) or the
    whole anchor text ("Ältere Beiträge", "Weiter", "»", "Older posts" …). Whole-text
    matching keeps "Weiterlesen" (a link to an article) out.
    """
    if _PAGINATION_URL.search(url):
        return True
    text = " ".join(anchor_text.split()).casefold()
    if text in _PAGINATION_TEXT:
        return True
    return text.strip(_ARROWS + " ").strip() in _PAGINATION_TEXT


def _parse_iso(value: str) -> datetime | None:
    """ISO 8601 / W3C datetime (also bare ``YYYY`` and ``YYYY-MM``); None when unreadable."""
    value = value.strip()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", value)
    if match is None:
        return None
    try:
        return datetime(int(match[1]), int(match[2] or 1), 1)
    except ValueError:
        return None


def within_horizon(published: str | None, now: datetime, max_age_days: int | None) -> bool:
    """True unless ``published`` is known and older than ``max_age_days`` before ``now``.

    Unknown or unreadable dates count as inside the horizon: discovery must not drop a page
    just because its source left the date out. Naive datetimes are taken as UTC.
    """
    if published is None or max_age_days is None:
        return True
    when = _parse_iso(published)
    if when is None:
        return True
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return when >= now - timedelta(days=max_age_days)
