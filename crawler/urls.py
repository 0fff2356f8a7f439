"""URL canonicalisation and the stable article id: used before scheduling and on stored rows."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import is_external, normalize_url
from w3lib.url import canonicalize_url

# Query parameters that identify a visitor or a campaign, never an article (reliability T2,
# T7). courlan's own query filter is not used: it searches for words such as "cid", "uid",
# "eid", "ga" or "ref" anywhere in a name, so ?cid=1 and ?cid=2, or ?galerie=1 and
# ?galerie=2, would become one article (T10); its strict mode drops ?option=&id= as well.
_SESSION_PARAMS = frozenset({"sid", "jsessionid", "phpsessid", "sessionid", "session_id", "s_id"})
_TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref_src"})
# courlan's tracker families, anchored: a name starting with a campaign prefix, a click id,
# or a name that is (or ends in "_" plus) a campaign word.
_TRACKING = re.compile(
    r"(?:utm|mc|pk|piwik|matomo|ga|gs|itm|mkt|ml|mtm|oly|vero|ads?)_"
    r"|(?:dc|fbc|gc|twc|yc|ysc)lid|(?:click|gbra|msclk|igsh|partner|wbra)id"
    r"|(?:.*_)?(?:aff|affi|affiliate|campaign|clid|ga|gl|kwd|keyword|medium|ref|referr?er"
    r"|session|source|xtor)$"
)


def _is_noise(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in _SESSION_PARAMS
        or lowered in _TRACKING_PARAMS
        or _TRACKING.match(lowered) is not None
    )


def _unicode_host(netloc: str) -> str:
    """``netloc`` with punycode labels decoded, as courlan does, but also when a port follows.

    courlan decodes ``xn--`` labels only in a netloc without a port and strips a default
    port afterwards, so ``http://a.xn--p1ai:80/`` and ``http://a.xn--p1ai/`` came out
    different and a second pass changed the first.
    """
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal
        return netloc
    host, colon, port = hostport.partition(":")
    labels = ".".join(_unicode_label(label) for label in host.split("."))
    return f"{userinfo}{at}{labels}{colon}{port}"


def _unicode_label(label: str) -> str:
    if not label.lower().startswith("xn--"):
        return label
    try:
        return label.lower().encode("ascii").decode("idna")
    except UnicodeError:
        return label  # not valid punycode: kept as it is, as courlan keeps it


def canonicalize(url: str) -> str:
    """Normalise a URL for storage: lower-case host, no default port, fragment or tracking.

    Idempotent. Raises ValueError (from ``urlsplit``) only for a string that is no URL at
    all: an unbalanced ``[`` or a host that NFKC-normalises to contain ``/``, ``?`` or ``#``.
    """
    raw = urlsplit(url.strip())
    # ;jsessionid=… path parameters must go before courlan percent-encodes the ';'
    url = urlunsplit(
        raw._replace(
            netloc=_unicode_host(raw.netloc), path=raw.path.split(";", 1)[0], query="", fragment=""
        )
    )
    try:
        normalized = normalize_url(url, strict=False)
    except ValueError:
        normalized = url
    parts = urlsplit(normalized)
    # Sorted by name, values of one name in page order, blank values dropped: as courlan did.
    query = sorted(
        ((k, v) for k, v in parse_qsl(raw.query) if not _is_noise(k)), key=lambda kv: kv[0]
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


def is_path_trap(url: str, max_repeats: int = 2) -> bool:
    """True when a path segment repeats more than ``max_repeats`` times (reliability T3).

    Relative links such as ``href="rubrik/"`` on ``/rubrik/`` grow a path without end; Nutch
    refuses such URLs by a repeated-segment rule. Dates repeat a segment at most twice
    (``/2024/12/12/``), so the default keeps them.
    """
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return any(segments.count(s) > max_repeats for s in set(segments))


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
