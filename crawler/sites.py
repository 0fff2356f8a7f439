"""Sites as data: the Site record, and loading and validating a sites TOML file."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cssselect
from lxml import etree

SITES_FILE_ENV = "NEWS_SITES_FILE"
"""Environment variable naming a sites file to use instead of the packaged one."""

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Z]{2})?")

_SITE_KEYS = frozenset(
    {
        "id",
        "name",
        "url",
        "allowed_domains",
        "sitemaps",
        "feeds",
        "start_urls",
        "language",
        "max_age_days",
        "region",
        "article_urls",
        "exclude_urls",
        "cleaning",
        "politeness",
    }
)
_REGION_KEYS = frozenset({"municipality", "state"})
_CLEANING_KEYS = frozenset({"prune_css", "prune_xpath", "drop_lines"})
_POLITENESS_KEYS = frozenset({"download_delay", "concurrency", "max_pages"})


class SiteError(ValueError):
    """A sites file is unreadable or invalid, or a requested site id is unknown."""


@dataclass(frozen=True, slots=True)
class Region:
    """Where a site reports from; either part may be unknown (None)."""

    municipality: str | None
    """City or district as the site names it, e.g. ``"Duisburg"``."""
    state: str | None
    """German federal state (Bundesland), e.g. ``"Nordrhein-Westfalen"``."""


@dataclass(frozen=True, slots=True)
class Site:
    """One news site: where to discover its articles, what to skip, and how to clean its pages.

    ``load_sites`` validates every field; constructing a Site directly only compiles its
    URL patterns (``re.error`` on a bad one).
    """

    id: str
    """Stable identifier, ``[a-z0-9][a-z0-9_-]{0,63}``; used in paths and partitions."""
    name: str
    """Human-readable name of the outlet."""
    url: str
    """Home page."""
    allowed_domains: tuple[str, ...]
    """Host names the crawl may fetch from; subdomains of each are allowed too."""
    sitemaps: tuple[str, ...] = ()
    """Sitemap or sitemap-index URLs (news sitemaps included)."""
    feeds: tuple[str, ...] = ()
    """RSS or Atom feed URLs."""
    start_urls: tuple[str, ...] = ()
    """Section and archive pages to follow links from, besides the home page."""
    language: str = "de"
    """Expected language of the articles (ISO 639-1, optionally with a region)."""
    max_age_days: int | None = None
    """Skip articles older than this many days; None: no date horizon."""
    region: Region | None = None
    """Where the site reports from; None when not stated."""
    article_urls: tuple[str, ...] = ()
    """Regular expressions searched in the URL; a match makes it an article candidate."""
    exclude_urls: tuple[str, ...] = ()
    """Regular expressions searched in the URL; a matching URL is never fetched."""
    prune_xpaths: tuple[str, ...] = ()
    """XPath expressions whose nodes are removed before extraction (CSS already converted)."""
    drop_lines: tuple[str, ...] = ()
    """Regular expressions that fully match a boilerplate line (case-insensitive)."""
    download_delay: float | None = None
    """Seconds between requests to this site; None: the crawl's default."""
    concurrency: int | None = None
    """Parallel requests to this site; None: the crawl's default."""
    max_pages: int | None = None
    """Stop after fetching this many pages of this site in one crawl; None: no limit."""
    _article: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _exclude: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_article", tuple(re.compile(p) for p in self.article_urls))
        object.__setattr__(self, "_exclude", tuple(re.compile(p) for p in self.exclude_urls))

    def allows(self, url: str) -> bool:
        """True if ``url`` is http(s), on an allowed domain (or a subdomain) and not excluded."""
        return _host_allowed(url, self.allowed_domains) and not self.excludes(url)

    def excludes(self, url: str) -> bool:
        """True if one of the ``exclude_urls`` patterns matches ``url``."""
        return any(pattern.search(url) for pattern in self._exclude)

    def is_article_url(self, url: str) -> bool | None:
        """True if an ``article_urls`` pattern matches; None when the site has no patterns."""
        if not self._article:
            return None
        return any(pattern.search(url) for pattern in self._article)


def _host_allowed(url: str, domains: Sequence[str]) -> bool:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def default_sites_file() -> Path:
    """The sites file shipped with the package: ``crawler/sites.toml``."""
    return Path(__file__).with_name("sites.toml")


def sites_file_from_env(environ: Mapping[str, str]) -> Path:
    """The file named by ``NEWS_SITES_FILE`` in ``environ`` if set, else the default file."""
    value = environ.get(SITES_FILE_ENV, "").strip()
    return Path(value).expanduser() if value else default_sites_file()


