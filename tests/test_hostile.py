"""Hostile pages and crawler traps from the reliability catalogue (issue 5): T1–T9, F5, F14,
F16, P5, P7, P10, P12.

Behaviour that lives in one function is tested there (``clean``); the traps are tested in one
real ``localnews crawl`` of a loopback trap site, whose every endpoint is bounded on the
server side, so a crawler without the guard ends too and its test fails instead of hanging.
"""

from __future__ import annotations

import gzip
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from benchmarks.evalset import default_eval_dir, load_eval
from crawler.spiders.news import MAX_OUTLINKS
from pipelines.clean import clean
from pipelines.decode import DecodeError, decode_html
from pipelines.pool import KillingProcessPool, clean_task
from pipelines.quality import MAX_DEPTH, truncated
from pipelines.records import Article, Reason, Rejection
from pipelines.rules import CleaningRules
from tests.crawling import Run, articles, pages, run_crawl
from tests.newssite import FixtureSite, Manifest, Route, loopback_sites_file, serve
from tests.pages import GERMAN_PARAGRAPHS, article_html, make_page

RULES = CleaningRules()
CLEAN_BUDGET_S = 5.0
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
HTML_TYPE = "text/html; charset=utf-8"


def article(result: Article | Rejection) -> Article:
    assert isinstance(result, Article), result
    return result


# --------------------------------------------------------------------------- unit: clean()


@pytest.mark.parametrize(
    "body",
    [b"", b"   \r\n\t  ", b"\xef\xbb\xbf", b"<html><head></head><body></body></html>"],
    ids=["empty", "whitespace", "bom-only", "empty-document"],
)
def test_f14_empty_body_is_empty_body(body: bytes) -> None:
    """F14: a 200 with an empty (or blank) body is rejected ``empty_body``, no article."""
    result = clean(make_page(body, content_type=HTML_TYPE), RULES)
    assert isinstance(result, Rejection) and result.reason == Reason.EMPTY_BODY, result


@pytest.mark.parametrize(
    "body",
    [
        PNG,
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(range(256)),
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)),
        b"  \n" + PNG,  # leading whitespace does not hide the magic bytes
    ],
    ids=["png", "gif", "jpeg", "png-after-whitespace"],
)
def test_f16_binary_served_as_text_html_is_not_html(body: bytes) -> None:
    """F16: an image served as text/html is recognised by its magic bytes: ``not_html``."""
    result = clean(make_page(body, content_type=HTML_TYPE), RULES)
    assert isinstance(result, Rejection) and result.reason == Reason.NOT_HTML, result


def test_f16_binary_without_magic_bytes_is_bad_encoding() -> None:
    """F16: binary junk without known magic bytes fails the control-character check."""
    body = bytes(range(1, 256)) * 40
    result = clean(make_page(body, content_type=HTML_TYPE), RULES)
    assert isinstance(result, Rejection) and result.reason == Reason.BAD_ENCODING, result


def test_p12_compressed_bytes_are_never_parsed_as_html() -> None:
    """P12: gzip bytes that reached cleaning undecoded are ``not_html``, never decompressed."""
    body = gzip.compress(article_html(GERMAN_PARAGRAPHS).encode() * 50)
    result = clean(make_page(body, content_type=HTML_TYPE), RULES)
    assert isinstance(result, Rejection) and result.reason == Reason.NOT_HTML, result


MOJIBAKE = [
    # UTF-8 read as cp1252 once and stored so by the CMS: the bytes on the wire are valid UTF-8
    p.encode("utf-8").decode("cp1252", errors="replace")
    for p in GERMAN_PARAGRAPHS
]


def test_p5_mojibake_in_the_source_is_flagged() -> None:
    """P5: text that is already mojibake in the source ('StraÃŸe', 'â€ž') is kept as an
    article whose row carries the quality flag ``mojibake``."""
    assert "Ã¼" in MOJIBAKE[0] or "ÃŸ" in MOJIBAKE[0]
    result = article(clean(make_page(article_html(MOJIBAKE).encode("utf-8")), RULES))
    assert result.quality_flags == ["mojibake"], result.quality_flags


