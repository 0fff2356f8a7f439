"""The one generic news spider: discovers articles of the configured sites and yields raw pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from crawler.classify import page_kind
from crawler.discovery import (
    DiscoveryError,
    Link,
    is_archive_link,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
    within_horizon,
)
from crawler.frontier import Frontier
from crawler.items import FetchedPage, FetchFailure
from crawler.retry import status_outcome
from crawler.sites import Site, load_sites, select_sites
from crawler.state import CrawlState, RefetchPolicy, Validators, run_id_of, state_of
from crawler.urls import canonicalize, is_path_trap

# Outlinks followed per listing page (Nutch caps at 100; reliability T9).
MAX_OUTLINKS = 200
DEFAULT_FRONTIER_BATCH = 16
"""Article requests released per site each time the scheduler runs dry (NEWS_FRONTIER_BATCH)."""
_ERROR_STATUSES = list(range(400, 600))


class NewsSpider(scrapy.Spider):
    """``scrapy crawl news -a site=ID[,ID…]``: sitemaps, feeds, sections → FetchedPage items.

    It routes and never parses article text: every fetched page is yielded raw, with
    discovery hints (feed/sitemap dates, the page kind), and every failed or refused URL
    is yielded as a FetchFailure, so each one leaves a row. Article links wait in a
    ``Frontier`` and become requests a batch at a time, so memory does not grow with the
    size of a site's sitemaps.
    """

    name = "news"

    def __init__(self, site: str = "", sites_file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site_ids = [s for s in site.split(",") if s]
        self.sites_file = sites_file
        self.sites: list[Site] = []
        self.allowed_domains: list[str] = []  # OffsiteMiddleware reads it
        self.scheduled: Counter[str] = Counter()
        self.now = datetime.now(UTC)
        self.frontier = Frontier(DEFAULT_FRONTIER_BATCH)
        self.state: CrawlState | None = None
        self.policy = RefetchPolicy()
        self.depth_limit = 0  # DEPTH_LIMIT, applied to listing links that enter the frontier
        # Validators of feeds, sitemaps and sections seen this run; stored at the end only for
        # sites whose links were all fetched, so an interrupted run never hides a link behind
        # a 304 next time.
        self.fresh_validators: dict[str, list[tuple[str, Validators]]] = {}
        self.unfinished: set[str] = set()  # sites that hit their page budget

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """Load and select the sites named by ``-a site=`` from the sites file."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        path = Path(spider.sites_file or crawler.settings.get("NEWS_SITES_FILE"))
        sites = load_sites(path)
        spider.sites = select_sites(sites, spider.site_ids) if spider.site_ids else sites
        spider.allowed_domains = sorted({d for s in spider.sites for d in s.allowed_domains})
        batch = crawler.settings.getint("NEWS_FRONTIER_BATCH", DEFAULT_FRONTIER_BATCH)
        spider.frontier = Frontier(batch)
        spider.depth_limit = crawler.settings.getint("DEPTH_LIMIT", 0)
        if crawler.settings.getbool("NEWS_INCREMENTAL", True):
            spider.state = state_of(crawler)
        spider.policy = RefetchPolicy(
            recheck_days=crawler.settings.getfloat("NEWS_RECHECK_DAYS", 2.0),
            recheck_hours=crawler.settings.getfloat("NEWS_RECHECK_HOURS", 12.0),
            max_attempts=crawler.settings.getint("NEWS_MAX_ATTEMPTS", 3),
        )
        crawler.signals.connect(spider.release_links, signal=signals.scheduler_empty)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    def release_links(self) -> int:
        """Schedule the next batch of waiting article links; the number scheduled."""
        released = self.frontier.release()
        for pending in released:
            request = self._page_request(pending.link, pending.site, pending.depth)
            assert self.crawler.engine is not None
            self.crawler.engine.crawl(request)
        return len(released)

    def request_dropped(self, request: Request) -> None:
        """A redirect to a URL the crawl already requested still leaves a row.

        Scrapy's duplicate filter drops the followed request without an errback, so the 3xx
        page that was fetched would vanish (reliability T4); its row names the target,
        whose own request gives the target its row.
        """
        redirects = request.meta.get("redirect_urls")
        site = request.cb_kwargs.get("site") if request.cb_kwargs else None
        if not redirects or not isinstance(site, Site):
            return
        looped = request.url in redirects
        reason = "redirect_loop" if looped else "redirect_to_seen"
        detail = f"redirected to {request.url}, " + (
            "which the chain had visited" if looped else "which this crawl requests on its own"
        )
        assert self.crawler.engine is not None
        scraper = self.crawler.engine.scraper
        item = self._failure(site, redirects[0], reason, detail)
        deferred_from_coro(scraper.start_itemproc_async(item, response=None))

    def closed(self, reason: str) -> None:
        """Store validators and backfill marks of the sites this run worked through."""
        if self.state is None or reason != "finished":
            return
        run_id = run_id_of(self.crawler)
        now = datetime.now(UTC)
        done = [
            s for s in self.sites if s.id not in self.unfinished and not self.frontier.waiting(s.id)
        ]
        entries = [(url, s.id, v) for s in done for url, v in self.fresh_validators.get(s.id, [])]
        self.state.save_validators(entries, now)
        for site in done:
            self.state.mark_site_completed(site.id, run_id, now)

    def spider_idle(self) -> None:
        """Keep the spider open while the frontier still holds links."""
        if self.release_links():
            raise DontCloseSpider

    async def start(self) -> AsyncIterator[Any]:
        """Robots sitemaps, configured sitemaps and feeds, then sections and the home page."""
        for site in self.sites:
            yield self._request(urljoin(site.url, "/robots.txt"), site, self.parse_robots, "robots")
            for url in site.sitemaps:
                yield self._request(url, site, self.parse_sitemap, "sitemap")
            for url in site.feeds:
                yield self._request(url, site, self.parse_feed, "feed")
            for url in (site.url, *site.start_urls):
                if self._take_budget(site):
                    yield self._listing_request(url, site)
            if self.state is not None:
                # Retries and re-checks: their feeds may answer 304 and never list them again.
                for url in self.state.due(site.id, self.now, self.policy):
                    if not self._take_budget(site):
                        break
                    self.frontier.add(site, Link(url=url, source="recheck"), 1)
                    self.crawler.stats.inc_value(f"news/{site.id}/due")

    def parse_robots(self, response: Response, site: Site) -> Iterator[Request]:
        """Follow the ``Sitemap:`` lines of robots.txt."""
        if response.status == 200:
            for url in sitemaps_from_robots(response.text, response.url):
                yield self._request(url, site, self.parse_sitemap, "sitemap")

    def parse_sitemap(self, response: Response, site: Site) -> Iterator[Any]:
        """Nested sitemaps and article links of a sitemap (index, news, gzip)."""
        if self._not_modified(response, site):
            return
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except DiscoveryError as exc:
            yield self._failure(site, response.url, "bad_sitemap", str(exc), response.status)
            return
        if sitemap.sitemaps:
            # An index can stay byte-identical while the sitemaps it names change (no
            # <lastmod>): fetch it every run, and let its children answer 304 instead.
            self._drop_validators(site, response)
        for url in sitemap.sitemaps:
            yield self._request(url, site, self.parse_sitemap, "sitemap")
        for link in sitemap.links:
            self._queue_article(link, site, response)

    def parse_feed(self, response: Response, site: Site) -> Iterator[Any]:
        """Article links of an RSS/Atom feed, with their dates as hints."""
        if self._not_modified(response, site):
            return
        try:
            links = parse_feed(response.body, response.url)
        except DiscoveryError as exc:
            yield self._failure(site, response.url, "bad_feed", str(exc), response.status)
            return
        for link in links:
            self._queue_article(link, site, response)

    def parse_page(self, response: Response, site: Site, hints: dict[str, str]) -> Iterator[Any]:
        """Yield the page raw; when it is a listing, follow its article and archive links."""
        if hints.get("page_kind") == "listing" and self._not_modified(response, site):
            return  # a section unchanged since the last run: nothing new behind it
        text = response.text if response.status < 400 and _is_html(response) else ""
        kind = page_kind(response.url, text, site.is_article_url(response.url)) if text else ""
        if hints.get("page_kind") == "listing" or kind == "listing":
            kind = "listing"
        yield self._fetched(response, site, {**hints, "page_kind": kind} if kind else hints)
        if kind == "listing":
            yield from self._follow(response, site)

    def failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """Record why a request produced no page (robots, offsite redirect, network…)."""
        request = failure.request  # type: ignore[attr-defined]
        site: Site = request.cb_kwargs["site"]
        error = failure.value
        message = str(error)
        outcome = getattr(error, "outcome", None)  # set by our middlewares (robots, guard, …)
        status = None
        if isinstance(outcome, str):
            reason = outcome
        elif _over_max_size(error):
            reason = "too_large"
        elif isinstance(error, HttpError):  # a sitemap, feed or robots.txt answered 4xx/5xx
            status = error.response.status
            reason = status_outcome(status)
        elif isinstance(error, IgnoreRequest):
            if "robots" in message.lower():
                reason = "robots_disallowed"
            elif "offsite" in message.lower() or "Filtered offsite" in message:
                reason = "offsite_redirect"
            elif "redirect" in message.lower():
                reason = "redirect_limit"
            else:
                reason = "ignored"
        else:
            reason = getattr(error, "news_reason", None) or "fetch_error"
        # A refused redirect hop is recorded under the URL the crawl asked for.
        first = request.meta.get("redirect_urls", [request.url])[0]
        detail = f"{type(error).__name__}: {message}"
        if first != request.url:
            detail += f" (redirected to {request.url})"
        yield self._failure(site, first, reason, detail, status)

    def _follow(self, response: Response, site: Site) -> Iterator[Any]:
        seen: set[str] = set()
        archive: list[str] = []
        new = 0
        for anchor in response.css("a[href]")[: MAX_OUTLINKS * 5]:
            url = canonicalize(response.urljoin(anchor.attrib["href"]))
            if url in seen or not site.allows(url):
                continue
            if is_path_trap(url):
                self.crawler.stats.inc_value(f"news/{site.id}/skipped/path_trap")
                continue
            seen.add(url)
            if len(seen) > MAX_OUTLINKS:
                break
            anchor_text = " ".join(anchor.css("::text").getall()).strip()
            if is_archive_link(url, anchor_text):
                archive.append(url)
            elif site.is_article_url(url) is not False:
                new += self._queue_article(Link(url=url, source="listing"), site, response)
        # Older archive pages list older articles: once a site's backfill is done, a page
        # with nothing new ends the walk (the incremental crawl's main saving).
        if not new and self.state is not None and self.state.site_completed(site.id):
            self.crawler.stats.inc_value(f"news/{site.id}/skipped/archive_unchanged", len(archive))
            return
        for url in archive:
            if not self._take_budget(site):
                return
            yield self._listing_request(url, site)

    def _queue_article(self, link: Link, site: Site, found_on: Response) -> bool:
        """Put an article link into the frontier unless offsite, too old, known or over budget.

        True when it was queued.
        """
        url = canonicalize(link.url)
        if not site.allows(url):
            self.crawler.stats.inc_value(f"news/{site.id}/skipped/offsite")
            return False
        if not within_horizon(link.published, self.now, site.max_age_days):
            self.crawler.stats.inc_value(f"news/{site.id}/skipped/too_old")
            return False
        if self.state is not None and not self.state.should_fetch(url, self.now, self.policy):
            self.crawler.stats.inc_value(f"news/{site.id}/skipped/known")
            return False
        # The depth its request would have had, had the page yielded it. Frontier requests
        # reach the engine directly, past DepthMiddleware, so a listing's links are checked
        # here; otherwise a page linking "next month" that looks like an article would walk
        # a calendar without end (reliability T1). Sitemap and feed links are exempt: the
        # depth of nested sitemap indexes says nothing about a trap.
        depth = found_on.meta.get("depth", 0) + 1
        if link.source == "listing" and self.depth_limit and depth > self.depth_limit:
            self.crawler.stats.inc_value(f"news/{site.id}/skipped/depth")
            return False
        if not self._take_budget(site):
            return False
        self.frontier.add(site, replace(link, url=url), depth)
        return True

    def _page_request(self, link: Link, site: Site, depth: int) -> Request:
        hints = {"source": link.source} if link.source else {}
        if link.published:
            hints["published"] = link.published
        if link.title:
            hints["title"] = link.title
        request = self._request(link.url, site, self.parse_page, "page", hints)
        request.meta["depth"] = depth
        return request

    def _listing_request(self, url: str, site: Site) -> Request:
        return self._request(url, site, self.parse_page, "page", {"page_kind": "listing"})

    def _take_budget(self, site: Site) -> bool:
        """Count one page request against the site's ``max_pages``; False once it is used up."""
        if site.max_pages is not None and self.scheduled[site.id] >= site.max_pages:
            self.crawler.stats.inc_value(f"news/{site.id}/skipped/budget")
            self.unfinished.add(site.id)
            return False
        self.scheduled[site.id] += 1
        return True

    def _request(
        self,
        url: str,
        site: Site,
        callback: Any,
        kind: str,
        hints: dict[str, str] | None = None,
    ) -> Request:
        kwargs: dict[str, Any] = {"site": site}
        if callback == self.parse_page:
            kwargs["hints"] = hints or {}
        listing = kind in ("sitemap", "feed") or (hints or {}).get("page_kind") == "listing"
        headers = self._conditional_headers(url) if listing else {}
        return Request(
            url,
            callback=callback,
            errback=self.failed,
            cb_kwargs=kwargs,
            headers=headers,
            # Error pages reach parse_page and leave a row; 3xx stay with RedirectMiddleware
            # (handle_httpstatus_all would switch redirects off); 304 answers a conditional GET.
            meta={
                "news_kind": kind,
                "handle_httpstatus_list": (_ERROR_STATUSES if kind == "page" else [])
                + ([304] if headers else []),
            },
            dont_filter=False,
        )

    def _conditional_headers(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the validators a finished run stored."""
        stored = self.state.validators(url) if self.state is not None else None
        headers = {}
        if stored and stored.etag:
            headers["If-None-Match"] = stored.etag
        if stored and stored.last_modified:
            headers["If-Modified-Since"] = stored.last_modified
        return headers

    def _drop_validators(self, site: Site, response: Response) -> None:
        asked = _asked_url(response)
        entries = self.fresh_validators.get(site.id, [])
        self.fresh_validators[site.id] = [(url, v) for url, v in entries if url != asked]

    def _not_modified(self, response: Response, site: Site) -> bool:
        """True for a 304 (counted); otherwise remember the response's validators."""
        if response.status == 304:
            self.crawler.stats.inc_value(f"news/{site.id}/not_modified")
            return True
        if self.state is not None and response.status == 200:
            etag = _header(response, b"ETag")
            modified = _header(response, b"Last-Modified")
            if etag or modified:
                entry = (_asked_url(response), Validators(etag, modified))
                self.fresh_validators.setdefault(site.id, []).append(entry)
        return False

    def _fetched(self, response: Response, site: Site, hints: dict[str, str]) -> FetchedPage:
        redirects = response.request.meta.get("redirect_urls", []) if response.request else []
        return FetchedPage(
            site=site.id,
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            headers=_pairs(response.headers),
            fetched_at=datetime.now(UTC),
            body=response.body,
            hints=hints,
            request_headers=_pairs(response.request.headers) if response.request else (),
        )

    def _failure(
        self, site: Site, url: str, reason: str, detail: str, status: int | None = None
    ) -> FetchFailure:
        return FetchFailure(site.id, url, reason, detail, datetime.now(UTC), status)


def _over_max_size(error: BaseException | None) -> bool:
    """True when Scrapy gave up a download at DOWNLOAD_MAXSIZE (F1–F4).

    Scrapy cancels a download only for its size: before the body when Content-Length is
    over the max, or once the received bytes pass it (a timeout's cancel becomes a
    DownloadTimeoutError). A compression bomb is refused while decompressing, as an
    IgnoreRequest that names the setting.
    """
    if isinstance(error, DownloadCancelledError):
        return True
    return isinstance(error, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(error)


def _pairs(headers: Any) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    )


def _asked_url(response: Response) -> str:
    """The URL the spider requested (before redirects): what validators are stored under."""
    redirects = response.request.meta.get("redirect_urls") if response.request else None
    return str(redirects[0]) if redirects else response.url


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _is_html(response: Response) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    return "html" in content_type or not content_type
