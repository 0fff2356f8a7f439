"""FetchedPage: the one record a fetch produces, live from a spider or read back from WARC."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

Headers = tuple[tuple[str, str], ...]
"""HTTP response headers as (name, value) pairs, in wire order; names keep their case."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A fetched HTTP response with everything cleaning needs: raw bytes, headers, URL, fetch time.

    Extraction depends on these saved inputs only, so the live crawl, re-cleaning from WARC
    and the tests run the same code on the same values.
    """

    site: str
    """Site id from the sites file; for foreign WARCs the host name without a leading ``www.``."""
    url: str
    """The URL that was requested (before redirects)."""
    final_url: str
    """The URL that answered with this body (after redirects)."""
    status: int
    """HTTP status code of the final response."""
    headers: Headers
    """Response headers of the final response."""
    fetched_at: datetime
    """When the response arrived; timezone-aware UTC."""
    body: bytes = field(repr=False)
    """The payload exactly as received after transfer decoding (never logged)."""
    warc_file: str | None = None
    """File name of the WARC file holding this response, once archived."""
    warc_offset: int | None = None
    """Byte offset of the WARC record inside ``warc_file``."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """Discovery hints from feeds and sitemaps, e.g. ``published`` (ISO 8601) or ``title``."""
    request_headers: Headers = field(default=(), compare=False)
    """Headers of the request as sent (archived as the WARC request record); not read back."""
    sha256: str = field(default="", compare=False)
    """Hex SHA-256 of ``body``, computed at construction when not given. Leave it unset:
    ``dataclasses.replace`` carries it over, so replacing ``body`` needs ``sha256=""``."""

    def __post_init__(self) -> None:
        if self.fetched_at.tzinfo is None:
            raise ValueError("FetchedPage.fetched_at must be timezone-aware")
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """A URL the crawler tried but got no usable page for: refused, failed or redirected away."""

    site: str
    url: str
    reason: str
    """Reason code: robots_disallowed, robots_unavailable, offsite_redirect, address_refused,
    redirect_limit, redirect_loop, redirect_to_seen, truncated, too_large, not_html,
    fetch_error, timeout, host_unavailable, http_5xx, http_429, gone (404, 410),
    http_<status>, bad_sitemap, bad_feed."""
    detail: str
    fetched_at: datetime
    """When the attempt ended; timezone-aware UTC."""
    status: int | None = None
    """HTTP status when a response arrived but could not be used."""
