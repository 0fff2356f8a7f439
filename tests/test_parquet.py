"""Tests for pipelines.parquet and pipelines.validate: validation, layout, atomicity, re-runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.layout import article_partition, page_partition, partition_dir, read_dataset
from pipelines.parquet import DatasetWriter, RecordError, clean_staging, to_row
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA, SCHEMA_VERSION, Reason
from tests.factories import make_article, make_page_outcome

REPO = Path(__file__).resolve().parent.parent


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def _articles(n: int, *, sites: int = 1, prefix: str = "a") -> list[Any]:
    return [
        make_article(url=f"https://example.de/{prefix}/{i}", site=f"site{i % sites}")
        for i in range(n)
    ]


def _write(root: Path, records: list[Any], **kwargs: Any) -> list[Path]:
    kwargs.setdefault("file_key", "job")
    with DatasetWriter(root, ARTICLE_SCHEMA, article_partition, **kwargs) as writer:
        for record in records:
            writer.write(record)
        return writer.close()


# --- validation -----------------------------------------------------------------------

BAD_FIELDS = [
    ("title", 5, "expected str"),
    ("text", None, "not nullable"),
    ("word_count", True, "expected int"),
    ("word_count", "12", "expected int"),
    ("word_count", 2**31, "out of range"),
    ("warc_offset", 1.5, "expected int"),
    ("fetched_at", datetime(2026, 11, 25, 8, 30), "naive"),
    ("published", "2026-11-24", "expected datetime"),
    ("published", date(2026, 11, 24), "expected datetime"),
    ("authors", ("Erika",), "expected list[str]"),
    ("authors", ["Erika", 3], "item 1: expected str"),
    ("authors", [None], "item 0: expected str, got None"),
    ("text", "Stra\udcc3e", "lone surrogate"),
    ("title", "a\x00b", "NUL"),
    ("tags", ["ok", "x\x00"], "item 1: contains a NUL"),
    ("site", "s\ud800", "lone surrogate"),
]


@pytest.mark.parametrize(("name", "value", "problem"), BAD_FIELDS)
def test_to_row_rejects_bad_field(name: str, value: object, problem: str) -> None:
    with pytest.raises(RecordError) as info:
        to_row(make_article(**{name: value}), ARTICLE_SCHEMA)
    assert info.value.field == name
    assert name in str(info.value) and problem in str(info.value)


def test_to_row_rejects_missing_and_extra_keys() -> None:
    row = to_row(make_article(), ARTICLE_SCHEMA)
    del row["text"]
    with pytest.raises(RecordError, match=r"^text: missing"):
        to_row(row, ARTICLE_SCHEMA)
    with pytest.raises(RecordError, match=r"^zz_extra: not in the schema"):
        to_row({**to_row(make_article(), ARTICLE_SCHEMA), "zz_extra": 1}, ARTICLE_SCHEMA)
    with pytest.raises(RecordError, match="missing"):
        to_row(make_page_outcome(), ARTICLE_SCHEMA)


def test_to_row_converts_to_utc_and_plain_types() -> None:
    berlin = timezone(timedelta(hours=1))
    article = make_article(published=datetime(2026, 1, 1, 0, 30, tzinfo=berlin))
    row = to_row(article, ARTICLE_SCHEMA)
    assert row["published"] == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert row["published"].tzinfo is UTC
    assert row["authors"] == article.authors and row["authors"] is not article.authors
    page = to_row(make_page_outcome(reason=Reason.NOT_HTML), PAGE_SCHEMA)
    assert type(page["reason"]) is str and page["reason"] == "not_html"


def test_bad_record_does_not_affect_other_rows(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    with DatasetWriter(
        root, ARTICLE_SCHEMA, article_partition, file_key="job", row_group_rows=3
    ) as writer:
        for i, (name, value, _) in enumerate(BAD_FIELDS):
            writer.write(make_article(url=f"https://example.de/good/{i}"))
            with pytest.raises(RecordError):
                writer.write(make_article(url=f"https://example.de/bad/{i}", **{name: value}))
            assert writer.buffered_rows <= 3
    table = read_dataset(root, ARTICLE_SCHEMA)
    assert sorted(table.column("url").to_pylist()) == sorted(
        f"https://example.de/good/{i}" for i in range(len(BAD_FIELDS))
    )


# --- layout and round trip ---------------------------------------------------------------


def test_partition_helpers_use_utc_year() -> None:
    new_year = datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert article_partition(to_row(make_article(published=new_year), ARTICLE_SCHEMA)) == [
        ("site", "example"),
        ("year", "2025"),
    ]
    undated = to_row(make_article(published=None), ARTICLE_SCHEMA)
    assert article_partition(undated) == [("site", "example"), ("year", "2026")]
    assert page_partition(to_row(make_page_outcome(), PAGE_SCHEMA)) == [
        ("year", "2026"),
        ("month", "11"),
    ]


def test_round_trip_with_all_readers(tmp_path: Path) -> None:
    articles = [
        make_article(
            url=f"https://example.de/{i}",
            site=f"site{i % 3}",
            published=None if i % 4 == 0 else datetime(2020 + i % 5, 6, 1, tzinfo=UTC),
        )
        for i in range(60)
    ]
    pages = [
        make_page_outcome(url=f"https://example.de/{i}", site=f"site{i % 2}") for i in range(40)
    ]
    _write(tmp_path / "articles", articles, row_group_rows=7)
    with DatasetWriter(tmp_path / "pages", PAGE_SCHEMA, page_partition, file_key="job") as w:
        for page in pages:
            w.write(page)
    datasets: list[tuple[str, pa.Schema, list[Any], bytes]] = [
        ("articles", ARTICLE_SCHEMA, articles, b"site,year"),
        ("pages", PAGE_SCHEMA, pages, b"year,month"),
    ]
    for name, schema, records, partitioning in datasets:
        root = tmp_path / name
        table = read_dataset(root, schema)
        assert table.num_rows == len(records)
        assert table.schema.metadata[b"localnews.schema_version"] == SCHEMA_VERSION.encode()
        assert table.schema.field("year").type == pa.int32()
        expected = sorted((to_row(r, schema) for r in records), key=lambda r: r["url"])
        got = sorted(table.to_pylist(), key=lambda r: r["url"])
        assert [{k: r[k] for k in schema.names} for r in got] == expected
        for path in _files(root):
            meta = pq.ParquetFile(path).metadata
            file_schema = pq.read_schema(path)
            assert file_schema.metadata[b"localnews.schema_version"] == SCHEMA_VERSION.encode()
            assert file_schema.metadata[b"localnews.partitioning"] == partitioning
            assert ("site" in file_schema.names) == (name == "pages")
            assert file_schema.field("url").metadata[b"doc"]
            column = meta.row_group(0).column(0)
            assert column.compression == "ZSTD" and column.is_stats_set
        assert len(pd.read_parquet(root)) == len(records)
        lazy = pl.scan_parquet(str(root) + "/**/*.parquet", hive_partitioning=True)
        assert lazy.select(pl.len()).collect().item() == len(records)
        query = (
            f"select count(*), count(distinct site) from read_parquet("
            f"'{root}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
        )
        relation = duckdb.sql(query)
        assert relation is not None
        sites = {row["site"] for row in expected}
        assert relation.fetchall()[0] == (len(records), len(sites))


def test_rotation_cuts_files_at_rows_per_file(tmp_path: Path) -> None:
    paths = _write(tmp_path / "articles", _articles(25), rows_per_file=10, row_group_rows=4)
    assert [p.name for p in paths] == [f"part-job-{i:05d}.parquet" for i in range(3)]
    assert [pq.ParquetFile(p).metadata.num_rows for p in paths] == [10, 10, 5]
    first = pq.ParquetFile(paths[0]).metadata
    assert [first.row_group(i).num_rows for i in range(first.num_row_groups)] == [4, 4, 2]


def test_buffering_and_open_files_stay_bounded(tmp_path: Path) -> None:
    root, staging = tmp_path / "articles", tmp_path / "staging"
    with DatasetWriter(
        root,
        ARTICLE_SCHEMA,
        article_partition,
        file_key="job",
        row_group_rows=1000,
        max_buffered_rows=5,
        max_open_files=2,
        staging_dir=staging,
    ) as writer:
        for article in _articles(200, sites=7):
            writer.write(article)
            assert writer.buffered_rows <= 5
            assert len(list(staging.iterdir())) <= 2
    assert read_dataset(root, ARTICLE_SCHEMA).num_rows == 200
    assert list(staging.iterdir()) == []


def test_buffer_is_bounded_by_bytes_whatever_the_row_sizes(tmp_path: Path) -> None:
    # Long and short texts mixed: a row count alone would let the buffer grow a hundredfold.
    texts = ["kurz " * 10, "lang " * 20_000]
    articles = [
        make_article(url=f"https://example.de/b/{i}", site=f"site{i % 3}", text=texts[i % 2])
        for i in range(60)
    ]
    limit = 300_000
    root = tmp_path / "articles"
    with DatasetWriter(
        root, ARTICLE_SCHEMA, article_partition, file_key="job", max_buffered_bytes=limit
    ) as writer:
        for article in articles:
            writer.write(article)
            assert writer.buffered_bytes <= limit
            assert writer.buffered_bytes > 0 or writer.buffered_rows == 0
    table = read_dataset(root, ARTICLE_SCHEMA)
    assert sorted(table.column("url").to_pylist()) == sorted(a.url for a in articles)


def test_rerun_with_same_file_key_replaces_rows(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    first = _write(root, _articles(30, sites=3), rows_per_file=4)
    other = _write(root, _articles(5, prefix="other"), file_key="job-x")  # key prefix of "job"
    assert _write(root, _articles(30, sites=3), rows_per_file=4) == first
    assert read_dataset(root, ARTICLE_SCHEMA).num_rows == 35
    # The re-run moves every row to site0 and writes fewer files: nothing stale survives.
    moved = _write(root, [make_article(url=a.url, site="site0") for a in _articles(30)])
    table = read_dataset(root, ARTICLE_SCHEMA)
    assert table.num_rows == 35
    assert table.column("url").to_pylist().count("https://example.de/a/1") == 1
    assert set(_files(root)) == set(moved) | set(other)


def test_abort_discards_staged_rows(tmp_path: Path) -> None:
    root, staging = tmp_path / "articles", tmp_path / "staging"
    writer = DatasetWriter(
        root,
        ARTICLE_SCHEMA,
        article_partition,
        file_key="job",
        rows_per_file=10,
        row_group_rows=3,
        staging_dir=staging,
    )
    for article in _articles(15):
        writer.write(article)
    writer.abort()
    assert [p.name for p in _files(root)] == ["part-job-00000.parquet"]  # committed when full
    assert list(staging.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write(make_article())


# --- hostile input --------------------------------------------------------------------------

HOSTILE = ["../../etc", "/etc/passwd", "..", ".", "", "a=b/c", "x" * 300, "ü" * 100, "%2F"]


@pytest.mark.parametrize("value", [*HOSTILE, "a\x00b"])
def test_partition_dir_stays_one_safe_segment(value: str) -> None:
    name = partition_dir("site", value)
    assert name.startswith("site=") and "/" not in name and "\x00" not in name
    assert len(name.encode()) <= 200 and name not in ("site=.", "site=..")


def test_hostile_partition_values_stay_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "data" / "articles"
    articles = [make_article(url=f"https://example.de/{i}", site=s) for i, s in enumerate(HOSTILE)]
    paths = _write(root, articles)
    real_root = os.path.realpath(root)
    for path in paths:
        assert os.path.realpath(path).startswith(real_root + os.sep)
        assert len(path.relative_to(root).parts) == 3
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in paths
    )
    sites = set(read_dataset(root, ARTICLE_SCHEMA).column("site").to_pylist())
    lossless = {s for s in HOSTILE if s and len(s) < 40}
    assert lossless <= sites and len(sites) == len(HOSTILE)


def test_bad_partitioners_and_keys_are_refused(tmp_path: Path) -> None:
    with DatasetWriter(
        tmp_path / "a",
        ARTICLE_SCHEMA,
        lambda row: [("site", 7)],  # type: ignore[list-item]
        file_key="k",
    ) as writer:
        with pytest.raises(RecordError, match=r"^site: partition value"):
            writer.write(make_article())
        assert writer.buffered_rows == 0
    with (
        DatasetWriter(
            tmp_path / "b", ARTICLE_SCHEMA, lambda row: [("../x", "1")], file_key="k"
        ) as writer,
        pytest.raises(ValueError, match="partition keys"),
    ):
        writer.write(make_article())
    for key in ["", "../x", "a/b", "x" * 101, "a b"]:
        with pytest.raises(ValueError, match="file_key"):
            DatasetWriter(tmp_path / "c", ARTICLE_SCHEMA, article_partition, file_key=key)
    with pytest.raises(ValueError, match="outside root"):
        DatasetWriter(
            tmp_path / "d",
            ARTICLE_SCHEMA,
            article_partition,
            file_key="k",
            staging_dir=tmp_path / "d" / ".staging",
        )


# --- crashes, concurrency, disk full ---------------------------------------------------------

CHILD_LOOP = """
import itertools, sys
from pathlib import Path
from pipelines.layout import article_partition
from pipelines.parquet import DatasetWriter
from pipelines.records import ARTICLE_SCHEMA
from tests.factories import make_article
root, mode = Path(sys.argv[1]), sys.argv[2]
print("ready", flush=True)
for run in itertools.count():
    key = "same" if mode == "rerun" else f"k{run % 3}"
    with DatasetWriter(root, ARTICLE_SCHEMA, article_partition, file_key=key,
                       rows_per_file=40, row_group_rows=7, max_buffered_rows=30) as w:
        for i in range(300):
            w.write(make_article(url=f"https://example.de/{i}", site=f"s{i % 3}"))
    if mode == "rerun" and run >= int(sys.argv[3]):
        break
