"""Tests for crawler.archive: WARC writing, rotation, offsets and warcio interoperability."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from crawler.archive import WarcArchive, stored_headers, warc_date
from crawler.items import FetchedPage
from pipelines.warc import iter_pages

NAME = re.compile(r"localnews-\d{14}-\d{5}-[0-9a-f]{8}\.warc\.gz")


def make_page(i: int = 0, **changes: object) -> FetchedPage:
    values: dict[str, object] = {
        "site": "südkurier",
        "url": f"https://www.example.de/straße/{i}",
        "final_url": f"https://www.example.de/artikel/grüße-{i}?x=ä",
        "status": 200,
        "headers": (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "123"),
            ("X-Autor", "Jürgen Müßig"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ),
        "fetched_at": datetime(2024, 5, 1, 12, 30, 15, 123456 + i, tzinfo=UTC),
        "body": f"<html><p>Straßenbau Nummer {i}</p></html>".encode() * (i + 1),
        "hints": {"title": f"Überschrift {i}", "published": "2024-05-01"} if i % 2 else {},
    }
    values.update(changes)
    return FetchedPage(**values)  # type: ignore[arg-type]


def located(directory: Path, page: FetchedPage) -> tuple[Path, int]:
    """The file and offset a written page points at."""
    assert page.warc_file is not None and page.warc_offset is not None
    return directory / page.warc_file, page.warc_offset


def write_pages(directory: Path, count: int, **options: int) -> list[FetchedPage]:
    with WarcArchive(directory, **options) as archive:  # type: ignore[arg-type]
        return [archive.write(make_page(i)) for i in range(count)]


def warcio_records(path: Path) -> list[tuple[str, str | None, bytes]]:
    with path.open("rb") as stream:
        return [
            (
                record.rec_type,
                record.rec_headers.get_header("WARC-Target-URI"),
                record.content_stream().read(),
            )
            for record in ArchiveIterator(stream, check_digests="raise")
        ]


def test_round_trip_reads_back_identical_pages(tmp_path: Path) -> None:
    written = write_pages(tmp_path, 6)
    (path,) = tmp_path.iterdir()
    read = list(iter_pages(path))
    assert read == written
    for original, page in zip([make_page(i) for i in range(6)], read, strict=True):
        assert page.body == original.body
        assert page.url == original.url and page.final_url == original.final_url
        assert page.site == "südkurier"
        assert dict(page.hints) == dict(original.hints)
        assert page.fetched_at == original.fetched_at
        assert page.header("X-Autor") == "Jürgen Müßig"
        assert page.warc_file == path.name


def test_encoding_headers_renamed_and_true_length_stored(tmp_path: Path) -> None:
    page = write_pages(tmp_path, 1)[0]
    assert page.headers == stored_headers(make_page(0).headers, len(page.body))
    assert page.header("Content-Encoding") is None
    assert page.header("X-Crawler-Content-Encoding") == "gzip"
    assert page.header("X-Crawler-Content-Length") == "123"
    assert page.header("Content-Length") == str(len(page.body))
    assert [v for k, v in page.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_offsets_point_at_the_response_record(tmp_path: Path) -> None:
    written = write_pages(tmp_path, 4)
    for page in written:
        path, offset = located(tmp_path, page)
        with path.open("rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == page.final_url
            assert record.content_stream().read() == page.body


def test_rotation_by_size_gives_several_readable_files(tmp_path: Path) -> None:
    written = write_pages(tmp_path, 12, max_file_bytes=2_000)
    files = sorted(tmp_path.iterdir())
    assert len(files) > 2
    assert files == sorted({located(tmp_path, p)[0] for p in written})
    assert all(NAME.fullmatch(p.name) for p in files)
    read = [page for path in files for page in iter_pages(path)]
    assert read == written  # file names sort in writing order
    for path in files:
        assert warcio_records(path)[0][0] == "warcinfo"
        assert path.stat().st_size <= 2_000 or len(list(iter_pages(path))) == 1


def test_warcio_reads_files_and_gzip_t_passes(tmp_path: Path) -> None:
    with WarcArchive(tmp_path) as archive:
        page = archive.write(make_page(3), request_headers=(("User-Agent", "localnews-bot"),))
    path = located(tmp_path, page)[0]
    records = warcio_records(path)
    assert [r[0] for r in records] == ["warcinfo", "response", "request"]
    assert records[1][1] == page.final_url and records[1][2] == page.body
    if shutil.which("gzip"):
        subprocess.run(["gzip", "-t", str(path)], check=True)


def test_warcinfo_and_request_record_fields(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, prefix="test_run.1") as archive:
        page = archive.write(make_page(1), request_headers=(("Accept", "text/html"),))
    with located(tmp_path, page)[0].open("rb") as stream:
        records = iter(ArchiveIterator(stream))
        info = next(records)
        body = info.content_stream().read()  # warcio streams: read before moving on
        response, request = next(records), next(records)
    assert located(tmp_path, page)[0].name.startswith("test_run.1-")
    assert info.rec_headers.get_header("WARC-Filename") == page.warc_file
    assert b"software: localnews" in body and b"format: WARC File Format 1.1" in body
    assert response.rec_headers.protocol == "WARC/1.1"
    fields = response.rec_headers
    assert fields.get_header("WARC-Date") == "2024-05-01T12:30:15.123457Z"
    assert fields.get_header("LocalNews-Payload-SHA256") == hashlib.sha256(page.body).hexdigest()
    assert fields.get_header("WARC-Payload-Digest").startswith("sha1:")
    assert fields.get_header("LocalNews-Hints") is not None
    assert request.rec_headers.get_header("WARC-Concurrent-To") == fields.get_header(
        "WARC-Record-ID"
    )
    assert request.http_headers.protocol == "GET"


def test_no_hints_field_when_hints_empty(tmp_path: Path) -> None:
    page = write_pages(tmp_path, 1)[0]
    with located(tmp_path, page)[0].open("rb") as stream:
        response = list(ArchiveIterator(stream))[1]
    assert response.rec_headers.get_header("LocalNews-Hints") is None


def test_warc_date_is_utc_with_microseconds() -> None:
    berlin = timezone(timedelta(hours=2))
    assert warc_date(datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=berlin)) == (
        "2024-05-01T12:00:00.000005Z"
    )


def test_records_are_flushed_before_close(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path)
    written = [archive.write(make_page(i)) for i in range(3)]
    path = located(tmp_path, written[0])[0]
    assert list(iter_pages(path)) == written  # readable while the writer is still open
    archive.close()


def test_sigkill_loses_nothing_that_write_returned(tmp_path: Path) -> None:
    code = (
        "import os, signal, sys; from pathlib import Path; from crawler.archive import WarcArchive;"
        "from tests.test_archive import make_page; archive = WarcArchive(Path(sys.argv[1]));"
        "[print(archive.write(make_page(i)).warc_offset, flush=True) for i in range(20)];"
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    root = Path(__file__).parents[1]
    child = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=root, capture_output=True, text=True
    )
    assert child.returncode == -9
    (path,) = tmp_path.iterdir()
    pages = list(iter_pages(path))  # no WarcReadError: every returned write reached the file
    assert [str(p.warc_offset) for p in pages] == child.stdout.split()


@pytest.mark.parametrize(
    "prefix", ["", "../x", "/etc/passwd", "a/b", "a\\b", ".hidden", "a b", "x" * 65, "ä"]
)
def test_unsafe_prefix_is_refused(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        WarcArchive(tmp_path, prefix=prefix)


def test_files_stay_inside_directory_and_names_are_unique(tmp_path: Path) -> None:
    names = set()
    for _ in range(3):
        with WarcArchive(tmp_path / "sub" / ".." / "warc") as archive:
            names.add(archive.write(make_page()).warc_file)
    assert len(names) == 3
    assert {p.name for p in (tmp_path / "warc").iterdir()} == names


@pytest.mark.parametrize(
    "changes",
    [
        {"headers": (("X-Evil", "a\r\nWARC-Type: metadata"),)},
        {"headers": (("Bad:Name", "x"),)},
        {"final_url": "https://example.de/\r\nX: y"},
        {"site": "a\nb"},
        {"site": " padded"},
        {"headers": (("Bad Name", "x"),)},
        {"status": 42},
    ],
)
def test_forged_fields_are_refused_before_writing(tmp_path: Path, changes: object) -> None:
    with WarcArchive(tmp_path) as archive:
        good = archive.write(make_page(0))
        with pytest.raises(ValueError):
            archive.write(make_page(1, **changes))  # type: ignore[arg-type]
        after = archive.write(make_page(2))
    path = located(tmp_path, good)[0]
    assert list(iter_pages(path)) == [good, after]


def test_empty_body_and_unknown_status(tmp_path: Path) -> None:
    assert write_pages(tmp_path, 0) == []
    assert not list(tmp_path.iterdir())  # no page, no file
    with WarcArchive(tmp_path) as archive:
        page = archive.write(make_page(0, body=b"", status=599, headers=()))
    (read,) = iter_pages(located(tmp_path, page)[0])
    assert read == page and read.status == 599 and read.body == b""


LINE_SAFE = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\0"))


@settings(max_examples=60, deadline=None)
@given(
    headers=st.lists(st.tuples(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True), LINE_SAFE)),
    text=LINE_SAFE.map(lambda value: value.strip(" \t\f")),
    body=st.binary(max_size=2_000),
    hints=st.dictionaries(LINE_SAFE, LINE_SAFE, max_size=3),
)
def test_any_page_round_trips(
    headers: list[tuple[str, str]], text: str, body: bytes, hints: dict[str, str]
) -> None:
    page = make_page(
        0,
        site=text,
        url=f"https://a.example/{text}",
        headers=tuple(headers),
        body=body,
        hints=hints,
    )
    with tempfile.TemporaryDirectory() as folder:  # hypothesis reruns; tmp_path would be shared
        with WarcArchive(Path(folder)) as archive:
            written = archive.write(page)
        assert list(iter_pages(located(Path(folder), written)[0])) == [written]
    assert written.body == body and written.url == page.url and written.hints == hints
