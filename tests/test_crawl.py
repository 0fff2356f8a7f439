"""End to end: `localnews crawl` against the loopback fixture site, then re-clean its WARCs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli import main
from pipelines.layout import read_dataset
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA
from pipelines.warc import find_warc_files, iter_pages
from tests.newssite import FixtureSite, NewsSiteFixture, Route, build_site, serve

ROOT = Path(__file__).parents[1]
FAST = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "NEWS_ALLOW_PRIVATE_ADDRESSES=True",
    "-s", "NEWS_WORKERS=2",
    "-s", "CLOSESPIDER_TIMEOUT=120",
]  # fmt: skip


def _crawl_command(sites_file: Path) -> list[str]:
    """``localnews crawl`` as a user types it (learning on), but leaving the log uncompacted."""
    return [sys.executable, "-m", "pipelines.cli", "crawl", "--no-compact",
            "--sites-file", str(sites_file)]  # fmt: skip


@dataclass
class CrawlRun:
    site: FixtureSite
    base_url: str
    data: Path
    returncode: int
    stdout: str
    stderr: str

    def articles(self) -> pd.DataFrame:
        return read_dataset(self.data / "articles", ARTICLE_SCHEMA).to_pandas()

    def pages(self) -> pd.DataFrame:
        return read_dataset(self.data / "pages", PAGE_SCHEMA).to_pandas()


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlRun]:
    tmp = tmp_path_factory.mktemp("crawl")
    site = build_site(40, eval_dir=tmp)  # synthetic articles: exact expectations
    with serve(site) as base_url:
        # a section link that redirects off the site (to another loopback host name)
        offsite = base_url.replace("127.0.0.1", "localhost") + "/anderswo/"
        site.routes["/weg/"] = Route(301, (("Location", offsite),), lambda _base: b"")
        # a section that moved to another one the crawl also requests, and a redirect loop
        moved_to = base_url + site.manifest.start_paths[0]
        site.routes["/umzug/"] = Route(301, (("Location", moved_to),), lambda _base: b"")
        site.routes["/kreis-a/"] = Route(302, (("Location", "/kreis-b/"),), lambda _base: b"")
        site.routes["/kreis-b/"] = Route(302, (("Location", "/kreis-a/"),), lambda _base: b"")
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp)
        text = sites_file.read_text(encoding="utf-8")
        extra = ", ".join(f'"{base_url}{path}"' for path in ("/weg/", "/umzug/", "/kreis-a/"))
        sites_file.write_text(text.replace("start_urls = [", f"start_urls = [{extra}, "))
        data = tmp / "data"
        command = _crawl_command(sites_file)
        # small frontier batches: the links of each sitemap and feed are released many times
        result = subprocess.run(
            [*command, "--data-dir", str(data), *FAST, "-s", "NEWS_FRONTIER_BATCH=3"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        yield CrawlRun(site, base_url, data, result.returncode, result.stdout, result.stderr)


def test_crawl_succeeds_and_reports_per_site(crawl: CrawlRun) -> None:
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "fixture: pages" in crawl.stdout
    assert "articles 40" in crawl.stdout
    assert "learned fixture: " in crawl.stdout  # boilerplate relearnt after the crawl


def test_every_article_is_found_exactly_once(crawl: CrawlRun) -> None:
    articles = crawl.articles()
    expected = {a.url(crawl.base_url) for a in crawl.site.manifest.articles}
    assert sorted(articles.canonical_url) == sorted(expected)
    assert articles.article_id.is_unique
    for article in crawl.site.manifest.articles:
        assert crawl.site.requests[article.path] == 1, article.path
    assert not articles.canonical_url.str.contains("utm_").any()


def test_articles_have_correct_fields(crawl: CrawlRun) -> None:
    articles = crawl.articles().set_index("canonical_url")
    for expected in crawl.site.manifest.articles:
        row = articles.loc[expected.url(crawl.base_url)]
        assert row.title == expected.title
        assert expected.snippet in " ".join(row.text.split())
        assert row.site == "fixture"
        assert row.published is not None and row.published.year == 2024
        assert row.warc_file and row.warc_offset is not None and len(row.raw_sha256) == 64


def test_non_articles_are_recorded_with_reasons(crawl: CrawlRun) -> None:
    pages = crawl.pages()
    by_path = {
        url.removeprefix(crawl.base_url): row for url, row in pages.set_index("url").iterrows()
    }
    for path in crawl.site.manifest.disallowed_paths:
        assert crawl.site.requests[path] == 0
        assert by_path[path].reason == "robots_disallowed"
    for path in crawl.site.manifest.dead_paths:
        assert by_path[path].reason == "gone"
    for path, _ in crawl.site.manifest.non_html:
        assert by_path[path].reason == "not_html"
    assert by_path["/weg/"].outcome == "failed" and by_path["/weg/"].reason == "offsite_redirect"
    # fetched before its target: the target's page under the moved URL; else a row saying so
    assert by_path["/umzug/"].reason in (None, "listing", "redirect_to_seen")
    assert by_path["/kreis-a/"].reason == "redirect_loop"
    assert (pages.outcome == "rejected").sum() >= 3  # sections, tag and author pages
    assert set(pages.outcome) <= {"article", "rejected", "failed"}


def test_every_fetched_page_is_in_the_warc_and_recleans_to_the_same_rows(
    crawl: CrawlRun, tmp_path: Path
) -> None:
    warcs = find_warc_files([crawl.data / "raw"])
    archived = {page.final_url for warc in warcs for page in iter_pages(warc)}
    fetched = crawl.pages()
    assert set(fetched[fetched.outcome != "failed"].final_url) <= archived
    assert main(["reclean", str(crawl.data / "raw"), "--out", str(tmp_path), "-q"]) == 0
    columns = ["article_id", "canonical_url", "title", "content_sha256", "warc_file", "warc_offset"]
    live = crawl.articles()[columns].sort_values("article_id").reset_index(drop=True)
    again = read_dataset(tmp_path / "articles", ARTICLE_SCHEMA).to_pandas()
    again = again[columns].sort_values("article_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(live, again)


def test_scrapy_crawl_news_runs_the_same_spider(tmp_path: Path) -> None:
    site = build_site(5, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        settings = [f"NEWS_SITES_FILE={sites_file}", f"NEWS_DATA_DIR={tmp_path / 'data'}"]
        settings += [option for option in FAST if option != "-s"]
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=fixture"]
        for setting in settings:
            command += ["-s", setting]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    articles = read_dataset(tmp_path / "data" / "articles", ARTICLE_SCHEMA)
    assert articles.num_rows == 5


def test_page_budget_bounds_the_pages_a_run_requests(tmp_path: Path) -> None:
    site = build_site(30, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        text = sites_file.read_text(encoding="utf-8") + "[site.politeness]\nmax_pages = 12\n"
        sites_file.write_text(text, encoding="utf-8")
        command = _crawl_command(sites_file)
        result = subprocess.run(
            [*command, "--data-dir", str(tmp_path / "data"), *FAST],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    feeds = {"/robots.txt", *site.manifest.feed_paths}
    page_requests = sum(
        n for path, n in site.requests.items() if path not in feeds and "sitemap" not in path
    )
    assert 1 <= page_requests <= 12
    pages = read_dataset(tmp_path / "data" / "pages", PAGE_SCHEMA)
    assert 1 <= pages.num_rows <= 12
