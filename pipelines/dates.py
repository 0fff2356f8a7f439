"""Publication and modification dates of an article page, each with the source it came from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from html import unescape
from itertools import islice
from zoneinfo import ZoneInfo

from lxml import html

from pipelines.shown_date import elsewhere, shown_dates
from pipelines.signals import HeadMeta, PageSignals

LOCAL_ZONE = ZoneInfo("Europe/Berlin")
"""German local news states wall-clock time: a time without an offset is Berlin time."""
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
"""No news page on the web predates this; earlier values are copyright years or junk."""
FUTURE_TOLERANCE = timedelta(hours=6)
"""Slack after the fetch time for clock skew and UTC times mislabelled as local."""
PUBLISHED_ORDER = (
    "header", "meta", "jsonld", "meta_weak", "text", "time", "dateline", "time_plain", "hint",
    "htmldate", "url",
)  # fmt: skip
"""Precedence of publication evidence (``collect`` keys), strongest first; see ``find_dates``.
The date shown under the headline is what readers (and people labelling pages) take as the
article's date; declarations go stale when a piece is re-published or was dated as a draft.
``collect`` keeps it only when it is not earlier than the declared date.
The crawl's hint (a feed's pubDate, a news sitemap's publication_date) is the publisher's
own statement, so it outranks htmldate's guess."""
MODIFIED_ORDER = ("meta", "jsonld", "time", "text")

