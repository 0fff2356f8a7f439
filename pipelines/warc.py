"""Read WARC files back into FetchedPages with FastWARC, reporting every damaged or unread byte."""

from __future__ import annotations

import errno
import json
import logging
import os
import zlib
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import brotli
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from crawler.archive import stored_headers
from crawler.items import FetchedPage, Headers

logger = logging.getLogger(__name__)

MAX_DECODED_BYTES = 50 * 1024 * 1024
"""Largest payload we inflate when a foreign WARC still holds a Content-Encoded body."""

_SUFFIXES = (".warc", ".warc.gz")
_GZIP_MEMBER = b"\x1f\x8b\x08"
_CHUNK = 1 << 20
# FastWARC verifies only these; any other algorithm would read as a mismatch, so we skip it.
_VERIFIABLE = ("md5:", "sha1:", "sha256:", "sha512:")


class WarcReadError(Exception):
    """A WARC file had damaged or unreadable parts; raised after every readable record came out.

    ``offset`` is the first damaged byte; ``problems`` lists every (offset, description) found,
    in file order, including each record that was skipped.
    """

    def __init__(
        self, path: Path, offset: int, message: str, problems: tuple[tuple[int, str], ...] = ()
    ) -> None:
        super().__init__(path, offset, message, problems)
        self.path, self.offset, self.message = path, offset, message
        self.problems = problems or ((offset, message),)

    def __str__(self) -> str:
        return f"{self.path}: damaged WARC data at byte {self.offset}: {self.message}"


def first_record_id(path: Path) -> str | None:
    """The ``WARC-Record-ID`` of the file's first record (its warcinfo), or None if unreadable.

    It names the file's content for good: appending records never changes it.
    """
    try:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, parse_http=False):
                record_id = record.headers.get("WARC-Record-ID")
                return str(record_id) if record_id else None
    except (OSError, ValueError):
        return None
    return None


def find_warc_files(inputs: Sequence[Path]) -> list[Path]:
    """WARC files named in ``inputs``: files as given, folders searched for *.warc(.gz)."""
    found: dict[Path, Path] = {}
    for item in inputs:
        if item.is_dir():
            candidates = [p for p in item.rglob("*") if p.name.endswith(_SUFFIXES) and p.is_file()]
        elif item.is_file():
            candidates = [item]
        else:
            raise FileNotFoundError(errno.ENOENT, "no such WARC file or folder", str(item))
        for path in candidates:
            found.setdefault(path.resolve(), path)  # one entry per file, however it was named
    return sorted(found.values())


def iter_pages(path: Path) -> Iterator[FetchedPage]:
    """Yield one FetchedPage per HTTP response record, then raise WarcReadError if any was damaged.

    FastWARC stops silently at a torn tail and gives up at the first corrupt gzip member, so
    we check each record (length, WARC digests, LocalNews-Payload-SHA256), check that the last
    record ends exactly at the end of the file, and after a failure resume at the next record
    start. Records that fail a check are not yielded; they are listed in the error instead.
    """
    problems: list[tuple[int, str]] = []
    with path.open("rb") as stream:
        fd = stream.fileno()
        size = os.fstat(fd).st_size
        head = os.pread(fd, 5, 0)
        # Trust the bytes over the name, but junk before the first member stays gzip.
        gz = head[:2] == _GZIP_MEMBER[:2] or (path.suffix == ".gz" and head != b"WARC/")
        start: int | None = 0
        if size == 0:
            problems.append((0, "empty file, no WARC records"))
            start = None
        while start is not None:
            start = yield from _read_from(stream, path, start, size, gz, problems)
    if problems:
        offset, message = problems[0]
        rest = "".join(f"; {msg} at byte {off}" for off, msg in problems[1:6])
        more = f"; {len(problems) - 6} more problems" if len(problems) > 6 else ""
        raise WarcReadError(path, offset, message + rest + more, tuple(problems))


def read_page(path: Path, offset: int) -> FetchedPage:
    """The page of the response record at ``offset`` of ``path``, verified like ``iter_pages``.

    Raises WarcReadError when no intact response record starts there (a torn tail, damage).
    """
    problems: list[tuple[int, str]] = []
    with path.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        head = os.pread(stream.fileno(), 5, 0)
        gz = head[:2] == _GZIP_MEMBER[:2] or (path.suffix == ".gz" and head != b"WARC/")
        records = _read_from(stream, path, offset, size, gz, problems)
        try:
            page = next(records, None)
        finally:
            records.close()
    if page is None or page.warc_offset != offset:
        message = problems[0][1] if problems else "no intact response record starts here"
        raise WarcReadError(path, offset, message, tuple(problems))
    return page


