"""Thin Scrapy item pipeline: fetched pages → clean() in the worker pool → the Parquet datasets."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import FetchedPage, FetchFailure
from crawler.sites import load_sites
from pipelines.forkserver import DEFAULT_TIMEOUT_SECONDS, default_workers
from pipelines.output import DatasetOutput
from pipelines.pool import KillingProcessPool, clean_task, failure_rejection
from pipelines.records import Article, Rejection
from pipelines.siterules import SiteRules

logger = logging.getLogger(__name__)


class CleanAndStorePipeline:
    """Clean every fetched page in worker processes and write article and page rows.

    ``process_item`` awaits the worker without blocking the reactor; Scrapy's scraper slot
    limits how many items are in flight, so downloads pause when workers fall behind.
    Settings: ``NEWS_DATA_DIR``, ``NEWS_SITES_FILE``, ``NEWS_WORKERS``,
    ``NEWS_CLEAN_TIMEOUT``, ``NEWS_RUN_ID``.
    """

    def __init__(
        self,
        data_dir: Path,
        rules_for: SiteRules,
        pool: KillingProcessPool,
        run_id: str,
        stats: StatsCollector,
    ) -> None:
        self._output = DatasetOutput(data_dir)
        self._rules_for = rules_for
        self._pool = pool
        self._run_id = run_id
        self._stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's ``NEWS_*`` settings."""
        settings = crawler.settings
        sites = load_sites(Path(settings.get("NEWS_SITES_FILE")))
        data_dir = Path(settings.get("NEWS_DATA_DIR", "data"))
        run_id = settings.get("NEWS_RUN_ID") or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        pool = KillingProcessPool(
            settings.getint("NEWS_WORKERS") or default_workers(),
            settings.getfloat("NEWS_CLEAN_TIMEOUT", DEFAULT_TIMEOUT_SECONDS),
        )
        assert crawler.stats is not None
        rules_for = SiteRules(sites, data_dir)
        rules_for.load_all()
        return cls(
            data_dir,
            rules_for,
            pool,
            f"crawl-{run_id}",
            crawler.stats,
        )

    async def process_item(self, item: Any) -> Any:
        """Clean and store a FetchedPage; record a FetchFailure; pass anything else on."""
        if isinstance(item, FetchFailure):
            self._output.write_failure(self._run_id, item, self._rules_for(item.site))
            self._count(item.site, "failed", item.reason)
        elif isinstance(item, FetchedPage):
            rules = self._rules_for(item.site)
            future = self._pool.submit(clean_task, item, rules)
            try:
                result: Article | Rejection = await asyncio.wrap_future(future)
            except Exception as exc:  # time-out, dead worker: recorded, never lost
                result = failure_rejection(exc)
            recorded = self._output.write(self._run_id, item, result, rules)
            if isinstance(recorded, Article):
                self._count(item.site, "articles", None)
            else:
                self._count(item.site, "rejected", str(recorded.reason))
        return item

    def close_spider(self) -> None:
        """Commit every file and stop the workers."""
        try:
            self._output.close()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _count(self, site: str, outcome: str, reason: str | None) -> None:
        self._stats.inc_value(f"news/{site}/pages")
        self._stats.inc_value(f"news/{site}/{outcome}")
        if reason:
            self._stats.inc_value(f"news/{site}/{outcome}/{reason}")
