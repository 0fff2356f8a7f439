"""Record redirects that leave the site instead of letting Scrapy drop them without a trace."""

from __future__ import annotations

from typing import Self
from urllib.parse import urljoin

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.url import url_is_from_any_domain


class OffsiteRedirect(IgnoreRequest):
    """A 3xx response pointed outside the spider's allowed domains."""

    outcome = "offsite_redirect"


class OffsiteRedirectMiddleware:
    """Turn a redirect to another site into an errback with outcome ``offsite_redirect``.

    Scrapy's OffsiteMiddleware filters the followed request silently, without calling its
    errback (reliability T4), so the page would leave no row. Ordered just above
    RedirectMiddleware (600), this sees the 3xx response first.
    """

    def __init__(self, crawler: Crawler) -> None:
        self._crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Scrapy's constructor hook."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Raise OffsiteRedirect for a redirect whose target host is not allowed."""
        location = response.headers.get(b"Location")
        domains = getattr(self._crawler.spider, "allowed_domains", None)
        if not (300 <= response.status < 400) or location is None or not domains:
            return response
        target = urljoin(response.url, location.decode("latin-1"))
        if url_is_from_any_domain(target, domains):
            return response
        assert self._crawler.stats is not None
        self._crawler.stats.inc_value("news/offsite_redirect")
        raise OffsiteRedirect(f"offsite: {response.url} redirects to {target}")
