"""Crawl state across runs: what each URL gave, validators of feeds and sitemaps, stored articles.

One SQLite file per data directory (``<data>/state/crawl.sqlite``), written by the crawl
process only (the job lock guarantees one). It is a cache of decisions, never the data:
the Parquet datasets stay the record, and a lost state file only costs refetching.

Crash safety rests on one rule: a URL counts as done only once the Parquet files holding
its rows are committed. The archive step records a page as *pending* with its WARC
location; the checkpoint after each Parquet commit marks the pages *stored* and records
their articles' content hashes. After SIGKILL the pending pages are what the next run
re-cleans from the WARC (``pipelines.recovery``).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

STATE_FILE = "crawl.sqlite"
SCHEMA_VERSION = "1"

# Reasons worth another try in a later run; everything else is an answer that stands
# (an article, a rejection, 404/410 gone, robots refusal) until a re-check asks again.
RETRYABLE_REASONS = frozenset(
    {
        "fetch_error",
        "robots_unavailable",
        "host_unavailable",
        "truncated",
        "timeout",
        "worker_crashed",
        "http_5xx",
        "http_429",
    }
)

# Pages that list other pages: fetched again every run, whatever they gave before.
LISTING_REASONS = frozenset({"listing", "tag_page"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    outcome TEXT NOT NULL,          -- pending, article, rejected, failed
    reason TEXT,
    status INTEGER,
    article_id TEXT,
    published TEXT,                 -- ISO date of the article (or the hint) for re-checks
    first_fetched TEXT NOT NULL,
    last_fetched TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,  -- consecutive retryable failures
    run_id TEXT NOT NULL,
    warc_file TEXT,
    warc_offset INTEGER
);
CREATE INDEX IF NOT EXISTS urls_pending ON urls (outcome) WHERE outcome = 'pending';
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    url TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    versions INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS validators (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    checked TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sites (
    site TEXT PRIMARY KEY,
    completed_run TEXT NOT NULL,    -- the last run that worked through all the site listed
    completed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT
);
"""


@dataclass(frozen=True, slots=True)
class RefetchPolicy:
    """When a URL the state already knows is fetched again."""

    recheck_days: float = 2.0
    """Articles published (or first fetched) this recently are re-fetched to catch updates."""
    recheck_hours: float = 12.0
    """…but not more often than this."""
    max_attempts: int = 3
    """Retryable failures in a row after which a URL is given up."""


@dataclass(frozen=True, slots=True)
class PendingPage:
    """A page archived by a run whose rows were not committed before it ended."""

    url: str
    site: str
    run_id: str
    warc_file: str | None
    warc_offset: int | None


