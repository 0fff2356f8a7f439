"""Retries with backoff and Retry-After (reliability F11, F12, F13, F17), unit and end to end."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
from scrapy.http import Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.retry import (
    RETRY_AT,
    Backoff,
    BackoffRetryMiddleware,
    HostPauses,
    RetriesExhausted,
    RetryCancelled,
    exception_outcome,
    retry_after_seconds,
    status_outcome,
)
from crawler.sites import Site as NewsSite
from crawler.spiders.news import NewsSpider
from tests.test_middlewares import Route, Site, send, static

ROOT = Path(__file__).parents[1]
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)

# --- unit tests -----------------------------------------------------------------------------


def test_backoff_doubles_is_capped_and_jitter_only_shortens() -> None:
    exact = Backoff(base=2.0, maximum=60.0, jitter=0.0)
    assert [exact.delay(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert exact.delay(10_000) == 60  # no overflow on absurd attempt numbers
    jittered = Backoff(base=2.0, maximum=60.0, jitter=0.5)
    assert jittered.delay(3, rand=lambda: 0.0) == 8
    assert jittered.delay(3, rand=lambda: 1.0) == 4
    # equal jitter keeps every retry at least as late as the previous one could be
    assert jittered.delay(4, rand=lambda: 1.0) >= jittered.delay(3, rand=lambda: 0.0)


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        (b"30", None, 30.0),
        (" 2 ", None, 2.0),
        ("1.5", None, 1.5),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), None, 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), None, 0.0),
        # the server's own Date header is the reference, whatever our clock says
        (
            format_datetime(NOW + timedelta(hours=1, seconds=5), usegmt=True),
            format_datetime(NOW + timedelta(hours=1), usegmt=True).encode(),
            5.0,
        ),
        (None, None, None),
        ("", None, None),
        ("soon", None, None),
        ("-5", None, None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(
    value: bytes | str | None, date: bytes | None, expected: float | None
) -> None:
    assert retry_after_seconds(value, NOW, date) == expected


def test_outcomes_are_retryable_reasons_of_the_crawl_state() -> None:
    assert [status_outcome(s) for s in (500, 503, 429, 408)] == [
        "http_5xx", "http_5xx", "http_429", "timeout",
    ]  # fmt: skip
    assert exception_outcome(CannotResolveHostError("x")) == "fetch_error"
    assert exception_outcome(DownloadTimeoutError("x")) == "timeout"


def test_host_pauses_keep_the_longest_and_expire() -> None:
    pauses = HostPauses()
    pauses.pause("a", 10.0, "http_429")
    pauses.pause("a", 5.0, "http_5xx")  # shorter: ignored
    assert pauses.held("a", 4.0) == (10.0, "http_429")
    assert pauses.held("b", 4.0) is None
    assert pauses.held("a", 10.0) is None


def _middleware(**settings: Any) -> BackoffRetryMiddleware:
    crawler = get_crawler(Spider, settings_dict={"NEWS_RETRY_BACKOFF_JITTER": 0, **settings})
    crawler.spider = crawler._create_spider("probe")
    return build_from_crawler(BackoffRetryMiddleware, crawler)


def _response(status: int, retry_after: str | None = None) -> Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Response("http://a.test/x", status=status, headers=headers)


def test_retryable_status_is_retried_later_and_404_410_never() -> None:
    """F11 and F13 at the unit level."""
    middleware = _middleware(RETRY_HTTP_CODES=[500, 404])  # 404 is dropped from the list
    request = Request("http://a.test/x")
    retry = middleware.process_response(request, _response(500))
    assert isinstance(retry, Request)
    assert retry.meta["retry_times"] == 1
    assert retry.meta[RETRY_AT] >= middleware.clock() + 1.9  # base 2 s, no jitter
    for status in (404, 410, 200):
        response = _response(status)
        assert middleware.process_response(request, response) is response


def test_retry_after_wins_over_backoff_and_above_the_cap_gives_up() -> None:
    """F12 at the unit level: wait max(backoff, Retry-After); above the cap, hand it on."""
    middleware = _middleware(NEWS_RETRY_AFTER_MAX=120)
    request = Request("http://a.test/x")
    retry = middleware.process_response(request, _response(429, "30"))
    assert isinstance(retry, Request)
    assert 29 <= retry.meta[RETRY_AT] - middleware.clock() <= 30
    too_long = _response(429, "3600")
    assert middleware.process_response(request, too_long) is too_long
    assert middleware.stats.get_value("news/retry/retry_after_too_long") == 1
    held = middleware.pauses.held("a.test", middleware.clock())
    assert held is not None and held[0] - middleware.clock() > 100  # the host waits the cap


def test_exhausted_network_retries_raise_a_distinct_failure() -> None:
    middleware = _middleware(RETRY_TIMES=1)
    error = CannotResolveHostError("nowhere.invalid")
    retry = middleware.process_exception(Request("http://nowhere.invalid/"), error)
    assert isinstance(retry, Request)
    with pytest.raises(RetriesExhausted, match=r"^retry: gave up after 2 attempts") as info:
        middleware.process_exception(retry, error)
    assert info.value.outcome == "fetch_error"
    assert info.value.__cause__ is error
    assert middleware.process_exception(Request("http://a.test/"), ValueError("x")) is None


def test_a_waiting_request_is_not_sent_once_the_spider_closes() -> None:
    middleware = _middleware()  # no engine: the crawl counts as closing
    request = Request("http://a.test/x", meta={RETRY_AT: middleware.clock() + 60})
    with pytest.raises(RetryCancelled) as info:
        asyncio.run(middleware.process_request(request))
    assert info.value.outcome == "fetch_error"
    asyncio.run(middleware.process_request(Request("http://a.test/due")))  # nothing to wait for


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RetriesExhausted("fetch_error", "retry: gave up after 3 attempts: …"), "fetch_error"),
        (RetriesExhausted("timeout", "retry: gave up after 3 attempts: …"), "timeout"),
        (RetryCancelled("http_429", "retry: not sent …"), "http_429"),
    ],
)
def test_spider_rows_record_the_outcome(error: Exception, reason: str) -> None:
    """F17: a DNS failure that ran out of retries is a fetch failure, never "gone"."""
    site = NewsSite(id="s", name="s", url="https://s.de/", allowed_domains=("s.de",))
    failure = Failure(error)
    failure.request = Request("https://s.de/a", cb_kwargs={"site": site})  # type: ignore[attr-defined]
    (row,) = NewsSpider().failed(failure)
    assert (row.reason, row.url, row.status) == (reason, "https://s.de/a", None)
    assert row.detail.startswith(type(error).__name__ + ": retry: ")


# --- end to end: a crawl in a subprocess against loopback servers ---------------------------

RUNNER = r"""
import json, sys, time
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import Settings
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

