"""Downloader middlewares Scrapy lacks: strict decompression check and content-type gate."""

from __future__ import annotations

import logging
import zlib
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Request, Response
from scrapy.http.headers import Headers

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_CHUNK = 64 * 1024
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})
DEFAULT_ALLOWED_TYPES = ("text/html", "application/xhtml+xml")
DEFAULT_EXEMPT_KINDS = ("sitemap", "feed", "robots")


def stream_problem(body: bytes, encoding: str, max_size: int = 0) -> str | None:
    """Why a gzip/deflate `body` is not complete and intact, or None when it is.

    Output is counted and discarded; past `max_size` decompressed bytes the check stops
    (HttpCompressionMiddleware refuses such bodies anyway). Further gzip members are checked
    too; other trailing bytes are ignored, as gunzip does.
    """
    data, produced = body, 0
    while data:
        try:
            ended, produced, data = _inflate_one(data, 47, produced, max_size)
        except zlib.error as exc:
            if encoding != "deflate" or data is not body:
                return f"corrupt {encoding} stream ({exc})"
            try:  # raw deflate without a zlib header, as some servers send it
                ended, produced, data = _inflate_one(data, -15, produced, max_size)
            except zlib.error as raw_exc:
                return f"corrupt {encoding} stream ({raw_exc})"
        if max_size and produced > max_size:
            return None
        if not ended:
            return f"{encoding} stream ends early ({len(body)} compressed bytes)"
        if not data.startswith(b"\x1f\x8b"):
            return None
    return None


def _inflate_one(data: bytes, wbits: int, produced: int, max_size: int) -> tuple[bool, int, bytes]:
    """Inflate one stream: (reached its end, bytes produced so far, bytes after the stream)."""
    decompressor = zlib.decompressobj(wbits=wbits)
    pending = data
    while True:
        chunk = decompressor.decompress(pending, _CHUNK)
        produced += len(chunk)
        if decompressor.eof or (max_size and produced > max_size):
            break
        pending = decompressor.unconsumed_tail
        if not pending and not chunk:
            break
    return decompressor.eof, produced, decompressor.unused_data


def _outer_encoding(headers: Headers) -> str | None:
    values = [v.strip().lower() for h in headers.getlist("Content-Encoding") for v in h.split(b",")]
    values = [v for v in values if v and v != b"identity"]
    return values[-1].decode("latin-1") if values else None


def _media_type(value: bytes | None) -> str:
    return (value or b"").split(b";", 1)[0].strip().lower().decode("latin-1")


class TruncatedResponse(IgnoreRequest):
    """A compressed body that is cut short or corrupt; the message starts with "truncated:"."""

    outcome = "truncated"

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


class StrictDecompressionMiddleware:
    """Refuse gzip/deflate bodies that are truncated or fail their checksum (F6, F7).

    Must sit above HttpCompressionMiddleware (590) so it sees the still-compressed body:
    process_response runs from the highest order to the lowest; use 595 (below Redirect, 600).
    A bad body is retried like a failed download, then raised as TruncatedResponse. Requests
    with meta download_fail_on_dataloss=False get the flag "truncated" instead.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats: StatsCollector = crawler.stats
        self.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.fail_on_dataloss = crawler.settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "dataloss" in response.flags:
            self.stats.inc_value("news/dataloss")
            if "truncated" not in response.flags:
                response.flags.append("truncated")
        if request.method == "HEAD" or not 200 <= response.status < 300 or not response.body:
            return response
        problem = self._problem(request, response)
        if problem is None:
            return response
        self.stats.inc_value("news/truncated")
        if not request.meta.get("download_fail_on_dataloss", self.fail_on_dataloss):
            response.flags.append("truncated")
            return response
        spider = self.crawler.spider
        if spider is not None and not request.meta.get("dont_retry"):
            retry = get_retry_request(request, spider=spider, reason="truncated_compressed_body")
            if retry is not None:
                return retry
        logger.warning("Truncated or corrupt body from %s: %s", response.url, problem)
        raise TruncatedResponse(f"truncated: {problem}: {response.url}", response)

    def _problem(self, request: Request, response: Response) -> str | None:
        max_size = int(request.meta.get("download_maxsize", self.max_size))
        encoding = _outer_encoding(response.headers)
        if encoding in {"gzip", "x-gzip", "deflate"}:
            return stream_problem(response.body, encoding, max_size)
        media_type = _media_type(response.headers.get("Content-Type"))
        if encoding is None and media_type in GZIP_TYPES and response.body.startswith(b"\x1f\x8b"):
            # a .xml.gz sitemap served as a file: SitemapSpider would gunzip it leniently
            return stream_problem(response.body, "gzip", max_size)
        return None


class ContentTypeRefused(StopDownload):
    """A response whose Content-Type is not HTML, stopped before its body was downloaded."""

    outcome = "not_html"

    def __init__(self, content_type: str) -> None:
        super().__init__(fail=True)
        self.content_type = content_type

    def __str__(self) -> str:
        return f"content-type: {self.content_type!r} is not fetched"


class ContentTypeGateMiddleware:
    """Stop non-HTML downloads at the headers (F15), except sitemaps, feeds and robots.txt.

    Requests whose meta["news_kind"] is in NEWS_CONTENT_TYPE_EXEMPT_KINDS pass. A stopped
    response that is not 2xx (redirect, error page) is handed back without its body so
    redirects and retries still work; a stopped 2xx reaches the errback as ContentTypeRefused
    with failure.value.response set.
    """

    def __init__(
        self, stats: StatsCollector, allowed: tuple[str, ...], exempt: tuple[str, ...]
    ) -> None:
        self.stats = stats
        self.allowed = frozenset(t.lower() for t in allowed)
        self.exempt = frozenset(exempt)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        assert crawler.stats is not None
        middleware = cls(
            crawler.stats,
            tuple(settings.getlist("NEWS_ALLOWED_CONTENT_TYPES", list(DEFAULT_ALLOWED_TYPES))),
            tuple(settings.getlist("NEWS_CONTENT_TYPE_EXEMPT_KINDS", list(DEFAULT_EXEMPT_KINDS))),
        )
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        return middleware

    def headers_received(self, headers: Headers, body_length: int, request: Request) -> None:
        """Signal handler: raise ContentTypeRefused for a non-HTML page."""
        if request.meta.get("news_kind") in self.exempt:
            return
        media_type = _media_type(headers.get("Content-Type"))
        if media_type and media_type not in self.allowed:
            raise ContentTypeRefused(media_type)

    def process_exception(self, request: Request, exception: Exception) -> Response | None:
        if not isinstance(exception, ContentTypeRefused):
            return None
        response = exception.response
        if response is not None and not 200 <= response.status < 300:
            return response
        self.stats.inc_value("news/content_type_refused")
        self.stats.inc_value(f"news/content_type_refused/{exception.content_type}")
        logger.info("Skipped %s: Content-Type %s", request.url, exception.content_type)
        return None