def _read_from(
    stream: BinaryIO, path: Path, start: int, size: int, gz: bool, problems: list[tuple[int, str]]
) -> Generator[FetchedPage, None, int | None]:
    """Read records from ``start``; return where to resume after damage, or None when done."""
    fd = stream.fileno()
    stream.seek(start)
    records = iter(ArchiveIterator(stream, parse_http=False))
    last: int | None = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as exc:  # FastWARC signals damage as OSError and friends; all are damage
            end = None if last is None else _record_end(fd, last, size, gz)
            if end is not None and end < size:
                return end  # retry right after the last good record to pin the damage down
            at = start if last is None else last
            problems.append((at, f"unreadable WARC data ({exc})"))
            return _next_candidate(fd, at + 1, size, gz)
        last = record.stream_pos
        if record.record_type != WarcRecordType.response or not record.is_http:
            if "LocalNews-Payload-SHA256" not in record.headers:
                continue  # request, warcinfo, metadata, revisit, non-HTTP: not pages
            # We write that field on HTTP responses only: its type or Content-Type was damaged.
            problems.append((last, "damaged record skipped (not an HTTP response)"))
            return _next_candidate(fd, last + 1, size, gz)
        aligned = os.pread(fd, 5, last).startswith(_GZIP_MEMBER if gz else b"WARC/")
        try:
            page = _to_page(record, path, last if aligned else None)
        except (ValueError, OSError) as exc:
            problems.append((last, f"damaged record skipped ({exc})"))
            return _next_candidate(fd, last + 1, size, gz)
        yield page
    if last is None:
        if start < size:
            problems.append((start, "no complete WARC record (truncated or not a WARC file)"))
            return _next_candidate(fd, start + 1, size, gz)
        return None
    if gz and os.pread(fd, 3, last) != _GZIP_MEMBER:
        # Not one gzip member per record (e.g. one member for the whole file): FastWARC's
        # positions are not member starts, so walk every member from the top instead.
        last = 0
        while (end := _record_end(fd, last, size, gz)) is not None and end < size:
            last = end
    else:
        end = _record_end(fd, last, size, gz)
    if end is None:
        kind = "gzip member" if gz else "WARC record"
        problems.append((last, f"incomplete {kind} at end of file (truncated?)"))
        return None
    return end if end < size else None


def _to_page(record: WarcRecord, path: Path, offset: int | None) -> FetchedPage:
    """Convert one verified response record; ValueError when a check fails."""
    warc = record.headers
    # The block digest covers HTTP headers and payload, so the payload digest adds nothing then.
    # The block digest also covers the HTTP headers, which our payload SHA-256 does not.
    by_block = _verifiable(warc.get("WARC-Block-Digest"))
    if by_block and not record.verify_block_digest(False):
        raise ValueError("WARC-Block-Digest mismatch")
    record.parse_http()
    http = record.http_headers
    if http is None or http.status_code is None:
        raise ValueError("no HTTP status line")
    by_payload = not by_block and _verifiable(warc.get("WARC-Payload-Digest"))
    if by_payload and not record.verify_payload_digest(False):
        raise ValueError("WARC-Payload-Digest mismatch")
    body = record.reader.read()
    if len(body) != record.content_length:
        raise ValueError(f"payload has {len(body)} of {record.content_length} bytes")
    fetched_at = record.record_date
    if fetched_at is None or fetched_at.tzinfo is None:
        raise ValueError("missing or invalid WARC-Date")
    target = (warc.get("WARC-Target-URI") or "").strip("<>")  # some WARC 1.0 writers add <>
    headers = tuple((_text(name), _text(value)) for name, value in http.items_bytes())
    headers, body = _decode_content(headers, body, f"{path.name}@{offset}")
    site = warc.get("LocalNews-Site")
    url = warc.get("LocalNews-Requested-URI")
    page = FetchedPage(
        site=_host_site(target) if site is None else site,
        url=target if url is None else url,
        final_url=target,
        status=http.status_code,
        headers=headers,
        fetched_at=fetched_at,
        body=body,
        warc_file=path.name,
        warc_offset=offset,
        hints=_hints(warc.get("LocalNews-Hints")),
    )
    # Our own WARCs store bodies content-decoded, so the digest covers page.body as is.
    sha256 = warc.get("LocalNews-Payload-SHA256")
    if sha256 and page.sha256 != sha256.lower():
        raise ValueError("LocalNews-Payload-SHA256 mismatch")
    return page