@pytest.mark.parametrize(
    "paragraphs",
    [
        GERMAN_PARAGRAPHS,
        # one stray hit (a name, a quoted typo) is not a broken source
        [*GERMAN_PARAGRAPHS[:-1], GERMAN_PARAGRAPHS[-1] + " Der Verein heißt „JoÃ£o“."],
        [*GERMAN_PARAGRAPHS[:-1], GERMAN_PARAGRAPHS[-1] + " São Paulo, Ägypten, Île-de-France."],
    ],
    ids=["german", "one-stray-hit", "foreign-names"],
)
def test_p5_clean_german_text_is_not_flagged_as_mojibake(paragraphs: list[str]) -> None:
    """P5 (the other side): correct German text, also with foreign names or one stray
    mis-decoded word, is an article without quality flags."""
    result = article(clean(make_page(article_html(paragraphs).encode()), RULES))
    assert result.quality_flags == [], result.quality_flags


def _truncated_article() -> bytes:
    body = article_html([*GERMAN_PARAGRAPHS, *GERMAN_PARAGRAPHS]).encode()
    cut = body.index(b"</p>", len(body) // 2) - 20
    return body[:cut] + b'<a href="/weiter" cla'  # cut mid-paragraph, inside a tag


@pytest.mark.parametrize("tail", [b'<a href="/weiter" cla', b" und dann"], ids=["tag", "text"])
def test_p7_truncated_html_is_not_a_clean_article(tail: bytes) -> None:
    """P7: HTML cut inside a tag or inside text (no </body>, no </html>) that got through
    the fetch is kept with the quality flag ``truncated``, not as a clean article."""
    body = _truncated_article().removesuffix(b'<a href="/weiter" cla') + tail
    result = article(clean(make_page(body), RULES))
    assert result.quality_flags == ["truncated"], result.quality_flags


@pytest.mark.parametrize(
    "body",
    [
        article_html(GERMAN_PARAGRAPHS).encode(),
        article_html(GERMAN_PARAGRAPHS).encode().replace(b"</body>", b"").replace(b"</html>", b""),
        article_html(GERMAN_PARAGRAPHS).encode().replace(b"</html>", b"<!-- cache 0.2 s -->"),
    ],
    ids=["complete", "no-closing-tags", "comment-after-body"],
)
def test_p7_complete_documents_are_not_flagged_truncated(body: bytes) -> None:
    """P7 (the other side): a whole document is not flagged, also when it omits
    </body></html> as many real pages do, as long as it ends with a whole tag."""
    assert article(clean(make_page(body), RULES)).quality_flags == []


def test_p7_no_eval_page_is_flagged_truncated() -> None:
    """P7: the truncation rule flags none of the real pages of the shared eval set."""
    folder = default_eval_dir()
    if not (folder / "manifest.jsonl").is_file():
        pytest.skip(f"no eval set at {folder}")
    flagged = []
    for page in load_eval(folder):
        try:
            text = decode_html(page.read_html(), None).text
        except DecodeError:
            continue
        if truncated(text):
            flagged.append(page.id)
    assert not flagged


def test_p7_truncated_html_never_raises() -> None:
    """P7 (today's floor): a cut document still gives an Article or a Rejection."""
    assert isinstance(clean(make_page(_truncated_article()), RULES), Article | Rejection)


def _nested(tag: str, depth: int) -> bytes:
    inner = "".join(f"<p>{p}</p>" for p in GERMAN_PARAGRAPHS)
    return f"<html><body>{f'<{tag}>' * depth}{inner}{f'</{tag}>' * depth}</body></html>".encode()


@pytest.mark.parametrize("tag", ["table", "article"])
def test_p10_deep_tables_and_articles_within_budget(tag: str) -> None:
    """P10: 2,000 nested <table>s or <article>s (30 KB, under huge_tree's 2,048; trafilatura
    is cubic in that depth: 21 s and 8 s) are a ``too_deep`` rejection within 5 s, refused
    before trafilatura runs."""
    pool = KillingProcessPool(max_workers=1, timeout=CLEAN_BUDGET_S)
    try:
        warm = pool.submit(clean_task, make_page(_nested("div", 3)), RULES).result()
        assert isinstance(warm, Article)  # the worker is up: the budget is the page's alone
        result = pool.submit(clean_task, make_page(_nested(tag, 2000)), RULES).result()
    finally:
        pool.shutdown(cancel_futures=True)
    assert isinstance(result, Rejection) and result.reason == Reason.TOO_DEEP, result


def test_p10_nesting_up_to_the_cap_is_cleaned() -> None:
    """P10 (the other side): MAX_DEPTH levels of <div> are an article; one more is
    ``too_deep``. The eval pages nest at most 51 deep, far below the cap."""
    chrome = 3  # html, body and the <p> around each paragraph
    kept = clean(make_page(_nested("div", MAX_DEPTH - chrome)), RULES)
    assert article(kept).word_count > 50
    refused = clean(make_page(_nested("div", MAX_DEPTH - chrome + 1)), RULES)
    assert isinstance(refused, Rejection) and refused.reason == Reason.TOO_DEEP, refused


# --------------------------------------------------------------------------- the trap site

DEPTH_LIMIT = 3
REDIRECT_MAX_TIMES = 5
CALENDAR_MONTHS = 30
"""The server answers /kalender/?m=N for |N| ≤ this; a crawler without a bound stops there."""
GROW_LEVELS = 30
FARM_LINKS = 10_000
CHAIN_HOPS = 25
ARTICLE_PATH = "/2024/05/03/radwege-fuer-duisburg/"
SESSION_ARTICLE = "/2024/05/04/ratssitzung/"
MONTHS = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


def _html(render: Any) -> Route:
    return Route(200, (("Content-Type", HTML_TYPE),), render)


def _listing(title: str, links: list[tuple[str, str]]) -> Route:
    """A section-like page (CollectionPage): the spider follows its links."""
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    body = (
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{title}</title>'
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        f'"@type":"CollectionPage","name":"{title}"}}</script></head>'
        f"<body><h1>{title}</h1><ul>{anchors}</ul></body></html>"
    ).encode()
    return _html(lambda _base: body)


def _article(canonical_path: str) -> Route:
    def render(base: str) -> bytes:
        head = f'<link rel="canonical" href="{base}{canonical_path}">'
        return article_html(GERMAN_PARAGRAPHS, head=head).encode()

    return _html(render)


def _month(n: int) -> str:
    year, month = divmod(2024 * 12 + 10 + n, 12)  # m=0 is November 2024
    return f"{MONTHS[month]} {year}"


def _calendar(n: int) -> Route:
    previous = (f"/kalender/?m={n - 1}", f"‹ {_month(n - 1)}")
    following = (f"/kalender/?m={n + 1}", f"{_month(n + 1)} ›")
    return _listing(f"Veranstaltungen im {_month(n)}", [previous, following])


def _meta_refresh(target: str) -> Route:
    body = (
        '<html><head><meta http-equiv="refresh" content="0; url=' + target + '">'
        "<title>Weiterleitung</title></head><body><p>Sie werden weitergeleitet.</p></body></html>"
    ).encode()
    return _html(lambda _base: body)


def _redirect(location: str) -> Route:
    return Route(302, (("Content-Type", HTML_TYPE), ("Location", location)), lambda _b: b"")


UTM_VARIANTS = [
    ARTICLE_PATH,
    ARTICLE_PATH + "?utm_source=facebook",
    ARTICLE_PATH + "?utm_medium=social",
    ARTICLE_PATH + "?utm_campaign=herbst",
    ARTICLE_PATH + "?utm_source=newsletter&utm_medium=email",
    ARTICLE_PATH + "?utm_term=rad&utm_content=teaser",
    ARTICLE_PATH + "#comments",
    ARTICLE_PATH + "amp/",
    "/print" + ARTICLE_PATH,
]
SESSION_LINKS = [
    "/sitzung/?sid=a1b2c3",
    "/sitzung/;jsessionid=B2C3D4",
    "/sitzung/?PHPSESSID=c3d4e5",
    SESSION_ARTICLE + ";jsessionid=D4E5F6",
    SESSION_ARTICLE + "?sid=e5f6a7",
    SESSION_ARTICLE + "?PHPSESSID=f6a7b8&utm_source=rss",
]


def trap_routes(truncated_url: str) -> dict[str, Route]:
    """Every trap of the catalogue on one site, each bounded on the server side."""
    routes: dict[str, Route] = {
        "/": _listing(
            "Startseite",
            [
                ("/leer/", "Leere Seite"),
                ("/png-als-html/", "Bildergalerie"),
                (truncated_url, "Abgeschnittener Artikel"),
                (f"/kette/{CHAIN_HOPS}/", "Umgezogener Artikel"),
                ("/meta-a/", "Weitergeleiteter Artikel"),
            ],
        ),
        "/leer/": _html(lambda _base: b""),
        "/png-als-html/": _html(lambda _base: PNG),
        "/meta-a/": _meta_refresh("/meta-b/"),
        "/meta-b/": _meta_refresh("/meta-a/"),
        "/utm-liste/": _listing("Radverkehr", [(href, "Neue Radwege") for href in UTM_VARIANTS]),
        ARTICLE_PATH: _article(ARTICLE_PATH),
        ARTICLE_PATH + "amp/": _article(ARTICLE_PATH),
        "/print" + ARTICLE_PATH: _article(ARTICLE_PATH),
        "/sitzung/": _listing("Ratssitzung", [(href, "Sitzung") for href in SESSION_LINKS]),
        SESSION_ARTICLE: _article(SESSION_ARTICLE),
        "/linkfarm/": _listing(
            "Alle Beiträge", [(f"/farm/{i}/", f"Beitrag {i}") for i in range(FARM_LINKS)]
        ),
    }
    for n in range(-CALENDAR_MONTHS, CALENDAR_MONTHS + 1):
        routes[f"/kalender/?m={n}"] = _calendar(n)
    for level in range(GROW_LEVELS + 1):
        routes["/grow/" + "rubrik/" * level] = _listing(
            "Rubrik", [("rubrik/", "Mehr aus der Rubrik"), ("/", "Startseite")]
        )
    for hop in range(1, CHAIN_HOPS + 1):
        routes[f"/kette/{hop}/"] = _redirect(f"/kette/{hop - 1}/")
    routes["/kette/0/"] = _article("/kette/0/")
    return routes


START_PATHS = ("/kalender/?m=0", "/grow/", "/sitzung/", "/utm-liste/", "/linkfarm/")


class TruncatingServer:
    """Answers every GET with ``Content-Length: 10000`` and 100 bytes, then closes (F5)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                request = conn.recv(65536).decode("latin-1")
                self.hits.append(request.split(" ", 2)[1] if " " in request else "")
                if self.hits[-1] == "/robots.txt":
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                head = f"HTTP/1.1 200 OK\r\nContent-Type: {HTML_TYPE}\r\nContent-Length: 10000\r\n"
                conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + b"<p>Stra" * 14)

    def close(self) -> None:
        self.sock.close()


@dataclass
class TrapCrawl:
    site: FixtureSite
    base_url: str
    run: Run
    pages: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    truncating: TruncatingServer

    def page_rows(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.pages if r["url"] == self.base_url + path]

    def requests_under(self, prefix: str) -> int:
        return sum(n for path, n in self.site.requests.items() if path.startswith(prefix))


@pytest.fixture(scope="module")
def trap_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrapCrawl]:
    tmp = tmp_path_factory.mktemp("traps")
    truncating = TruncatingServer()
    truncated_url = f"http://127.0.0.1:{truncating.port}/abgeschnitten/"
    site = FixtureSite(routes=trap_routes(truncated_url), manifest=Manifest(articles=()))
    try:
        with serve(site) as base_url:
            sites_file = loopback_sites_file(
                tmp / "sites.toml", "traps", "Fallen", base_url, START_PATHS
            )
            data = tmp / "data"
            run = run_crawl(
                site, sites_file, data,
                "-s", f"DEPTH_LIMIT={DEPTH_LIMIT}",
                "-s", f"REDIRECT_MAX_TIMES={REDIRECT_MAX_TIMES}",
                "-s", "RETRY_TIMES=1",
                "-s", "NEWS_RETRY_BACKOFF_BASE=0.2",
                "-s", "CLOSESPIDER_TIMEOUT=90",
            )  # fmt: skip
            yield TrapCrawl(site, base_url, run, pages(data), articles(data), truncating)
    finally:
        truncating.close()


def test_trap_crawl_finishes_on_its_own(trap_crawl: TrapCrawl) -> None:
    """Every trap is bounded: the run ends by itself, not by its time budget."""
    assert trap_crawl.run.returncode == 0, trap_crawl.run.stderr[-3000:]
    assert "finish reason: finished" in trap_crawl.run.stdout, trap_crawl.run.stdout


def test_t1_calendar_is_bounded_by_the_depth_limit(trap_crawl: TrapCrawl) -> None:
    """T1: a prev/next calendar is followed at most DEPTH_LIMIT months either way."""
    months = trap_crawl.site.requests["/kalender/"]
    assert 1 <= months <= 2 * DEPTH_LIMIT + 1, months


def test_t2_session_ids_never_multiply_a_page(trap_crawl: TrapCrawl) -> None:
    """T2: links with sid / PHPSESSID / ;jsessionid collapse to one request per page."""
    targets = trap_crawl.site.targets
    assert not [t for t in targets if re.search(r"sid=|sessid|jsessionid", t, re.I)], targets
    assert targets["/sitzung/"] == 1
    assert targets[SESSION_ARTICLE] == 1
    stored = [r for r in trap_crawl.articles if r["canonical_url"].endswith(SESSION_ARTICLE)]
    assert len(stored) == 1, stored


def test_t3_growing_relative_paths_are_cut_early(trap_crawl: TrapCrawl) -> None:
    """T3: /grow/rubrik/rubrik/… is refused once a segment repeats, long before URLLENGTH."""
    deepest = max(
        (p.count("rubrik/") for p in trap_crawl.site.requests if p.startswith("/grow/")),
        default=0,
    )
    assert deepest <= 2, deepest


def test_t5_redirect_chain_stops_at_the_limit_and_leaves_a_row(trap_crawl: TrapCrawl) -> None:
    """T5: a 25-hop chain stops after REDIRECT_MAX_TIMES hops with a redirect_limit row."""
    assert trap_crawl.requests_under("/kette/") <= REDIRECT_MAX_TIMES + 1
    assert trap_crawl.site.requests["/kette/0/"] == 0
    [row] = trap_crawl.page_rows(f"/kette/{CHAIN_HOPS}/")
    assert row["outcome"] == "failed" and row["reason"] == "redirect_limit", row


def test_t6_meta_refresh_loop_leaves_a_row_and_stops(trap_crawl: TrapCrawl) -> None:
    """T6: a meta-refresh loop A→B→A is recorded (redirect_loop) and fetched once each."""
    assert trap_crawl.site.requests["/meta-a/"] == 1
    assert trap_crawl.site.requests["/meta-b/"] == 1
    [row] = trap_crawl.page_rows("/meta-a/")
    assert row["reason"] in {"redirect_loop", "redirect_limit"}, row


def test_t7_tracking_amp_print_and_comments_are_one_stored_article(
    trap_crawl: TrapCrawl,
) -> None:
    """T7: 5× utm_*, #comments, /amp/, /print/ of one article → one fetch of it, one row."""
    requests = trap_crawl.site.requests
    assert requests[ARTICLE_PATH] == 1
    assert requests[ARTICLE_PATH + "amp/"] <= 1 and requests["/print" + ARTICLE_PATH] <= 1
    canonical = trap_crawl.base_url + ARTICLE_PATH
    stored = [r for r in trap_crawl.articles if r["canonical_url"] == canonical]
    assert len(stored) == 1, [r["url"] for r in stored]
    variants = [r for r in trap_crawl.pages if ARTICLE_PATH in r["url"]]
    assert sorted(r["outcome"] for r in variants).count("article") == 1, variants


def test_t9_link_farm_outlinks_are_capped(trap_crawl: TrapCrawl) -> None:
    """T9: of a page's 10,000 links at most MAX_OUTLINKS are followed."""
    followed = trap_crawl.requests_under("/farm/")
    assert 1 <= followed <= MAX_OUTLINKS, followed


def test_f5_short_body_is_a_failure_not_a_page(trap_crawl: TrapCrawl) -> None:
    """F5: Content-Length 10000 but 100 bytes and close: a failed row, nothing stored."""
    url = f"http://127.0.0.1:{trap_crawl.truncating.port}/abgeschnitten/"
    rows = [r for r in trap_crawl.pages if r["url"] == url]
    assert rows and all(r["outcome"] == "failed" for r in rows), rows
    assert "/abgeschnitten/" in trap_crawl.truncating.hits
    assert not [r for r in trap_crawl.articles if r["url"] == url]


def test_f14_empty_page_is_recorded_empty_body(trap_crawl: TrapCrawl) -> None:
    """F14: a 200 with an empty body leaves an ``empty_body`` row and no article."""
    [row] = trap_crawl.page_rows("/leer/")
    assert row["outcome"] == "rejected" and row["reason"] == "empty_body", row


def test_f16_png_served_as_html_is_recorded_not_html(trap_crawl: TrapCrawl) -> None:
    """F16: PNG bytes with Content-Type text/html leave a ``not_html`` row and no article."""
    [row] = trap_crawl.page_rows("/png-als-html/")
    assert row["outcome"] == "rejected" and row["reason"] == "not_html", row