@dataclass(frozen=True, slots=True)
class Validators:
    """Conditional-GET validators of a feed, sitemap or section page."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """What a committed page row said, as the checkpoint hands it to the state."""

    url: str
    site: str
    outcome: str
    reason: str | None
    status: int | None
    article_id: str | None = None
    content_sha256: str | None = None
    published: datetime | None = None


class StateSchemaError(RuntimeError):
    """The state file was written by code with another state schema."""


class CrawlState:
    """The SQLite crawl state of one data directory; use from one thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        # WAL + NORMAL: a commit survives a killed process (not a power cut, where at worst
        # the last commits are lost and those pages are fetched again).
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        found = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if found is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif found[0] != SCHEMA_VERSION:
            self._db.close()
            raise StateSchemaError(
                f"{path}: crawl state schema {found[0]}, this code needs {SCHEMA_VERSION}; "
                "move the file away to start afresh (it only costs refetching)"
            )

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> CrawlState:
        """The state of ``data_dir`` (``<data_dir>/state/crawl.sqlite``)."""
        return cls(data_dir / "state" / STATE_FILE)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- decisions ------------------------------------------------------------------------

    def should_fetch(self, url: str, now: datetime, policy: RefetchPolicy) -> bool:
        """True when ``url`` is new, worth retrying, or a recent article due for a re-check."""
        row = self._db.execute(
            "SELECT outcome, reason, status, attempts, published, first_fetched, last_fetched "
            "FROM urls WHERE url=?",
            (url,),
        ).fetchone()
        if row is None:
            return True
        outcome, reason, status, attempts, published, first_fetched, last_fetched = row
        if outcome == "pending":
            return False  # archived; recovery cleans it from the WARC
        if reason in LISTING_REASONS:
            return True
        if is_retryable(reason, status):
            return bool(attempts < policy.max_attempts)
        if outcome != "article":
            return False
        age = now - _parse(published or first_fetched)
        since = now - _parse(last_fetched)
        return age <= timedelta(days=policy.recheck_days) and since >= timedelta(
            hours=policy.recheck_hours
        )

    def due(self, site: str, now: datetime, policy: RefetchPolicy) -> list[str]:
        """URLs of ``site`` to fetch this run whatever discovery finds: retries and re-checks.

        Their feeds and sitemaps may answer 304, so they would never be rediscovered.
        """
        cutoff = _iso(now - timedelta(days=policy.recheck_days))
        placeholders = ",".join("?" * len(RETRYABLE_REASONS))
        rows = self._db.execute(
            "SELECT url FROM urls WHERE site=? AND outcome != 'pending' AND ("
            f"reason IN ({placeholders}) OR status >= 500 OR status = 429 OR "
            "(outcome = 'article' AND coalesce(published, first_fetched) >= ?)) ORDER BY url",
            (site, *sorted(RETRYABLE_REASONS), cutoff),
        )
        return [url for (url,) in rows if self.should_fetch(url, now, policy)]

    def stored_article(self, article_id: str) -> tuple[str, str] | None:
        """(content hash, URL) of the last committed version of ``article_id``, if any."""
        row = self._db.execute(
            "SELECT content_sha256, url FROM articles WHERE article_id=?", (article_id,)
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def site_completed(self, site: str) -> bool:
        """True once a run has worked through everything ``site`` listed (its backfill is done).

        Until then archive pagination is followed to the end even where a page brings
        nothing new: an interrupted first run must not stop the backfill halfway.
        """
        found = self._db.execute("SELECT 1 FROM sites WHERE site=?", (site,))
        return found.fetchone() is not None

    def mark_site_completed(self, site: str, run_id: str, now: datetime) -> None:
        """Record that ``run_id`` fetched everything ``site`` listed."""
        self._db.execute("INSERT OR REPLACE INTO sites VALUES (?, ?, ?)", (site, run_id, _iso(now)))

    # -- the archive step -----------------------------------------------------------------

    def record_pending(
        self,
        url: str,
        site: str,
        run_id: str,
        fetched_at: datetime,
        warc_file: str | None,
        warc_offset: int | None,
    ) -> None:
        """Note a page archived but not yet stored (so a crash leaves a trace to recover)."""
        when = _iso(fetched_at)
        self._db.execute(
            "INSERT INTO urls (url, site, outcome, first_fetched, last_fetched, run_id, "
            "warc_file, warc_offset) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET outcome='pending', "
            "last_fetched=excluded.last_fetched, run_id=excluded.run_id, "
            "warc_file=excluded.warc_file, warc_offset=excluded.warc_offset",
            (url, site, when, when, run_id, warc_file, warc_offset),
        )

    # -- the checkpoint -------------------------------------------------------------------

    def mark_stored(self, outcomes: Sequence[StoredOutcome], run_id: str, now: datetime) -> None:
        """Record the outcomes whose rows were just committed, in one transaction."""
        when = _iso(now)
        with self._transaction():
            for item in outcomes:
                retry = is_retryable(item.reason, item.status)
                published = _iso(item.published) if item.published else None
                self._db.execute(
                    "INSERT INTO urls (url, site, outcome, reason, status, article_id, "
                    "published, first_fetched, last_fetched, attempts, run_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (url) DO UPDATE SET outcome=excluded.outcome, "
                    "reason=excluded.reason, status=excluded.status, "
                    "article_id=coalesce(excluded.article_id, urls.article_id), "
                    "published=coalesce(excluded.published, urls.published), "
                    "last_fetched=excluded.last_fetched, run_id=excluded.run_id, "
                    "attempts=CASE WHEN ? THEN urls.attempts + 1 ELSE 0 END, "
                    "warc_file=NULL, warc_offset=NULL",
                    (
                        item.url,
                        item.site,
                        item.outcome,
                        item.reason,
                        item.status,
                        item.article_id,
                        published,
                        when,
                        when,
                        int(retry),
                        run_id,
                        retry,
                    ),
                )
                if item.article_id and item.content_sha256:
                    self._db.execute(
                        "INSERT INTO articles VALUES (?, ?, ?, ?, 1, ?, ?) "
                        "ON CONFLICT (article_id) DO UPDATE SET last_seen=excluded.last_seen, "
                        "versions=articles.versions + "
                        "(articles.content_sha256 != excluded.content_sha256), "
                        "content_sha256=excluded.content_sha256",
                        (item.article_id, item.site, item.url, item.content_sha256, when, when),
                    )

    # -- recovery -------------------------------------------------------------------------

    def pending(self) -> list[PendingPage]:
        """Pages archived by earlier runs whose rows were never committed."""
        rows = self._db.execute(
            "SELECT url, site, run_id, warc_file, warc_offset FROM urls "
            "WHERE outcome='pending' ORDER BY run_id, warc_file, warc_offset"
        )
        return [PendingPage(*row) for row in rows]

    def forget(self, urls: Iterable[str]) -> None:
        """Drop what the state knows of ``urls``, so the next run fetches them again."""
        with self._transaction():
            self._db.executemany("DELETE FROM urls WHERE url=?", ((u,) for u in urls))

    # -- conditional GET ------------------------------------------------------------------

    def validators(self, url: str) -> Validators | None:
        """The ETag / Last-Modified stored for ``url``, if any."""
        row = self._db.execute(
            "SELECT etag, last_modified FROM validators WHERE url=?", (url,)
        ).fetchone()
        return None if row is None else Validators(row[0], row[1])

    def save_validators(
        self, entries: Iterable[tuple[str, str, Validators]], now: datetime
    ) -> None:
        """Store validators of (url, site) pairs whose content this run fully processed."""
        with self._transaction():
            self._db.executemany(
                "INSERT INTO validators VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "etag=excluded.etag, last_modified=excluded.last_modified, "
                "checked=excluded.checked",
                ((u, s, v.etag, v.last_modified, _iso(now)) for u, s, v in entries),
            )

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, run_id: str, now: datetime) -> None:
        """Record that run ``run_id`` started."""
        self._db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, NULL, NULL)", (run_id, _iso(now))
        )

    def finish_run(self, run_id: str, status: str, now: datetime) -> None:
        """Record how run ``run_id`` ended."""
        self._db.execute(
            "UPDATE runs SET finished=?, status=? WHERE run_id=?", (_iso(now), status, run_id)
        )

    def counts(self) -> dict[str, int]:
        """Number of URLs per outcome (for reports and tests)."""
        rows = self._db.execute("SELECT outcome, count(*) FROM urls GROUP BY outcome")
        return {str(outcome): int(n) for outcome, n in rows}

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def is_retryable(reason: str | None, status: int | None) -> bool:
    """True for outcomes worth another try in a later run: network trouble, 5xx and 429."""
    return reason in RETRYABLE_REASONS or (status is not None and (status >= 500 or status == 429))


def new_run_id(now: datetime) -> str:
    """A run id: the start time (sortable) and a random suffix (two runs in one second)."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_id_of(crawler: Any) -> str:
    """``NEWS_RUN_ID``, or one id made up once per crawler when it is unset (``scrapy crawl``)."""
    run_id = getattr(crawler, "news_run_id", None)
    if run_id is None:
        run_id = crawler.settings.get("NEWS_RUN_ID") or new_run_id(datetime.now(UTC))
        crawler.news_run_id = run_id
    return str(run_id)


def state_of(crawler: Any) -> CrawlState:
    """The crawl state of a Scrapy crawler's data directory, opened once per crawler.

    The spider and the item pipelines share one connection through the crawler object
    (not a module-level cache), so two crawlers in one process keep separate states.
    """
    state = getattr(crawler, "news_state", None)
    if state is None:
        state = CrawlState.in_data_dir(Path(crawler.settings.get("NEWS_DATA_DIR", "data")))
        crawler.news_state = state
    return state


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
