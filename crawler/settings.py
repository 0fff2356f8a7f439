"""Scrapy settings: polite and safe defaults for unattended crawls of local news sites.

Values follow ../shared/design/reliability.md §(c). Per-run values (time budget, page
budget, data directory) come from the command line or the site list, not from here.
"""

from __future__ import annotations

import os
from pathlib import Path

BOT_NAME = "localnews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# identity and ethics
USER_AGENT = "localnews-bot/0.1 (+https://github.com/localnews/localnews; research crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 5
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 %, as RANDOMIZE_DOWNLOAD_DELAY did before Scrapy 2.19
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 5
AUTOTHROTTLE_MAX_DELAY = 120
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
COOKIES_ENABLED = False
# Scrapy starts this many tasks for every callback's output, however small; pages yield one
# item or a few dozen requests, and cleaning is bounded by the worker pool anyway.
CONCURRENT_ITEMS = 16

# bounds
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
DNS_TIMEOUT = 15
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
METAREFRESH_MAXDELAY = 5
DEPTH_LIMIT = 3
URLLENGTH_LIMIT = 1024
MEMUSAGE_LIMIT_MB = 1536
MEMUSAGE_WARNING_MB = 1024
DOWNLOAD_FAIL_ON_DATALOSS = True

# what Scrapy lacks (reliability §c): fail-closed robots, address guard, strict decompression,
# content-type gate
DOWNLOADER_MIDDLEWARES = {
    "crawler.addressguard.AddressGuardMiddleware": 40,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.FailClosedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.BackoffRetryMiddleware": 550,
    "crawler.breaker.HostBreakerMiddleware": 555,
    "crawler.middlewares.ContentTypeGateMiddleware": 560,
    "crawler.middlewares.StrictDecompressionMiddleware": 595,
    "crawler.redirects.OffsiteRedirectMiddleware": 610,
}
TWISTED_DNS_RESOLVER = "crawler.addressguard.GuardedResolver"
NEWS_ALLOWED_PRIVATE_HOSTS: list[str] = []  # host names allowed even when they resolve privately
NEWS_ROBOTSTXT_MAX_BYTES = 512 * 1024
NEWS_ROBOTSTXT_MAX_CRAWL_DELAY = 120.0
NEWS_ALLOWED_CONTENT_TYPES = ["text/html", "application/xhtml+xml"]
NEWS_CONTENT_TYPE_EXEMPT_KINDS = ["sitemap", "feed", "robots"]
# retries (F11, F12): RETRY_TIMES above and Scrapy's RETRY_HTTP_CODES, spaced out exponentially
NEWS_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubles with each retry…
NEWS_RETRY_BACKOFF_MAX = 60.0  # …up to this
NEWS_RETRY_BACKOFF_JITTER = 0.5  # fraction of each delay taken off at random
NEWS_RETRY_AFTER_MAX = 120.0  # a longer Retry-After is not waited for: the URL is given up
# circuit breaker (F10): after this many connection failures in a row a host is refused…
NEWS_BREAKER_FAILURES = 5
NEWS_BREAKER_COOLDOWN = 600.0  # …until one probe after this many seconds (0: for the run)

# security: no remote code execution surfaces, no local-file or odd-scheme fetches
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
REFERRER_POLICY = "same-origin"
# secrets (URL passwords, api_key=…, *_SECRET_* settings) never reach the logs (X8)
EXTENSIONS = {"crawler.redact.RedactLogsExtension": -100}

LOG_LEVEL = "INFO"

# the pipeline: archive raw bytes first, then clean in worker processes and write Parquet
ITEM_PIPELINES = {
    "crawler.archive_pipeline.WarcArchivePipeline": 100,
    "pipelines.scrapy_adapters.CleanAndStorePipeline": 200,
}

# project settings (NEWS_ prefix)
NEWS_SITES_FILE = os.environ.get("NEWS_SITES_FILE") or str(Path(__file__).with_name("sites.toml"))
NEWS_DATA_DIR = "data"
NEWS_FRONTIER_BATCH = 16  # article requests released per site whenever the scheduler runs dry
NEWS_WORKERS = 0  # worker processes for clean(); 0 = one per core
NEWS_CLEAN_TIMEOUT = 30.0  # seconds one page may take before its worker is killed
NEWS_ALLOW_PRIVATE_ADDRESSES = False  # tests set True: their fixture sites live on 127.0.0.1

# incremental crawling and crash safety (crawl state in <NEWS_DATA_DIR>/state/crawl.sqlite)
NEWS_INCREMENTAL = True  # False: ignore what earlier runs fetched (a full re-crawl)
NEWS_RECHECK_DAYS = 2.0  # articles this recent are fetched again to catch updates…
NEWS_RECHECK_HOURS = 12.0  # …at most this often
NEWS_MAX_ATTEMPTS = 3  # runs in a row a URL may fail (network, 5xx, 429) before it is given up
NEWS_CHECKPOINT_PAGES = 2000  # rows are committed (and counted done) every this many pages…
NEWS_CHECKPOINT_SECONDS = 300.0  # …or this often, so a kill loses at most this window
NEWS_MAX_ERROR_RATIO = 0.5  # a site whose fetches fail more often than this fails the run
