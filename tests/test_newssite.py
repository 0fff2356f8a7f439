"""Tests for the fixture news site: structure, discovery documents and manifest consistency."""

from __future__ import annotations

import gzip
import http.client
import re
import time
import tomllib
import tracemalloc
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.robotparser import RobotFileParser

import pytest

from tests.newssite import (
    DEAD_PATH,
    FEED_SIZE,
    NEWS_SITEMAP_SIZE,
    PER_PAGE,
    Manifest,
    NewsSiteFixture,
    build_site,
    serve,
)

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
_HREF_RE = re.compile(r'<a\b[^>]*?href="([^"]+)"[^>]*>')
_NEXT_RE = re.compile(r'<a\b[^>]*rel="next"[^>]*href="([^"]+)"')


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET with urllib (following redirects); HTTP errors are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def no_follow(base_url: str, path: str) -> tuple[int, str | None]:
    """Status and Location of a GET that does not follow redirects."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def locs(body: bytes) -> list[str]:
    return [el.text or "" for el in ET.fromstring(body).iter(f"{SM}loc")]


def links(body: bytes) -> list[str]:
    return _HREF_RE.findall(body.decode("utf-8"))


def test_robots_disallows_intern_and_names_the_sitemap_index(news_site: NewsSiteFixture) -> None:
    base = news_site.base_url
    status, headers, body = fetch(base + "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {base}/sitemap_index.xml" in body.decode()
    robots = RobotFileParser()
    robots.parse(body.decode().splitlines())
    assert not robots.can_fetch("localnews", base + "/intern/geheim/")
    assert robots.can_fetch("localnews", base + news_site.site.manifest.articles[0].path)
    _, _, home = fetch(base + "/")
    assert base + "/intern/geheim/" in links(home)


def test_sitemaps_list_every_article_with_its_date(news_site: NewsSiteFixture) -> None:
    base, manifest = news_site.base_url, news_site.site.manifest
    _, _, index = fetch(base + "/sitemap_index.xml")
    children = locs(index)
    assert children == [
        base + "/sitemap-posts.xml",
        base + "/news-sitemap.xml",
        base + "/sitemap-old.xml.gz",
    ]
    _, _, posts = fetch(base + "/sitemap-posts.xml")
    status, headers, old_gz = fetch(base + "/sitemap-old.xml.gz")
    assert status == 200 and headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in headers and old_gz[:2] == b"\x1f\x8b"
    old = gzip.decompress(old_gz)
    listed = {url: "/sitemap-posts.xml" for url in locs(posts)}
    listed |= {url: "/sitemap-old.xml.gz" for url in locs(old)}
    assert listed == {a.url(base): a.sitemap for a in manifest.articles}
    lastmods = [el.text for el in ET.fromstring(posts).iter(f"{SM}lastmod")]
    assert lastmods == [
        a.published.isoformat() for a in manifest.articles if a.sitemap == "/sitemap-posts.xml"
    ]


def test_news_sitemap_has_the_newest_articles(news_site: NewsSiteFixture) -> None:
    base, manifest = news_site.base_url, news_site.site.manifest
    _, _, body = fetch(base + "/news-sitemap.xml")
    root = ET.fromstring(body)
    dates = [el.text for el in root.iter(f"{NEWS}publication_date")]
    newest = [a for a in manifest.articles if a.in_news_sitemap]
    assert len(newest) == NEWS_SITEMAP_SIZE == len(dates)
    assert locs(body) == [a.url(base) for a in newest]
    assert dates == [a.published.isoformat() for a in newest]
    assert all(el.text for el in root.iter(f"{NEWS}title"))


def test_feed_links_carry_tracking_parameters(news_site: NewsSiteFixture) -> None:
    base, site = news_site.base_url, news_site.site
    status, headers, body = fetch(base + "/feed/")
    assert status == 200 and "rss" in headers["Content-Type"]
    items = ET.fromstring(body).findall("./channel/item")
    in_feed = [a for a in site.manifest.articles if a.in_feed]
    assert len(items) == len(in_feed) == FEED_SIZE
    for item, article in zip(items, in_feed, strict=True):
        link = urlsplit(item.findtext("link") or "")
        assert link.path == article.path and parse_qs(link.query)["utm_source"] == ["rss"]
        assert parsedate_to_datetime(item.findtext("pubDate") or "") == article.published
    before = site.requests[in_feed[0].path]
    assert fetch(item_link := items[0].findtext("link") or "")[0] == 200
    assert site.requests[in_feed[0].path] == before + 1
    assert site.targets[item_link.removeprefix(base)] == 1


def test_sections_paginate_to_every_article(news_site: NewsSiteFixture) -> None:
    base, manifest = news_site.base_url, news_site.site.manifest
    found: dict[str, str] = {}
    for start in manifest.start_paths:
        url: str | None = base + start
        while url:
            status, _, body = fetch(url)
            assert status == 200
            page = url.removeprefix(base)
            teased = [u for u in links(body) if u.removeprefix(base) in _article_paths(manifest)]
            assert len(teased) <= PER_PAGE
            found |= dict.fromkeys(teased, page)
            text = body.decode()
            nxt = _NEXT_RE.search(text)
            assert (nxt is None) == ("Ältere Beiträge" not in text)
            url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert found == {a.url(base): a.section_page for a in manifest.articles}
    assert any("?seite=2" in a.section_page for a in manifest.articles)
    assert any("/page/2/" in a.section_page for a in manifest.articles)


def _article_paths(manifest: Manifest) -> set[str]:
    return {a.path for a in manifest.articles}


def test_amp_variants_point_back_to_their_article(news_site: NewsSiteFixture) -> None:
    base = news_site.base_url
    amp = [a for a in news_site.site.manifest.articles if a.amp_path]
    assert amp
    for article in amp:
        _, _, page = fetch(article.url(base))
        assert f'<link rel="amphtml" href="{base}{article.amp_path}">'.encode() in page
        assert f'<link rel="canonical" href="{article.url(base)}">'.encode() in page
        assert page.count(b'rel="canonical"') == 1
        status, _, reader = fetch(base + (article.amp_path or ""))
        assert status == 200
        assert f'<link rel="canonical" href="{article.url(base)}">'.encode() in reader
        assert b"mode=reader" in reader and b"amp-wp-article-content" in reader
        assert base + DEAD_PATH in links(reader)


def test_redirect_404_and_pdf(news_site: NewsSiteFixture) -> None:
    base, manifest = news_site.base_url, news_site.site.manifest
    ((source, target),) = manifest.redirects
    assert no_follow(base, source) == (301, base + target)
    assert target in {a.path for a in manifest.articles}
    _, _, home = fetch(base + "/")
    assert base + source in links(home)
    status, _, body = fetch(base + DEAD_PATH)
    assert status == 404 and b"Seite nicht gefunden" in body
    _, _, lokales = fetch(base + "/lokales/")
    assert base + DEAD_PATH in links(lokales)
    ((pdf, content_type),) = manifest.non_html
    assert base + pdf in links(lokales)
    status, headers, body = fetch(base + pdf)
    assert status == 200 and headers["Content-Type"] == content_type and body.startswith(b"%PDF")


def test_tag_and_author_pages_list_articles(news_site: NewsSiteFixture) -> None:
    base = news_site.base_url
    paths = {a.url(base) for a in news_site.site.manifest.articles}
    _, _, home = fetch(base + "/")
    for page in ("/tag/duisburg/", "/autor/redaktion/"):
        assert base + page in links(home)
        status, _, body = fetch(base + page)
        assert status == 200 and set(links(body)) & paths


def test_sites_toml_describes_the_fixture(news_site: NewsSiteFixture, tmp_path: Path) -> None:
    base = news_site.base_url
    (entry,) = tomllib.loads(news_site.sites_toml(tmp_path).read_text("utf-8"))["site"]
    assert set(entry) == {
        "id", "name", "url", "allowed_domains", "sitemaps", "feeds", "start_urls", "language"
    }  # fmt: skip
    assert entry["id"] == "fixture" and entry["allowed_domains"] == ["127.0.0.1"]
    assert entry["start_urls"] == [f"{base}/lokales/", f"{base}/sport/", f"{base}/politik/"]
    assert entry["sitemaps"] == [f"{base}/sitemap_index.xml"] and entry["language"] == "de"


def test_requests_are_counted_per_path(news_site: NewsSiteFixture) -> None:
    base, site = news_site.base_url, news_site.site
    before = site.requests["/sport/"]
    fetch(base + "/sport/")
    fetch(base + "/sport/?utm_source=x")
    assert site.requests["/sport/"] == before + 2


def test_absolute_links_follow_the_host_header(news_site: NewsSiteFixture) -> None:
    port = urlsplit(news_site.base_url).port
    _, _, body = fetch(news_site.base_url + "/robots.txt", {"Host": f"localhost:{port}"})
    assert f"Sitemap: http://localhost:{port}/sitemap_index.xml" in body.decode()


def test_synthetic_articles_are_complete_and_deterministic(tmp_path: Path) -> None:
    site = build_site(30, eval_dir=tmp_path, seed=3)
    assert site.manifest == build_site(30, eval_dir=tmp_path, seed=3).manifest
    assert site.manifest != build_site(30, eval_dir=tmp_path, seed=4).manifest
    with serve(site, gzip_html=True) as base:
        for article in site.manifest.articles:
            assert article.source == "synthetic" and article.title
            status, headers, raw = fetch(article.url(base), {"Accept-Encoding": "gzip"})
            assert status == 200 and headers["Content-Encoding"] == "gzip"
            page = gzip.decompress(raw).decode("utf-8")
            assert article.snippet in page and '"@type":"NewsArticle"' in page
            published = article.published.isoformat()
            assert f'<meta property="article:published_time" content="{published}">' in page
            assert article.page_date == article.published.date().isoformat()
            assert base + DEAD_PATH in links(page.encode())
        _, headers, _ = fetch(base + "/robots.txt", {"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in headers
    assert len({a.path for a in site.manifest.articles}) == 30


def test_eval_pages_are_served_as_published_plus_a_local_canonical(
    news_site: NewsSiteFixture,
) -> None:
    eval_articles = [a for a in news_site.site.manifest.articles if a.source != "synthetic"]
    if not eval_articles:
        pytest.skip("evaluation set absent: the fixture site is synthetic")
    base = news_site.base_url
    _, _, page = fetch(eval_articles[0].url(base))
    assert page.count(b'rel="canonical"') == 1
    assert f'<link rel="canonical" href="{eval_articles[0].url(base)}">'.encode() in page


def test_large_site_builds_fast_and_small() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    site = build_site(2000)
    elapsed = time.perf_counter() - started
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(site.manifest.articles) == 2000
    assert len({a.path for a in site.manifest.articles}) == 2000
    assert elapsed < 5.0
    assert current < 50 * 1024 * 1024