cfg = json.load(open(sys.argv[1]))
results = {}


class StubResolver(CachingThreadedResolver):
    # IP literals resolve to themselves, every name fails like NXDOMAIN: no DNS traffic
    def getHostByName(self, name, timeout=()):
        if name.replace(".", "").isdigit():
            return defer.succeed(name)
        return defer.fail(DNSLookupError(f"stub resolver: {name} does not exist"))


class Probe(Spider):
    name = "probe"

    async def start(self):
        for spec in cfg["requests"]:
            meta = {"tag": spec["tag"], **spec.get("meta", {})}
            yield Request(spec["url"], meta=meta, callback=self.ok, errback=self.failed,
                          priority=spec.get("priority", 0), headers=spec.get("headers"),
                          dont_filter=True)

    def ok(self, response):
        results[response.meta["tag"]] = {
            "kind": "response", "status": response.status, "time": time.monotonic(),
            "retries": response.meta.get("retry_times", 0),
        }

    def failed(self, failure):
        exc = failure.value
        results[failure.request.meta["tag"]] = {
            "kind": "error", "type": type(exc).__name__, "message": str(exc),
            "outcome": getattr(exc, "outcome", None),
            "cause": type(exc.__cause__).__name__ if exc.__cause__ else None,
            "status": getattr(getattr(exc, "response", None), "status", None),
        }

    def closed(self, reason):
        stats = {k: v for k, v in self.crawler.stats.get_stats().items()
                 if isinstance(v, (int, float, str))}
        with open(cfg["out"], "w") as fh:
            json.dump({"results": results, "stats": stats, "reason": reason}, fh)


