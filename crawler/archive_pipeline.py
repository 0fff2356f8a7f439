"""Item pipeline that archives every fetched page as a WARC record before anything else sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler

from crawler.archive import WarcArchive
from crawler.items import FetchedPage
from crawler.state import CrawlState, run_id_of, state_of

DEFAULT_MAX_FILE_BYTES = 1_000_000_000


class WarcArchivePipeline:
    """Write each FetchedPage to ``<NEWS_DATA_DIR>/raw/`` and pass it on with its WARC location.

    Runs first, so the raw bytes are on disk before cleaning can fail; the next pipeline
    stores ``warc_file``/``warc_offset`` on the rows. The crawl state notes each archived
    page as pending until its rows are committed, so a killed run's pages are recovered
    from here. Settings: ``NEWS_DATA_DIR``, ``NEWS_WARC_MAX_BYTES`` (rotation size),
    ``NEWS_WARC_PREFIX``, ``NEWS_RUN_ID``.
    """

    def __init__(
        self,
        directory: Path,
        prefix: str,
        max_file_bytes: int,
        state: CrawlState | None = None,
        run_id: str = "",
    ) -> None:
        self._archive = WarcArchive(directory, prefix=prefix, max_file_bytes=max_file_bytes)
        self._state = state
        self._run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's ``NEWS_*`` settings."""
        settings = crawler.settings
        return cls(
            Path(settings.get("NEWS_DATA_DIR", "data")) / "raw",
            settings.get("NEWS_WARC_PREFIX", "localnews"),
            settings.getint("NEWS_WARC_MAX_BYTES", DEFAULT_MAX_FILE_BYTES),
            state_of(crawler),
            run_id_of(crawler),
        )

    def process_item(self, item: Any) -> Any:
        """Archive a FetchedPage (with its request) and return it with its WARC location."""
        if isinstance(item, FetchedPage):
            archived = self._archive.write(item, item.request_headers)
            if self._state is not None:
                self._state.record_pending(
                    archived.url,
                    archived.site,
                    self._run_id,
                    archived.fetched_at,
                    archived.warc_file,
                    archived.warc_offset,
                )
            return archived
        return item

    def close_spider(self) -> None:
        """Close (and fsync) the current WARC file."""
        self._archive.close()
