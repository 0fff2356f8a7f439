"""Fail-closed robots, address guard, strict decompression, content-type gate (reliability §c)."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError

from crawler.addressguard import (
    AddressGuardMiddleware,
    AddressPolicy,
    AddressRefused,
    BlockedAddressError,
    GuardedResolver,
    address_category,
    parse_ip,
)
from crawler.middlewares import (
    ContentTypeGateMiddleware,
    ContentTypeRefused,
    StrictDecompressionMiddleware,
    TruncatedResponse,
    stream_problem,
)
from crawler.robots import (
    FailClosedRobotsTxtMiddleware,
    RobotsDisallowed,
    RobotsUnavailable,
    _DisallowAll,
    cap_body,
    robots_verdict,
    waiter_of,
)

ROOT = Path(__file__).parents[1]

# What crawler/settings.py is to carry (the lead adds it); the crawl below runs with it.
RECOMMENDED = {
    "DOWNLOADER_MIDDLEWARES": {
        "crawler.addressguard.AddressGuardMiddleware": 40,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawler.robots.FailClosedRobotsTxtMiddleware": 100,
        "crawler.middlewares.ContentTypeGateMiddleware": 560,
        "crawler.middlewares.StrictDecompressionMiddleware": 595,
    },
    "TWISTED_DNS_RESOLVER": "crawler.addressguard.GuardedResolver",
}

PAGE = (
    b"<html><head><title>t</title></head><body><p>"
    + b"Stra\xc3\x9fe " * 4000
    + b"</p></body></html>"
)
GZ = gzip.compress(PAGE)


# --- unit tests: address guard ------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.2", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "cgnat"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_categories(address: str, category: str | None) -> None:
    parsed = parse_ip(address)
    assert parsed is not None
    assert address_category(parsed) == category


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/html,hi",
        "ftp://example.org/x",
        "http://[::1]/",
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_policy_refuses_schemes_and_private_literals_before_dns(url: str) -> None:
    assert AddressPolicy().refuse_url(url) is not None


def test_policy_allows_public_urls_listed_hosts_and_can_be_switched_off() -> None:
    assert AddressPolicy().refuse_url("https://www.example.org/a") is None
    listed = AddressPolicy(allowed_hosts=frozenset({"127.0.0.1", "localhost"}))
    assert listed.refuse_url("http://127.0.0.1:8000/") is None
    assert listed.refuse_address("localhost", "127.0.0.1") is None
    assert listed.refuse_url("http://127.0.0.2/") is not None
    assert listed.refuse_address("internal.test", "127.0.0.1") is not None
    off = AddressPolicy(enabled=False)
    assert off.refuse_url("http://10.0.0.1/") is None
    assert off.host_exempt("anything")


def test_guarded_resolver_refuses_private_addresses_also_from_the_cache() -> None:
    from scrapy.resolver import dnscache

    resolver = GuardedResolver(None, 10000, 5.0)  # type: ignore[arg-type]
    dnscache["blocked.test"] = "10.0.0.7"
    dnscache["public.test"] = "93.184.216.34"
    try:
        outcomes: dict[str, Any] = {}
        for name in ("blocked.test", "public.test"):
            d = resolver.getHostByName(name)
            d.addCallbacks(
                lambda a, n=name: outcomes.__setitem__(n, a),
                lambda f, n=name: outcomes.__setitem__(n, f.value),
            )
    finally:
        del dnscache["blocked.test"], dnscache["public.test"]
    assert isinstance(outcomes["blocked.test"], BlockedAddressError)
    assert isinstance(outcomes["blocked.test"], DNSLookupError)  # errbacks see a DNS failure
    assert outcomes["blocked.test"].reason == "blocked.test resolves to 10.0.0.7 (private)"
    assert outcomes["public.test"] == "93.184.216.34"


def _guard(**settings: Any) -> AddressGuardMiddleware:
    crawler = get_crawler(settings_dict=settings)
    return build_from_crawler(AddressGuardMiddleware, crawler)


def test_guard_middleware_checks_the_resolved_address() -> None:
    guard = _guard()
    answers: dict[str, str | Exception] = {
        "private.test": "10.0.0.5",
        "public.test": "93.184.216.34",
        "blocked.test": BlockedAddressError("blocked.test resolves to 127.0.0.1 (loopback)"),
        "nxdomain.test": DNSLookupError("no such host"),
    }

    async def resolve(host: str) -> str:
        answer = answers[host]
        if isinstance(answer, Exception):
            raise answer
        return answer

    guard.resolve = resolve

    def check(url: str) -> None:
        asyncio.run(guard.process_request(Request(url)))

    for url in ("http://private.test/", "http://blocked.test/", "file:///etc/passwd"):
        with pytest.raises(AddressRefused, match=r"^address: "):
            check(url)
    check("http://public.test/")
    check("http://nxdomain.test/")  # a real DNS failure is left to the download (and retried)
    assert guard.stats.get_value("news/address_refused") == 3


def test_guard_middleware_is_off_with_allow_private_addresses() -> None:
    with pytest.raises(NotConfigured):
        _guard(NEWS_ALLOW_PRIVATE_ADDRESSES=True)


# --- unit tests: robots -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, "parse"), (404, "allow"), (410, "allow"), (301, "allow"), (429, "disallow"),
     (500, "disallow"), (503, "disallow")],
)  # fmt: skip
def test_robots_verdict_follows_rfc_9309(status: int, verdict: str) -> None:
    assert robots_verdict(status) == verdict


def test_every_request_waiting_for_robots_txt_gets_the_parser() -> None:
    """A shared Deferred awaited twice gave the second waiter None: robots fail-open."""
    from twisted.internet.defer import Deferred

    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        pending: Deferred[object] = Deferred()
        futures = [waiter_of(pending).asFuture(loop) for _ in range(3)]
        parser = object()
        pending.callback(parser)
        results = [await future for future in futures]
        assert pending.result is parser  # later waiters still find it
        return [result is parser for result in results]

    assert asyncio.run(main()) == [True, True, True]

    # the trap itself: two asFuture adapters on one Deferred
    async def shared() -> list[object]:
        loop = asyncio.get_running_loop()
        pending: Deferred[object] = Deferred()
        futures = [pending.asFuture(loop) for _ in range(2)]
        pending.callback("parser")
        return [await future for future in futures]

    assert asyncio.run(shared()) == ["parser", None]


def test_cap_body_keeps_whole_lines() -> None:
    body = b"User-agent: *\nDisallow: /a\nDisallow: /bbbbbb\n"
    assert cap_body(body, 1000) == body
    assert cap_body(body, 30) == b"User-agent: *\nDisallow: /a\n"


def test_refusals_are_visible_with_a_robots_prefix() -> None:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    middleware = build_from_crawler(FailClosedRobotsTxtMiddleware, crawler)
    with pytest.raises(RobotsUnavailable, match=r"^robots: robots.txt unavailable \(HTTP 503\)"):
        middleware.process_request_2(_DisallowAll("HTTP 503"), Request("http://a.test/x"))
    parser = ProtegoRobotParser(b"User-agent: *\nDisallow: /private\n", None)
    with pytest.raises(RobotsDisallowed, match=r"^robots: disallowed"):
        middleware.process_request_2(parser, Request("http://a.test/private/1"))
    middleware.process_request_2(parser, Request("http://a.test/public"))
    assert RobotsUnavailable.outcome == "robots_unavailable"
    assert RobotsDisallowed.outcome == "robots_disallowed"
    assert issubclass(RobotsUnavailable, IgnoreRequest)


# --- unit tests: strict decompression and content-type gate -------------------------------


def test_stream_problem_detects_truncation_and_bad_checksums() -> None:
    assert stream_problem(GZ, "gzip") is None
    assert stream_problem(GZ + GZ, "gzip") is None  # two members
    assert "ends early" in (stream_problem(GZ[: len(GZ) // 2], "gzip") or "")
    bad_crc = bytearray(GZ)
    bad_crc[-6] ^= 0xFF
    assert "corrupt" in (stream_problem(bytes(bad_crc), "gzip") or "")
    import zlib

    assert stream_problem(zlib.compress(PAGE), "deflate") is None
    raw = zlib.compressobj(wbits=-15)
    raw_deflate = raw.compress(PAGE) + raw.flush()
    assert stream_problem(raw_deflate, "deflate") is None
    assert stream_problem(raw_deflate[:-20], "deflate") is not None


def _gz_response(body: bytes, **kwargs: Any) -> Response:
    headers = {"Content-Encoding": "gzip", "Content-Type": "text/html"}
    return Response("http://a.test/", body=body, headers=headers, **kwargs)


def test_strict_decompression_refuses_truncated_and_passes_good_bodies() -> None:
    middleware = build_from_crawler(StrictDecompressionMiddleware, get_crawler())
    request = Request("http://a.test/")
    good = _gz_response(GZ)
    assert middleware.process_response(request, good) is good
    with pytest.raises(TruncatedResponse, match=r"^truncated: gzip stream ends early") as info:
        middleware.process_response(request, _gz_response(GZ[:-10]))
    assert info.value.response.body == GZ[:-10]
    lenient = Request("http://a.test/", meta={"download_fail_on_dataloss": False})
    assert "truncated" in middleware.process_response(lenient, _gz_response(GZ[:-10])).flags
    lossy = HtmlResponse("http://a.test/", body=b"<html>", flags=["dataloss"])
    assert "truncated" in middleware.process_response(request, lossy).flags


def test_strict_decompression_sees_the_body_before_http_compression() -> None:
    orders = RECOMMENDED["DOWNLOADER_MIDDLEWARES"]
    assert isinstance(orders, dict)
    # process_response runs from the highest order down: Redirect (600), us, HttpCompression (590).
    assert 590 < orders["crawler.middlewares.StrictDecompressionMiddleware"] < 600


def test_every_recommended_dotted_path_imports() -> None:
    orders = RECOMMENDED["DOWNLOADER_MIDDLEWARES"]
    assert isinstance(orders, dict)
    for path in [*orders, RECOMMENDED["TWISTED_DNS_RESOLVER"]]:
        assert load_object(path)


def test_content_type_gate_decisions() -> None:
    crawler = get_crawler()
    gate = build_from_crawler(ContentTypeGateMiddleware, crawler)

    def headers(content_type: str) -> Any:
        from scrapy.http.headers import Headers

        return Headers({"Content-Type": content_type} if content_type else {})

    page = Request("http://a.test/")
    gate.headers_received(headers("text/html; charset=utf-8"), 10, page)
    gate.headers_received(headers("application/xhtml+xml"), 10, page)
    gate.headers_received(headers(""), 10, page)
    with pytest.raises(ContentTypeRefused) as info:
        gate.headers_received(headers("application/pdf"), 10, page)
    assert str(info.value) == "content-type: 'application/pdf' is not fetched"
    sitemap = Request("http://a.test/sitemap.xml", meta={"news_kind": "sitemap"})
    gate.headers_received(headers("application/xml"), 10, sitemap)
    # a stopped redirect or error page is handed back so redirects and retries still work
    refused = ContentTypeRefused("text/plain")
    refused.response = Response("http://a.test/", status=503)
    assert gate.process_exception(page, refused) is refused.response
    refused.response = Response("http://a.test/", status=200)
    assert gate.process_exception(page, refused) is None
    assert crawler.stats is not None
    assert crawler.stats.get_value("news/content_type_refused") == 1


# --- end-to-end: a real crawl in a subprocess against loopback servers ---------------------

RUNNER = r"""
import json, sys
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.resolver import dnscache
from scrapy.settings import Settings

