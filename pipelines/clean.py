"""clean(page, rules) -> Article | Rejection: the one cleaning function for crawl and re-clean."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml import html

from crawler.items import FetchedPage
from crawler.urls import article_id, trusted_canonical
from pipelines import boilerplate, metadata, pagetype, quality, titles
from pipelines.body import BodyInputs, assemble_body
from pipelines.container import SHORT_TEXT, container_text
from pipelines.dates import DateFinding, DateInputs, find_dates
from pipelines.decode import DecodedText, DecodeError, decode_html
from pipelines.htmltree import EmptyDocumentError, TooDeepError, parse_html
from pipelines.markdown import heading_levels, render_markdown
from pipelines.records import Article, Reason, Rejection
from pipelines.rules import CleaningRules
from pipelines.signals import PageSignals, read_signals
from pipelines.version import cleaner_version, config_hash

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF")
# Full timestamps rather than trafilatura's day-only default (libraries.md).
_DATE_PARAMS = {
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "original_date": True,
    "extensive_search": True,
}
_REJECTED_TYPES = {
    pagetype.PageType.LISTING: Reason.LISTING,
    pagetype.PageType.TAG_PAGE: Reason.TAG_PAGE,
    pagetype.PageType.CONSENT_WALL: Reason.CONSENT_WALL,
    pagetype.PageType.JS_SHELL: Reason.JS_SHELL,
    pagetype.PageType.SOFT_404: Reason.SOFT_404,
}
_DESCRIPTION_KEYS = (("og:description",), ("description",), ("twitter:description",))


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
    if page.status in (404, 410):
        return Rejection(Reason.GONE, f"HTTP status {page.status}")
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
        return Rejection(Reason.LISTING, "listing page (crawler classification)")
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
    # trafilatura is cubic in the depth of nested <table> and <article> (P10): refuse deep
    # pages here, in one cheap walk, instead of waiting for the worker's timeout.
    if quality.too_deep(tree):
        return _reject(Reason.TOO_DEEP, f"elements nest deeper than {quality.MAX_DEPTH}", decoded)
    signals = read_signals(tree, decoded.text, page.final_url)
    haystack = boilerplate.Haystack(tree, decoded.text)
    packs = boilerplate.matching_packs(haystack, rules.packs)
    prune = boilerplate.prune_xpaths(rules, packs, haystack)
    document = trafilatura.bare_extraction(
        tree,
        url=page.final_url,
        with_metadata=True,
        include_comments=False,
        deduplicate=False,  # its cache is per process and order-dependent (P13)
        date_extraction_params=_date_params(page),
        prune_xpath=prune or None,
    )
    fields: dict[str, Any] = {}
    if document is not None:
        fields = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    title, title_source = titles.choose_title(
        signals, metadata.clean_str(fields.get("title")), fields.get("sitename")
    )
    raw_text = fields.get("text") or ""
    if len(raw_text) < SHORT_TEXT:  # trafilatura fell back to the page: read the CMS's body
        raw_text = container_text(haystack, packs, prune) or raw_text
    description = metadata.clean_str(fields.get("description"))
    language = metadata.page_language(tree, raw_text)
    found = BodyInputs(
        text=raw_text,
        author=fields.get("author"),
        site_names=(fields.get("sitename"), urlsplit(page.final_url).hostname),
        title=title,
        descriptions=_descriptions(signals, description),
        german=language == "de",
    )
    body = assemble_body(signals, found, rules, packs)
    text = "\n\n".join(body.lines)
    # Classified before the emptiness checks: a consent wall or a JavaScript shell often
    # yields no text at all, and its row should say so rather than "empty_body".
    verdict = pagetype.classify_page(signals, text, title)
    if not verdict.keep:
        return _reject(_REJECTED_TYPES[verdict.type], verdict.detail, decoded)
    paywalled = verdict.type is pagetype.PageType.PAYWALL_STUB
    lines = list(body.lines)
    if paywalled:
        text = pagetype.strip_prompt(text)
        lines = text.split("\n\n") if text else []
    if not raw_text:
        return _reject(Reason.EMPTY_BODY, "no main text found", decoded)
    words = metadata.word_count(text)
    if words == 0:
        return _reject(Reason.EMPTY_BODY, "main text was only boilerplate", decoded)
    if words < rules.min_words:
        return _reject(Reason.NOT_ARTICLE, f"{words} words < {rules.min_words}", decoded)
    published, modified = find_dates(
        signals,
        DateInputs(
            fetched_at=page.fetched_at,
            htmldate=fields.get("date"),
            hint=page.hints.get("published"),
            text=text,
            title=title,
        ),
    )
    byline, canonical = body.byline, _canonical(tree, page.final_url)
    return Article(
        article_id=article_id(canonical),
        url=page.final_url,
        canonical_url=canonical,
        site=page.site,
        title=title,
        title_source=title_source,
        description=description,
        text=text,
        text_markdown=render_markdown(lines, heading_levels(getattr(document, "body", None))),
        authors=list(byline.authors),
        authors_source=byline.source,
        agency=byline.agency,
        organization=byline.organization,
        published=_value(published),
        published_raw=published.raw if published else None,
        published_source=published.source if published else None,
        modified=_value(modified),
        modified_raw=modified.raw if modified else None,
        modified_source=modified.source if modified else None,
        language=language,
        categories=_strings(fields.get("categories")),
        tags=_strings(fields.get("tags")),
        image_url=metadata.clean_str(fields.get("image")),
        word_count=words,
        paywalled=paywalled,
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        quality_flags=_quality_flags(decoded.text, title, text),
        raw_sha256=page.sha256,
        warc_file=page.warc_file,
        warc_offset=page.warc_offset,
        fetched_at=page.fetched_at,
        charset_declared=decoded.charset_declared,
        charset_used=decoded.charset_used,
        cleaner_version=cleaner_version(),
        config_hash=config_hash(rules),
    )


def _quality_flags(document: str, title: str | None, text: str) -> list[str]:
    """Mojibake is looked for in what the row keeps (scripts and attributes of a page often
    hold stray mis-decoded strings); truncation in the whole document."""
    flags = []
    if quality.mojibake(f"{title or ''}\n{text}"):
        flags.append(quality.MOJIBAKE)
    if quality.truncated(document):
        flags.append(quality.TRUNCATED)
    return flags


def _descriptions(page: PageSignals, extracted: str | None) -> tuple[str, ...]:
    """Teaser candidates, most trusted first: JSON-LD last, some CMSs put a caption there."""
    found = [extracted, *(page.meta.first(keys) for keys in _DESCRIPTION_KEYS)]
    found.append(page.jsonld.description if page.jsonld else None)
    return tuple(dict.fromkeys(d for d in found if d))


def _canonical(tree: html.HtmlElement, url: str) -> str:
    hrefs = tree.xpath("//head/link[@rel='canonical']/@href")
    return trusted_canonical(str(hrefs[0]) if hrefs else None, url)


def _value(finding: DateFinding | None) -> datetime | None:
    return finding.value if finding else None


def _strings(values: Any) -> list[str]:
    return [c for c in (metadata.clean_str(x) for x in values or []) if c]
