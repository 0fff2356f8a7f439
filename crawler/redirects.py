"""Record redirects that leave the site instead of letting Scrapy drop them without a trace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self
from urllib.parse import urljoin, urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response


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
        if _on_domains(target, domains):
            return response
        assert self._crawler.stats is not None
        self._crawler.stats.inc_value("news/offsite_redirect")
        raise OffsiteRedirect(f"offsite: {response.url} redirects to {target}")


def _on_domains(url: str, domains: Sequence[str]) -> bool:
    """Whether ``url``'s host is one of ``domains`` or below one, whatever its port.

    Scrapy's ``url_is_from_any_domain`` compares the whole network location, so a
    redirect to ``https://www.site.de:8443/…`` would count as leaving the site.
    """
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:  # an unbalanced IPv6 bracket
        return False
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))
