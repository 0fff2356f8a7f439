"""localnews reclean end to end: real WARCs in, Parquet out, read back by pandas, polars, DuckDB."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest
from warcio.archiveiterator import ArchiveIterator

from benchmarks.evalwarc import write_pages_warc
from pipelines.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from pipelines.layout import read_dataset
from pipelines.reclean import RecleanOptions, reclean
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA
from tests.pages import GERMAN_PARAGRAPHS, article_html, make_page

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "sample-local-news.warc.gz"
SAMPLE_PAGES = 10


def articles_of(data: Path) -> pd.DataFrame:
    return read_dataset(data / "articles", ARTICLE_SCHEMA).to_pandas()


def pages_of(data: Path) -> pd.DataFrame:
    return read_dataset(data / "pages", PAGE_SCHEMA).to_pandas()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    assert (
        main(["reclean", str(SAMPLE), "--out", str(data), "--quiet", "--workers", "2"]) == EXIT_OK
    )
    return data


def test_sample_becomes_articles_readable_by_every_reader(sample_run: Path) -> None:
    glob = str(sample_run / "articles" / "**" / "*.parquet")
    assert len(pd.read_parquet(sample_run / "articles")) == SAMPLE_PAGES
    assert pl.scan_parquet(glob, hive_partitioning=True).collect().height == SAMPLE_PAGES
    count = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true, union_by_name=true)"
    ).fetchall()
    assert count == [(SAMPLE_PAGES,)]
    assert len(pages_of(sample_run)) == SAMPLE_PAGES
    assert not list(sample_run.glob("articles/**/.*")), "no staging files inside the dataset"


def test_xtranews_amp_page_is_clean_in_the_dataset(sample_run: Path) -> None:
    articles = articles_of(sample_run)
    xtranews = articles[articles.site == "xtranews"].iloc[0]
    assert xtranews.title == "Grüne fordern Ausbau des Integrationsbereiches der Stadt Duisburg"
    for line in ("Website-Icon", "Die mobile Version verlassen"):
        assert not articles.text.str.contains(line).any(), line


def test_rows_point_back_at_their_warc_record(sample_run: Path) -> None:
    articles = articles_of(sample_run)
    with SAMPLE.open("rb") as stream:
        for row in articles.itertuples():
            assert row.warc_file == SAMPLE.name
            stream.seek(row.warc_offset)
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers.get_header("WARC-Target-URI") == row.url
    assert articles.raw_sha256.str.len().eq(64).all()
    assert articles.published.dt.tz is not None


def test_rerun_is_deterministic_and_adds_no_duplicates(sample_run: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(sample_run, data)
    before = articles_of(data).sort_values("article_id").reset_index(drop=True)
    assert main(["reclean", str(SAMPLE), "--out", str(data), "--quiet"]) == EXIT_OK
    after = articles_of(data).sort_values("article_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    assert len(pages_of(data)) == SAMPLE_PAGES


def test_damaged_and_foreign_inputs_are_reported_and_the_rest_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    raw = SAMPLE.read_bytes()
    (inputs / "a-truncated.warc.gz").write_bytes(raw[: len(raw) - 5000])
    (inputs / "b-not-a-warc.warc").write_bytes(b"<html>this is not a WARC file</html>")
    shutil.copy(SAMPLE, inputs / "c-good.warc.gz")
    status = main(["reclean", str(inputs), "--out", str(tmp_path / "data"), "--quiet"])
    out = capsys.readouterr().out
    assert status == EXIT_PARTIAL
    assert "a-truncated.warc.gz" in out and "b-not-a-warc.warc" in out and "byte" in out
    pages = pages_of(tmp_path / "data")
    assert (pages.warc_file == "c-good.warc.gz").sum() == SAMPLE_PAGES
    assert (pages.warc_file == "a-truncated.warc.gz").sum() == SAMPLE_PAGES - 1


def test_missing_input_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reclean", str(tmp_path / "nope.warc.gz"), "--out", str(tmp_path)]) == EXIT_USAGE
    assert "nope.warc.gz" in capsys.readouterr().err


def test_a_page_over_the_time_limit_is_killed_and_recorded(tmp_path: Path) -> None:
    # One <p> with many <span>s makes trafilatura slow (reliability P10): ~4 s for 100k.
    slow = "<html><body><p>" + "<span>Wort </span>" * 100_000 + "</p></body></html>"
    pages = [
        make_page(article_html(GERMAN_PARAGRAPHS).encode(), url="https://lokal.de/a/1"),
        make_page(slow.encode(), url="https://lokal.de/a/slow"),
        make_page(article_html(GERMAN_PARAGRAPHS[::-1]).encode(), url="https://lokal.de/a/2"),
    ]
    warc = write_pages_warc(pages, tmp_path / "slow.warc.gz")
    summary = reclean(
        RecleanOptions(inputs=(warc,), data_dir=tmp_path / "data", workers=2, timeout=1.0)
    )
    assert summary.articles == 2 and summary.rejections == {"timeout": 1}
    rows = pages_of(tmp_path / "data").set_index("url")
    assert rows.loc["https://lokal.de/a/slow", "reason"] == "timeout"


def test_any_executor_can_run_the_cleaning(tmp_path: Path) -> None:
    # The concurrent.futures.Executor seam where a Dask client's executor plugs in.
    with ThreadPoolExecutor(max_workers=2) as executor:
        summary = reclean(
            RecleanOptions(inputs=(SAMPLE,), data_dir=tmp_path / "data"), executor=executor
        )
    assert summary.pages == SAMPLE_PAGES and not summary.partial


def test_same_named_warcs_from_different_crawls_both_keep_their_rows(tmp_path: Path) -> None:
    first = write_pages_warc(
        [make_page(article_html(GERMAN_PARAGRAPHS).encode(), url="https://lokal.de/a/1")],
        tmp_path / "one" / "crawl.warc.gz",
    )
    second = write_pages_warc(
        [make_page(article_html(GERMAN_PARAGRAPHS[::-1]).encode(), url="https://lokal.de/a/2")],
        tmp_path / "two" / "crawl.warc.gz",
    )
    data = tmp_path / "data"
    for warc in (first, second, first):  # the third run replaces the first run's rows
        reclean(RecleanOptions(inputs=(warc,), data_dir=data))
    assert sorted(articles_of(data).url) == ["https://lokal.de/a/1", "https://lokal.de/a/2"]


def test_copies_of_one_warc_in_two_folders_are_cleaned_once(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(SAMPLE, tmp_path / folder / SAMPLE.name)
    summary = reclean(
        RecleanOptions(inputs=(tmp_path / "a", tmp_path / "b"), data_dir=tmp_path / "d")
    )
    assert summary.pages == SAMPLE_PAGES and len(summary.duplicates) == 1
    assert len(pages_of(tmp_path / "d")) == SAMPLE_PAGES
