"""Minimal valid Article and PageOutcome records for tests; override any field by keyword."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Any

from pipelines.records import Article, PageOutcome

FETCHED_AT = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
PUBLISHED = datetime(2026, 11, 24, 17, 5, tzinfo=UTC)


def _sha(value: object) -> str:
    # str() and surrogatepass keep deliberately invalid overrides from breaking the factory.
    return hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()


def make_article(**overrides: Any) -> Article:
    """A valid Article of site ``example``; ``url`` also derives ``article_id`` unless given."""
    url = overrides.get("url", "https://www.example-lokal.de/2026/11/24/radwege/")
    text = overrides.get("text", "Die Stadt will neue Radwege bauen.\n\nDer Rat hat zugestimmt.")
    fields: dict[str, Any] = {
        "article_id": _sha(url)[:32],
        "url": url,
        "canonical_url": url,
        "site": "example",
        "title": "Neue Radwege",
        "title_source": "h1",
        "description": None,
        "text": text,
        "text_markdown": text,
        "authors": ["Erika Muster"],
        "authors_source": "jsonld",
        "agency": None,
        "organization": None,
        "published": PUBLISHED,
        "published_raw": "2026-11-24T18:05:00+01:00",
        "published_source": "meta",
        "modified": None,
        "modified_raw": None,
        "modified_source": None,
        "language": "de",
        "categories": ["Lokales"],
        "tags": [],
        "image_url": None,
        "word_count": len(text.split()) if isinstance(text, str) else 0,
        "paywalled": False,
        "content_sha256": _sha(text),
        "quality_flags": [],
        "raw_sha256": _sha(f"<html>{text}"),
        "warc_file": "crawl-20261125-00000.warc.gz",
        "warc_offset": 0,
        "fetched_at": FETCHED_AT,
        "charset_declared": "utf-8",
        "charset_used": "utf-8",
        "cleaner_version": "test",
        "config_hash": "0" * 16,
    }
    return dataclasses.replace(Article(**fields), **overrides)


def make_page_outcome(**overrides: Any) -> PageOutcome:
    """A valid PageOutcome (an article page of site ``example``)."""
    url = overrides.get("url", "https://www.example-lokal.de/2026/11/24/radwege/")
    fields: dict[str, Any] = {
        "url": url,
        "final_url": url,
        "site": "example",
        "status": 200,
        "outcome": "article",
        "reason": None,
        "detail": None,
        "article_id": _sha(url)[:32],
        "content_type": "text/html; charset=utf-8",
        "content_length": 5120,
        "charset_declared": "utf-8",
        "charset_used": "utf-8",
        "raw_sha256": _sha(url),
        "warc_file": "crawl-20261125-00000.warc.gz",
        "warc_offset": 0,
        "fetched_at": FETCHED_AT,
        "cleaner_version": "test",
        "config_hash": "0" * 16,
    }
    return dataclasses.replace(PageOutcome(**fields), **overrides)
