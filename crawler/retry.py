"""Retries with exponential backoff and Retry-After that slow the host instead of hammering it."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from scrapy.utils.response import response_status_message
from twisted.internet.error import TCPTimedOutError
from twisted.internet.error import TimeoutError as TxTimeoutError

if TYPE_CHECKING:
    from typing import Self

    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF_BASE = 2.0
DEFAULT_BACKOFF_MAX = 60.0
DEFAULT_BACKOFF_JITTER = 0.5
DEFAULT_RETRY_AFTER_MAX = 120.0
RETRY_AT = "news_retry_at"
"""Request meta: Unix time before which a retry must not be sent."""
RETRY_REASON = "news_retry_reason"
"""Request meta: reason code of the failure that caused the retry."""
# Gone means gone (F13): never retried, whatever RETRY_HTTP_CODES says.
NEVER_RETRIED = frozenset({404, 410})
# A waiting request re-checks this often whether the spider is closing.
_POLL_SECONDS = 1.0
_DELAY_SECONDS = re.compile(r"\d+(?:\.\d*)?")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: retry n waits base·2^(n-1) s, capped at maximum, less random jitter."""

    base: float = DEFAULT_BACKOFF_BASE
    maximum: float = DEFAULT_BACKOFF_MAX
    jitter: float = DEFAULT_BACKOFF_JITTER
    """Fraction of each delay that is random ("equal jitter" at 0.5); 0 makes delays exact."""

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        full = min(self.maximum, self.base * 2.0 ** min(max(attempt - 1, 0), 60))
        return max(0.0, full * (1.0 - self.jitter * rand()))


def retry_after_seconds(
    value: bytes | str | None, now: datetime, date: bytes | str | None = None
) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or HTTP-date); None if absent or bad.

    An HTTP-date is measured from the response's own Date header when it has a valid one,
    so a server whose clock is off still gets the wait it asked for.
    """
    text = _text(value)
    if not text:
        return None
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(_text(date)) or now
    return max(0.0, (when - reference).total_seconds())


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return (value or "").strip()


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def status_outcome(status: int) -> str:
    """Reason code for a failed HTTP status, using the crawl state's retryable reasons."""
    if status == 429:
        return "http_429"
    if status == 408:
        return "timeout"
    if status in NEVER_RETRIED:
        return "gone"
    return "http_5xx" if status >= 500 else f"http_{status}"


def exception_outcome(exception: BaseException) -> str:
    """Reason code for a failed download: ``timeout`` or ``fetch_error`` (DNS, refused, lost)."""
    timeouts = (DownloadTimeoutError, TxTimeoutError, TCPTimedOutError)
    return "timeout" if isinstance(exception, timeouts) else "fetch_error"


class RetriesExhausted(Exception):
    """A download failed on every attempt; ``outcome`` is the reason its row records."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class RetryCancelled(IgnoreRequest):
    """A request still waiting for its backoff when the spider closed; it was not sent."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class HostPauses:
    """Until when each downloader slot (host) must not be contacted, and why."""

    def __init__(self) -> None:
        self._until: dict[str, tuple[float, str]] = {}

    def pause(self, key: str, until: float, reason: str) -> None:
        """Hold ``key`` until ``until`` (Unix time) unless it is already held longer."""
        current = self._until.get(key)
        if current is None or until > current[0]:
            self._until[key] = (until, reason)

    def held(self, key: str, now: float) -> tuple[float, str] | None:
        """(until, reason) while ``key`` is held at ``now``, else None."""
        entry = self._until.get(key)
        if entry is not None and entry[0] <= now:
            del self._until[key]
            return None
        return entry


