"""Article, Rejection and PageOutcome records and their explicit Arrow schemas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyarrow as pa

SCHEMA_VERSION = "3"
"""Bumped when a column is added; columns are only ever added, as nullable."""

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


class Reason(StrEnum):
    """Why a fetched page did not become an article; stored in ``pages.reason``."""

    NOT_HTML = "not_html"
    EMPTY_BODY = "empty_body"
    NOT_ARTICLE = "not_article"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    TIMEOUT = "timeout"
    BAD_ENCODING = "bad_encoding"
    HTTP_ERROR = "http_error"
    GONE = "gone"
    """HTTP 404 or 410: the page does not exist (any more); never fetched again (F13)."""
    EXTRACT_ERROR = "extract_error"
    INVALID_RECORD = "invalid_record"
    WORKER_CRASHED = "worker_crashed"
    LISTING = "listing"
    TAG_PAGE = "tag_page"
    CONSENT_WALL = "consent_wall"
    JS_SHELL = "js_shell"
    SOFT_404 = "soft_404"
    DUPLICATE = "duplicate"
    """Another URL of an article already stored with the same text (utm, AMP, print copies)."""
    UNCHANGED = "unchanged"
    """A re-check of a stored article whose text has not changed."""
    PAYWALL_STUB = "paywall_stub"
    """Not a rejection: the article row is written (``paywalled``), the page row says why."""


@dataclass(frozen=True, slots=True)
class Article:
    """One cleaned news article; one row of the ``articles`` dataset."""

    article_id: str
    url: str
    canonical_url: str
    site: str
    title: str | None
    title_source: str | None
    description: str | None
    text: str
    text_markdown: str | None
    authors: list[str]
    authors_source: str | None
    agency: str | None
    organization: str | None
    published: datetime | None
    published_raw: str | None
    published_source: str | None
    modified: datetime | None
    modified_raw: str | None
    modified_source: str | None
    language: str | None
    categories: list[str]
    tags: list[str]
    image_url: str | None
    word_count: int
    paywalled: bool | None
    content_sha256: str
    quality_flags: list[str] | None
    raw_sha256: str
    warc_file: str | None
    warc_offset: int | None
    fetched_at: datetime
    charset_declared: str | None
    charset_used: str | None
    cleaner_version: str
    config_hash: str


def _field(
    name: str, type_: pa.DataType, doc: str, *, nullable: bool = True, repeats: bool = False
) -> pa.Field:
    """A documented field; ``repeats`` marks few distinct values (dictionary-encoded)."""
    metadata = {"doc": doc} | ({"localnews.dictionary": "true"} if repeats else {})
    return pa.field(name, type_, nullable=nullable, metadata=metadata)


def _schema(record: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(
        fields,
        metadata={"localnews.record": record, "localnews.schema_version": SCHEMA_VERSION},
    )


def _provenance_fields(*, has_payload: bool) -> list[pa.Field]:
    """Columns both datasets end with: where the bytes are and what judged them.

    ``has_payload``: every row has raw bytes (articles), so ``raw_sha256`` is required.
    """
    return [
        _field(
            "raw_sha256",
            pa.string(),
            "Hex SHA-256 of the raw HTTP payload; null only for a page without one.",
            nullable=not has_payload,
        ),
        _field(
            "warc_file",
            pa.string(),
            "File name of the WARC file holding the raw response; null if not archived.",
            repeats=True,
        ),
        _field("warc_offset", pa.int64(), "Byte offset of the response record in warc_file."),
        _field("fetched_at", UTC_TIMESTAMP, "When the page was fetched (UTC).", nullable=False),
        _field(
            "charset_declared",
            pa.string(),
            "Charset declared by the HTTP header or the page (header wins); null when none.",
            repeats=True,
        ),
        _field(
            "charset_used",
            pa.string(),
            "Charset the body was decoded with (see pipelines/decode.py); null when not decoded.",
            repeats=True,
        ),
        _field(
            "cleaner_version",
            pa.string(),
            "Version of the cleaning code and of trafilatura that produced the row.",
            nullable=False,
            repeats=True,
        ),
        _field(
            "config_hash",
            pa.string(),
            "Hash of the cleaning rules, options and cleaner version that produced the row.",
            nullable=False,
            repeats=True,
        ),
    ]


# fmt: off
ARTICLE_SCHEMA = _schema(
    "article",
    [
        _field("article_id", pa.string(), "32 hex chars: SHA-256 prefix of the canonical URL key; stable across runs.", nullable=False),
        _field("url", pa.string(), "URL the article was fetched from (after redirects).", nullable=False),
        _field("canonical_url", pa.string(), "Canonical URL: rel=canonical when trustworthy, else the fetched URL; tracking parameters removed.", nullable=False),
        _field("site", pa.string(), "Site id from the sites file (host name for foreign WARCs).", nullable=False, repeats=True),
        _field("title", pa.string(), "Headline without kicker or site-name affixes; null when the page has none."),
        _field("title_source", pa.string(), "Where title came from: h1, jsonld, og, twitter, extracted (trafilatura) or title (<title>); null with title.", repeats=True),
        _field("description", pa.string(), "Lead / teaser from the page metadata; null when absent."),
        _field("text", pa.string(), "Body text: the visible lead, subheadings and paragraphs, one blank line between them; boilerplate, captions, bylines and related-article boxes removed.", nullable=False),
        _field("text_markdown", pa.string(), "The same body as Markdown: subheadings as #, lists, quotes, emphasis; null in rows written before schema 2."),
        _field("authors", pa.list_(pa.string()), "Person names (or newsroom initials such as 'jb') in page order; never an agency, the site or a desk; empty when unknown.", nullable=False),
        _field("authors_source", pa.string(), "Where authors came from: jsonld, text (a 'Von …' line), meta, trafilatura or byline; null when none.", repeats=True),
        _field("agency", pa.string(), "News agencies credited, canonical and '/'-joined ('dpa', 'dpa/AFP'); null when none.", repeats=True),
        _field("organization", pa.string(), "Desk or body credited when no person is ('Redaktion', 'DER SPIEGEL'); null otherwise.", repeats=True),
        _field("published", UTC_TIMESTAMP, "Publication time in UTC; null when unknown. A local time without offset is Europe/Berlin; a date-only value is midnight Europe/Berlin."),
        _field("published_raw", pa.string(), "Publication date string as found, before parsing."),
        _field("published_source", pa.string(), "Where published came from: header (the date line under the headline), jsonld, meta, text ('Veröffentlicht am …'), time (<time>), dateline, htmldate, url or hint (feed/sitemap); 'page' in rows before schema 2.", repeats=True),
        _field("modified", UTC_TIMESTAMP, "Last modification time in UTC; null when unknown."),
        _field("modified_raw", pa.string(), "Modification date string as found, before parsing."),
        _field("modified_source", pa.string(), "Where modified came from: jsonld, meta, time or text ('Aktualisiert am …', 'Stand: …'); null when unknown.", repeats=True),
        _field("language", pa.string(), "ISO 639-1 language code of the text; null when undetermined.", repeats=True),
        _field("categories", pa.list_(pa.string()), "Section / category names from the page; may be empty.", nullable=False),
        _field("tags", pa.list_(pa.string()), "Keywords / tags from the page; may be empty.", nullable=False),
        _field("image_url", pa.string(), "Lead image URL (og:image or similar); null when absent."),
        _field("word_count", pa.int32(), "Number of word tokens in text.", nullable=False),
        _field("paywalled", pa.bool_(), "True when text is only the free teaser of a paid article; null in rows written before schema 2."),
        _field("content_sha256", pa.string(), "Hex SHA-256 of text: changes exactly when the cleaned text changes.", nullable=False),
        _field("quality_flags", pa.list_(pa.string()), "Doubts about the text, in this order: 'mojibake' (UTF-8 already mis-decoded in the source, e.g. 'StraÃŸe'), 'truncated' (the HTML document is cut off); empty when none; null in rows written before schema 3."),
        *_provenance_fields(has_payload=True),
    ],
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Rejection:
    """The outcome of cleaning a page that is not kept as an article."""

    reason: Reason
    detail: str = ""
    charset_declared: str | None = None
    charset_used: str | None = None
    article_id: str | None = None
    """The stored article this page is a copy of (``duplicate``, ``unchanged``); else None."""


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What became of one fetched page; one row of the ``pages`` dataset."""

    url: str
    final_url: str
    site: str
    status: int | None
    outcome: str
    reason: str | None
    detail: str | None
    article_id: str | None
    content_type: str | None
    content_length: int
    raw_sha256: str | None
    warc_file: str | None
    warc_offset: int | None
    fetched_at: datetime
    charset_declared: str | None
    charset_used: str | None
    cleaner_version: str
    config_hash: str


