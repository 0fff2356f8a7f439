"""Hostile servers of the reliability catalogue (issue 5): F1–F4, F8, F9, F13 and X10.

One real ``localnews crawl`` of a loopback site whose home page links one article per
case, with a small ``DOWNLOAD_MAXSIZE`` and ``DOWNLOAD_TIMEOUT`` so the limits are reached
fast. Cases that need a streaming handler (chunked, slow drip, no answer) live on a second
loopback server. Every endpoint is bounded on the server side: a crawler without the guard
ends too, and its test fails instead of hanging.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import brotli
import pytest

from tests.crawling import Run, articles, pages, run_crawl
from tests.newssite import FixtureSite, Manifest, Route, loopback_sites_file, serve
from tests.pages import GERMAN_PARAGRAPHS, article_html
from tests.test_middlewares import Site, redirect, send, static
from tests.test_retry import run_probe

HTML_TYPE = "text/html; charset=utf-8"
MAX_SIZE = 1024 * 1024
"""DOWNLOAD_MAXSIZE of the crawl; every oversized body is at least 3 times this."""
TIMEOUT_S = 2
RETRY_TIMES = 1
DRIP_BYTES = 30
"""The slow route sends at most this many bytes, one a second, then closes."""
ARTICLE = "/2024/05/06/radweg-eroeffnet/"
GZIP_BOMB = "/2024/05/06/gzip-bombe/"
BROTLI_BOMB = "/2024/05/06/brotli-bombe/"
BIG = "/2024/05/06/riesenseite/"
CHUNKED = "/2024/05/06/endlos-chunked/"
SLOW = "/2024/05/06/tropfen/"
HANG = "/2024/05/06/keine-antwort/"
GONE = "/2024/05/06/geloescht/"
NOT_FOUND = "/2024/05/06/nie-da-gewesen/"


ROBOTS = Route(200, (("Content-Type", "text/plain"),), lambda _base: b"User-agent: *\nAllow: /\n")


def _html(body: bytes, *headers: tuple[str, str], status: int = 200) -> Route:
    return Route(status, (("Content-Type", HTML_TYPE), *headers), lambda _base: body)


def _home(links: list[str]) -> Route:
    anchors = "".join(f'<li><a href="{href}">Beitrag</a></li>' for href in links)
    body = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Startseite</title>'
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        '"@type":"CollectionPage","name":"Startseite"}</script></head>'
        f"<body><h1>Startseite</h1><ul>{anchors}</ul></body></html>"
    ).encode()
    return _html(body)


def chunked(handler: BaseHTTPRequestHandler) -> None:
    """F4: 16 MiB of HTML in 64 KiB chunks, no Content-Length, slowly enough that the
    client's hang-up arrives before the end."""
    handler.protocol_version = "HTTP/1.1"  # chunked transfer coding needs HTTP/1.1
    handler.send_response(200)
    handler.send_header("Content-Type", HTML_TYPE)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b"<p>" + b"Radweg " * (64 * 1024 // 7) + b"</p>\n"
    for _ in range(16 * MAX_SIZE // len(chunk)):
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.flush()
        time.sleep(0.005)
    handler.wfile.write(b"0\r\n\r\n")


def slow_drip(handler: BaseHTTPRequestHandler) -> None:
    """F8: a valid start of a page, one byte a second, at most DRIP_BYTES of them."""
    body = (b"<html><body><p>" + b"x" * DRIP_BYTES)[:DRIP_BYTES]
    handler.send_response(200)
    handler.send_header("Content-Type", HTML_TYPE)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for byte in body:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1)


def never_answers(handler: BaseHTTPRequestHandler) -> None:
    """F9: the request is accepted and read, then nothing is sent. After 3 × TIMEOUT_S the
    server closes without a byte, so a crawler without a timeout ends too (and fails F9 with
    another reason)."""
    time.sleep(3 * TIMEOUT_S)


@dataclass
class FetchCrawl:
    site: FixtureSite
    base_url: str
    streams: Site
    run: Run
    pages: list[dict[str, Any]]
    articles: list[dict[str, Any]]

    def row(self, url: str) -> dict[str, Any]:
        rows = [r for r in self.pages if r["url"] == url]
        assert len(rows) == 1, (url, rows)
        return rows[0]

    def stored(self, url: str) -> list[dict[str, Any]]:
        return [r for r in self.articles if url in (r["url"], r["canonical_url"])]

    def stream_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.streams.port}{path}"


