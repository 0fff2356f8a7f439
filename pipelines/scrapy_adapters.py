"""Thin Scrapy item pipeline: fetched pages → clean() in the worker pool → the Parquet datasets."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import FetchedPage, FetchFailure
from crawler.sites import load_sites
from crawler.state import CrawlState, StoredOutcome, run_id_of, state_of
from pipelines.forkserver import DEFAULT_TIMEOUT_SECONDS, default_workers
from pipelines.output import DatasetOutput
from pipelines.pool import KillingProcessPool, clean_task, failure_rejection
from pipelines.records import Article, Rejection
from pipelines.recovery import recover, stored_outcome
from pipelines.siterules import SiteRules

DEFAULT_CHECKPOINT_PAGES = 2_000
DEFAULT_CHECKPOINT_SECONDS = 300.0

logger = logging.getLogger(__name__)


class CleanAndStorePipeline:
    """Clean every fetched page in worker processes and write article and page rows.

    ``process_item`` awaits the worker without blocking the reactor; Scrapy's scraper slot
    limits how many items are in flight, so downloads pause when workers fall behind.

    Rows are committed at checkpoints (every ``NEWS_CHECKPOINT_PAGES`` pages or
    ``NEWS_CHECKPOINT_SECONDS``, and at the end), each under its own file key
    ``crawl-<run>-<n>``; only then does the crawl state count those pages as done. A kill
    loses at most the uncommitted window, which the next run recovers from the WARC.
    Settings: ``NEWS_DATA_DIR``, ``NEWS_SITES_FILE``, ``NEWS_WORKERS``,
    ``NEWS_CLEAN_TIMEOUT``, ``NEWS_RUN_ID``, ``NEWS_CHECKPOINT_PAGES``,
    ``NEWS_CHECKPOINT_SECONDS``.
    """

    def __init__(
        self,
        data_dir: Path,
        rules_for: SiteRules,
        pool: KillingProcessPool,
        run_id: str,
        stats: StatsCollector,
        state: CrawlState,
        checkpoint_pages: int = DEFAULT_CHECKPOINT_PAGES,
        checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS,
    ) -> None:
        self._data_dir = data_dir
        self._state = state
        self._output = DatasetOutput(data_dir, stored=state.stored_article)
        self._rules_for = rules_for
        self._pool = pool
        self._run_id = run_id
        self._stats = stats
        self._checkpoint_pages = max(1, checkpoint_pages)
        self._checkpoint_seconds = checkpoint_seconds
        self._window: list[StoredOutcome] = []
        self._checkpoints = 0
        self._last_checkpoint = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's ``NEWS_*`` settings."""
        settings = crawler.settings
        sites = load_sites(Path(settings.get("NEWS_SITES_FILE")))
        data_dir = Path(settings.get("NEWS_DATA_DIR", "data"))
        pool = KillingProcessPool(
            settings.getint("NEWS_WORKERS") or default_workers(),
            settings.getfloat("NEWS_CLEAN_TIMEOUT", DEFAULT_TIMEOUT_SECONDS),
        )
        assert crawler.stats is not None
        rules_for = SiteRules(sites, data_dir)
        rules_for.load_all()
        # A pipeline exception (disk full, say) loses that page's rows until recovery; Scrapy
        # only logs it, so count it for the run's verdict (reliability O6).
        crawler.signals.connect(
            lambda **_: crawler.stats.inc_value("news/item_errors") if crawler.stats else None,
            signal=signals.item_error,
            weak=False,
        )
        return cls(
            data_dir,
            rules_for,
            pool,
            run_id_of(crawler),
            crawler.stats,
            state_of(crawler),
            settings.getint("NEWS_CHECKPOINT_PAGES", DEFAULT_CHECKPOINT_PAGES),
            settings.getfloat("NEWS_CHECKPOINT_SECONDS", DEFAULT_CHECKPOINT_SECONDS),
        )

    def open_spider(self) -> None:
        """Record the run, then finish what an interrupted earlier run left pending."""
        self._state.start_run(self._run_id, datetime.now(UTC))
        report = recover(
            self._state,
            self._data_dir,
            self._output,
            f"recover-{self._run_id}",
            self._run_id,
            self._rules_for,
            self._pool,
        )
        self._output.forget_written()
        for name, value in (
            ("pending", report.pending),
            ("already_stored", report.already_stored),
            ("recleaned", report.recleaned),
            ("refetch", len(report.refetch)),
        ):
            if value:
                self._stats.set_value(f"news/recovery/{name}", value)

    async def process_item(self, item: Any) -> Any:
        """Clean and store a FetchedPage; record a FetchFailure; pass anything else on."""
        if isinstance(item, FetchFailure):
            self._output.write_failure(self._key, item, self._rules_for(item.site))
            self._window.append(
                StoredOutcome(item.url, item.site, "failed", item.reason, item.status)
            )
            self._count(item.site, "failed", item.reason)
        elif isinstance(item, FetchedPage):
            rules = self._rules_for(item.site)
            future = self._pool.submit(clean_task, item, rules)
            try:
                result: Article | Rejection = await asyncio.wrap_future(future)
            except Exception as exc:  # time-out, dead worker: recorded, never lost
                result = failure_rejection(exc)
            recorded = self._output.write(self._key, item, result, rules)
            self._window.append(stored_outcome(item, recorded))
            self._stats.inc_value(f"news/{item.site}/bytes", len(item.body))
            if item.status >= 500 or item.status == 429:  # the run's error ratio counts these
                self._stats.inc_value(f"news/{item.site}/server_errors")
            if isinstance(recorded, Article):
                self._count(item.site, "articles", None)
            else:
                self._count(item.site, "rejected", str(recorded.reason))
        else:
            return item
        if len(self._window) >= self._checkpoint_pages or (
            time.monotonic() - self._last_checkpoint >= self._checkpoint_seconds
        ):
            self._checkpoint()
        return item

    def close_spider(self) -> None:
        """Commit everything and stop the workers."""
        try:
            self._checkpoint()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def _key(self) -> str:
        return f"crawl-{self._run_id}-{self._checkpoints:05d}"

    def _checkpoint(self) -> None:
        """Commit the rows written since the last checkpoint, then tell the crawl state."""
        self._output.close()
        self._state.mark_stored(self._window, self._run_id, datetime.now(UTC))
        self._output.forget_written()
        self._stats.inc_value("news/checkpoints")
        self._window = []
        self._checkpoints += 1
        self._last_checkpoint = time.monotonic()

    def _count(self, site: str, outcome: str, reason: str | None) -> None:
        now = time.time()
        self._stats.min_value(f"news/{site}/first_at", now)
        self._stats.max_value(f"news/{site}/last_at", now)
        self._stats.inc_value(f"news/{site}/pages")
        self._stats.inc_value(f"news/{site}/{outcome}")
        if reason:
            self._stats.inc_value(f"news/{site}/{outcome}/{reason}")