"""


def _child(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_LOOP, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def _sigkill_trials(tmp_path: Path, trials: int) -> None:
    rng = random.Random(20261125)
    root, staging = tmp_path / "articles", tmp_path / ".staging"
    for _ in range(trials):
        proc = _child(str(root), "loop")
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        for path in _files(root):
            pq.read_table(path)  # a torn file would raise ArrowInvalid
        read_dataset(root, ARTICLE_SCHEMA)  # one torn file would fail the whole dataset
        DatasetWriter(root, ARTICLE_SCHEMA, article_partition, file_key="probe").abort()
        assert list(staging.iterdir()) == [], "staging files of the dead writer were left"
    assert _files(root), "the child never committed a file; kill later"


def test_sigkill_never_leaves_unreadable_files(tmp_path: Path) -> None:
    _sigkill_trials(tmp_path, 3)


@pytest.mark.slow
def test_sigkill_many_trials(tmp_path: Path) -> None:
    _sigkill_trials(tmp_path, 25)


def test_concurrent_reader_never_sees_torn_file(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    _write(
        root,
        [make_article(url=f"https://example.de/{i}", site=f"s{i % 3}") for i in range(300)],
        file_key="same",
        rows_per_file=40,
        row_group_rows=7,
    )
    proc = _child(str(root), "rerun", "15")
    reads = torn = 0
    while proc.poll() is None:
        for path in _files(root):
            try:
                assert pq.read_table(path).num_rows > 0
                reads += 1
            except (pa.ArrowInvalid, OSError):
                torn += 1
    assert proc.wait() == 0
    proc.stdout.close()  # type: ignore[union-attr]
    assert torn == 0 and reads > 50, (torn, reads)
    assert read_dataset(root, ARTICLE_SCHEMA).num_rows == 300


DISK_FULL = """
import os, resource, secrets, signal, sys
from pathlib import Path
from pipelines.layout import article_partition
from pipelines.parquet import DatasetWriter
from pipelines.records import ARTICLE_SCHEMA
from tests.factories import make_article
root = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))
try:
    with DatasetWriter(root, ARTICLE_SCHEMA, article_partition, file_key="job",
                       row_group_rows=50) as w:
        for i in range(100_000):
            w.write(make_article(url=f"https://example.de/new/{i}", text=secrets.token_hex(500)))