@pytest.fixture(scope="module")
def fetch_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FetchCrawl]:
    tmp = tmp_path_factory.mktemp("fetch")
    streams = Site(
        "127.0.0.1",
        {
            "/robots.txt": static(404, "text/plain", b""),
            CHUNKED: chunked,
            SLOW: slow_drip,
            HANG: never_answers,
        },
    )
    # SLOW and HANG time out twice each: 4 failures in a row, under NEWS_BREAKER_FAILURES (5)
    streamed = [f"http://127.0.0.1:{streams.port}{path}" for path in (CHUNKED, SLOW, HANG)]
    routes = {
        "/robots.txt": ROBOTS,
        "/": _home([*(ARTICLE, GZIP_BOMB, BROTLI_BOMB, BIG, GONE, NOT_FOUND), *streamed]),
        ARTICLE: _html(article_html(GERMAN_PARAGRAPHS).encode()),
        # F1: 24 MiB of "A" as 24 KB of gzip; F2: 24 MiB of zeros as a few hundred bytes
        GZIP_BOMB: _html(gzip.compress(b"A" * 24 * MAX_SIZE, 6), ("Content-Encoding", "gzip")),
        BROTLI_BOMB: _html(
            brotli.compress(b"\0" * 24 * MAX_SIZE, quality=5), ("Content-Encoding", "br")
        ),
        BIG: _html(article_html(GERMAN_PARAGRAPHS * 6000).encode()),  # F3: 3+ MiB
        GONE: _html(b"<html><body><p>Entfernt</p></body></html>", status=410),
    }
    assert len(routes[BIG].render("")) > 3 * MAX_SIZE
    site = FixtureSite(routes=routes, manifest=Manifest(articles=()))
    try:
        with serve(site) as base_url:
            sites_file = loopback_sites_file(tmp / "sites.toml", "fetch", "Abrufe", base_url)
            data = tmp / "data"
            run = run_crawl(
                site, sites_file, data,
                "-s", f"DOWNLOAD_MAXSIZE={MAX_SIZE}",
                "-s", f"DOWNLOAD_WARNSIZE={MAX_SIZE // 2}",
                "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT_S}",
                "-s", f"RETRY_TIMES={RETRY_TIMES}",
                "-s", "NEWS_RETRY_BACKOFF_BASE=0.2",
                "-s", "CLOSESPIDER_TIMEOUT=60",
                # most fetches of this site fail on purpose: its error ratio is not judged
                "-s", "NEWS_MAX_ERROR_RATIO=1",
            )  # fmt: skip
            yield FetchCrawl(site, base_url, streams, run, pages(data), articles(data))
    finally:
        streams.close()


def test_fetch_crawl_finishes_on_its_own(fetch_crawl: FetchCrawl) -> None:
    """The run ends by itself, not by its time budget, and stores the good article."""
    assert fetch_crawl.run.returncode == 0, fetch_crawl.run.stdout + fetch_crawl.run.stderr
    assert "finish reason: finished" in fetch_crawl.run.stdout, fetch_crawl.run.stdout
    assert len(fetch_crawl.stored(fetch_crawl.base_url + ARTICLE)) == 1


@pytest.mark.parametrize(
    "path", [GZIP_BOMB, BROTLI_BOMB, BIG], ids=["F1-gzip-bomb", "F2-brotli-bomb", "F3-big"]
)
def test_f1_f2_f3_oversized_bodies_leave_a_too_large_row(
    fetch_crawl: FetchCrawl, path: str
) -> None:
    """F1, F2: a gzip or brotli bomb is dropped while decompressing, at DOWNLOAD_MAXSIZE;
    F3: a body whose Content-Length is over the max is cancelled before it is read. Each
    leaves one ``failed`` row with reason ``too_large``, is fetched once and stores nothing.
    """
    url = fetch_crawl.base_url + path
    row = fetch_crawl.row(url)
    assert (row["outcome"], row["reason"]) == ("failed", "too_large"), row
    assert fetch_crawl.site.requests[path] == 1  # a size limit is not worth a retry
    assert not fetch_crawl.stored(url)


def test_f4_chunked_body_over_the_max_leaves_a_too_large_row(fetch_crawl: FetchCrawl) -> None:
    """F4: a chunked body without Content-Length is cancelled once the received bytes pass
    DOWNLOAD_MAXSIZE: one ``failed`` row, reason ``too_large``, nothing stored; the server
    saw the client hang up before it had sent the whole body."""
    url = fetch_crawl.stream_url(CHUNKED)
    row = fetch_crawl.row(url)
    assert (row["outcome"], row["reason"]) == ("failed", "too_large"), row
    assert fetch_crawl.streams.paths().count(CHUNKED) == 1
    assert fetch_crawl.streams.completed[CHUNKED] is False
    assert not fetch_crawl.stored(url)


