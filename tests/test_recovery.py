"""Crawl state and crash recovery case by case (test_crash's kill loop hits them at random)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.archive import WarcArchive
from crawler.items import FetchedPage
from crawler.state import CrawlState, RefetchPolicy, StoredOutcome
from pipelines.output import DatasetOutput
from pipelines.pool import clean_task
from pipelines.records import Article
from pipelines.recovery import RecoveryReport, recover, stored_outcome
from pipelines.rules import CleaningRules
from tests.crawling import articles, pages
from tests.factories import FETCHED_AT
from tests.pages import GERMAN_PARAGRAPHS, article_html, make_page

RUN = "20261125T083000Z-aaaaaa"
NEXT = "20261125T120000Z-bbbbbb"


def _rules(_site: str) -> CleaningRules:
    return CleaningRules()


def _archived(data: Path, n: int) -> list[FetchedPage]:
    """``n`` article pages written to a WARC and noted as pending by run RUN."""
    state = CrawlState.in_data_dir(data)
    out = []
    with WarcArchive(data / "raw") as archive:
        for i in range(n):
            html = article_html(
                [f"Meldung {i}: " + p for p in GERMAN_PARAGRAPHS], title=f"Meldung Nummer {i}"
            )
            page = make_page(html.encode(), url=f"https://www.example-lokal.de/2026/11/25/m{i}/")
            page = archive.write(page)
            state.record_pending(
                page.url, page.site, RUN, page.fetched_at, page.warc_file, page.warc_offset
            )
            out.append(page)
    state.close()
    return out


def _commit_rows(data: Path, pages_: list[FetchedPage]) -> None:
    """What the killed run had committed for ``pages_`` before the state heard of it."""
    output = DatasetOutput(data)
    for page in pages_:
        output.write(f"crawl-{RUN}-00000", page, clean_task(page, CleaningRules()), CleaningRules())
    output.close()


def _recover(data: Path) -> tuple[CrawlState, RecoveryReport]:
    state = CrawlState.in_data_dir(data)
    with ThreadPoolExecutor(1) as pool:
        report = recover(state, data, DatasetOutput(data), f"recover-{NEXT}", NEXT, _rules, pool)
    return state, report


def test_pages_archived_but_never_committed_are_cleaned_from_the_warc(tmp_path: Path) -> None:
    _archived(tmp_path, 3)
    state, report = _recover(tmp_path)
    assert report.recleaned == 3
    assert len(articles(tmp_path)) == 3
    assert len(pages(tmp_path)) == 3
    assert state.pending() == []
    assert state.counts() == {"article": 3}


def test_rows_committed_before_the_state_heard_are_not_written_again(tmp_path: Path) -> None:
    archived = _archived(tmp_path, 3)
    _commit_rows(tmp_path, archived[:2])  # the kill fell after the commit of two pages
    state, report = _recover(tmp_path)
    assert report.already_stored == 2
    assert report.recleaned == 1
    rows = articles(tmp_path)
    assert len(rows) == 3 == len({r["article_id"] for r in rows})
    assert len(pages(tmp_path)) == 3
    assert state.counts() == {"article": 3}


def test_article_committed_without_its_page_row_gets_only_the_page_row(tmp_path: Path) -> None:
    archived = _archived(tmp_path, 2)
    _commit_rows(tmp_path, archived)
    for path in (tmp_path / "pages").rglob("*.parquet"):
        path.unlink()  # the kill fell between the two datasets' commits
    _recover(tmp_path)
    rows = articles(tmp_path)
    assert len(rows) == 2 == len({r["article_id"] for r in rows})
    outcomes = pages(tmp_path)
    assert sorted(p["outcome"] for p in outcomes) == ["article", "article"]


def test_unreadable_records_are_forgotten_so_the_next_crawl_refetches(tmp_path: Path) -> None:
    archived = _archived(tmp_path, 2)
    warc = tmp_path / "raw" / str(archived[1].warc_file)
    size = warc.stat().st_size
    with warc.open("r+b") as handle:  # the kill tore the last record
        handle.truncate(size - 40)
    state, report = _recover(tmp_path)
    assert report.refetch == [archived[1].url]
    assert len(articles(tmp_path)) == 1
    assert state.should_fetch(archived[1].url, FETCHED_AT, RefetchPolicy())


def test_recovery_twice_changes_nothing(tmp_path: Path) -> None:
    _archived(tmp_path, 2)
    _recover(tmp_path)
    _, report = _recover(tmp_path)
    assert report.pending == 0
    assert len(articles(tmp_path)) == 2


# -- the refetch policy ---------------------------------------------------------------------


@pytest.fixture
def state(tmp_path: Path) -> CrawlState:
    return CrawlState.in_data_dir(tmp_path)


def _store(state: CrawlState, url: str, **fields: object) -> None:
    values: dict[str, object] = {"site": "s", "outcome": "article", "reason": None, "status": 200}
    values.update(fields)
    state.mark_stored([StoredOutcome(url, **values)], RUN, FETCHED_AT)  # type: ignore[arg-type]


def test_new_urls_are_fetched_known_ones_are_not(state: CrawlState) -> None:
    policy = RefetchPolicy(recheck_days=0)
    _store(state, "https://a.de/1", article_id="x", content_sha256="h")
    assert state.should_fetch("https://a.de/new", FETCHED_AT, policy)
    assert not state.should_fetch("https://a.de/1", FETCHED_AT, policy)


def test_permanent_errors_are_final_retryable_ones_limited(state: CrawlState) -> None:
    policy = RefetchPolicy(max_attempts=2)
    _store(state, "https://a.de/gone", outcome="rejected", reason="http_error", status=404)
    assert not state.should_fetch("https://a.de/gone", FETCHED_AT, policy)
    for attempt in range(3):
        fetch = state.should_fetch("https://a.de/down", FETCHED_AT, policy)
        assert fetch == (attempt < 2)
        _store(state, "https://a.de/down", outcome="failed", reason="fetch_error", status=None)


def test_recent_articles_are_rechecked_after_the_interval(state: CrawlState) -> None:
    policy = RefetchPolicy(recheck_days=2, recheck_hours=12)
    published = FETCHED_AT - timedelta(days=1)
    _store(state, "https://a.de/fresh", article_id="f", content_sha256="h", published=published)
    _store(state, "https://a.de/old", published=FETCHED_AT - timedelta(days=30))
    assert not state.should_fetch("https://a.de/fresh", FETCHED_AT, policy)  # just fetched
    later = FETCHED_AT + timedelta(hours=13)
    assert state.should_fetch("https://a.de/fresh", later, policy)
    assert not state.should_fetch("https://a.de/old", later, policy)
    assert state.due("s", later, policy) == ["https://a.de/fresh"]


def test_listing_pages_are_always_fetched(state: CrawlState) -> None:
    _store(state, "https://a.de/sport/", outcome="rejected", reason="listing")
    assert state.should_fetch("https://a.de/sport/", FETCHED_AT, RefetchPolicy())


def test_a_changed_text_is_a_new_version_an_unchanged_one_is_not(tmp_path: Path) -> None:
    """T7 and re-checks: the same text is never stored twice, a changed one is a version."""
    url = "https://www.example-lokal.de/2026/11/25/artikel/"
    canonical = f'<link rel="canonical" href="{url}">'
    first = make_page(article_html(GERMAN_PARAGRAPHS, head=canonical).encode(), url=url)
    amp = make_page(article_html(GERMAN_PARAGRAPHS, head=canonical).encode(), url=url + "amp/")
    longer = [*GERMAN_PARAGRAPHS, "Nachtrag: Der Rat tagt am Montag erneut über die Radwege."]
    changed = make_page(article_html(longer, head=canonical).encode(), url=url)
    output = DatasetOutput(tmp_path)
    recorded = [
        output.write("k", page, clean_task(page, CleaningRules()), CleaningRules())
        for page in (first, first, amp, changed)
    ]
    output.close()
    kinds = [r.reason if not isinstance(r, Article) else "article" for r in recorded]
    assert kinds == ["article", "unchanged", "duplicate", "article"]  # the last: a new version
    assert len(articles(tmp_path)) == 2
    assert stored_outcome(first, recorded[1]).reason == "unchanged"
