"""Tests for pipelines.warc: reading WARCs back, foreign WARCs, and damaged input never silent."""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import pickle
import zlib
from datetime import UTC, datetime
from pathlib import Path

import brotli
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.archive import WarcArchive
from crawler.items import FetchedPage
from pipelines import warc
from pipelines.warc import WarcReadError, find_warc_files, iter_pages

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
HTML = b"<!doctype html><html><head><title>Kein WARC</title></head><body>Hallo</body></html>\n"


def make_page(i: int) -> FetchedPage:
    return FetchedPage(
        site="lokal",
        url=f"https://lokal.example/ä/{i}",
        final_url=f"https://lokal.example/ö/{i}",
        status=200,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("X-Ort", "Köln")),
        fetched_at=datetime(2024, 2, 29, 23, 59, 59, 999_000, tzinfo=UTC),
        body=f"<p>Bürgerversammlung {i}</p>".encode() * 40 + os.urandom(64),
        hints={"title": f"Titel {i}"} if i % 2 else {},
    )


def archive(tmp_path: Path, count: int = 5) -> tuple[Path, list[FetchedPage]]:
    """A WARC written by WarcArchive with a request record after every response."""
    with WarcArchive(tmp_path / "in") as writer:
        pages = [writer.write(make_page(i), (("User-Agent", "bot"),)) for i in range(count)]
    return tmp_path / "in" / str(pages[0].warc_file), pages


def offset(page: FetchedPage) -> int:
    assert page.warc_offset is not None
    return page.warc_offset


def read_damaged(path: Path) -> tuple[list[FetchedPage], WarcReadError]:
    pages: list[FetchedPage] = []
    with pytest.raises(WarcReadError) as caught:
        pages.extend(iter_pages(path))
    assert caught.value.path == path and path.name in str(caught.value)
    assert f"byte {caught.value.offset}" in str(caught.value)
    return pages, caught.value