settings = Settings()
settings.setmodule("crawler.settings", priority="project")  # the real middleware stack
settings.update(cfg["settings"], priority="cmdline")
process = CrawlerProcess(settings)
process.crawl(Probe)
process.start()
"""

# What every probe crawl overrides: fast, no pipelines, loopback allowed.
PROBE_SETTINGS: dict[str, Any] = {
    "ITEM_PIPELINES": {},
    "ROBOTSTXT_OBEY": False,
    "NEWS_ALLOW_PRIVATE_ADDRESSES": True,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "DOWNLOAD_TIMEOUT": 2,
    "CLOSESPIDER_TIMEOUT": 40,
    "LOG_LEVEL": "DEBUG",
}


def run_probe(
    tmp: Path, requests: list[dict[str, Any]], settings: dict[str, Any]
) -> dict[str, Any]:
    """Crawl ``requests`` with the project settings plus ``settings``; results, stats, log."""
    out = tmp / "result.json"
    config = {"out": str(out), "requests": requests, "settings": {**PROBE_SETTINGS, **settings}}
    (tmp / "config.json").write_text(json.dumps(config))
    (tmp / "runner.py").write_text(RUNNER)
    proc = subprocess.run(
        [sys.executable, str(tmp / "runner.py"), str(tmp / "config.json")],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.exists(), proc.stderr[-4000:]
    result: dict[str, Any] = json.loads(out.read_text())
    result["log"] = proc.stderr
    return result


def counted(statuses: list[tuple[int, dict[str, str]]]) -> Route:
    """A route answering the n-th request with the n-th (status, headers), then the last."""
    calls = itertools.count()

    def route(handler: BaseHTTPRequestHandler) -> None:
        status, headers = statuses[min(next(calls), len(statuses) - 1)]
        send(handler, status, "text/html", b"<html><body><p>x</p></body></html>", **headers)

    return route


def date_route(handler: BaseHTTPRequestHandler) -> None:
    """429 with Retry-After as an HTTP-date 2 s after the response's Date; 200 afterwards."""
    if getattr(date_route, "answered", False):
        send(handler, 200, "text/html", b"<html><body><p>ok</p></body></html>")
        return
    date_route.answered = True  # type: ignore[attr-defined]
    now = datetime.now(UTC).replace(microsecond=0)
    headers = {"Date": format_datetime(now, usegmt=True)}
    headers["Retry_After"] = format_datetime(now + timedelta(seconds=2), usegmt=True)
    send(handler, 429, "text/html", b"slow down", **headers)


PAGE_META = {"handle_httpstatus_list": list(range(400, 600))}  # as NewsSpider's page requests


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    date_route.answered = False  # type: ignore[attr-defined]
    error = static(500, "text/html", b"broken")
    sites = {
        # one loopback address per behaviour: a host's pause must not blur another's timing
        "errors": Site(
            "127.0.0.1",
            {
                "/500": error,
                "/sitemap-500": error,
                "/404": static(404, "text/html", b"gone"),
                "/410": static(410, "text/html", b"gone"),
            },
        ),
        "polite": Site(
            "127.0.0.2",
            {"/429": counted([(429, {"Retry_After": "2"}), (200, {})])},
        ),
        "dated": Site("127.0.0.3", {"/429-date": date_route}),
        "busy": Site("127.0.0.4", {"/429-long": static(429, "text/html", b"", Retry_After="3600")}),
        "flaky": Site("127.0.0.5", {"/503-once": counted([(503, {}), (200, {})])}),
    }
    e, p = f"http://127.0.0.1:{sites['errors'].port}", f"http://127.0.0.2:{sites['polite'].port}"
    requests = [
        {"tag": "500", "url": f"{e}/500", "meta": PAGE_META},
        {"tag": "sitemap_500", "url": f"{e}/sitemap-500"},
        {"tag": "404", "url": f"{e}/404", "meta": PAGE_META},
        {"tag": "410", "url": f"{e}/410", "meta": PAGE_META},
        {"tag": "429", "url": f"{p}/429", "meta": PAGE_META, "priority": 10},
        {"tag": "after_429", "url": f"{p}/after", "meta": PAGE_META},
        {"tag": "429_date", "url": f"http://127.0.0.3:{sites['dated'].port}/429-date"},
        {"tag": "429_long", "url": f"http://127.0.0.4:{sites['busy'].port}/429-long",
         "meta": PAGE_META},
        {"tag": "503_once", "url": f"http://127.0.0.5:{sites['flaky'].port}/503-once"},
        {"tag": "dns", "url": f"http://nowhere.invalid:{sites['errors'].port}/a",
         "meta": PAGE_META},
    ]  # fmt: skip
    settings = {
        "RETRY_TIMES": 2,
        "NEWS_RETRY_BACKOFF_BASE": 0.3,
        "NEWS_RETRY_BACKOFF_JITTER": 0,
        "NEWS_RETRY_AFTER_MAX": 5,
        "TWISTED_DNS_RESOLVER": "__main__.StubResolver",
        # the polite host spaces its requests, so its queued request is held by the pause too
        "DOWNLOAD_SLOTS": {"127.0.0.2": {"concurrency": 1, "delay": 0.2, "jitter": 0}},
    }
    try:
        result = run_probe(tmp_path_factory.mktemp("retry"), requests, settings)
        result["sites"] = sites
        yield result
    finally:
        for site in sites.values():
            site.close()


