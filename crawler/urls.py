"""URL canonicalisation and the stable article id: used before scheduling and on stored rows."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import is_external, normalize_url
from w3lib.url import canonicalize_url

# Query parameters that identify a visitor or a campaign, never an article. courlan's
# non-strict mode already drops utm_*/fbclid & co; session ids are our addition
# (reliability T2). Strict mode is not used: it drops ids such as ?option=&id= (T10).
_SESSION_PARAMS = frozenset({"sid", "jsessionid", "phpsessid", "sessionid", "session_id", "s_id"})
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "matomo_")
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref_src"})


def _is_noise(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in _SESSION_PARAMS
        or lowered in _TRACKING_PARAMS
        or lowered.startswith(_TRACKING_PREFIXES)
    )


def canonicalize(url: str) -> str:
    """Normalise a URL for storage: lower-case host, no default port, fragment or tracking."""
    raw = urlsplit(url.strip())
    # ;jsessionid=… path parameters must go before courlan percent-encodes the ';'
    url = urlunsplit(raw._replace(path=raw.path.split(";", 1)[0], fragment=""))
    try:
        normalized = normalize_url(url, strict=False)
    except ValueError:
        normalized = url
    parts = urlsplit(normalized)
    path = parts.path
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_noise(k)]
    return urlunsplit((parts.scheme, parts.netloc, path or "/", urlencode(query), ""))


def url_key(url: str) -> str:
    """The identity of an article URL: canonical form, sorted query, scheme ignored."""
    canonical = canonicalize_url(canonicalize(url), keep_fragments=False)
    return canonical.split("://", 1)[-1]


def article_id(canonical_url: str) -> str:
    """32 hex characters identifying an article across runs (SHA-256 of its URL key)."""
    return hashlib.sha256(url_key(canonical_url).encode("utf-8")).hexdigest()[:32]


def trusted_canonical(href: str | None, page_url: str) -> str:
    """The page's rel=canonical if it can be trusted, else the page URL; canonicalised.

    Trusted means http(s), on the same registered domain, and not a lazy canonical that
    points every page of a site at its home page.
    """
    if href:
        candidate = urljoin(page_url, href.strip())
        cand, page = urlsplit(candidate), urlsplit(page_url)
        if (
            cand.scheme in ("http", "https")
            and cand.hostname
            and not is_external(candidate, page_url, ignore_suffix=False)
            and not (cand.path in ("", "/") and page.path not in ("", "/"))
        ):
            return canonicalize(candidate)
    return canonicalize(page_url)