def _host_site(url: str) -> str:
    """A foreign record's site: its host without ``www.``; empty for an unparsable URL."""
    try:
        return (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:  # e.g. "http://[::1/a": the record is intact, only its URL is odd
        return ""


def _verifiable(digest: str | None) -> bool:
    return (digest or "").lower().startswith(_VERIFIABLE)


def _text(raw: bytes) -> str:
    # We write UTF-8; foreign servers send anything, and Latin-1 never fails or leaves surrogates.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _hints(raw: str | None) -> dict[str, str]:
    hints = json.loads(raw) if raw else {}  # JSONDecodeError is a ValueError: record damaged
    if not isinstance(hints, dict):
        raise ValueError("LocalNews-Hints is not a JSON object")
    return {str(key): str(value) for key, value in hints.items()}


def _decode_content(headers: Headers, body: bytes, where: str) -> tuple[Headers, bytes]:
    """Inflate a body still Content-Encoded (foreign WARCs); on failure keep it raw for cleaning."""
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "").strip().lower()
    if encoding in ("", "identity"):
        return headers, body
    decoded = _inflate(body, encoding)
    if decoded is None:
        logger.warning("%s: cannot decode Content-Encoding %r, keeping raw bytes", where, encoding)
        return headers, body
    return stored_headers(headers, len(decoded)), decoded


def _inflate(body: bytes, encoding: str, prefix: int = 0) -> bytes | None:
    """Decoded body, or None if damaged, truncated, unsupported or over MAX_DECODED_BYTES.

    With ``prefix``, just the first ``prefix`` bytes, and the stream need not be complete.
    """
    limit = prefix or MAX_DECODED_BYTES + 1
    try:
        if encoding == "br":
            inflater = brotli.Decompressor()
            out = inflater.process(body, output_buffer_limit=limit)
            done = inflater.is_finished()
        else:
            wbits = {"gzip": 47, "x-gzip": 47, "deflate": 15}.get(encoding)
            if wbits is None:
                return None
            if encoding == "deflate" and body[:1] != b"\x78":
                wbits = -15  # many servers send raw deflate without the zlib header
            zinflater = zlib.decompressobj(wbits)
            out = zinflater.decompress(body, limit)
            done = zinflater.eof  # a torn gzip body (reliability finding 2) is not "decoded"
    except (zlib.error, brotli.error):
        return None
    return out if prefix or (done and len(out) < limit) else None


def _record_end(fd: int, pos: int, size: int, gz: bool) -> int | None:
    """Where the gzip member / plain record starting at ``pos`` ends; None if incomplete."""
    if not gz:
        head = os.pread(fd, 64 << 10, pos)
        split = head.find(b"\r\n\r\n")
        fields = head[:split].lower().split(b"\r\n")
        lengths = [line[15:] for line in fields if line.startswith(b"content-length:")]
        if split < 0 or len(lengths) != 1 or not lengths[0].strip().isdigit():
            return None
        end = pos + split + 4 + int(lengths[0]) + 4
        return end if end <= size and os.pread(fd, 4, end - 4) == b"\r\n\r\n" else None
    inflater = zlib.decompressobj(31)
    fed, data = 0, b""
    try:
        while not inflater.eof:
            if not data:
                data = os.pread(fd, _CHUNK, pos + fed)
                fed += len(data)
                if not data:
                    return None
            inflater.decompress(data, _CHUNK)  # output discarded; bounded against bombs
            data = inflater.unconsumed_tail
    except zlib.error:
        return None
    return pos + fed - len(inflater.unused_data)


def _next_candidate(fd: int, pos: int, size: int, gz: bool) -> int | None:
    """Offset of the next plausible record start at or after ``pos``, or None."""
    magic = _GZIP_MEMBER if gz else b"WARC/1."
    while pos < size:
        chunk = os.pread(fd, _CHUNK, pos)
        found = chunk.find(magic)
        if found < 0:
            pos += max(1, len(chunk) - len(magic) + 1)
            continue
        pos += found
        if not gz or (_inflate(os.pread(fd, 64 << 10, pos), "gzip", 8) or b"").startswith(b"WARC/"):
            return pos
        pos += 1
    return None
