"""clean(page, rules) -> Article | Rejection: the one cleaning function for crawl and re-clean."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml import html

from crawler.items import FetchedPage
from crawler.urls import article_id, trusted_canonical
from pipelines import boilerplate, metadata
from pipelines.decode import DecodedText, DecodeError, decode_html
from pipelines.htmltree import EmptyDocumentError, TooDeepError, parse_html
from pipelines.records import Article, Reason, Rejection
from pipelines.rules import CleaningRules
from pipelines.version import cleaner_version, config_hash

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF")
# Full timestamps rather than trafilatura's day-only default (libraries.md).
_DATE_PARAMS = {
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "original_date": True,
    "extensive_search": True,
}


def clean(page: FetchedPage, rules: CleaningRules) -> Article | Rejection:
    """Turn one fetched page into an article, or say why it is not one.

    Pure: the result depends only on the page and the rules. Never raises for bad input;
    a timeout must be enforced by the caller (see ``pipelines.pool``).
    """
    rejection = _precheck(page, rules)
    if rejection is not None:
        return rejection
    try:
        decoded = decode_html(page.body, page.header("Content-Type"))
    except DecodeError as exc:
        return Rejection(Reason.BAD_ENCODING, str(exc))
    try:
        return _extract(page, rules, decoded)
    except TooDeepError as exc:
        return _reject(Reason.TOO_DEEP, str(exc), decoded)
    except EmptyDocumentError as exc:
        return _reject(Reason.EMPTY_BODY, f"no HTML document: {exc}", decoded)
    except Exception as exc:
        # trafilatura, htmldate and dateparser raise all sorts on odd markup (ValueError,
        # TypeError, RecursionError, IndexError …): one page must not stop a run, and its
        # row says what happened.
        return _reject(Reason.EXTRACT_ERROR, f"{type(exc).__name__}: {exc}", decoded)


def _date_params(page: FetchedPage) -> dict[str, Any]:
    """htmldate options bounded by the fetch day, not today: re-cleaning gives the same date."""
    latest = (page.fetched_at + timedelta(days=1)).strftime("%Y-%m-%d")
    return {**_DATE_PARAMS, "max_date": latest}


def _precheck(page: FetchedPage, rules: CleaningRules) -> Rejection | None:
    """Reject by status, size and type before spending any parsing work."""
    if page.status >= 300 or page.status < 200:
        return Rejection(Reason.HTTP_ERROR, f"HTTP status {page.status}")
    if len(page.body) > rules.max_bytes:
        return Rejection(Reason.TOO_LARGE, f"{len(page.body)} bytes > limit {rules.max_bytes}")
    content_type = (page.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type and content_type not in _HTML_TYPES:
        return Rejection(Reason.NOT_HTML, f"Content-Type {content_type}")
    if page.hints.get("page_kind") == "listing":
        # The crawler classified it (URL pattern, og:type, JSON-LD, teaser count); the hint is
        # archived with the page, so re-cleaning decides the same way.
        return Rejection(Reason.NOT_ARTICLE, "listing page (crawler classification)")
    head = page.body[:1024].lstrip()
    if not head:
        return Rejection(Reason.EMPTY_BODY, "empty payload")
    if head.startswith(_BINARY_MAGIC):
        return Rejection(Reason.NOT_HTML, "binary payload")
    return None


def _reject(reason: Reason, detail: str, decoded: DecodedText) -> Rejection:
    return Rejection(reason, detail, decoded.charset_declared, decoded.charset_used)


def _extract(page: FetchedPage, rules: CleaningRules, decoded: DecodedText) -> Article | Rejection:
    tree = parse_html(decoded.text)
    packs = boilerplate.matching_packs(tree, decoded.text, rules.packs)
    document = trafilatura.bare_extraction(
        tree,
        url=page.final_url,
        with_metadata=True,
        include_comments=False,
        deduplicate=False,  # its cache is per process and order-dependent (P13)
        date_extraction_params=_date_params(page),
        prune_xpath=boilerplate.prune_xpaths(rules, packs, decoded.text) or None,
    )
    if document is None:
        return _reject(Reason.EMPTY_BODY, "no main text found", decoded)
    fields: dict[str, Any] = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    lines = boilerplate.clean_lines(fields.get("text") or "", boilerplate.line_filter(rules, packs))
    title = metadata.strip_site_suffix(
        metadata.clean_str(fields.get("title")),
        fields.get("sitename"),
        urlsplit(page.final_url).netloc,
    )
    if lines and title and lines[0] == title:
        lines = lines[1:]  # the headline is its own field, not the first paragraph
    text = "\n\n".join(lines)
    words = metadata.word_count(text)
    if words == 0:
        return _reject(Reason.EMPTY_BODY, "main text was only boilerplate", decoded)
    if words < rules.min_words:
        return _reject(Reason.NOT_ARTICLE, f"{words} words < {rules.min_words}", decoded)
    return _article(page, rules, decoded, tree, fields | {"title": title}, text, words)


def _article(
    page: FetchedPage,
    rules: CleaningRules,
    decoded: DecodedText,
    tree: html.HtmlElement,
    fields: dict[str, Any],
    text: str,
    words: int,
) -> Article:
    source = decoded.text
    canonical_hrefs = tree.xpath("//head/link[@rel='canonical']/@href")
    canonical = trusted_canonical(
        str(canonical_hrefs[0]) if canonical_hrefs else None, page.final_url
    )
    published_raw = metadata.precise_published(tree, source, fields.get("date"))
    published_source = "page" if published_raw else None
    if not published_raw and page.hints.get("published"):
        published_raw, published_source = page.hints["published"], "hint"
    modified = metadata.modified_raw(tree, source)
    return Article(
        article_id=article_id(canonical),
        url=page.final_url,
        canonical_url=canonical,
        site=page.site,
        title=fields["title"],
        description=metadata.clean_str(fields.get("description")),
        text=text,
        authors=metadata.split_authors(fields.get("author")),
        published=metadata.parse_timestamp(published_raw),
        published_raw=published_raw,
        published_source=published_source,
        modified=metadata.parse_timestamp(modified),
        modified_raw=modified,
        language=metadata.page_language(tree, text),
        categories=[
            c for c in (metadata.clean_str(x) for x in fields.get("categories") or []) if c
        ],
        tags=[t for t in (metadata.clean_str(x) for x in fields.get("tags") or []) if t],
        image_url=metadata.clean_str(fields.get("image")),
        word_count=words,
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        raw_sha256=page.sha256,
        warc_file=page.warc_file,
        warc_offset=page.warc_offset,
        fetched_at=page.fetched_at,
        charset_declared=decoded.charset_declared,
        charset_used=decoded.charset_used,
        cleaner_version=cleaner_version(),
        config_hash=config_hash(rules),
    )