except OSError as exc:
    print(exc.errno)
    sys.exit(3)
"""


def test_disk_full_keeps_committed_files(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    before = _write(root, _articles(150), rows_per_file=100)
    contents = [p.read_bytes() for p in before]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(root)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == str(27)  # EFBIG
    assert _files(root) == before and [p.read_bytes() for p in before] == contents
    assert list((tmp_path / ".staging").iterdir()) == []


def test_clean_staging_keeps_live_and_fresh_files(tmp_path: Path) -> None:
    staging = tmp_path / ".staging"
    with DatasetWriter(
        tmp_path / "articles", ARTICLE_SCHEMA, article_partition, file_key="live", row_group_rows=2
    ) as live:
        for article in _articles(3):
            live.write(article)
        [locked] = staging.iterdir()
        dead = staging / "stage-999999999-00ff-00001.parquet"  # beyond pid_max: never alive
        fresh = staging / f"stage-{os.getpid()}-00aa-00001.parquet"
        old = staging / f"stage-{os.getpid()}-00bb-00001.parquet"
        for path in (dead, fresh, old):
            path.write_bytes(b"PAR1")
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        assert sorted(clean_staging(staging)) == sorted([dead, old])
        assert sorted(staging.iterdir()) == sorted([locked, fresh])
    fresh.unlink()


# --- property ------------------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
_WHEN = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-11))]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(
            lambda site, text, published: make_article(site=site, text=text, published=published),
            _TEXT,
            _TEXT,
            st.none() | _WHEN,
        ),
        max_size=40,
    )
)
def test_any_valid_rows_are_all_read_back(articles: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp, "articles")
        _write(root, articles, rows_per_file=3, row_group_rows=2, max_buffered_rows=5)
        table = read_dataset(root, ARTICLE_SCHEMA)
        assert table.num_rows == len(articles)
        assert sorted(table.column("text").to_pylist()) == sorted(a.text for a in articles)