_MONTH_NAMES = (
    "januar jänner jan january", "februar feb february", "märz mär maerz mrz march mar",
    "april apr", "mai may", "juni jun june", "juli jul july", "august aug", "september sep sept",
    "oktober okt october oct", "november nov", "dezember dez december dec",
)  # fmt: skip
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
# "14:32", "14.32 Uhr", "um 14:32", "- 13:30" after a date
_CLOCK = r"(?:\s*(?:,|um|-|–|/|\|)?\s*(\d{1,2})(?::(\d{2})|\.(\d{2})(?=\s*Uhr))(?::(\d{2}))?)?"
# the lookarounds keep version numbers and IPs out ("1.12.2024.3"); a full stop ending the
# sentence ("am 4.2.2022.") is not part of that
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d|\.\d)" + _CLOCK)
_NAMED = re.compile(rf"(?<![\d.])(\d{{1,2}})\.?\s+({_MONTH})\.?\s+(\d{{4}})(?!\d){_CLOCK}", re.I)
_ENGLISH = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}")
_UTC_SUFFIXES = ("Z", "+00:00", "+0000", "GMT", "UTC")
_URL_DAY = re.compile(r"/((?:19|20)\d{2})[/-]([01]\d)[/-]([0-3]\d)(?:[/.-]|$)")
# A dateline opens a paragraph: "29.11.2022 – Text", "(21. November 2022) Text", "Berlin, 3. Mai
# 2024. Text"; the date must be followed by a separator or a new sentence.
_DATELINE = re.compile(r"^\(?(?:[A-ZÄÖÜ][\w./-]{1,30}(?: [A-ZÄÖÜ][\w.-]+)?,?\s+(?:den\s+)?)?(?=\d)")
_DATELINE_END = re.compile(r"^\s*\)?\s*(?:[-–—:|.)]|\s[A-ZÄÖÜ\"„])")
_LEAD = re.compile(r"^\s*(?:am|vom|on|:)?\s*:?\s*(?:(?:Mo|Di|Mi|Do|Fr|Sa|So)[a-z]*\.?,?\s+)?", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
# Byline labels, one regex each: a pattern that starts with a literal is scanned fast, an
# alternation of them ~8 ms a page. The cores cover "Veröffentlicht", "Ver&ouml;ffentlicht" …
_PUBLISHED_LABELS = tuple(
    re.compile(core + r"(?: am| on|:)")
    for core in ("ffentlicht", "rstellt", "ubliziert", "rschienen", "ublished")
)
_MODIFIED_LABELS = tuple(
    re.compile(core) for core in (r"ktualisiert(?: am| on|:)", r"Stand(?::| vom)", r"nderung:")
)
_MODIFIED_WORD = re.compile(r"ktualisiert|Stand|nderung|updated|modified", re.IGNORECASE)
_ITEMPROP_DATE = re.compile(r"itemprop=[\"']?date(?:Published|Modified)")
_META_PUBLISHED = frozenset(
    ("article:published_time", "og:article:published_time", "og:published_time", "datepublished")
)
_META_WEAK = frozenset((
    "date", "dc.date", "dc.date.issued", "dc.date.created", "dcterms.date", "dcterms.issued",
    "dcterms.created", "pubdate", "publishdate", "publish-date", "publish_date",
    "publication_date", "article.published", "parsely-pub-date", "sailthru.date", "datecreated",
))  # fmt: skip
_META_MODIFIED = frozenset((
    "article:modified_time", "og:updated_time", "og:article:modified_time", "datemodified",
    "dcterms.modified", "dc.date.modified", "last-modified", "article.updated",
))  # fmt: skip
_ITEMPROP_XPATH = "//*[@itemprop='datePublished' or @itemprop='dateModified']"
_MAX_TIME_ELEMENTS = 40


@dataclass(frozen=True, slots=True)
class DateFinding:
    """One date as the page (or the crawl) states it."""

    raw: str
    """The string as found: an attribute value, or the date phrase of a text."""
    value: datetime
    """UTC; a date without a time of day is midnight Europe/Berlin."""
    source: str
    """Where it came from: header, jsonld, meta, time, text, dateline, htmldate, url or hint."""
    has_time: bool = True


@dataclass(frozen=True, slots=True)
class DateInputs:
    """What the cleaner knows about a page besides its signals (tree, meta tags, JSON-LD)."""

    fetched_at: datetime
    """No date may be later than this (plus ``FUTURE_TOLERANCE``)."""
    htmldate: str | None = None
    """trafilatura's (htmldate's) date for the page, as it returned it."""
    hint: str | None = None
    """The crawl's published hint (sitemap ``news:publication_date``, feed date)."""
    text: str = ""
    """The extracted body text, whose first paragraphs may open with a dateline."""
    title: str | None = None
    """The headline, which marks where the date line under it starts."""


def parse_date(raw: str | None) -> tuple[datetime, bool] | None:
    """UTC value and whether a time of day was given, for ISO, German, English or RFC 2822 text.

    Times without an offset and bare dates (as midnight) are Europe/Berlin, DST-correct.
    The first date in ``raw`` counts, so "Di., 25.01.2022 - 14:45" parses; None if none.
    """
    value = (raw or "").strip()
    if (iso := _ISO.search(value[:40])) is not None:
        return _from_parts(iso.groups()[:6], iso.group(7))
    if _RFC2822.match(value):
        try:
            return parsedate_to_datetime(value).astimezone(UTC), True
        except (TypeError, ValueError):
            return None
    if (match := _NUMERIC.search(value) or _NAMED.search(value)) is not None:
        day, month, year, hour, minute, dot_minute, second = match.groups()
        year = year if len(year) == 4 else ("20" if int(year) < 70 else "19") + year
        month = month if month.isdigit() else str(_MONTHS[month.lower()])
        return _from_parts((year, month, day, hour, minute or dot_minute, second), None)
    if (match := _ENGLISH.search(value)) is not None:
        month, day, year = match.groups()
        return _from_parts((year, str(_MONTHS[month.lower()]), day, None, None, None), None)
    return None


def _from_parts(parts: tuple[str | None, ...], offset: str | None) -> tuple[datetime, bool] | None:
    year, month, day, hour, minute, second = (int(part or 0) for part in parts)
    zone: tzinfo = LOCAL_ZONE
    try:
        if offset == "Z":
            zone = UTC
        elif offset:
            zone = datetime.fromisoformat(f"2000-01-01T00:00{offset}").tzinfo or UTC
        moment = datetime.combine(datetime(year, month, day), time(hour, minute, second), zone)
        utc, local_midnight = moment.astimezone(UTC), _is_local_midnight(moment)
    except (ValueError, OverflowError):
        return None
    # A midnight is a date, not a time of day: htmldate renders a bare date as naive midnight,
    # and CMSes store a date-only field as local midnight, serialised in UTC ("…T23:00Z").
    has_time = parts[3] is not None and (hour, minute, second) != (0, 0, 0)
    return utc, has_time and not local_midnight


def _is_local_midnight(moment: datetime) -> bool:
    return moment.astimezone(LOCAL_ZONE).time() == time(0, 0)


def stated_day(raw: str | None, value: datetime) -> str:
    """The day a page states: an ISO raw string's date part, else the Berlin-local date.

    The raw date part wins because pages often label a local time as UTC, which would move
    a late-evening article to the next day. A value at exactly Berlin midnight, though, is a
    date-only field serialised in UTC ("2021-11-04T23:00Z" is 5 November) and takes the
    Berlin date.
    """
    if raw and _ISO.match(raw.strip()) and not _is_local_midnight(value):
        return raw.strip()[:10]
    return value.astimezone(LOCAL_ZONE).date().isoformat()


def day_of(finding: DateFinding) -> str:
    """The finding's day as the page states it (see ``stated_day``)."""
    return stated_day(finding.raw, finding.value)


def _finding(raw: str | None, source: str, inputs: DateInputs) -> DateFinding | None:
    parsed = parse_date(raw)
    if raw is None or parsed is None:
        return None
    if not EARLIEST <= parsed[0] <= inputs.fetched_at + FUTURE_TOLERANCE:
        return None
    return DateFinding(raw.strip(), parsed[0], source, parsed[1])


def _meta(meta: HeadMeta, inputs: DateInputs) -> Iterator[tuple[str, DateFinding]]:
    """(kind, finding) for the head's date meta tags: "meta", "meta_weak" or "modified"."""
    for key, content in meta.tags:
        kind = (
            "meta" if key in _META_PUBLISHED
            else "meta_weak" if key in _META_WEAK
            else "modified" if key in _META_MODIFIED
            else None
        )  # fmt: skip
        if kind and (finding := _finding(content or None, "meta", inputs)) is not None:
            yield kind, finding


def _times(
    tree: html.HtmlElement, source: str, inputs: DateInputs
) -> Iterator[tuple[str, DateFinding]]:
    """(kind, finding) for itemprop date elements, then <time>: "time", "time_plain", "modified"."""
    # the attribute XPath walks the whole tree slowly (~1 ms): only when the markup has it
    marked = tree.xpath(_ITEMPROP_XPATH) if _ITEMPROP_DATE.search(source) else []
    for element in islice((*marked, *tree.iter("time")), _MAX_TIME_ELEMENTS):
        if elsewhere(element):
            continue
        prop, shown = element.get("itemprop"), element.text_content()
        label = f"{prop} {element.get('class', '')} {shown[:40]}"
        if prop == "datePublished" or "pubdate" in element.attrib:
            kind = "time"
        elif prop == "dateModified" or _MODIFIED_WORD.search(label):
            kind = "modified"
        else:
            kind = "time" if "publish" in label or "entry-date" in label else "time_plain"
        raw = element.get("datetime") or element.get("content") or shown
        if (finding := _finding(raw, "time", inputs)) is not None:
            yield kind, finding


def _shown(tree: html.HtmlElement, inputs: DateInputs) -> DateFinding | None:
    """The first date line under the headline (``shown_date.shown_dates``)."""
    for raw in shown_dates(tree, inputs.title):
        if (finding := _finding(raw, "header", inputs)) is not None:
            return finding
    return None


def _labelled(
    source: str, labels: tuple[re.Pattern[str], ...], inputs: DateInputs
) -> DateFinding | None:
    """The date right after the body's first byline label such as "Veröffentlicht am"."""
    body, found = max(source.find("<body"), 0), []
    for label in labels:
        for match in label.finditer(source, body):
            if source.rfind("<", 0, match.start()) > source.rfind(">", 0, match.start()):
                continue  # inside a tag: an aria-label or a title, not the byline
            after = unescape(_TAG.sub(" ", source[match.end() : match.end() + 240]))
            lead = _LEAD.match(after := _SPACE.sub(" ", after))
            phrase = after[lead.end() if lead else 0 :][:40]
            date = _NUMERIC.match(phrase) or _NAMED.match(phrase) or _ISO.match(phrase)
            if date is not None and (finding := _finding(date.group(0), "text", inputs)):
                found.append((match.start(), finding))
                break
    return min(found, key=lambda pair: pair[0])[1] if found else None


def _dateline(text: str, inputs: DateInputs) -> DateFinding | None:
    """A date opening one of the first three paragraphs (a kicker or byline may come first)."""
    for line in [line for line in text[:600].splitlines() if line.strip()][:3]:
        if (place := _DATELINE.match(line)) is None:
            continue
        rest = line[place.end() : place.end() + 80]
        date = _NUMERIC.match(rest) or _NAMED.match(rest)
        if date is not None and _DATELINE_END.match(rest[date.end() :]):
            return _finding(date.group(0), "dateline", inputs)
    return None


def collect(
    page: PageSignals, inputs: DateInputs
) -> tuple[dict[str, DateFinding], dict[str, DateFinding]]:
    """Published and modified evidence: each kind's first finding, keyed as in the orders.

    The page's visible dates (<time>, labels) are read only when the declarations leave
    something open: no timestamp, a URL day that disagrees, or no modification date.
    """
    tree, source = page.tree, page.source
    published: dict[str, DateFinding] = {}
    modified: dict[str, DateFinding] = {}
    declared = page.jsonld
    for store, raw in (
        (published, declared.date_published if declared else None),
        (modified, declared.date_modified if declared else None),
    ):
        if (finding := _finding(raw, "jsonld", inputs)) is not None:
            store["jsonld"] = finding
    for kind, finding in _meta(page.meta, inputs):
        (modified if kind == "modified" else published).setdefault(
            kind.replace("modified", "meta"), finding
        )
    stated = next((published[k] for k in ("meta", "jsonld", "meta_weak") if k in published), None)
    ticker = declared is not None and declared.type == "LiveBlogPosting"
    if (
        not ticker  # under a live blog's headline stands its newest entry's time
        and (finding := _shown(tree, inputs)) is not None
        and (stated is None or day_of(finding) >= day_of(stated))
    ):
        # A shown date later than the declared one is a re-publication; an earlier one is
        # more likely a dated line about something else (an event, a caption) than a
        # declaration gone wrong, so the declaration stands.
        published["header"] = finding
    url_day = _URL_DAY.search(page.url)
    for key, finding in (
        ("dateline", _dateline(inputs.text, inputs)),
        ("htmldate", _finding(inputs.htmldate, "htmldate", inputs)),
        ("url", _finding("-".join(url_day.groups()), "url", inputs) if url_day else None),
        ("hint", _finding(inputs.hint, "hint", inputs)),
    ):
        if finding is not None:
            published[key] = finding
    url = published.get("url")
    settled = stated is not None and stated.has_time and (not url or day_of(stated) == day_of(url))
    if settled and modified:
        return published, modified
    if "<time" in source or "itemprop" in source:
        for kind, finding in _times(tree, source, inputs):
            store = modified if kind == "modified" else published
            store.setdefault(kind.replace("modified", "time"), finding)
    if not settled and (finding := _labelled(source, _PUBLISHED_LABELS, inputs)) is not None:
        published["text"] = finding
    if not modified and (finding := _labelled(source, _MODIFIED_LABELS, inputs)) is not None:
        modified["text"] = finding
    return published, modified


def _choose(found: dict[str, DateFinding], order: tuple[str, ...]) -> DateFinding | None:
    """The first finding in ``order``, corrected by the URL day, precision and local time."""
    ranked = [found[key] for key in order if key in found]
    if not ranked:
        return None
    best, url = ranked[0], found.get("url")
    if url is not None and day_of(best) != day_of(url):
        # The permalink day was fixed at publication: evidence that agrees with it beats
        # evidence that does not (which is often a modification or a teaser's date).
        best = next((f for f in ranked if day_of(f) == day_of(url)), best)
    if not best.has_time:  # the same day with a time of day from another source
        best = next((f for f in ranked if f.has_time and day_of(f) == day_of(best)), best)
    if best.raw.endswith(_UTC_SUFFIXES):  # the same instant as the page states it locally
        best = next(
            (f for f in ranked if f.value == best.value and not f.raw.endswith(_UTC_SUFFIXES)), best
        )
    return best


def find_dates(
    page: PageSignals, inputs: DateInputs
) -> tuple[DateFinding | None, DateFinding | None]:
    """The page's (published, modified) dates, each with where it was found; None if unknown.

    Published: the first of ``PUBLISHED_ORDER`` present (the date line under the headline
    unless it is earlier than the declared date, declared article:published_time, JSON-LD
    datePublished, Dublin Core / name=date, a "Veröffentlicht am" label, a <time> marked as
    publication, a dateline, the first other <time> in the article, the crawl hint,
    htmldate, the URL's day); evidence agreeing with a URL day wins, a date-only
    value takes its time of day from another source naming the same day, and a UTC value
    gives way to the same instant stated in local time. Modified: ``MODIFIED_ORDER``
    ("Aktualisiert am", "Stand:" labels last); it is never taken from a publication date.
    """
    published, modified = collect(page, inputs)
    return _choose(published, PUBLISHED_ORDER), _choose(modified, MODIFIED_ORDER)
