"""Run the news spider in this process as an unattended job and judge it from Scrapy's stats.

Scrapy's own exit status says nothing about success (reliability O3, O4), so this module
decides: one instance per data directory, a run id, a time budget, a log file and a JSON
report per run, and a verdict from the finish reason, the error ratio and the counts.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.jobs import close_timeout, job_lock, run_files, write_json_report
from crawler.redact import install_redaction
from crawler.sites import load_sites, select_sites
from crawler.spiders.news import NewsSpider
from crawler.state import new_run_id

logger = logging.getLogger(__name__)

GOOD_FINISH = frozenset({"finished", "closespider_timeout", "closespider_pagecount"})
INTERRUPTED_FINISH = frozenset({"shutdown"})
# Failed rows that are the crawl's own policy at work, not errors of the site or network.
POLICY_REASONS = frozenset(
    {"robots_disallowed", "offsite_redirect", "redirect_to_seen", "address_refused", "not_html"}
)
MIN_PAGES_FOR_RATIO = 10
"""Below this many pages a site's error ratio is not judged (one failure of three is noise)."""


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    """What to crawl and where to write; ``overrides`` are Scrapy settings (``-s NAME=VALUE``)."""

    site_ids: tuple[str, ...] = ()
    sites_file: Path | None = None
    data_dir: Path = Path("data")
    overrides: Mapping[str, str] = field(default_factory=dict)
    time_budget: float | None = None
    """Seconds the whole run may take; the crawl closes gracefully in time (None: no limit)."""


@dataclass(frozen=True, slots=True)
class SiteSummary:
    """Per-site counts taken from the crawl stats."""

    site: str
    pages: int
    articles: int
    """New articles and new versions stored by this run."""
    rejected: dict[str, int]
    failed: dict[str, int]
    errors: int = 0
    """Failed fetches that are the site's or the network's fault (not robots or offsite)."""
    bytes: int = 0
    seconds: float = 0.0
    """From the first to the last page of the site stored in this run."""
    not_modified: int = 0
    """Feeds, sitemaps and sections answered 304 to a conditional GET."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Links not fetched, by why: known (fetched by an earlier run), too_old, budget…"""

    @property
    def error_ratio(self) -> float:
        """errors / pages (0 when nothing was fetched)."""
        return self.errors / self.pages if self.pages else 0.0


@dataclass(frozen=True, slots=True)
class CrawlReport:
    """The outcome of one crawl run."""

    finish_reason: str
    responses: int
    sites: list[SiteSummary]
    problems: list[str]
    run_id: str = ""
    started: str = ""
    finished: str = ""
    log_file: str = ""
    report_file: str = ""
    recovery: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run finished normally and fetched something."""
        return not self.problems

    @property
    def interrupted(self) -> bool:
        """True when SIGTERM or Ctrl-C stopped the run (it flushed and can be resumed)."""
        return self.finish_reason in INTERRUPTED_FINISH

    @property
    def status(self) -> str:
        """``ok``, ``interrupted`` or ``failed``: what the JSON report and the exit status say."""
        if self.interrupted:
            return "interrupted"
        return "ok" if self.ok else "failed"

    def render(self) -> str:
        """The summary printed by ``localnews crawl``."""
        head = f"run {self.run_id}: " if self.run_id else ""
        lines = [f"{head}finish reason: {self.finish_reason}  responses: {self.responses}"]
        if self.recovery:
            lines.append("recovered from the last run: " + _counts(self.recovery))
        for s in self.sites:
            lines.append(
                f"{s.site}: pages {s.pages}  articles {s.articles}  errors {s.errors}  "
                f"not modified {s.not_modified}"
            )
            lines += [f"  rejected {reason}: {n}" for reason, n in sorted(s.rejected.items())]
            lines += [f"  failed {reason}: {n}" for reason, n in sorted(s.failed.items())]
            if s.skipped:
                lines.append("  skipped " + _counts(s.skipped))
        lines += [f"FAILED: {problem}" for problem in self.problems]
        if self.report_file:
            lines.append(f"report: {self.report_file}  log: {self.log_file}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The JSON run report (``<data>/logs/<run>.json``)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "finish_reason": self.finish_reason,
            "responses": self.responses,
            "problems": self.problems,
            "recovery": self.recovery,
            "log_file": self.log_file,
            "sites": {s.site: {**asdict(s), "error_ratio": s.error_ratio} for s in self.sites},
        }


def crawl_settings(
    options: CrawlOptions, run_id: str = "", log_file: Path | None = None
) -> Settings:
    """The project settings with the options' paths and overrides applied (cmdline priority)."""
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    if options.sites_file is not None:
        settings.set("NEWS_SITES_FILE", str(options.sites_file), priority="cmdline")
    settings.set("NEWS_DATA_DIR", str(options.data_dir), priority="cmdline")
    if run_id:
        settings.set("NEWS_RUN_ID", run_id, priority="cmdline")
    if log_file is not None:
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
    if options.time_budget is not None:
        settings.set("CLOSESPIDER_TIMEOUT", close_timeout(options.time_budget), priority="cmdline")
    for name, value in options.overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


class NoNetworkError(RuntimeError):
    """Not one site's host name resolves: there is no network (or no DNS) here."""


