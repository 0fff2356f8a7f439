"""The per-host circuit breaker (reliability F10), unit and end to end."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.http import Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.breaker import Breaker, HostBreakerMiddleware, HostUnavailable, host_key
from tests.test_middlewares import Site
from tests.test_retry import PAGE_META, run_probe

# --- unit tests -----------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_and_a_success_resets() -> None:
    breaker = Breaker(threshold=3, cooldown=0)
    assert not breaker.failure("a", 0) and not breaker.failure("a", 0)
    breaker.success("a")  # an answer in between: the count starts again
    assert [breaker.failure("a", 1) for _ in range(3)] == [False, False, True]
    assert not breaker.allow("a", 10_000)  # cool-down 0: open for the rest of the run
    assert breaker.allow("b", 1)  # other hosts are unaffected
    assert breaker.success("a") and breaker.allow("a", 10_001)


def test_breaker_lets_one_probe_through_per_cooldown() -> None:
    breaker = Breaker(threshold=1, cooldown=600)
    assert breaker.failure("a", 0)
    assert not breaker.allow("a", 599)
    assert breaker.allow("a", 600)  # the probe
    assert not breaker.allow("a", 601)  # the others wait for its answer
    breaker.failure("a", 602)  # the probe failed: another cool-down
    assert not breaker.allow("a", 1201)
    assert breaker.allow("a", 1202)
    assert breaker.success("a")
    assert breaker.allow("a", 1203) and not breaker.is_open("a")


def test_host_key_keeps_the_port_and_drops_user_info() -> None:
    assert host_key(Request("http://user:pw@Example.org:8080/x")) == "example.org:8080"
    assert host_key(Request("https://example.org/x")) == "example.org"


def test_middleware_counts_connection_failures_only() -> None:
    crawler = get_crawler(Spider, settings_dict={"NEWS_BREAKER_FAILURES": 2})
    middleware = build_from_crawler(HostBreakerMiddleware, crawler)
    request = Request("http://down.test/a")
    middleware.process_exception(request, ValueError("not a connection failure"))
    middleware.process_exception(request, DownloadTimeoutError("timeout"))
    middleware.process_request(request)  # one failure: still allowed
    middleware.process_exception(request, DownloadConnectionRefusedError("refused"))
    with pytest.raises(HostUnavailable, match=r"^breaker: down.test failed to connect 2 times"):
        middleware.process_request(Request("http://down.test/b"))
    middleware.process_request(Request("http://up.test/b"))
    assert crawler.stats is not None
    assert crawler.stats.get_value("news/breaker/open/down.test") == 1
    assert crawler.stats.get_value("news/breaker/refused") == 1
    response = Response("http://down.test/c")
    middleware.response_downloaded(response, Request("http://down.test/c"), Spider("probe"))
    middleware.process_request(Request("http://down.test/d"))  # an answer closed it
    assert HostUnavailable.outcome == "host_unavailable"


# --- end to end -----------------------------------------------------------------------------

DEAD_URLS = 8


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    live = Site("127.0.0.2", {})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]  # closed again: every connection is refused
    requests = [
        {"tag": f"dead{i}", "url": f"http://127.0.0.1:{dead_port}/{i}", "meta": PAGE_META}
        for i in range(DEAD_URLS)
    ] + [
        {"tag": f"live{i}", "url": f"http://127.0.0.2:{live.port}/{i}", "meta": PAGE_META}
        for i in range(3)
    ]
    settings = {
        "NEWS_BREAKER_FAILURES": 3,
        "NEWS_BREAKER_COOLDOWN": 0,
        "RETRY_TIMES": 1,
        "NEWS_RETRY_BACKOFF_BASE": 0.05,
        # as in production, one connection at a time and a delay between them (a refused
        # connection takes Twisted 0.3 s to report; the delay must outlast it, see below)
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 0.5,
        "DOWNLOAD_DELAY_JITTER": 0,
    }
    try:
        result = run_probe(tmp_path_factory.mktemp("breaker"), requests, settings)
        result["dead"] = f"127.0.0.1:{dead_port}"
        result["live"] = live
        yield result
    finally:
        live.close()


def test_f10_after_n_failures_the_host_is_refused_without_connecting(
    crawl: dict[str, Any],
) -> None:
    refused = "downloader/exception_type_count/scrapy.exceptions.DownloadConnectionRefusedError"
    # NEWS_BREAKER_FAILURES attempts. One more is possible: the downloader starts the next
    # queued request as soon as a transfer fails, before middlewares see the failure, when the
    # failure took longer than DOWNLOAD_DELAY (a loaded machine here, timeouts in production).
    assert 3 <= crawl["stats"][refused] <= 4
    assert crawl["stats"][f"news/breaker/open/{crawl['dead']}"] == 1
    assert "Circuit breaker open for 127.0.0.1:" in crawl["log"]


def test_f10_every_url_of_the_dead_host_still_leaves_a_row(crawl: dict[str, Any]) -> None:
    rows = [crawl["results"].get(f"dead{i}") for i in range(DEAD_URLS)]
    assert all(row is not None and row["kind"] == "error" for row in rows), crawl["log"][-3000:]
    outcomes = [row["outcome"] for row in rows if row is not None]
    # at most the requests whose last attempt was one of the 3 failures are fetch errors
    assert set(outcomes) <= {"host_unavailable", "fetch_error"}
    assert outcomes.count("host_unavailable") >= DEAD_URLS - 2, outcomes
    assert crawl["stats"]["news/breaker/refused"] == outcomes.count("host_unavailable")


def test_f10_other_hosts_are_unaffected(crawl: dict[str, Any]) -> None:
    assert crawl["reason"] == "finished"
    for i in range(3):
        assert crawl["results"][f"live{i}"]["status"] == 200
    assert sorted(crawl["live"].paths()) == ["/0", "/1", "/2"]
    assert not any(key.startswith("news/breaker/open/127.0.0.2") for key in crawl["stats"])