def save(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def member(data: bytes, page: FetchedPage) -> tuple[int, int]:
    """Byte range of the gzip member holding ``page``'s response record."""
    start = offset(page)
    inflater = zlib.decompressobj(31)
    inflater.decompress(data[start:])
    return start, len(data) - len(inflater.unused_data)


def test_reads_back_what_was_written_and_skips_requests(tmp_path: Path) -> None:
    path, pages = archive(tmp_path)
    assert list(iter_pages(path)) == pages


def test_truncated_tail_yields_earlier_pages_then_raises(tmp_path: Path) -> None:
    path, pages = archive(tmp_path)
    data = path.read_bytes()
    cut = offset(pages[-1]) + 40
    for size in (len(data) - 40, len(data) - 4, cut):  # in the request, gzip trailer, header
        got, error = read_damaged(save(tmp_path, f"cut{size}.warc.gz", data[:size]))
        renamed = [dataclasses.replace(p, warc_file=f"cut{size}.warc.gz") for p in pages]
        assert got[:4] == renamed[:4]
        assert error.offset >= offset(pages[-1])


def test_torn_response_record_is_not_yielded(tmp_path: Path) -> None:
    path, pages = archive(tmp_path, 3)
    data = path.read_bytes()
    start, end = member(data, pages[-1])
    got, error = read_damaged(save(tmp_path, "torn.warc.gz", data[: (start + end) // 2]))
    assert [p.url for p in got] == [p.url for p in pages[:2]]
    assert error.offset == start


def test_corrupt_member_in_the_middle_keeps_later_records(tmp_path: Path) -> None:
    path, pages = archive(tmp_path)
    data = bytearray(path.read_bytes())
    start, end = member(bytes(data), pages[2])
    data[(start + end) // 2] ^= 0xFF
    got, error = read_damaged(save(tmp_path, "corrupt.warc.gz", bytes(data)))
    assert [p.url for p in got] == [p.url for i, p in enumerate(pages) if i != 2]
    assert [p.warc_offset for p in got] == [p.warc_offset for i, p in enumerate(pages) if i != 2]
    assert error.offset == start


def resealed(data: bytes, start: int, end: int, old: bytes, new: bytes) -> bytes:
    """Replace bytes inside one member and recompress it, so gzip CRCs stay valid."""
    record = gzip.decompress(data[start:end])
    assert record.count(old) >= 1
    return data[:start] + gzip.compress(record.replace(old, new, 1)) + data[end:]


@pytest.mark.parametrize("target", ["body", "http-header", "sha256-field"])
def test_bit_flip_under_valid_gzip_is_detected(tmp_path: Path, target: str) -> None:
    path, pages = archive(tmp_path)
    data = path.read_bytes()
    start, end = member(data, pages[1])
    sha = pages[1].sha256.encode()
    old = {"body": b"versammlung", "http-header": b"K\xc3\xb6ln", "sha256-field": sha}
    new = {"body": b"versammlunf", "http-header": b"K\xc3\xb6lm", "sha256-field": sha[:-1] + b"x"}
    flipped = resealed(data, start, end, old[target], new[target])
    got, error = read_damaged(save(tmp_path, "flip.warc.gz", flipped))
    assert [p.url for p in got] == [p.url for i, p in enumerate(pages) if i != 1]
    assert error.offset == start and "skipped" in error.message


@pytest.mark.parametrize("name", ["x.warc.gz", "x.warc"])
@pytest.mark.parametrize(
    "data",
    [os.urandom(4096), PNG, HTML, gzip.compress(HTML)],
    ids=["random", "png", "html", "html.gz"],
)
def test_not_a_warc_raises_at_offset_zero(tmp_path: Path, name: str, data: bytes) -> None:
    got, error = read_damaged(save(tmp_path, name, data))
    assert got == [] and error.offset == 0


@pytest.mark.parametrize("name", ["empty.warc.gz", "empty.warc"])
def test_empty_file_raises(tmp_path: Path, name: str) -> None:
    got, error = read_damaged(save(tmp_path, name, b""))
    assert got == [] and error.offset == 0 and "empty" in error.message


def test_garbage_after_last_record_raises(tmp_path: Path) -> None:
    path, pages = archive(tmp_path)
    data = path.read_bytes()
    got, error = read_damaged(save(tmp_path, "tail.warc.gz", data + HTML))
    assert len(got) == len(pages) and error.offset == len(data)


def test_uncompressed_warc_reads_and_truncation_is_detected(tmp_path: Path) -> None:
    path, pages = archive(tmp_path)
    plain = gzip.decompress(path.read_bytes())
    got = list(iter_pages(save(tmp_path, "plain.warc", plain)))
    strip = [dataclasses.replace(p, warc_file=None, warc_offset=None) for p in pages]
    assert [dataclasses.replace(p, warc_file=None, warc_offset=None) for p in got] == strip
    assert all(plain[offset(p) : offset(p) + 8] == b"WARC/1.1" for p in got)
    for cut in (2, 40, len(plain) - offset(got[-1]) - 30):
        short, error = read_damaged(save(tmp_path, f"plain{cut}.warc", plain[:-cut]))
        assert [p.url for p in short] == [p.url for p in pages[: len(short)]]
        assert len(short) >= 4 and error.offset >= offset(got[-1])


@pytest.mark.parametrize(
    "where",
    [b"versammlung 3", b"K\xc3\xb6ln", b"WARC-Type: response", b"Content-Type: application/http"],
    ids=["body", "http-header", "record-type", "content-type"],
)
def test_bit_flip_in_uncompressed_warc(tmp_path: Path, where: bytes) -> None:
    path, pages = archive(tmp_path)
    plain = bytearray(gzip.decompress(path.read_bytes()))
    offsets = [p.warc_offset for p in iter_pages(save(tmp_path, "ok.warc", bytes(plain)))]
    assert offsets[3] is not None
    plain[plain.index(where, offsets[3]) + len(where) - 2] ^= 0x01
    got, error = read_damaged(save(tmp_path, "flip.warc", bytes(plain)))
    assert [p.url for p in got] == [p.url for i, p in enumerate(pages) if i != 3]
    assert error.offset == offsets[3]


def test_one_gzip_member_for_the_whole_file(tmp_path: Path) -> None:
    path, pages = archive(tmp_path)
    whole = gzip.compress(gzip.decompress(path.read_bytes()))
    got = list(iter_pages(save(tmp_path, "whole.warc.gz", whole)))
    assert [p.body for p in got] == [p.body for p in pages]
    assert {p.warc_offset for p in got} == {None}  # positions inside one member are not seekable
    short, error = read_damaged(save(tmp_path, "whole_cut.warc.gz", whole[:-4]))
    assert len(short) == len(pages) and error.offset == 0


def foreign_warc(path: Path, encoding: str, body: bytes, payload: bytes) -> None:
    """A WARC as other crawlers write it: warcio, WARC/1.0, compressed payload kept as sent."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "other"}))
        uri = "https://www.foreign.example/nachrichten?id=1"
        http = StatusAndHeaders(
            "200 OK",
            [
                ("Content-Type", "text/html"),
                ("Content-Encoding", encoding),
                ("Content-Length", str(len(payload))),
            ],
            protocol="HTTP/1.1",
        )
        fields = {"WARC-Date": "2023-11-05T08:09:10Z"}
        response = writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(payload),
            length=len(payload),
            http_headers=http,
            warc_headers_dict=fields,
        )
        request = writer.create_warc_record(
            uri,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            warc_headers_dict=fields,
            http_headers=StatusAndHeaders("GET /nachrichten?id=1 HTTP/1.1", [], protocol=""),
        )
        metadata = writer.create_warc_record(
            uri,
            "metadata",
            payload=io.BytesIO(b"via: x\r\n"),
            length=8,
            warc_headers_dict=fields,
        )
        revisit = writer.create_revisit_record(
            uri, "sha1:AAAA", uri, "2023-11-04T08:09:10Z", http_headers=http
        )
        for record in (response, request, metadata, revisit):
            writer.write_record(record)


BODY = "<html><p>Großbrand in der Altstadt</p></html>".encode() * 50


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gzip", gzip.compress(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress(BODY)),
    ],
    ids=["gzip", "zlib", "raw-deflate", "br"],
)
def test_foreign_warc_with_content_encoding_is_decoded(
    tmp_path: Path, encoding: str, payload: bytes
) -> None:
    path = tmp_path / "foreign.warc.gz"
    foreign_warc(path, encoding, BODY, payload)
    (page,) = iter_pages(path)
    assert page.body == BODY
    assert page.site == "foreign.example"
    assert page.url == page.final_url == "https://www.foreign.example/nachrichten?id=1"
    assert page.fetched_at == datetime(2023, 11, 5, 8, 9, 10, tzinfo=UTC)
    assert page.hints == {} and page.status == 200 and page.warc_file == path.name
    assert page.header("Content-Encoding") is None
    assert page.header("X-Crawler-Content-Encoding") == encoding
    assert page.header("X-Crawler-Content-Length") == str(len(payload))
    assert page.header("Content-Length") == str(len(BODY))


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gzip", gzip.compress(BODY)[:-30]),
        ("gzip", b"not gzip"),
        ("compress", b"x"),
        ("gzip", gzip.compress(BODY * 100)),
    ],
    ids=["torn-gzip", "not-gzip", "unknown-coding", "over-size-cap"],
)
def test_undecodable_body_is_kept_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str, payload: bytes
) -> None:
    monkeypatch.setattr(warc, "MAX_DECODED_BYTES", len(BODY) * 10)  # the last case exceeds it
    path = tmp_path / "foreign.warc.gz"
    foreign_warc(path, encoding, BODY, payload)
    (page,) = iter_pages(path)
    assert page.body == payload and page.header("Content-Encoding") == encoding


def test_find_warc_files(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    for name in ("a/x.warc.gz", "a/b/y.warc", "a/b/z.warc.gz", "a/notes.txt", "a/b/x.cdx"):
        (tmp_path / name).write_bytes(b"")
    explicit = save(tmp_path, "single.bin", b"")
    inputs = [tmp_path / "a", explicit, tmp_path / "a" / "b" / ".." / "x.warc.gz"]
    assert find_warc_files(inputs) == sorted(
        [tmp_path / "a/x.warc.gz", tmp_path / "a/b/y.warc", tmp_path / "a/b/z.warc.gz", explicit]
    )
    with pytest.raises(FileNotFoundError, match=r"missing\.warc\.gz"):
        find_warc_files([tmp_path / "a", tmp_path / "missing.warc.gz"])


def test_warc_read_error_names_file_and_offset_and_pickles() -> None:
    error = WarcReadError(Path("/data/x.warc.gz"), 1234, "incomplete gzip member")
    assert str(error) == "/data/x.warc.gz: damaged WARC data at byte 1234: incomplete gzip member"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.offset, copy.message) == (error.path, 1234, error.message)
    assert copy.problems == ((1234, "incomplete gzip member"),)


def bare_record(uri: str, body: bytes) -> bytes:
    """A response record without any digest, as some tools write them."""
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:0>\r\n"
        f"WARC-Date: 2023-01-02T03:04:05Z\r\nWARC-Target-URI: {uri}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


@pytest.mark.parametrize("compress", [True, False])
def test_torn_record_without_digests_is_not_yielded(tmp_path: Path, compress: bool) -> None:
    records = [bare_record(f"http://lokal.example/{i}", BODY) for i in range(3)]
    members = [gzip.compress(r) if compress else r for r in records]
    data = b"".join(members)
    torn = data[: len(data) - len(members[-1]) // 2]
    name = "bare.warc.gz" if compress else "bare.warc"
    assert [p.body for p in iter_pages(save(tmp_path, name, data))] == [BODY] * 3
    got, error = read_damaged(save(tmp_path, name, torn))
    assert [p.final_url for p in got] == ["http://lokal.example/0", "http://lokal.example/1"]
    assert error.offset == len(data) - len(members[-1])