# fmt: off
PAGE_SCHEMA = _schema(
    "page",
    [
        _field("url", pa.string(), "URL that was requested.", nullable=False),
        _field("final_url", pa.string(), "URL that answered (after redirects).", nullable=False),
        _field("site", pa.string(), "Site id.", nullable=False, repeats=True),
        _field("status", pa.int32(), "HTTP status of the final response; null when no response arrived."),
        _field("outcome", pa.string(), "'article' (an article row was written), 'rejected' (fetched, not an article) or 'failed' (no usable response).", nullable=False, repeats=True),
        _field("reason", pa.string(), "Reason code when rejected (not_html, empty_body, not_article, listing, tag_page, consent_wall, js_shell, soft_404, too_large, too_deep, timeout, bad_encoding, http_error, gone, ...); for articles null, or paywall_stub when only the free teaser was delivered.", repeats=True),
        _field("detail", pa.string(), "Human-readable detail for the reason; null when none."),
        _field("article_id", pa.string(), "article_id of the article row written from this page, or of the stored article it repeats (reason duplicate or unchanged); null otherwise."),
        _field("content_type", pa.string(), "Content-Type header of the response.", repeats=True),
        _field("content_length", pa.int64(), "Size of the raw payload in bytes.", nullable=False),
        *_provenance_fields(has_payload=False),
    ],
)
# fmt: on


CleanResult = Article | Rejection