cfg = json.load(open(sys.argv[1]))
results = {}


class Probe(Spider):
    name = "probe"

    async def start(self):
        for spec in cfg["requests"]:
            meta = {"tag": spec["tag"], **spec.get("meta", {})}
            yield Request(spec["url"], meta=meta, callback=self.ok, errback=self.failed,
                          dont_filter=True)

    def ok(self, response):
        results[response.meta["tag"]] = {
            "kind": "response", "status": response.status, "url": response.url,
            "length": len(response.body), "flags": response.flags,
            "head": response.body[:40].decode("latin-1"),
        }

    def failed(self, failure):
        exc = failure.value
        response = getattr(exc, "response", None)
        results[failure.request.meta["tag"]] = {
            "kind": "error", "type": type(exc).__name__, "message": str(exc),
            "outcome": getattr(exc, "outcome", None),
            "status": None if response is None else response.status,
            "length": None if response is None else len(response.body),
        }

    def closed(self, reason):
        slots = {k: [s.delay, s.jitter] for k, s in self.crawler.engine.downloader.slots.items()}
        stats = {k: v for k, v in self.crawler.stats.get_stats().items()
                 if isinstance(v, (int, float, str))}
        with open(cfg["out"], "w") as fh:
            json.dump({"results": results, "stats": stats, "slots": slots, "reason": reason}, fh)