def check_network(hosts: Sequence[str], timeout: float = 10.0) -> None:
    """Fail fast, before Scrapy starts, when none of ``hosts`` resolves.

    Without this an offline run spends a minute on polite retries of every robots.txt
    before it can report that nothing was fetched.
    """
    if not hosts:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        futures = [pool.submit(socket.getaddrinfo, host, None) for host in hosts]
        done, _ = wait(futures, timeout=timeout)
    if not any(f.exception() is None for f in done):
        raise NoNetworkError(
            f"cannot resolve any of {len(hosts)} site host(s) (e.g. {hosts[0]}): no network or DNS"
        )


def run_crawl(options: CrawlOptions, *, lock: bool = True) -> CrawlReport:
    """Crawl the selected sites (all when none are named) as one job and report on it.

    Holds the data directory's lock for the whole run (``AlreadyRunning`` when another
    run has it; ``lock=False`` when the caller holds it already), logs to
    ``<data>/logs/<run>.log`` and writes the JSON report next to it.
    """
    install_redaction()  # before anything logs a URL or a setting (reliability X8)
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    held = job_lock(options.data_dir, run_id) if lock else contextlib.nullcontext()
    with held:
        files = run_files(options.data_dir, run_id)
        log_file = None if "LOG_FILE" in options.overrides else files.log
        settings = crawl_settings(options, run_id, log_file)
        sites = load_sites(Path(settings.get("NEWS_SITES_FILE")))
        selected = select_sites(sites, options.site_ids) if options.site_ids else sites
        check_network(sorted({urlsplit(site.url).hostname or "" for site in selected} - {""}))
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, site=",".join(s.id for s in selected))
        process.start()
        assert crawler.stats is not None
        result = report(
            crawler.stats.get_stats(),
            [s.id for s in selected],
            max_error_ratio=settings.getfloat("NEWS_MAX_ERROR_RATIO", 0.5),
            run_id=run_id,
            started=started,
            log_file=str(log_file or settings.get("LOG_FILE") or ""),
            report_file=str(files.report),
        )
        state = getattr(crawler, "news_state", None)
        try:
            if state is not None:
                state.finish_run(run_id, result.status, datetime.now(UTC))
                state.close()
            write_json_report(files.report, result.as_json())
        except (OSError, sqlite3.Error) as exc:  # a full disk must not hide the verdict
            logger.error("cannot record the end of run %s: %s", run_id, exc)
            result.problems.append(f"cannot record the end of the run ({exc})")
    return result


def report(
    stats: Mapping[str, Any],
    site_ids: Sequence[str],
    *,
    max_error_ratio: float = 0.5,
    run_id: str = "",
    started: datetime | None = None,
    log_file: str = "",
    report_file: str = "",
) -> CrawlReport:
    """Summarise the crawl stats per site and list what makes the run a failure."""
    finish = str(stats.get("finish_reason", "unknown"))
    responses = int(stats.get("response_received_count", 0))
    summaries = [_site_summary(stats, site) for site in site_ids]
    problems = []
    if finish not in GOOD_FINISH | INTERRUPTED_FINISH:
        problems.append(f"the crawl ended with {finish!r}")
    if responses == 0 and finish not in INTERRUPTED_FINISH:
        problems.append("nothing could be fetched (no network, or every site refused?)")
    if int(stats.get("log_count/ERROR", 0)) and not sum(s.pages for s in summaries):
        problems.append("errors were logged and no page was stored")
    item_errors = int(stats.get("news/item_errors", 0))
    if item_errors:
        problems.append(
            f"storing failed for {item_errors} page(s) (see the log); the next run recovers them"
        )
    for s in summaries:
        judged = s.pages >= MIN_PAGES_FOR_RATIO or (s.pages and s.errors == s.pages)
        if judged and s.error_ratio > max_error_ratio:
            problems.append(
                f"{s.site}: {s.errors} of {s.pages} fetches failed "
                f"({s.error_ratio:.0%} > {max_error_ratio:.0%})"
            )
    recovery = {
        k.removeprefix("news/recovery/"): int(v)
        for k, v in stats.items()
        if k.startswith("news/recovery/")
    }
    return CrawlReport(
        finish,
        responses,
        summaries,
        problems,
        run_id=run_id,
        started=started.isoformat(timespec="seconds") if started else "",
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        log_file=log_file,
        report_file=report_file,
        recovery=recovery,
    )


def _site_summary(stats: Mapping[str, Any], site: str) -> SiteSummary:
    prefix = f"news/{site}/"

    def by_reason(kind: str) -> dict[str, int]:
        start = f"{prefix}{kind}/"
        return {k[len(start) :]: int(v) for k, v in stats.items() if k.startswith(start)}

    failed = by_reason("failed")
    rejected = by_reason("rejected")
    # Pages that arrived with a 5xx or 429 are rejected rows (kept, with their status); they
    # count as errors as much as a refused connection does.
    server_errors = int(stats.get(f"{prefix}server_errors", 0))
    first, last = stats.get(f"{prefix}first_at"), stats.get(f"{prefix}last_at")
    return SiteSummary(
        site=site,
        pages=int(stats.get(f"{prefix}pages", 0)),
        articles=int(stats.get(f"{prefix}articles", 0)),
        rejected=rejected,
        failed=failed,
        errors=server_errors + sum(n for r, n in failed.items() if r not in POLICY_REASONS),
        bytes=int(stats.get(f"{prefix}bytes", 0)),
        seconds=round(float(last - first), 3) if first is not None and last is not None else 0.0,
        not_modified=int(stats.get(f"{prefix}not_modified", 0)),
        skipped=by_reason("skipped"),
    )


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
