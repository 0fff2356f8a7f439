"""Incremental crawling across runs: a second run fetches only what is new (issue 5, item 1)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.state import CrawlState
from tests.crawling import Run, articles, pages, run_crawl
from tests.newssite import FixtureSite, NewsSiteFixture, build_site, serve


@dataclass
class Runs:
    site: FixtureSite
    data: Path
    first: Run
    second: Run
    third: Run
    first_articles: int
    second_articles: int


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    tmp = tmp_path_factory.mktemp("incremental")
    site = build_site(40, eval_dir=tmp)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp)
        data = tmp / "data"
        first = run_crawl(site, sites_file, data)
        first_articles = len(articles(data))
        second = run_crawl(site, sites_file, data)
        second_articles = len(articles(data))
        # The site gains an article (listed in its sitemaps, feed and last archive page).
        grown = build_site(41, eval_dir=tmp)
        site.routes.clear()
        site.routes.update(grown.routes)
        site.manifest = grown.manifest
        third = run_crawl(site, sites_file, data)
        yield Runs(site, data, first, second, third, first_articles, second_articles)


def _article_paths(site: FixtureSite) -> set[str]:
    return {a.path for a in site.manifest.articles}


def test_first_run_stores_every_article(runs: Runs) -> None:
    assert runs.first.returncode == 0, runs.first.stderr[-2000:]
    assert runs.first_articles == 40


def test_second_run_over_an_unchanged_site_fetches_no_article(runs: Runs) -> None:
    assert runs.second.returncode == 0, runs.second.stdout + runs.second.stderr[-2000:]
    assert not set(runs.second.requests) & _article_paths(runs.site)
    assert runs.second_articles == runs.first_articles  # nothing doubled
    # robots.txt, the sitemap index, its sitemaps, the feed, home and sections only
    allowed = {"/robots.txt", "/", "/feed/", *runs.site.manifest.start_paths}
    assert {p for p in runs.second.requests if "sitemap" not in p} <= allowed
    assert sum(runs.second.requests.values()) <= 0.25 * sum(runs.first.requests.values())


def test_second_run_uses_conditional_gets(runs: Runs) -> None:
    report = runs.second.report()
    site = report["sites"]["fixture"]
    assert report["status"] == "ok"
    assert site["not_modified"] >= 5  # feed, sitemaps and sections answered 304
    assert site["articles"] == 0
    assert site["pages"] == 0


def test_new_article_is_found_and_stored_once(runs: Runs) -> None:
    assert runs.third.returncode == 0, runs.third.stderr[-2000:]
    new = {a.path for a in runs.site.manifest.articles} - {
        p for p in runs.first.requests if p in _article_paths(runs.site)
    }
    assert len(new) == 1
    assert all(runs.third.requests[p] == 1 for p in new)
    rows = articles(runs.data)
    assert len(rows) == 41
    assert len({r["article_id"] for r in rows}) == 41


def test_permanent_errors_are_not_retried(runs: Runs) -> None:
    dead = set(runs.site.manifest.dead_paths)
    assert dead & set(runs.first.requests)
    assert not dead & (set(runs.second.requests) | set(runs.third.requests))


def test_every_fetch_of_every_run_left_a_row(runs: Runs) -> None:
    rows = pages(runs.data)
    fetched = Counter(r["url"].split("/", 3)[-1] for r in rows)
    assert fetched  # the page rows of all three runs are there, each readable
    state = CrawlState.in_data_dir(runs.data)
    try:
        counts = state.counts()
    finally:
        state.close()
    assert "pending" not in counts  # every archived page was committed
    assert counts["article"] == 41


def test_retryable_failures_are_tried_again_a_limited_number_of_times(tmp_path: Path) -> None:
    """A URL that failed with a 503 is fetched in the next runs, up to NEWS_MAX_ATTEMPTS."""
    site = build_site(3, eval_dir=tmp_path)
    broken = site.manifest.articles[0].path
    route = site.routes[broken]
    site.routes[broken] = type(route)(503, route.headers, route.render)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        seen = []
        for _ in range(4):
            run = run_crawl(
                site, sites_file, data, "-s", "RETRY_TIMES=0", "-s", "NEWS_MAX_ATTEMPTS=2"
            )
            seen.append(run.requests[broken])
        site.routes[broken] = route
    assert seen[:2] == [1, 1]  # retried by the next run…
    assert seen[2:] == [0, 0]  # …until it has failed NEWS_MAX_ATTEMPTS runs in a row
