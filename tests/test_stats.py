"""Per-site corpus statistics: exact numbers on a fixture corpus, the table and the command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.stats import (
    EXIT_EMPTY,
    EXIT_OK,
    SiteStats,
    format_stats,
    site_stats,
)
from tests.corpus_fixture import current_row, sample_corpus, write_corpus


def utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


EXPECTED = {
    "a": SiteStats(
        site="a", articles=3, versions=4, pages=7,
        published_min=utc(3, 1, 10), published_max=utc(3, 5, 23, 30), last_crawl=utc(3, 7, 8),
        titled=1, dated=2, authored=2, described=1, with_agency=2, words=600, clusters=1,
        rejections=(("not_article", 2), ("listing", 1), ("timeout", 1)),
    ),
    "b": SiteStats(
        site="b", articles=3, versions=3, pages=6,
        published_min=utc(12, 31, 23, 30, year=2023), published_max=utc(1, 11, 9),
        last_crawl=utc(2, 22, 10),
        titled=3, dated=3, authored=3, described=0, with_agency=1, words=300, clusters=2,
        rejections=(("(none)", 1), ("not_article", 1)),
    ),
    "c": SiteStats(
        site="c", articles=0, versions=0, pages=1,
        published_min=None, published_max=None, last_crawl=utc(3, 1, 8),
        titled=0, dated=0, authored=0, described=0, with_agency=0, words=0, clusters=0,
        rejections=(("http_error", 1),),
    ),
    "d": SiteStats(
        site="d", articles=1, versions=1, pages=1,
        published_min=utc(2, 1, 7), published_max=utc(2, 1, 7), last_crawl=utc(3, 3, 8),
        titled=1, dated=1, authored=1, described=0, with_agency=0, words=400, clusters=0,
        rejections=(),
    ),
}  # fmt: skip
EXPECTED_TOTAL = SiteStats(
    site="total", articles=7, versions=8, pages=15,
    published_min=utc(12, 31, 23, 30, year=2023), published_max=utc(3, 5, 23, 30),
    last_crawl=utc(3, 7, 8),
    titled=5, dated=6, authored=6, described=1, with_agency=3, words=1300,
    # a1 with its copy b1 on another site, b2 with b3: the total counts each cluster once
    clusters=2,
    rejections=(
        ("not_article", 3), ("(none)", 1), ("http_error", 1), ("listing", 1), ("timeout", 1),
    ),
)  # fmt: skip


def test_site_stats_counts_every_column_exactly(tmp_path: Path) -> None:
    sample_corpus(tmp_path)
    stats = site_stats(tmp_path)
    assert [site.site for site in stats.sites] == ["a", "b", "c", "d"]
    for site in stats.sites:
        assert site == EXPECTED[site.site]
    assert stats.total == EXPECTED_TOTAL
    assert not stats.empty


def test_rates_are_shares_of_current_articles(tmp_path: Path) -> None:
    sample_corpus(tmp_path)
    a, _, c, _ = site_stats(tmp_path).sites
    assert a.share(a.titled) == 1 / 3
    assert a.share(a.with_agency) == 2 / 3
    assert a.mean_words == 200
    assert a.rejected == 4
    assert c.share(c.titled) is None and c.mean_words is None


def test_format_stats_renders_one_aligned_line_per_site_and_a_total(tmp_path: Path) -> None:
    sample_corpus(tmp_path)
    text = format_stats(site_stats(tmp_path))
    lines = text.splitlines()
    header, rule, a, b, c, d, rule2, total = lines[:8]
    assert header.split() == [
        "site", "articles", "versions", "from", "to", "last", "crawl", "UTC",
        "title", "date", "authors", "descr", "agency", "words", "dupes", "rejected",
    ]  # fmt: skip
    assert rule == rule2 and set(rule) == {"-", " "}
    assert a.split() == [
        "a", "3", "4", "2024-03-01", "2024-03-06", "2024-03-07", "08:00",
        "33.3%", "66.7%", "66.7%", "33.3%", "66.7%", "200", "1", "4",
    ]  # fmt: skip
    # b1 was published 2023-12-31 23:30 UTC, which is New Year's Day in Berlin
    assert b.split()[3:5] == ["2024-01-01", "2024-01-11"]
    assert c.split() == ["c", "0", "0", "-", "-", "2024-03-01", "08:00", *["-"] * 6, "0", "1"]
    assert d.split()[-2:] == ["0", "0"]
    assert total.split() == [
        "total", "7", "8", "2024-01-01", "2024-03-06", "2024-03-07", "08:00",
        "71.4%", "85.7%", "85.7%", "14.3%", "42.9%", "186", "2", "7",
    ]  # fmt: skip
    # fixed width: the numeric columns end in the same place on every line
    assert len({len(line) for line in (header, a, b, d, total)}) == 1
    reasons = lines[lines.index("Rejected or failed fetches by reason:") + 1 :]
    assert reasons == [
        "  a      not_article 2, listing 1, timeout 1",
        "  b      (none) 1, not_article 1",
        "  c      http_error 1",
        "  d      -",
        "  total  not_article 3, (none) 1, http_error 1, listing 1, timeout 1",
    ]


def test_articles_without_fetches_have_no_rejection_block(tmp_path: Path) -> None:
    write_corpus(tmp_path, [current_row()])
    stats = site_stats(tmp_path)
    assert stats.total.pages == 0 and stats.total.last_crawl is None
    assert format_stats(stats).endswith("No rejected or failed fetches.")


def test_empty_or_missing_corpus_is_a_message_not_a_crash(tmp_path: Path) -> None:
    stats = site_stats(tmp_path / "nothing")
    assert stats.empty and stats.sites == ()
    assert format_stats(stats) == "The corpus is empty: no articles and no fetched pages."
    (tmp_path / "corpus" / "current").mkdir(parents=True)  # compacted nothing
    assert site_stats(tmp_path).empty


def run(argv: list[str]) -> int:
    """``localnews`` as users run it, in this process."""
    return main(argv)


def test_stats_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample_corpus(tmp_path)
    assert run(["stats", "--data-dir", str(tmp_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("site ") and "\ntotal " in out


def test_stats_command_fails_with_a_message_without_a_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["stats", "--data-dir", str(tmp_path)]) == EXIT_EMPTY
    err = capsys.readouterr().err
    assert err.startswith("localnews stats: no corpus at ") and "localnews compact" in err
    (tmp_path / "corpus" / "current").mkdir(parents=True)  # compacted nothing
    assert run(["stats", "--data-dir", str(tmp_path)]) == EXIT_EMPTY
    assert "holds no articles or pages" in capsys.readouterr().err