settings = Settings(cfg["settings"])  # Scrapy defaults + the components under test only
for name, address in cfg["dnscache"].items():
    dnscache[name] = address  # a stub DNS answer: no DNS traffic leaves the machine
process = CrawlerProcess(settings)
process.crawl(Probe)
process.start()
"""

Route = Callable[[BaseHTTPRequestHandler], None]


class Site:
    """A loopback HTTP server with fixed routes that logs every request it gets."""

    def __init__(self, host: str, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.hits: list[tuple[str, float]] = []
        self.completed: dict[str, bool] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append((self.path, time.monotonic()))
                route = site.routes.get(self.path)
                if route is None:
                    send(self, 200, "text/html", b"<html><body><p>page</p></body></html>")
                    return
                try:
                    route(self)
                    site.completed[self.path] = True
                except OSError:
                    site.completed[self.path] = False

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [path for path, _ in self.hits]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def send(
    handler: BaseHTTPRequestHandler, status: int, ctype: str, body: bytes, **headers: str
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str) -> Route:
    return lambda h: send(h, 302, "text/html", b"", Location=location)


def static(status: int, ctype: str, body: bytes, **headers: str) -> Route:
    return lambda h: send(h, status, ctype, body, **headers)


def hang(h: BaseHTTPRequestHandler) -> None:
    time.sleep(3)  # longer than DOWNLOAD_TIMEOUT; the client gives up first


def big_pdf(h: BaseHTTPRequestHandler) -> None:
    chunk = b"%PDF" + b"\0" * (64 * 1024 - 4)
    h.send_response(200)
    h.send_header("Content-Type", "application/pdf")
    h.send_header("Content-Length", str(64 * len(chunk)))
    h.end_headers()
    for _ in range(64):  # 4 MiB, slowly enough that the client's close arrives first
        h.wfile.write(chunk)
        h.wfile.flush()
        time.sleep(0.005)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    bad_crc = bytearray(GZ)
    bad_crc[-6] ^= 0xFF
    gz_headers = {"Content_Encoding": "gzip"}
    internal = Site("127.0.0.2", {})
    main = Site(
        "127.0.0.1",
        {
            "/robots.txt": static(404, "text/html", b"not found"),
            "/redirect-internal": redirect(f"http://127.0.0.2:{internal.port}/private"),
            "/redirect-internal-name": redirect(f"http://internal.test:{internal.port}/private"),
            "/redirect-file": redirect("file:///etc/passwd"),
            "/redirect-data": redirect("data:text/html,owned"),
            "/gzip-ok": static(200, "text/html", GZ, **gz_headers),
            "/gzip-truncated": static(200, "text/html", GZ[: len(GZ) // 2], **gz_headers),
            "/gzip-badcrc": static(200, "text/html", bytes(bad_crc), **gz_headers),
            "/pdf": big_pdf,
            "/png": static(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 5000),
            "/sitemap.xml": static(200, "application/xml", b"<urlset></urlset>"),
        },
    )
    down = Site("127.0.0.1", {"/robots.txt": static(503, "text/html", b"busy")})
    slow = Site("127.0.0.1", {"/robots.txt": hang})
    robots = (
        b"User-agent: *\nDisallow: /private\nCrawl-delay: 1000\n"
        + b"# padding\n" * 60_000  # 600 KB: the cap at 512 KiB cuts the rule below
        + b"Disallow: /late\n"
    )
    polite = Site("127.0.0.3", {"/robots.txt": static(200, "text/plain", robots)})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused_port = probe.getsockname()[1]  # closed again: connections are refused
    sites = {"internal": internal, "main": main, "down": down, "slow": slow, "polite": polite}
    m, lh = f"http://127.0.0.1:{main.port}", f"http://localhost:{main.port}"
    requests = [
        ("page", f"{m}/page", {}),
        ("redirect_internal", f"{lh}/redirect-internal", {}),
        ("redirect_internal_name", f"{m}/redirect-internal-name", {}),
        ("redirect_file", f"{m}/redirect-file", {}),
        ("redirect_data", f"{m}/redirect-data", {}),
        ("direct_file", "file:///etc/passwd", {}),
        ("direct_internal", f"http://127.0.0.2:{internal.port}/private", {}),
        ("gzip_ok", f"{m}/gzip-ok", {}),
        ("gzip_truncated", f"{m}/gzip-truncated", {}),
        ("gzip_badcrc", f"{m}/gzip-badcrc", {}),
        ("pdf", f"{m}/pdf", {}),
        ("png", f"{m}/png", {}),
        ("sitemap", f"{m}/sitemap.xml", {"news_kind": "sitemap"}),
        ("sitemap_as_page", f"{m}/sitemap.xml", {}),
        ("robots_503", f"http://127.0.0.1:{down.port}/page", {}),
        ("robots_timeout", f"http://127.0.0.1:{slow.port}/page", {}),
        ("robots_refused", f"http://127.0.0.1:{refused_port}/page", {}),
        ("polite_a", f"http://127.0.0.3:{polite.port}/a", {}),
        ("polite_b", f"http://127.0.0.3:{polite.port}/b", {}),
        ("polite_private", f"http://127.0.0.3:{polite.port}/private/x", {}),
        ("polite_late", f"http://127.0.0.3:{polite.port}/late", {}),
    ]
    out = tmp_path_factory.mktemp("crawl") / "result.json"
    config = {
        "out": str(out),
        "dnscache": {"internal.test": "127.0.0.2"},
        "requests": [{"tag": t, "url": u, "meta": meta} for t, u, meta in requests],
        "settings": {
            **RECOMMENDED,
            "ROBOTSTXT_OBEY": True,
            "USER_AGENT": "localnews-test (+http://127.0.0.1/)",
            "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            "NEWS_ALLOW_PRIVATE_ADDRESSES": False,
            "NEWS_ALLOWED_PRIVATE_HOSTS": ["127.0.0.1", "127.0.0.3", "localhost"],
            "NEWS_ROBOTSTXT_MAX_CRAWL_DELAY": 1.0,
            "DOWNLOAD_DELAY": 0,
            "DOWNLOAD_DELAY_JITTER": 0.5,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": 0,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "DOWNLOAD_TIMEOUT": 1,
            "RETRY_TIMES": 1,
            "CLOSESPIDER_TIMEOUT": 25,
            "LOG_LEVEL": "INFO",
        },
    }
    config_path = out.with_name("config.json")
    config_path.write_text(json.dumps(config))
    runner = out.with_name("runner.py")
    runner.write_text(RUNNER)
    try:
        proc = subprocess.run(
            [sys.executable, str(runner), str(config_path)],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.exists(), proc.stderr[-4000:]
        result = json.loads(out.read_text())
        result["sites"] = sites
        result["log"] = proc.stderr
        yield result
    finally:
        for site in sites.values():
            site.close()


def _result(crawl: dict[str, Any], tag: str) -> dict[str, Any]:
    result = crawl["results"].get(tag)
    assert result is not None, f"{tag}: neither callback nor errback ran\n{crawl['log'][-3000:]}"
    return dict(result)


def test_crawl_finishes_on_its_own(crawl: dict[str, Any]) -> None:
    assert crawl["reason"] == "finished"
    assert set(crawl["results"]) >= {"page", "gzip_ok", "robots_503", "polite_late"}


def test_robots_404_allows_the_host(crawl: dict[str, Any]) -> None:
    assert _result(crawl, "page")["kind"] == "response"


@pytest.mark.parametrize("tag", ["robots_503", "robots_timeout", "robots_refused"])
def test_unreadable_robots_disallows_the_whole_host(crawl: dict[str, Any], tag: str) -> None:
    result = _result(crawl, tag)
    assert result["type"] == "RobotsUnavailable", result
    assert result["message"].startswith("robots: robots.txt unavailable")
    assert result["outcome"] == "robots_unavailable"
    assert crawl["stats"]["robotstxt/fail_closed"] == 3


def test_nothing_but_robots_is_fetched_from_a_fail_closed_host(crawl: dict[str, Any]) -> None:
    assert set(crawl["sites"]["down"].paths()) == {"/robots.txt"}
    assert set(crawl["sites"]["slow"].paths()) == {"/robots.txt"}
    assert "disallowing the whole host" in crawl["log"]


def test_disallow_is_honoured_and_robots_parsing_is_capped(crawl: dict[str, Any]) -> None:
    result = _result(crawl, "polite_private")
    assert result["type"] == "RobotsDisallowed"
    assert result["outcome"] == "robots_disallowed"
    assert "/private/x" not in crawl["sites"]["polite"].paths()
    # "Disallow: /late" sits after 600 KB of padding, beyond the 512 KiB cap: not seen
    assert _result(crawl, "polite_late")["kind"] == "response"
    assert crawl["stats"]["robotstxt/truncated"] == 1


def test_crawl_delay_is_applied_capped_and_survives_autothrottle(crawl: dict[str, Any]) -> None:
    for tag in ("polite_a", "polite_b"):
        assert _result(crawl, tag)["kind"] == "response"
    assert crawl["stats"]["robotstxt/crawl_delay/127.0.0.3"] == 1.0  # 1000 s capped at 1 s
    assert crawl["slots"]["127.0.0.3"] == [1.0, 0.0]
    times = [t for _, t in crawl["sites"]["polite"].hits]
    assert len(times) == 4  # robots.txt, /a, /b, /late
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Scrapy spaces request starts; the server sees arrivals, which a loaded machine shifts
    # by tens of milliseconds. Without the delay the gaps would be near 0.
    assert min(gaps) >= 0.8, gaps


@pytest.mark.parametrize("tag", ["redirect_internal", "redirect_internal_name", "direct_internal"])
def test_private_addresses_are_refused_on_every_hop(crawl: dict[str, Any], tag: str) -> None:
    result = _result(crawl, tag)
    assert result["type"] == "AddressRefused", result
    assert result["message"].startswith("address: ")
    assert crawl["sites"]["internal"].hits == []


def test_a_private_address_found_by_dns_is_refused(crawl: dict[str, Any]) -> None:
    message = _result(crawl, "redirect_internal_name")["message"]
    assert message == "address: internal.test resolves to 127.0.0.2 (loopback)"


@pytest.mark.parametrize("tag", ["redirect_file", "redirect_data", "direct_file"])
def test_file_and_data_urls_are_never_fetched(crawl: dict[str, Any], tag: str) -> None:
    result = _result(crawl, tag)
    assert result["kind"] == "error"
    # Scrapy does not follow a redirect to another scheme: the 302 reaches the errback
    assert result["type"] in {"HttpError", "AddressRefused"}, result
    assert "owned" not in json.dumps(crawl["results"])


@pytest.mark.parametrize("tag", ["gzip_truncated", "gzip_badcrc"])
def test_broken_gzip_is_never_a_good_page(crawl: dict[str, Any], tag: str) -> None:
    result = _result(crawl, tag)
    assert result["type"] == "TruncatedResponse", result
    assert result["message"].startswith("truncated: ")
    assert result["outcome"] == "truncated"
    path = "/" + tag.replace("_", "-")
    assert crawl["sites"]["main"].paths().count(path) == 2  # retried once, then refused


def test_good_gzip_arrives_decompressed(crawl: dict[str, Any]) -> None:
    result = _result(crawl, "gzip_ok")
    assert result["kind"] == "response"
    assert result["length"] == len(PAGE)


@pytest.mark.parametrize("tag", ["pdf", "png", "sitemap_as_page"])
def test_non_html_is_refused_before_the_body(crawl: dict[str, Any], tag: str) -> None:
    result = _result(crawl, tag)
    assert result["type"] == "ContentTypeRefused", result
    assert result["outcome"] == "not_html"
    assert result["length"] == 0


def test_pdf_download_is_cut_off(crawl: dict[str, Any]) -> None:
    assert crawl["sites"]["main"].completed.get("/pdf") is False
    assert crawl["stats"]["news/content_type_refused"] == 3


def test_sitemap_xml_passes_with_its_kind(crawl: dict[str, Any]) -> None:
    result = _result(crawl, "sitemap")
    assert result["kind"] == "response"
    assert result["head"] == "<urlset></urlset>"