def select_sites(sites: Sequence[Site], ids: Sequence[str]) -> list[Site]:
    """The sites with these ids, in the order asked, once each; all sites when ``ids`` is empty.

    Raises SiteError naming every unknown id and the known ones.
    """
    if isinstance(ids, str):
        raise TypeError("ids must be a sequence of site ids, not one string")
    if not ids:
        return list(sites)
    by_id = {site.id: site for site in sites}
    unknown = [repr(i) for i in ids if i not in by_id]
    if unknown:
        known = ", ".join(by_id) or "none"
        raise SiteError(f"unknown site id {', '.join(unknown)}; known ids: {known}")
    return [by_id[i] for i in dict.fromkeys(ids)]


def load_sites(path: Path) -> list[Site]:
    """Read and validate a sites file of ``[[site]]`` tables (format: docs/sites.md).

    Raises SiteError naming the file, the site (id and position) and the offending key.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteError(f"{path}: cannot read sites file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SiteError(f"{path}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"{path}: not valid TOML: {exc}") from exc
    _check_keys(data, frozenset({"site"}), _Where(path, "top level"), "")
    tables = data.get("site")
    if not isinstance(tables, list) or not tables:
        raise SiteError(f"{path}: needs one or more [[site]] tables")
    sites: list[Site] = []
    positions: dict[str, int] = {}
    for index, table in enumerate(tables, start=1):
        site = _parse_site(table, _Where(path, f"[[site]] #{index}"))
        if site.id in positions:
            raise SiteError(
                f"{path}: [[site]] #{index}: duplicate id {site.id!r} "
                f"(already used by [[site]] #{positions[site.id]})"
            )
        positions[site.id] = index
        sites.append(site)
    return sites


@dataclass(frozen=True, slots=True)
class _Where:
    """Where in the file a value sits, for error messages."""

    path: Path
    label: str

    def error(self, key: str, problem: str) -> SiteError:
        return SiteError(f"{self.path}: {self.label}: key {key!r}: {problem}")


def _type_name(value: object) -> str:
    return {dict: "table", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _check_keys(
    table: Mapping[str, Any], allowed: frozenset[str], where: _Where, prefix: str
) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise where.error(
                prefix + key, f"unknown key{hint}; allowed: {', '.join(sorted(allowed))}"
            )


def _table(
    parent: Mapping[str, Any], key: str, allowed: frozenset[str], where: _Where
) -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise where.error(key, f"must be a table, got {_type_name(value)}")
    _check_keys(value, allowed, where, key + ".")
    return value


def _text(table: Mapping[str, Any], key: str, where: _Where, name: str) -> str | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str):
        raise where.error(name, f"must be a string, got {_type_name(value)}")
    if not value.strip():
        raise where.error(name, "must not be empty")
    return value


def _required(table: Mapping[str, Any], key: str, where: _Where) -> str:
    value = _text(table, key, where, key)
    if value is None:
        raise where.error(key, "is required")
    return value


def _texts(table: Mapping[str, Any], key: str, where: _Where, name: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise where.error(name, f"must be an array of strings, got {_type_name(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise where.error(name, f"must contain non-empty strings only, got {item!r}")
    return tuple(value)


def _int(table: Mapping[str, Any], key: str, where: _Where, name: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(name, f"must be an integer, got {_type_name(value)}")
    if value < 1:
        raise where.error(name, f"must be >= 1, got {value}")
    return value


def _seconds(table: Mapping[str, Any], key: str, where: _Where, name: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(name, f"must be a number of seconds, got {_type_name(value)}")
    if not 0 <= value < float("inf"):  # also rejects nan
        raise where.error(name, f"must be >= 0 and finite, got {value}")
    return float(value)


def _patterns(table: Mapping[str, Any], key: str, where: _Where, name: str) -> tuple[str, ...]:
    patterns = _texts(table, key, where, name)
    for pattern in patterns:
        try:
            # compiled as boilerplate.line_filter joins them, where inline global flags fail
            re.compile(f"(?:{pattern})")
        except re.error as exc:
            raise where.error(name, f"invalid regular expression {pattern!r}: {exc}") from exc
    return patterns


def _xpaths(xpaths: Sequence[str], where: _Where, name: str) -> tuple[str, ...]:
    for xpath in xpaths:
        try:
            etree.XPath(xpath)
        except etree.XPathError as exc:
            raise where.error(name, f"invalid XPath {xpath!r}: {exc}") from exc
    return tuple(xpaths)


def _prune(cleaning: Mapping[str, Any], where: _Where) -> tuple[str, ...]:
    name = "cleaning.prune_xpath"
    prune = list(_xpaths(_texts(cleaning, "prune_xpath", where, name), where, name))
    name = "cleaning.prune_css"
    for css in _texts(cleaning, "prune_css", where, name):
        try:
            prune.extend(_xpaths(css_to_xpaths(css), where, name))
        except cssselect.SelectorError as exc:
            raise where.error(name, f"invalid CSS selector {css!r}: {exc}") from exc
    return tuple(prune)


def css_to_xpaths(css: str) -> tuple[str, ...]:
    """XPath expressions (one per comma-separated selector) selecting what ``css`` selects.

    Raises ``cssselect.SelectorError`` for bad or unsupported selectors, including
    pseudo-elements, which would otherwise silently select their whole element.
    """
    translator = cssselect.GenericTranslator()
    xpaths = []
    for selector in cssselect.parse(css):
        if selector.pseudo_element is not None:
            raise cssselect.ExpressionError(f"pseudo-element ::{selector.pseudo_element}")
        xpaths.append(translator.selector_to_xpath(selector, prefix="//"))
    return tuple(xpaths)


def _urls(urls: Sequence[str], where: _Where, name: str, domains: tuple[str, ...]) -> None:
    for url in urls:
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as exc:
            raise where.error(name, f"malformed URL {url!r}: {exc}") from exc
        if parts.scheme not in ("http", "https") or not host:
            raise where.error(name, f"{url!r} is not an absolute http(s) URL")
        if not _host_allowed(url, domains):
            raise where.error(
                name, f"host of {url!r} is not inside allowed_domains {list(domains)}"
            )


def _domains(table: Mapping[str, Any], where: _Where) -> tuple[str, ...]:
    if "allowed_domains" not in table:
        raise where.error("allowed_domains", "is required")
    domains = _texts(table, "allowed_domains", where, "allowed_domains")
    if not domains:
        raise where.error("allowed_domains", "must name at least one host")
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise where.error(
                "allowed_domains",
                f"{domain!r} is not a lower-case host name (no scheme, port, path or "
                "wildcard; punycode for non-ASCII names)",
            )
    return domains


def _region(table: Mapping[str, Any], where: _Where) -> Region | None:
    if "region" not in table:
        return None
    region = _table(table, "region", _REGION_KEYS, where)
    municipality = _text(region, "municipality", where, "region.municipality")
    state = _text(region, "state", where, "region.state")
    if municipality is None and state is None:
        raise where.error("region", "needs 'municipality', 'state' or both")
    return Region(municipality=municipality, state=state)


def _parse_site(table: object, where: _Where) -> Site:
    if not isinstance(table, dict):
        raise SiteError(f"{where.path}: {where.label}: must be a table, got {_type_name(table)}")
    site_id = _required(table, "id", where)
    if not _ID.fullmatch(site_id):
        raise where.error("id", f"{site_id!r} does not match [a-z0-9][a-z0-9_-]{{0,63}}")
    where = _Where(where.path, f"{where.label} (id {site_id!r})")
    _check_keys(table, _SITE_KEYS, where, "")
    name = _required(table, "name", where)
    url = _required(table, "url", where)
    domains = _domains(table, where)
    language = _text(table, "language", where, "language") or "de"
    if not _LANGUAGE.fullmatch(language):
        raise where.error("language", f"{language!r} is not a language code such as 'de'")
    exclude = _patterns(table, "exclude_urls", where, "exclude_urls")
    sources = {key: _texts(table, key, where, key) for key in ("sitemaps", "feeds", "start_urls")}
    for key, urls in [("url", (url,)), *sources.items()]:
        _urls(urls, where, key, domains)
        excluded = [u for u in urls if any(re.search(p, u) for p in exclude)]
        if excluded:
            raise where.error(key, f"{excluded[0]!r} matches one of exclude_urls")
    cleaning = _table(table, "cleaning", _CLEANING_KEYS, where)
    politeness = _table(table, "politeness", _POLITENESS_KEYS, where)
    return Site(
        id=site_id,
        name=name,
        url=url,
        allowed_domains=domains,
        sitemaps=sources["sitemaps"],
        feeds=sources["feeds"],
        start_urls=sources["start_urls"],
        language=language,
        max_age_days=_int(table, "max_age_days", where, "max_age_days"),
        region=_region(table, where),
        article_urls=_patterns(table, "article_urls", where, "article_urls"),
        exclude_urls=exclude,
        prune_xpaths=_prune(cleaning, where),
        drop_lines=_patterns(cleaning, "drop_lines", where, "cleaning.drop_lines"),
        download_delay=_seconds(politeness, "download_delay", where, "politeness.download_delay"),
        concurrency=_int(politeness, "concurrency", where, "politeness.concurrency"),
        max_pages=_int(politeness, "max_pages", where, "politeness.max_pages"),
    )
