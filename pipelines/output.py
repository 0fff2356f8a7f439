"""DatasetOutput: writes each cleaned page to the articles and pages datasets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from crawler.items import FetchedPage, FetchFailure
from pipelines.layout import article_partition, page_partition
from pipelines.outcomes import failure_outcome, page_outcome
from pipelines.parquet import DatasetWriter, RecordError
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA, Article, Reason, Rejection
from pipelines.rules import CleaningRules
from pipelines.version import cleaner_version, config_hash

logger = logging.getLogger(__name__)

ARTICLES_DIR = "articles"
PAGES_DIR = "pages"
# Buffered rows are what the writer holds in memory. A byte budget, not a row count, keeps
# it flat: article texts range from 50 to 50,000 characters. A few MB fill within the first
# thousand pages, so a crawl's memory stops growing there however large the site; row
# groups of up to 2,000 articles are still large enough for readers to skip them by their
# statistics, and compaction rewrites small ones.
ARTICLE_ROW_GROUP = 2_000
ARTICLE_BUFFER_BYTES = 8 * 1024 * 1024
PAGE_ROW_GROUP = 10_000
PAGE_BUFFER_BYTES = 4 * 1024 * 1024


StoredLookup = Callable[[str], tuple[str, str] | None]
"""article_id → (content_sha256, url) of its version stored before this output started."""


class DatasetOutput:
    """One writer pair (articles + pages) per file key; a new key commits the previous pair.

    The file key names the output files (``part-<key>-NNNNN.parquet``): re-cleaning the
    same WARC uses the same key and so replaces its earlier files instead of adding rows.

    An article whose text equals the version already written (by this output, or before it
    as ``stored`` tells) is not written again: its page row says ``unchanged`` (same URL, a
    re-check) or ``duplicate`` (another URL of it). Changed text is a new version and is
    written. The crawl and re-cleaning decide this here, the same way.
    """

    def __init__(self, data_dir: Path, stored: StoredLookup | None = None) -> None:
        self._articles_root = data_dir / ARTICLES_DIR
        self._pages_root = data_dir / PAGES_DIR
        self._version = cleaner_version()
        self._key: str | None = None
        self._writers: tuple[DatasetWriter, DatasetWriter] | None = None
        self._stored = stored
        # Written by this output: article_id → (content hash prefix, URL). Prefixes keep a
        # re-clean of a million articles at about 150 MB instead of 250.
        self._written: dict[str, tuple[str, str]] = {}

    def write(
        self,
        key: str,
        page: FetchedPage,
        result: Article | Rejection,
        rules: CleaningRules,
        *,
        article_committed: bool = False,
    ) -> Article | Rejection:
        """Write the article (if any) and the page's outcome row; return what was recorded.

        An article that fails validation is recorded as an ``invalid_record`` rejection
        with the field named, so the page still leaves its row. ``article_committed`` says
        the article row of this very page is already in the dataset (crash recovery): only
        the page row is written.
        """
        articles, pages = self._writers_for(key)
        if isinstance(result, Article) and not article_committed:
            result = self._copy_of(result) or result
        if isinstance(result, Article) and not article_committed:
            try:
                articles.write(result)
                self._written[result.article_id] = (result.content_sha256[:16], result.url)
            except RecordError as exc:
                logger.warning("invalid article from %s: %s", page.final_url, exc)
                result = Rejection(
                    Reason.INVALID_RECORD, str(exc), result.charset_declared, result.charset_used
                )
        outcome = page_outcome(
            page, result, cleaner_version=self._version, config_hash=config_hash(rules)
        )
        pages.write(outcome)
        return result

    def _copy_of(self, article: Article) -> Rejection | None:
        """The rejection for an article already written with the same text, else None."""
        known = self._written.get(article.article_id)
        if known is None and self._stored is not None:
            stored = self._stored(article.article_id)
            known = (stored[0][:16], stored[1]) if stored else None
        if known is None or known[0] != article.content_sha256[:16]:
            return None
        if known[1] == article.url:
            return Rejection(
                Reason.UNCHANGED,
                "same text as the stored version",
                article.charset_declared,
                article.charset_used,
                article.article_id,
            )
        return Rejection(
            Reason.DUPLICATE,
            f"same text as {known[1]} (article {article.article_id})",
            article.charset_declared,
            article.charset_used,
            article.article_id,
        )

    def forget_written(self) -> None:
        """Drop the in-memory record of written articles (``stored`` knows them now)."""
        self._written.clear()

    def write_failure(self, key: str, failure: FetchFailure, rules: CleaningRules) -> None:
        """Write the ``pages`` row of a URL that gave no usable response."""
        _, pages = self._writers_for(key)
        pages.write(
            failure_outcome(failure, cleaner_version=self._version, config_hash=config_hash(rules))
        )

    def close(self) -> None:
        """Commit everything written so far."""
        if self._writers is not None:
            for writer in self._writers:
                writer.close()
            self._writers = None

    def abort(self) -> None:
        """Discard uncommitted files (committed ones stay)."""
        if self._writers is not None:
            for writer in self._writers:
                writer.abort()
            self._writers = None

    def _writers_for(self, key: str) -> tuple[DatasetWriter, DatasetWriter]:
        if self._writers is None or key != self._key:
            self.close()
            self._key = key
            self._writers = (
                DatasetWriter(
                    self._articles_root,
                    ARTICLE_SCHEMA,
                    article_partition,
                    file_key=key,
                    row_group_rows=ARTICLE_ROW_GROUP,
                    max_buffered_bytes=ARTICLE_BUFFER_BYTES,
                ),
                DatasetWriter(
                    self._pages_root,
                    PAGE_SCHEMA,
                    page_partition,
                    file_key=key,
                    row_group_rows=PAGE_ROW_GROUP,
                    max_buffered_bytes=PAGE_BUFFER_BYTES,
                ),
            )
        return self._writers