def test_f8_slow_drip_is_cut_at_the_download_timeout(fetch_crawl: FetchCrawl) -> None:
    """F8: a server dripping one byte a second is cut at DOWNLOAD_TIMEOUT (total time, not
    idle time), retried RETRY_TIMES, then leaves a ``failed`` row with reason ``timeout``."""
    url = fetch_crawl.stream_url(SLOW)
    row = fetch_crawl.row(url)
    assert (row["outcome"], row["reason"]) == ("failed", "timeout"), row
    assert fetch_crawl.streams.paths().count(SLOW) == 1 + RETRY_TIMES
    assert not fetch_crawl.stored(url)


def test_f9_a_server_that_never_answers_is_cut_at_the_download_timeout(
    fetch_crawl: FetchCrawl,
) -> None:
    """F9: a server that accepts the request and never answers is cut at DOWNLOAD_TIMEOUT,
    retried RETRY_TIMES, then leaves a ``failed`` row with reason ``timeout``; the run still
    ends by itself."""
    url = fetch_crawl.stream_url(HANG)
    row = fetch_crawl.row(url)
    assert (row["outcome"], row["reason"]) == ("failed", "timeout"), row
    assert fetch_crawl.streams.paths().count(HANG) == 1 + RETRY_TIMES
    assert not fetch_crawl.stored(url)
    assert "finish reason: finished" in fetch_crawl.run.stdout, fetch_crawl.run.stdout


@pytest.mark.parametrize("path", [GONE, NOT_FOUND], ids=["410", "404"])
def test_f13_gone_pages_are_recorded_gone_and_not_retried(
    fetch_crawl: FetchCrawl, path: str
) -> None:
    """F13: a 404 or 410 is fetched once (no retry) and its row says ``gone`` with the
    status."""
    row = fetch_crawl.row(fetch_crawl.base_url + path)
    assert (row["reason"], row["status"]) == ("gone", 410 if path == GONE else 404), row
    assert fetch_crawl.site.requests[path] == 1


def test_f13_a_gone_article_is_not_fetched_in_the_next_run(tmp_path: Path) -> None:
    """F13 across runs: an article that answered 410 is not requested by the next run,
    while the home page is."""
    site = FixtureSite(
        routes={
            "/robots.txt": ROBOTS,
            "/": _home([ARTICLE, GONE]),
            ARTICLE: _html(article_html(GERMAN_PARAGRAPHS).encode()),
            GONE: _html(b"<html><body><p>Entfernt</p></body></html>", status=410),
        },
        manifest=Manifest(articles=()),
    )
    with serve(site) as base_url:
        sites_file = loopback_sites_file(tmp_path / "sites.toml", "fetch", "Abrufe", base_url)
        data = tmp_path / "data"
        first = run_crawl(site, sites_file, data)
        second = run_crawl(site, sites_file, data)
    assert first.returncode == second.returncode == 0, second.stderr[-3000:]
    assert first.requests[GONE] == 1
    assert second.requests[GONE] == 0
    assert second.requests["/"] >= 1
    gone = [r for r in pages(data) if r["url"] == base_url + GONE]
    assert [(r["reason"], r["status"]) for r in gone] == [("gone", 410)]


# --------------------------------------------------------------------------- X10

SECRET = "Bearer x10-secret-token"


def test_x10_authorization_is_dropped_on_a_cross_origin_redirect(tmp_path: Path) -> None:
    """X10: a request with an Authorization header that is redirected to another origin
    (another port of 127.0.0.1) arrives there without the header, while a same-origin
    redirect keeps it. Runs the project's whole middleware stack."""
    seen: dict[str, str | None] = {}

    def echo(name: str) -> Any:
        def route(handler: BaseHTTPRequestHandler) -> None:
            seen[name] = handler.headers.get("Authorization")
            send(handler, 200, "text/plain", b"ok")

        return route

    other = Site("127.0.0.1", {"/echo": echo("other")})
    origin = Site("127.0.0.1", {"/echo": echo("origin")})
    base = f"http://127.0.0.1:{origin.port}"
    origin.routes["/cross"] = redirect(f"http://127.0.0.1:{other.port}/echo")
    origin.routes["/same"] = redirect(f"{base}/echo")
    headers = {"Authorization": SECRET}
    try:
        result = run_probe(
            tmp_path,
            [
                {"tag": "cross", "url": f"{base}/cross", "headers": headers},
                {"tag": "same", "url": f"{base}/same", "headers": headers},
            ],
            {},
        )
    finally:
        other.close()
        origin.close()
    assert {r["status"] for r in result["results"].values()} == {200}, result["log"][-3000:]
    assert seen == {"other": None, "origin": SECRET}
