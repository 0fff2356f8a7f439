"""Small pure normalisers for article metadata: dates, authors, language, modified time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import py3langid
from lxml import html

# German local news states local wall-clock time; a time without an offset is Berlin time.
LOCAL_ZONE = ZoneInfo("Europe/Berlin")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MIDNIGHT_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00$")
_MODIFIED_XPATH = (
    "//meta[@property='article:modified_time' or @property='og:updated_time'"
    " or @itemprop='dateModified' or @name='last-modified' or @name='dcterms.modified']/@content"
)
_PUBLISHED_XPATH = (
    "//meta[@property='article:published_time' or @itemprop='datePublished'"
    " or @name='date' or @name='dcterms.created']/@content"
)
_MODIFIED_MARKERS = (
    "modified_time",
    "updated_time",
    "dateModified",
    "last-modified",
    "dcterms.modified",
)
_PUBLISHED_MARKERS = (
    "published_time",
    "datePublished",
    'name="date"',
    "name='date'",
    "name=date",
    "dcterms.created",
)
_JSONLD_MODIFIED = re.compile(r'"dateModified"\s*:\s*"([^"]{8,40})"')
_JSONLD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_LANG_CODE = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]+)*$")
_WORD = re.compile(r"\w+")


def parse_timestamp(raw: str | None) -> datetime | None:
    """Parse an ISO 8601 date or timestamp into UTC; local times count as Europe/Berlin.

    A bare date (or htmldate's midnight without offset, which is how it renders a bare
    date) becomes midnight Berlin time. Unparseable input gives None; the raw string is
    kept by the caller.
    """
    if not raw:
        return None
    value = raw.strip()
    if _MIDNIGHT_NAIVE.match(value):
        value = value[:10]
    try:
        if _DATE_ONLY.match(value):
            parsed = datetime.combine(datetime.fromisoformat(value).date(), time(), LOCAL_ZONE)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_ZONE)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, OSError):  # year 1 or 9999 plus an offset leaves the range
        return None


def split_authors(raw: str | None) -> list[str]:
    """Author names from trafilatura's ``;``-joined string, de-duplicated in order."""
    if not raw:
        return []
    names: list[str] = []
    for part in raw.split(";"):
        name = " ".join(part.split())
        if name and name not in names:
            names.append(name)
    return names


def _declared_timestamp(
    tree: html.HtmlElement,
    source: str,
    markers: tuple[str, ...],
    xpath: str,
    jsonld: re.Pattern[str],
) -> str | None:
    # Substring tests on the source first: an XPath walks the whole tree (~0.5 ms a page).
    if any(marker in source for marker in markers):
        values = tree.xpath(xpath)
        if values:
            return str(values[0]).strip() or None
    match = jsonld.search(source)  # the quoted key only occurs in JSON-LD / inline JSON
    return match.group(1) if match else None


def modified_raw(tree: html.HtmlElement, source: str) -> str | None:
    """The page's last-modified timestamp string from meta tags or JSON-LD, if any."""
    return _declared_timestamp(tree, source, _MODIFIED_MARKERS, _MODIFIED_XPATH, _JSONLD_MODIFIED)


def precise_published(tree: html.HtmlElement, source: str, found: str | None) -> str | None:
    """A declared publication timestamp with time of day that agrees with ``found``'s day.

    htmldate often returns only the day; when the page's meta or JSON-LD states a full
    timestamp for that same day, the full one is kept.
    """
    if not found:
        return found
    declared = _declared_timestamp(
        tree, source, _PUBLISHED_MARKERS, _PUBLISHED_XPATH, _JSONLD_PUBLISHED
    )
    same_day = declared is not None and len(declared) > 10 and declared[:10] == found[:10]
    if same_day and parse_timestamp(declared) is not None:
        return declared
    return found


def page_language(tree: html.HtmlElement, text: str) -> str | None:
    """ISO 639-1 code: the page's ``<html lang>`` when well-formed, else detected from text."""
    declared = str(tree.get("lang") or tree.get("xml:lang") or "").strip()
    if declared and _LANG_CODE.match(declared):
        return declared[:2].lower()
    if len(text) < 20:
        return None
    code, _ = py3langid.classify(text[:5000])
    return str(code)


_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " * ", "：", " : ")
_NON_ALNUM = re.compile(r"[\W_]+")


def _squash(value: str) -> str:
    return _NON_ALNUM.sub("", value.casefold())


def strip_site_suffix(title: str | None, sitename: str | None, host: str) -> str | None:
    """Remove a trailing '| Site name' from a title when it names this site.

    Only a segment that matches the site's own name or host is removed: German headlines
    use ' – ' inside the headline itself, so a separator alone proves nothing.
    """
    if not title:
        return title
    site, host_letters = _squash(sitename or ""), _squash(host.removeprefix("www."))
    changed = True
    while changed:
        changed = False
        for separator in _TITLE_SEPARATORS:
            head, found, tail = title.rpartition(separator)
            squashed = _squash(tail)
            if not found or not head.strip() or len(squashed) < 2:
                continue
            if squashed in host_letters or (site and (squashed in site or site in squashed)):
                title, changed = head.strip(), True
                break
    return title


def word_count(text: str) -> int:
    """Number of word tokens (Unicode ``\\w+``)."""
    return sum(1 for _ in _WORD.finditer(text))


def clean_str(value: str | None) -> str | None:
    """Whitespace-normalised string, or None when empty."""
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None
