"""Per-host circuit breaker: a host that keeps failing to connect is left alone (F10)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.error import TimeoutError as TxTimeoutError

from crawler.retry import engine_of

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

DEFAULT_FAILURES = 5  # Nutch's default
DEFAULT_COOLDOWN = 600.0
# Connection-level failures only (refused, timeout, DNS): a host that answers, even with
# 5xx, is up, and a response that broke off is the page's problem, not the host's.
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    DNSLookupError,
    ConnectError,
    TxTimeoutError,
)


def host_key(request: Request) -> str:
    """The host a request goes to, as ``host[:port]`` without user info, lower-cased."""
    return urlparse_cached(request).netloc.rpartition("@")[2].lower()


@dataclass(slots=True)
class _HostState:
    failures: int = 0
    opened_at: float | None = None


class Breaker:
    """Consecutive connection failures per host: open at ``threshold``, one probe per cool-down.

    A ``cooldown`` of 0 or less keeps an open breaker open for the rest of the run.
    """

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._hosts: dict[str, _HostState] = {}

    def is_open(self, host: str) -> bool:
        """True while requests to ``host`` are refused (also during a probe)."""
        state = self._hosts.get(host)
        return state is not None and state.opened_at is not None

    def failures(self, host: str) -> int:
        """Consecutive connection failures of ``host`` so far."""
        state = self._hosts.get(host)
        return 0 if state is None else state.failures

    def allow(self, host: str, now: float) -> bool:
        """Whether a request to ``host`` may go out at ``now``."""
        state = self._hosts.get(host)
        if state is None or state.opened_at is None:
            return True
        if self.cooldown > 0 and now - state.opened_at >= self.cooldown:
            # This request is the probe. Re-arming the timer refuses the others meanwhile and
            # lets another probe through later should this one never report back.
            state.opened_at = now
            return True
        return False

    def failure(self, host: str, now: float) -> bool:
        """Count a connection failure; True when it opened the breaker."""
        state = self._hosts.setdefault(host, _HostState())
        state.failures += 1
        if state.opened_at is not None:
            state.opened_at = now  # a failed probe (or a late failure) restarts the cool-down
            return False
        if state.failures >= self.threshold:
            state.opened_at = now
            return True
        return False

    def success(self, host: str) -> bool:
        """The host answered: forget its failures; True when that closed an open breaker."""
        state = self._hosts.pop(host, None)
        return state is not None and state.opened_at is not None


class HostUnavailable(IgnoreRequest):
    """A request refused without a download because its host's breaker is open."""

    outcome = "host_unavailable"


class HostBreakerMiddleware:
    """Refuse requests to a host after NEWS_BREAKER_FAILURES connection failures in a row.

    Order 555, just above the retry middleware (550): process_exception runs from the highest
    order down, so this counts each failed attempt before it becomes a retry. Any response
    resets the count (signal ``response_downloaded``, so redirects and errors count too). When
    the breaker opens, requests already waiting in the downloader's queue for that host are
    refused as well; each refusal reaches the errback as HostUnavailable, so it leaves a row.
    One request more than the threshold can still connect: the downloader starts the next
    queued request the moment a transfer fails, before any middleware sees the failure, when
    the failure took longer than the slot's delay (a timeout, with DOWNLOAD_DELAY below it).
    After NEWS_BREAKER_COOLDOWN seconds one probe is let through (0: never, for this run).
    Stats: ``news/breaker/open/<host>``, ``news/breaker/refused``.
    """

    def __init__(
        self, crawler: Crawler, breaker: Breaker, clock: Callable[[], float] = time.monotonic
    ) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.breaker = breaker
        self.clock = clock

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        threshold = settings.getint("NEWS_BREAKER_FAILURES", DEFAULT_FAILURES)
        if threshold <= 0:
            raise NotConfigured("NEWS_BREAKER_FAILURES is 0")
        breaker = Breaker(threshold, settings.getfloat("NEWS_BREAKER_COOLDOWN", DEFAULT_COOLDOWN))
        middleware = cls(crawler, breaker)
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def process_request(self, request: Request) -> None:
        """Raise HostUnavailable while the request's host is refused."""
        host = host_key(request)
        if not self.breaker.allow(host, self.clock()):
            raise self._refusal(host, request)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Count connection failures; never handles the exception itself."""
        if not isinstance(exception, CONNECTION_FAILURES):
            return
        host = host_key(request)
        if self.breaker.failure(host, self.clock()):
            self.stats.inc_value(f"news/breaker/open/{host}")
            logger.warning(
                "Circuit breaker open for %s after %d connection failures in a row (last: %s)",
                host,
                self.breaker.failures(host),
                type(exception).__name__,
            )
        if self.breaker.is_open(host):
            self._refuse_queued(host)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        """Signal handler: the host answered, so its failures start from zero again."""
        host = host_key(request)
        if self.breaker.success(host):
            logger.info("Circuit breaker closed for %s: it answers again", host)

    def _refusal(self, host: str, request: Request) -> HostUnavailable:
        self.stats.inc_value("news/breaker/refused")
        return HostUnavailable(
            f"breaker: {host} failed to connect {self.breaker.failures(host)} times in a row; "
            f"not contacted: {request.url}"
        )

    def _refuse_queued(self, host: str) -> None:
        engine = engine_of(self.crawler)
        if engine is None:
            return
        # Requests in a slot's queue passed process_request before the breaker opened; they
        # would still connect one by one. Slot.queue holds (request, deferred) pairs that the
        # downloader awaits; failing a deferred fails that download like a network error.
        refused = []
        for slot in engine.downloader.slots.values():
            keep = [entry for entry in slot.queue if host_key(entry[0]) != host]
            if len(keep) < len(slot.queue):
                refused += [entry for entry in slot.queue if host_key(entry[0]) == host]
                slot.queue.clear()
                slot.queue.extend(keep)
        # Fail them only after the queues are consistent: errbacks may run synchronously.
        for request, deferred in refused:
            deferred.errback(self._refusal(host, request))
