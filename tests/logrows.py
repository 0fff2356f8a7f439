"""Rows for the log datasets, written as a crawl writes them: for compaction and recipe tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pipelines.layout import article_partition, page_partition
from pipelines.parquet import DatasetWriter
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA, Article, PageOutcome
from tests.factories import make_article, make_page_outcome


def write_log(
    data: Path, key: str, articles: Iterable[Article] = (), pages: Iterable[PageOutcome] = ()
) -> None:
    """Write rows to the log datasets the way a crawl does (one file key per run)."""
    for root, schema, partition, rows in (
        (data / "articles", ARTICLE_SCHEMA, article_partition, list(articles)),
        (data / "pages", PAGE_SCHEMA, page_partition, list(pages)),
    ):
        if rows:
            with DatasetWriter(root, schema, partition, file_key=key) as writer:
                for row in rows:
                    writer.write(row)


def fetch(url: str, text: str, when: datetime, **overrides: object) -> tuple[Article, PageOutcome]:
    """An article row and its page row of one fetch of ``url`` at ``when``."""
    article = make_article(url=url, text=text, fetched_at=when, **overrides)
    page = make_page_outcome(url=url, article_id=article.article_id, fetched_at=when)
    return article, page


def sighting(article: Article, when: datetime) -> PageOutcome:
    """The page row of a re-check that found ``article``'s text unchanged."""
    return make_page_outcome(
        url=article.url, outcome="rejected", reason="unchanged",
        article_id=article.article_id, fetched_at=when,
    )  # fmt: skip
