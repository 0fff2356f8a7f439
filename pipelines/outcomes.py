"""Build the page-outcome row that every fetched page leaves, article or not."""

from __future__ import annotations

import re

from crawler.items import FetchedPage, FetchFailure
from pipelines.records import Article, PageOutcome, Reason, Rejection

# Control characters and lone surrogates that a hostile header or URL can carry: the row
# validator refuses them, and an outcome row must always be writable.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _safe(value: str | None) -> str | None:
    return None if value is None else _UNWRITABLE.sub("\ufffd", value)


def page_outcome(
    page: FetchedPage,
    result: Article | Rejection,
    *,
    cleaner_version: str,
    config_hash: str,
) -> PageOutcome:
    """The ``pages`` row for ``page``: where its bytes are and what cleaning made of them."""
    is_article = isinstance(result, Article)
    if isinstance(result, Article):
        # a paywall stub is kept as an article (its teaser), and its page row says so
        reason = str(Reason.PAYWALL_STUB) if result.paywalled else None
    else:
        reason = str(result.reason)
    return PageOutcome(
        url=_safe(page.url) or "",
        final_url=_safe(page.final_url) or "",
        site=_safe(page.site) or "",
        status=page.status,
        outcome="article" if is_article else "rejected",
        reason=reason,
        detail=None if isinstance(result, Article) else _safe(result.detail or None),
        article_id=result.article_id,
        content_type=_safe(page.header("Content-Type")),
        content_length=len(page.body),
        charset_declared=result.charset_declared,
        charset_used=result.charset_used,
        raw_sha256=page.sha256 if page.body else None,
        warc_file=page.warc_file,
        warc_offset=page.warc_offset,
        fetched_at=page.fetched_at,
        cleaner_version=cleaner_version,
        config_hash=config_hash,
    )


def failure_outcome(
    failure: FetchFailure, *, cleaner_version: str, config_hash: str
) -> PageOutcome:
    """The ``pages`` row for a URL that produced no usable response."""
    return PageOutcome(
        url=_safe(failure.url) or "",
        final_url=_safe(failure.url) or "",
        site=_safe(failure.site) or "",
        status=failure.status,
        outcome="failed",
        reason=failure.reason,
        detail=_safe(failure.detail or None),
        article_id=None,
        content_type=None,
        content_length=0,
        raw_sha256=None,
        warc_file=None,
        warc_offset=None,
        fetched_at=failure.fetched_at,
        charset_declared=None,
        charset_used=None,
        cleaner_version=cleaner_version,
        config_hash=config_hash,
    )