def engine_of(crawler: Crawler) -> ExecutionEngine | None:
    """The crawler's engine, or None before the crawl starts (Scrapy raises RuntimeError)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None


async def reactor_sleep(seconds: float) -> None:
    """Wait ``seconds`` without blocking the reactor."""
    from twisted.internet import reactor, task

    await maybe_deferred_to_future(task.deferLater(reactor, seconds))


class BackoffRetryMiddleware:
    """Scrapy's RetryMiddleware with exponential backoff and Retry-After (F11, F12, F17).

    Replaces it at the same order (550) and reads its settings (RETRY_ENABLED, RETRY_TIMES,
    RETRY_HTTP_CODES, RETRY_EXCEPTIONS, RETRY_PRIORITY_ADJUST, RETRY_GIVE_UP_LOG_LEVEL), plus
    NEWS_RETRY_BACKOFF_BASE, NEWS_RETRY_BACKOFF_MAX, NEWS_RETRY_BACKOFF_JITTER and
    NEWS_RETRY_AFTER_MAX. Scrapy 2.19 has no per-request delay, so a retry is returned at once
    carrying the time it may be sent (meta ``news_retry_at``); ``process_request`` then waits
    on the reactor, and so does every other request to the same downloader slot, which slows
    the host. A Retry-After above the cap is not waited for: the response is handed on.
    When retries run out, an error response is handed on as in stock Scrapy (pages keep a row
    with their status); a failed download becomes RetriesExhausted with a retryable outcome.
    """

    def __init__(
        self,
        crawler: Crawler,
        backoff: Backoff,
        retry_after_max: float,
        sleep: Sleep = reactor_sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings = crawler.settings
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.backoff = backoff
        self.retry_after_max = retry_after_max
        self.codes = frozenset(int(c) for c in settings.getlist("RETRY_HTTP_CODES")) - NEVER_RETRIED
        self.exceptions = tuple(load_object(e) for e in settings.getlist("RETRY_EXCEPTIONS"))
        self.max_retry_times = settings.getint("RETRY_TIMES")
        self.priority_adjust = settings.getint("RETRY_PRIORITY_ADJUST")
        self.give_up_log_level = settings["RETRY_GIVE_UP_LOG_LEVEL"]
        self.pauses = HostPauses()
        self.sleep = sleep
        self.clock = clock

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("RETRY_ENABLED is off")
        backoff = Backoff(
            settings.getfloat("NEWS_RETRY_BACKOFF_BASE", DEFAULT_BACKOFF_BASE),
            settings.getfloat("NEWS_RETRY_BACKOFF_MAX", DEFAULT_BACKOFF_MAX),
            settings.getfloat("NEWS_RETRY_BACKOFF_JITTER", DEFAULT_BACKOFF_JITTER),
        )
        return cls(
            crawler, backoff, settings.getfloat("NEWS_RETRY_AFTER_MAX", DEFAULT_RETRY_AFTER_MAX)
        )

    async def process_request(self, request: Request) -> None:
        """Hold the request until its own retry time and its host's pause have passed."""
        key = self._slot_key(request)
        while True:
            now = self.clock()
            until = float(request.meta.get(RETRY_AT, 0.0))
            reason = str(request.meta.get(RETRY_REASON, ""))
            held = self.pauses.held(key, now)
            if held is not None and held[0] > until:
                until, reason = held[0], reason or held[1]
            if until <= now:
                return
            if self._closing():
                self.stats.inc_value("news/retry/cancelled")
                raise RetryCancelled(
                    reason or "fetch_error",
                    f"retry: not sent, the spider closed while it waited ({reason}): {request.url}",
                )
            await self.sleep(min(_POLL_SECONDS, until - now))

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Schedule a delayed retry for a retryable status, honouring Retry-After."""
        if request.meta.get("dont_retry") or response.status not in self.codes:
            return response
        reason = status_outcome(response.status)
        asked = retry_after_seconds(
            response.headers.get(b"Retry-After"), datetime.now(UTC), response.headers.get(b"Date")
        )
        if asked is not None:
            # The server asked the whole host to wait, not only this URL.
            self._pause_host(request, min(asked, self.retry_after_max), reason)
            if asked > self.retry_after_max:
                self.stats.inc_value("news/retry/retry_after_too_long")
                logger.warning(
                    "Not retrying %s: Retry-After %.0f s is above NEWS_RETRY_AFTER_MAX (%.0f s)",
                    request.url,
                    asked,
                    self.retry_after_max,
                )
                return response
        retry = self._retry_request(request, response_status_message(response.status))
        if retry is None:
            self.stats.inc_value(f"news/retry/gave_up/{reason}")
            return response
        return self._schedule(retry, reason, asked)

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        """Schedule a delayed retry for a network failure; RetriesExhausted once none is left."""
        if not isinstance(exception, self.exceptions) or request.meta.get("dont_retry"):
            return None
        reason = exception_outcome(exception)
        retry = self._retry_request(request, exception)
        if retry is not None:
            return self._schedule(retry, reason, None)
        self.stats.inc_value(f"news/retry/gave_up/{reason}")
        attempts = int(request.meta.get("retry_times", 0)) + 1
        raise RetriesExhausted(
            reason,
            f"retry: gave up after {attempts} attempts: {type(exception).__name__}: {exception}",
        ) from exception

    def _retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        # As RetryMiddleware._retry: the per-request meta keys win over the settings.
        assert self.crawler.spider is not None
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )

    def _schedule(self, retry: Request, reason: str, asked: float | None) -> Request:
        delay = self.backoff.delay(int(retry.meta["retry_times"]))
        if asked is not None:
            delay = max(delay, asked)
        retry.meta[RETRY_AT] = self.clock() + delay
        retry.meta[RETRY_REASON] = reason
        self._pause_host(retry, delay, reason)
        self.stats.max_value("news/retry/max_delay", round(delay, 3))
        logger.debug("Retrying %s in %.2f s (%s)", retry.url, delay, reason)
        return retry

    def _pause_host(self, request: Request, seconds: float, reason: str) -> None:
        key = self._slot_key(request)
        now = self.clock()
        self.pauses.pause(key, now + seconds, reason)
        engine = engine_of(self.crawler)
        slot = engine.downloader.slots.get(key) if engine is not None else None
        if slot is not None:
            # Requests already queued in the slot never pass process_request again. The slot
            # spaces requests by "delay after lastseen"; moving lastseen forward holds its queue
            # too (this needs a slot delay, which DOWNLOAD_DELAY or AutoThrottle always give).
            slot.lastseen = max(slot.lastseen, time.monotonic() + seconds)

    def _slot_key(self, request: Request) -> str:
        engine = engine_of(self.crawler)
        if engine is None:  # not crawling (unit tests): the key the downloader would use
            return str(request.meta.get("download_slot") or urlparse_cached(request).hostname)
        return engine.downloader.get_slot_key(request)

    def _closing(self) -> bool:
        engine = engine_of(self.crawler)
        if engine is None or not engine.running:
            return True
        # Scrapy has no public "closing" flag; its engine slot gets one when close_spider
        # starts (CLOSESPIDER_TIMEOUT, shutdown), and waits for requests like this one.
        engine_slot = getattr(engine, "_slot", None)
        return engine_slot is None or getattr(engine_slot, "closing", None) is not None