def _result(crawl: dict[str, Any], tag: str) -> dict[str, Any]:
    result = crawl["results"].get(tag)
    assert result is not None, f"{tag}: neither callback nor errback ran\n{crawl['log'][-3000:]}"
    return dict(result)


def _times(crawl: dict[str, Any], site: str, path: str) -> list[float]:
    return [t for p, t in crawl["sites"][site].hits if p == path]


def test_crawl_finishes(crawl: dict[str, Any]) -> None:
    assert crawl["reason"] == "finished", crawl["log"][-3000:]


def test_f11_500_is_retried_with_growing_delays_then_recorded(crawl: dict[str, Any]) -> None:
    times = _times(crawl, "errors", "/500")
    assert len(times) == 3  # RETRY_TIMES=2
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.3 and gaps[1] >= 0.6, gaps  # base 0.3 s, doubled, measured at the server
    assert gaps[1] > gaps[0]
    # the page request keeps its row with the final status (the spider records it)
    result = _result(crawl, "500")
    assert (result["kind"], result["status"]) == ("response", 500)
    assert crawl["stats"]["news/retry/gave_up/http_5xx"] == 2  # /500 and /sitemap-500
    assert "Gave up retrying <GET" in crawl["log"]


def test_f11_a_request_that_does_not_handle_the_status_gets_its_errback(
    crawl: dict[str, Any],
) -> None:
    result = _result(crawl, "sitemap_500")
    assert (result["type"], result["status"]) == ("HttpError", 500)
    assert len(_times(crawl, "errors", "/sitemap-500")) == 3


def test_f11_a_retry_that_succeeds_is_a_normal_response(crawl: dict[str, Any]) -> None:
    assert _result(crawl, "503_once")["status"] == 200
    assert _result(crawl, "503_once")["retries"] == 1
    first, retry = _times(crawl, "flaky", "/503-once")
    assert retry - first >= 0.3


def test_f12_retry_after_seconds_is_waited_for_at_the_server(crawl: dict[str, Any]) -> None:
    first, retry = _times(crawl, "polite", "/429")
    assert retry - first >= 2.0, retry - first
    assert _result(crawl, "429")["status"] == 200


def test_f12_the_whole_host_waits_not_only_the_url(crawl: dict[str, Any]) -> None:
    # /after was queued behind /429 on the same host; the pause held it as well
    (first, _), (after,) = _times(crawl, "polite", "/429"), _times(crawl, "polite", "/after")
    assert after - first >= 2.0, after - first


def test_f12_retry_after_as_http_date(crawl: dict[str, Any]) -> None:
    first, retry = _times(crawl, "dated", "/429-date")
    assert retry - first >= 1.9, retry - first  # the date has whole seconds; the wait is 2 s
    assert _result(crawl, "429_date")["status"] == 200


def test_f12_retry_after_above_the_cap_gives_up_at_once(crawl: dict[str, Any]) -> None:
    assert len(_times(crawl, "busy", "/429-long")) == 1
    assert _result(crawl, "429_long")["status"] == 429  # the row records the 429
    assert crawl["stats"]["news/retry/retry_after_too_long"] == 1
    assert "Retry-After 3600 s is above NEWS_RETRY_AFTER_MAX" in crawl["log"]


@pytest.mark.parametrize("tag", ["404", "410"])
def test_f13_gone_is_not_retried(crawl: dict[str, Any], tag: str) -> None:
    assert len(_times(crawl, "errors", f"/{tag}")) == 1
    assert _result(crawl, tag)["status"] == int(tag)


def test_f17_dns_failure_is_retried_then_a_fetch_failure(crawl: dict[str, Any]) -> None:
    result = _result(crawl, "dns")
    assert result["type"] == "RetriesExhausted", result
    assert result["outcome"] == "fetch_error"  # retryable in a later run, never "gone"
    assert result["cause"] == "CannotResolveHostError"
    assert result["message"].startswith("retry: gave up after 3 attempts: CannotResolveHostError")
    assert crawl["stats"]["retry/reason_count/scrapy.exceptions.CannotResolveHostError"] == 2
