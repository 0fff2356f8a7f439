"""Compaction: the log folded into corpus/ with versions, clusters, stable partitions (issue 6)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.compute as pc

from pipelines.cli import main
from pipelines.compact import compact
from pipelines.corpus import corpus_root, read_current, read_history, read_pages
from pipelines.records import PageOutcome
from tests.crawling import run_crawl
from tests.factories import make_page_outcome
from tests.logrows import fetch, sighting, write_log
from tests.newssite import NewsSiteFixture, build_site, serve
from tests.pages import GERMAN_PARAGRAPHS

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
STORY = "\n\n".join(
    [
        *GERMAN_PARAGRAPHS,
        "Die Arbeiten sollen im Frühjahr beginnen und bis zum Herbst dauern, "
        "teilte die Stadtverwaltung am Mittwoch auf Anfrage mit.",
    ]
)  # long enough (over 80 words) for near-duplicate matching
OTHER = (
    "Der Stadtrat hat am Dienstagabend den Haushalt für das kommende Jahr beschlossen.\n\n"
    "Die Opposition kritisierte die geplanten Kürzungen bei den Bibliotheken und Bädern.\n\n"
    "Der Kämmerer rechnet mit einem Defizit von zwölf Millionen Euro im nächsten Jahr."
)


URL_A = "https://www.example-lokal.de/2026/11/20/radwege/"
URL_B = "https://www.example-lokal.de/2026/11/20/haushalt/"


def test_first_compaction_moves_the_log_into_the_corpus(tmp_path: Path) -> None:
    a, page_a = fetch(URL_A, STORY, T0)
    b, page_b = fetch(URL_B, OTHER, T0 + timedelta(minutes=5))
    write_log(tmp_path, "crawl-r1-00000", [a, b], [page_a, page_b])
    report = compact(tmp_path)
    assert (report.new_articles, report.new_versions, report.articles_total) == (2, 0, 2)
    current = read_current(tmp_path).to_pylist()
    assert sorted(r["article_id"] for r in current) == sorted([a.article_id, b.article_id])
    assert all(r["version"] == 1 and r["is_current"] for r in current)
    assert all(r["first_seen"] == r["last_seen"] == r["fetched_at"] for r in current)
    assert all(r["site"] == "example" and r["year"] == 2026 for r in current)
    assert read_history(tmp_path).num_rows == 2 and read_pages(tmp_path).num_rows == 2
    assert not list((tmp_path / "articles").rglob("*.parquet"))  # the log is consumed
    assert not list((tmp_path / "pages").rglob("*.parquet"))
    files = sorted(p.relative_to(corpus_root(tmp_path)) for p in corpus_root(tmp_path).rglob("*"))
    assert Path("current/site=example/year=2026/part-0.parquet") in files


def test_compaction_is_idempotent_and_repeatable_after_a_crash(tmp_path: Path) -> None:
    a, page_a = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-r1-00000", [a], [page_a])
    saved = tmp_path.parent / "saved-log"
    shutil.copytree(tmp_path, saved)
    compact(tmp_path)
    before = read_current(tmp_path).to_pylist()
    assert "nothing to do" in compact(tmp_path).render()
    # A compaction killed after writing the corpus but before deleting the log: run again.
    for name in ("articles", "pages"):
        shutil.copytree(saved / name, tmp_path / name, dirs_exist_ok=True)
    compact(tmp_path)
    assert read_current(tmp_path).to_pylist() == before
    assert read_history(tmp_path).num_rows == 1 and read_pages(tmp_path).num_rows == 1


def test_a_changed_text_is_a_new_version_and_the_old_one_stays_in_history(
    tmp_path: Path,
) -> None:
    a1, page1 = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-r1-00000", [a1], [page1])
    compact(tmp_path)
    # Run 2: a re-check finds it unchanged; run 3: its text was changed.
    write_log(tmp_path, "crawl-r2-00000", [], [sighting(a1, T0 + timedelta(hours=6))])
    compact(tmp_path)
    changed = STORY + "\n\nNachtrag: Die Sitzung wurde auf Donnerstag verschoben."
    a2, page2 = fetch(URL_A, changed, T0 + timedelta(hours=12))
    write_log(tmp_path, "crawl-r3-00000", [a2], [page2])
    report = compact(tmp_path)
    assert (report.new_articles, report.new_versions) == (0, 1)
    history = sorted(read_history(tmp_path).to_pylist(), key=lambda r: r["version"])
    assert [(r["version"], r["is_current"]) for r in history] == [(1, False), (2, True)]
    assert history[0]["last_seen"] == T0 + timedelta(hours=6)  # the unchanged re-check
    assert history[1]["first_seen"] == history[1]["last_seen"] == T0 + timedelta(hours=12)
    assert history[1]["text"] == changed
    assert history[0]["cluster_id"] == history[1]["cluster_id"] == a1.article_id
    (current,) = read_current(tmp_path).to_pylist()
    assert (current["version"], current["text"]) == (2, changed)
    assert read_pages(tmp_path).num_rows == 3


def test_a_reclean_replaces_the_row_of_the_same_fetch(tmp_path: Path) -> None:
    a, page = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-r1-00000", [a], [page])
    compact(tmp_path)
    better = STORY + "\n\nEin Absatz, den der alte Code verlor."
    recleaned, repage = fetch(URL_A, better, T0, cleaner_version="newer")
    write_log(tmp_path, "reclean-x", [recleaned], [repage])
    compact(tmp_path)
    (row,) = read_history(tmp_path).to_pylist()
    assert (row["version"], row["text"], row["cleaner_version"]) == (1, better, "newer")
    assert read_pages(tmp_path).num_rows == 1  # the re-clean's page row replaced the crawl's


def test_an_article_never_moves_to_another_partition(tmp_path: Path) -> None:
    a1, page1 = fetch(URL_A, STORY, T0, published=datetime(2025, 12, 31, 22, tzinfo=UTC))
    write_log(tmp_path, "crawl-r1-00000", [a1], [page1])
    compact(tmp_path)
    a2, page2 = fetch(URL_A, OTHER, T0 + timedelta(days=1), published=T0)
    write_log(tmp_path, "crawl-r2-00000", [a2], [page2])
    compact(tmp_path)
    years = {r["year"] for r in read_history(tmp_path).to_pylist()}
    assert years == {2025}
    assert not (corpus_root(tmp_path) / "current" / "site=example" / "year=2026").exists()


def test_syndicated_copies_share_a_cluster_and_other_texts_do_not(tmp_path: Path) -> None:
    original, p1 = fetch(URL_A, STORY, T0, agency="dpa")
    copy_text = "DUISBURG (dpa) – " + STORY + " (dpa)"  # the reprint adds dateline and credit
    copy, p2 = fetch(
        "https://www.andere-zeitung.de/region/radwege/", copy_text, T0 + timedelta(hours=1),
        site="andere", agency="dpa",
    )  # fmt: skip
    other, p3 = fetch(URL_B, OTHER, T0 + timedelta(hours=2))
    write_log(tmp_path, "crawl-r1-00000", [copy, other], [p2, p3])
    write_log(tmp_path, "crawl-r0-00000", [original], [p1])
    compact(tmp_path)
    clusters = {r["article_id"]: r["cluster_id"] for r in read_current(tmp_path).to_pylist()}
    assert clusters[copy.article_id] == clusters[original.article_id] == original.article_id
    assert clusters[other.article_id] == other.article_id
    # A later copy joins the cluster of the earliest article, across compactions.
    late, p4 = fetch("https://www.dritte.de/radwege/", STORY, T0 + timedelta(days=1), site="dritte")
    write_log(tmp_path, "crawl-r2-00000", [late], [p4])
    compact(tmp_path)
    clusters = {r["article_id"]: r["cluster_id"] for r in read_current(tmp_path).to_pylist()}
    assert clusters[late.article_id] == original.article_id


def test_files_of_runs_awaiting_recovery_stay_in_the_log(tmp_path: Path) -> None:
    a, page = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-killed-00000", [a], [page])
    report = compact(tmp_path, skip_runs={"killed"})
    assert report.skipped_files == 2 and report.articles_total == 0
    assert len(list((tmp_path / "articles").rglob("*.parquet"))) == 1


def test_readers_never_see_missing_or_doubled_rows_during_compaction(tmp_path: Path) -> None:
    """S3: DuckDB reads corpus/current in a loop while compactions add and change articles."""
    glob = str(corpus_root(tmp_path) / "current" / "*" / "*" / "*.parquet")
    a, page = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-r0-00000", [a], [page])
    compact(tmp_path)
    stop = threading.Event()
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def reader() -> None:
        connection = duckdb.connect()
        while not stop.is_set():
            try:
                rows, ids = connection.execute(
                    f"SELECT count(*), count(DISTINCT article_id) FROM read_parquet('{glob}', "
                    "hive_partitioning = true, union_by_name = true)"
                ).fetchone()  # type: ignore[misc]
                seen.append((rows, ids))
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for run in range(1, 16):
            when = T0 + timedelta(hours=run)
            rows = [fetch(f"https://www.example-lokal.de/n/{run}/{i}/", f"{OTHER} {run} {i}", when,
                          site=f"s{i % 3}") for i in range(4)]  # fmt: skip
            changed = fetch(URL_A, f"{STORY}\n\nStand {run}.", when)
            rows.append(changed)
            write_log(tmp_path, f"crawl-r{run}-00000", [r[0] for r in rows], [r[1] for r in rows])
            compact(tmp_path)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert len(seen) > 10
    assert all(rows == ids for rows, ids in seen), [s for s in seen if s[0] != s[1]]
    counts = [rows for rows, _ in seen]
    assert counts == sorted(counts)  # never a row missing
    assert read_current(tmp_path).num_rows == 1 + 15 * 4


def test_crawl_compacts_by_default_and_a_second_run_adds_nothing(
    tmp_path: Path,
) -> None:
    site = build_site(12, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        first = run_crawl(site, sites_file, data, compact=True)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "compact:" in first.stdout
        current = read_current(data)
        second = run_crawl(site, sites_file, data, compact=True)
        assert second.returncode == 0, second.stderr[-2000:]
    assert current.num_rows == 12
    assert len(set(current["article_id"].to_pylist())) == 12
    assert read_current(data).num_rows == 12
    assert not list((data / "articles").rglob("*.parquet"))
    pages = read_pages(data)
    assert pages.num_rows >= 12
    assert pages.filter(pc.equal(pages["outcome"], "article")).num_rows == 12
    # The analysts' commands read the crawled corpus.
    assert main(["stats", "--data-dir", str(data)]) == 0
    assert main(["report", "--data-dir", str(data), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 100_000  # plotly.js is inlined


def test_an_article_found_gone_is_tombstoned_until_it_is_seen_again(tmp_path: Path) -> None:
    """F13: a re-check answered 404/410 sets removed_at; the article and its history stay."""
    article, page = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-r1-00000", [article], [page])
    compact(tmp_path)
    gone_at = T0 + timedelta(hours=12)
    gone = make_page_outcome(
        url=URL_A + "?utm_source=feed", status=410, outcome="rejected", reason="gone",
        article_id=None, fetched_at=gone_at,
    )  # fmt: skip
    write_log(tmp_path, "crawl-r2-00000", [], [gone])
    compact(tmp_path)
    (current,) = read_current(tmp_path).to_pylist()
    assert current["removed_at"] == gone_at and current["version"] == 1
    # Back online (a CMS hiccup): seen unchanged later, the tombstone goes.
    write_log(tmp_path, "crawl-r3-00000", [], [sighting(article, gone_at + timedelta(hours=1))])
    compact(tmp_path)
    (current,) = read_current(tmp_path).to_pylist()
    assert current["removed_at"] is None
    assert current["last_seen"] == gone_at + timedelta(hours=1)


def test_an_unreadable_log_file_is_quarantined_and_the_rest_compacted(tmp_path: Path) -> None:
    """S2: a damaged or foreign file in the log never stops compaction; it is moved aside."""
    a, page_a = fetch(URL_A, STORY, T0)
    b, page_b = fetch(URL_B, OTHER, T0)
    write_log(tmp_path, "crawl-r1-00000", [a], [page_a])
    write_log(tmp_path, "crawl-r2-00000", [b], [page_b])
    for name in ("articles", "pages"):
        good = next((tmp_path / name).rglob("part-crawl-r2-*.parquet"))
        good.write_bytes(good.read_bytes()[:-100])  # torn footer
    report = compact(tmp_path)
    assert len(report.quarantined) == 2
    assert all((tmp_path / "quarantine") in q.parents for q in report.quarantined)
    assert "moved to quarantine/" in report.render()
    assert [r["article_id"] for r in read_current(tmp_path).to_pylist()] == [a.article_id]
    assert read_pages(tmp_path).num_rows == 1
    assert not list((tmp_path / "articles").rglob("*.parquet"))


def _rejected(article_url: str, when: datetime, reason: str = "listing") -> PageOutcome:
    """The page row of a re-clean that finds no article in the fetch ``(url, when)``."""
    return make_page_outcome(
        url=article_url, outcome="rejected", reason=reason, article_id=None, fetched_at=when,
        cleaner_version="newer",
    )  # fmt: skip


def test_a_reclean_that_finds_no_article_retracts_that_version(tmp_path: Path) -> None:
    """A better classifier says a stored 'article' is a listing: it leaves the corpus."""
    a, page_a = fetch(URL_A, STORY, T0)
    b, page_b = fetch(URL_B, OTHER, T0)
    write_log(tmp_path, "crawl-r1-00000", [a, b], [page_a, page_b])
    compact(tmp_path)
    write_log(tmp_path, "reclean-x", [], [_rejected(URL_A, T0)])
    report = compact(tmp_path)
    assert report.retracted_versions == 1 and "1 versions retracted" in report.render()
    assert [r["article_id"] for r in read_current(tmp_path).to_pylist()] == [b.article_id]
    assert [r["article_id"] for r in read_history(tmp_path).to_pylist()] == [b.article_id]
    pages = {r["url"]: r for r in read_pages(tmp_path).to_pylist()}
    assert (pages[URL_A]["outcome"], pages[URL_A]["reason"]) == ("rejected", "listing")
    # DuckDB reads the rewritten partition as usual
    glob = str(corpus_root(tmp_path) / "current" / "*" / "*" / "*.parquet")
    query = f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
    assert duckdb.connect().execute(query).fetchone() == (1,)


def test_retracting_a_middle_version_joins_its_neighbours(tmp_path: Path) -> None:
    v1, p1 = fetch(URL_A, STORY, T0)
    v2, p2 = fetch(URL_A, OTHER, T0 + timedelta(hours=1))  # in fact a consent wall
    v3, p3 = fetch(URL_A, STORY, T0 + timedelta(hours=2))
    for run, (row, page) in enumerate([(v1, p1), (v2, p2), (v3, p3)]):
        write_log(tmp_path, f"crawl-r{run}-00000", [row], [page])
        compact(tmp_path)
    assert read_history(tmp_path).num_rows == 3
    wall = _rejected(URL_A, T0 + timedelta(hours=1), "consent_wall")
    write_log(tmp_path, "reclean-x", [], [wall])
    compact(tmp_path)
    (row,) = read_history(tmp_path).to_pylist()
    assert (row["version"], row["text"], row["is_current"]) == (1, STORY, True)
    assert (row["first_seen"], row["last_seen"]) == (T0, T0 + timedelta(hours=2))


def test_only_content_verdicts_of_the_latest_cleaning_retract(tmp_path: Path) -> None:
    a, page = fetch(URL_A, STORY, T0)
    write_log(tmp_path, "crawl-r1-00000", [a], [page])
    compact(tmp_path)
    # a re-clean that failed (the cleaner, not the page) leaves the article
    write_log(tmp_path, "reclean-x", [], [_rejected(URL_A, T0, "timeout")])
    compact(tmp_path)
    assert read_current(tmp_path).num_rows == 1
    # rejected, then accepted again by a later re-clean in the same batch: the latest wins
    write_log(tmp_path, "reclean-y", [], [_rejected(URL_A, T0)])
    again, again_page = fetch(URL_A, STORY, T0, cleaner_version="newest")
    write_log(tmp_path, "reclean-z", [again], [again_page])
    report = compact(tmp_path)
    assert report.retracted_versions == 0
    (row,) = read_current(tmp_path).to_pylist()
    assert row["cleaner_version"] == "newest"


def test_a_real_reclean_with_stricter_rules_retracts_through_the_cli(tmp_path: Path) -> None:
    """End to end: the sample WARC re-cleaned and compacted, then re-cleaned with rules that
    leave xtranews pages no text (every line dropped: empty_body) and compacted again: those
    articles leave the corpus, the other sites' stay."""
    sample = Path(__file__).parents[1] / "data" / "samples" / "sample-local-news.warc.gz"
    data = tmp_path / "data"
    assert main(["reclean", str(sample), "--out", str(data), "--quiet", "--workers", "1"]) == 0
    assert main(["compact", "--data-dir", str(data)]) == 0
    before = {r["url"]: r["site"] for r in read_current(data).to_pylist()}
    assert "xtranews" in before.values() and len(set(before.values())) > 1
    sites = (Path(__file__).parents[1] / "crawler" / "sites.toml").read_text(encoding="utf-8")
    strict = sites.replace(
        "[site.politeness]\ndownload_delay = 10.0",
        "[site.cleaning]\ndrop_lines = ['.*']\n\n[site.politeness]\ndownload_delay = 10.0",
        1,  # the first site: xtranews
    )
    assert strict != sites
    strict_file = tmp_path / "strict-sites.toml"
    strict_file.write_text(strict, encoding="utf-8")
    argv = ["reclean", str(sample), "--out", str(data), "--sites-file", str(strict_file)]
    assert main([*argv, "--quiet", "--workers", "1"]) == 0
    assert main(["compact", "--data-dir", str(data)]) == 0
    after = {r["url"] for r in read_current(data).to_pylist()}
    assert after == {url for url, site in before.items() if site != "xtranews"}
    assert {r["url"] for r in read_history(data).to_pylist()} == after
    rejected = {r["final_url"] for r in read_pages(data).to_pylist() if r["reason"] == "empty_body"}
    assert rejected == set(before) - after
