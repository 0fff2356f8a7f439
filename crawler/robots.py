"""Fail-closed robots.txt: an unreachable robots.txt disallows the host; Crawl-delay is honoured."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_MAX_BYTES = 512 * 1024
DEFAULT_MAX_CRAWL_DELAY = 120.0


class RobotsDisallowed(IgnoreRequest):
    """robots.txt disallows the URL; the message starts with "robots:"."""

    outcome = "robots_disallowed"


class RobotsUnavailable(IgnoreRequest):
    """robots.txt could not be read (5xx, 429, timeout, network): the host is off limits."""

    outcome = "robots_unavailable"


class _DisallowAll(RobotParser):
    """Stands in for the parser of a host whose robots.txt could not be read."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> _DisallowAll:
        return cls("constructed from a body")  # pragma: no cover - interface completeness

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


def cap_body(body: bytes, limit: int) -> bytes:
    """The first `limit` bytes of a robots.txt, cut back to a whole line."""
    if len(body) <= limit:
        return body
    head = body[:limit]
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut >= 0 else head


def robots_verdict(status: int) -> str:
    """RFC 9309 §2.3.1: "parse" for 2xx, "allow" for other 4xx and 3xx, "disallow" otherwise."""
    if 200 <= status < 300:
        return "parse"
    if status == 429 or status >= 500:  # 429 is overload, like 5xx (Google does the same)
        return "disallow"
    return "allow"


def waiter_of(pending: Deferred[_T]) -> Deferred[_T]:
    """A Deferred of its own for one waiter on ``pending``, which keeps its result.

    Awaiting a shared Deferred directly is unsafe with several waiters: the adapter that
    ``asFuture`` adds returns None, so every later waiter would get None instead of the
    parser, and a None parser allows every URL. Several requests to one host wait for its
    robots.txt at once on any real crawl.
    """
    waiter: Deferred[_T] = Deferred()

    def pass_on(result: _T) -> _T:
        waiter.callback(result)
        return result

    pending.addCallback(pass_on)
    return waiter


class FailClosedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware that fails closed, caps robots.txt size and applies Crawl-delay.

    Replaces Scrapy's middleware at the same order (100). Settings:
    NEWS_ROBOTSTXT_MAX_BYTES (512 KiB) and NEWS_ROBOTSTXT_MAX_CRAWL_DELAY (120 s).
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self._max_bytes = settings.getint("NEWS_ROBOTSTXT_MAX_BYTES", DEFAULT_MAX_BYTES)
        self._max_delay = settings.getfloat(
            "NEWS_ROBOTSTXT_MAX_CRAWL_DELAY", DEFAULT_MAX_CRAWL_DELAY
        )
        self._crawl_delays: dict[str, float] = {}
        crawler.signals.connect(self._keep_crawl_delay, signal=signals.response_downloaded)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            await self._fetch_robots(request, netloc)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(waiter_of(parser))
        return parser

    async def _fetch_robots(self, request: Request, netloc: str) -> None:
        url = urlparse_cached(request)
        robots_request = Request(
            f"{url.scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True, "news_kind": "robots"},
            callback=NO_CALLBACK,
        )
        parser: RobotParser
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except Exception as exc:
            parser = self._fail_closed(netloc, f"{type(exc).__name__}: {exc}", exc)
        else:
            parser = await self._parser_for(response, netloc, request)
        self._stats.inc_value("robotstxt/request_count")
        pending = self._parsers[netloc]
        self._parsers[netloc] = parser
        assert isinstance(pending, Deferred)
        pending.callback(parser)

    async def _parser_for(self, response: Response, netloc: str, request: Request) -> RobotParser:
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        verdict = robots_verdict(response.status)
        if verdict == "disallow":
            return self._fail_closed(netloc, f"HTTP {response.status}", None)
        body = response.body if verdict == "parse" else b""
        if len(body) > self._max_bytes:
            self._stats.inc_value("robotstxt/truncated")
            logger.info(
                "robots.txt of %s is %d bytes; parsing the first %d",
                netloc,
                len(body),
                self._max_bytes,
            )
            body = cap_body(body, self._max_bytes)
        parser = build_from_crawler(self._parserimpl, self.crawler, body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        self._apply_crawl_delay(parser, request)
        return parser

    def _fail_closed(self, netloc: str, reason: str, exc: Exception | None) -> RobotParser:
        if exc is not None and not isinstance(exc, IgnoreRequest):
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._stats.inc_value("robotstxt/fail_closed")
        logger.warning(
            "robots.txt of %s unavailable (%s): disallowing the whole host for this run",
            netloc,
            reason,
        )
        return _DisallowAll(reason)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, _DisallowAll):
            self._stats.inc_value("robotstxt/unavailable")
            raise RobotsUnavailable(f"robots: robots.txt unavailable ({rp.reason}): {request.url}")
        if rp is None:
            return
        useragent: str | bytes | None = self._robotstxt_useragent
        if not useragent:
            useragent = request.headers.get(b"User-Agent", self._default_useragent)
            assert useragent is not None
        if not rp.allowed(request.url, useragent):
            self._stats.inc_value("robotstxt/forbidden")
            logger.debug("Forbidden by robots.txt: %s", request)
            raise RobotsDisallowed(f"robots: disallowed by robots.txt: {request.url}")

    def _useragent(self) -> str:
        return str(self._robotstxt_useragent or self._default_useragent)

    def _apply_crawl_delay(self, parser: RobotParser, request: Request) -> None:
        crawl_delay = getattr(parser, "crawl_delay", None)
        delay = crawl_delay(self._useragent()) if callable(crawl_delay) else None
        if not delay or delay <= 0:
            return
        capped = min(float(delay), self._max_delay)
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        self._crawl_delays[key] = max(capped, self._crawl_delays.get(key, 0.0))
        self._stats.set_value(f"robotstxt/crawl_delay/{key}", capped)
        # New slots (also after the downloader's idle-slot cleanup) start with the delay...
        slot_settings = downloader.per_slot_settings.setdefault(key, {})
        slot_settings["delay"] = max(float(slot_settings.get("delay", 0.0)), capped)
        slot_settings["jitter"] = 0.0
        # ...and an existing slot gets it now.
        self._floor_slot(key)
        logger.info("Crawl-delay %.1f s for %s (robots.txt says %s)", capped, key, delay)

    def _floor_slot(self, key: str) -> None:
        slot = self.crawler.engine.downloader.slots.get(key)
        delay = self._crawl_delays.get(key)
        if slot is not None and delay is not None:
            # Crawl-delay is a minimum: no jitter below it, no AutoThrottle below it.
            slot.jitter = 0.0
            slot.delay = max(slot.delay, delay)

    def _keep_crawl_delay(self, response: Response, request: Request, spider: Spider) -> None:
        # Runs after AutoThrottle's handler (extensions connect first) on every response.
        key = request.meta.get("download_slot")
        if isinstance(key, str):
            self._floor_slot(key)
