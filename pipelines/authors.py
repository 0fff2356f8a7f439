"""Who wrote an article: person authors, agency and desk credits from the page and its body."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pipelines.bylines import byline_values, profile_links, visible_credits
from pipelines.credits import Credits, SiteNames, TextCredits, parse_credit, site_of, text_credits
from pipelines.jsonld import JsonLdArticle
from pipelines.signals import PageSignals

SOURCES = ("jsonld", "text", "meta", "trafilatura", "byline")
"""Where ``Byline.authors`` may come from ("text": a credit line opening or closing the body;
"byline": a byline element or, last, a visible byline label such as "Autor:")."""

_META_KEYS = re.compile(
    r"author|article:author|og:article:author|dc\.creator|dcterms\.creator|citation_author"
    r"|cxenseparse:author|parsely-author|sailthru\.author|byl"
)
_MAX_BYLINE_ELEMENTS = 8


@dataclass(frozen=True, slots=True)
class Byline:
    """Who an article credits, and which body lines only carried that credit."""

    authors: tuple[str, ...] = ()
    """Person names (or a newsroom Kürzel such as "jb"), page order, de-duplicated; never an
    agency, an organisation, the site's or publisher's name, or a bare "Redaktion"."""
    agency: str | None = None
    """Agency credits, canonical and "/"-joined ("dpa", "dpa/AFP"); None when there is none."""
    organization: str | None = None
    """The desk or body credited when no person is ("DER SPIEGEL", "Redaktion", "PETA-Team");
    None when a person is named or nothing is."""
    source: str | None = None
    """Where ``authors`` came from, one of ``SOURCES``; None when no author was found."""
    line_edits: tuple[tuple[int, str], ...] = ()
    """Body lines that are credits, as (index, remaining text): "" drops the line; otherwise
    a dateline prefix ("DUISBURG (dpa) – ") was cut from the sentence it starts."""

    @property
    def credits(self) -> tuple[str, ...]:
        """Everyone the page names as its source: authors and agencies, else the desk."""
        agencies = tuple(self.agency.split("/")) if self.agency else ()
        desk = (self.organization,) if self.organization and not agencies else ()
        return self.authors + agencies + desk


def jsonld_credits(article: JsonLdArticle | None, site: SiteNames) -> Credits:
    """Credits of the JSON-LD article's authors; an Organization is a person only on a
    personal site, else an agency or organisation credit."""
    total = Credits()
    for person in article.authors if article is not None else ():
        found = parse_credit(person.name, site)
        if person.is_organization and found.names and not site.personal:
            found = Credits((), found.agencies, found.organizations + found.names)
        total += found
    return total


def strip_credit_lines(lines: Sequence[str], byline: Byline) -> list[str]:
    """``lines`` without the byline's credit lines and with dateline prefixes cut."""
    edits = dict(byline.line_edits)
    return [edits.get(i, line) for i, line in enumerate(lines) if edits.get(i, line)]


def find_byline(
    page: PageSignals,
    extracted_author: str | None,
    lines: Sequence[str],
    site_names: Sequence[str | None] = (),
) -> Byline:
    """Who the page credits, from the most explicit statement that names a person.

    Precedence (``SOURCES``): JSON-LD authors > a "Von …" line opening the body > meta
    author / article:author / DC.creator > trafilatura's ``;``-joined author > byline
    elements > credit lines closing the body > visible byline labels (``visible_credits``,
    read only when nothing before names a person), then the first link to an author's page
    (``profile_links``). A source naming only single words
    ("Stefanus") yields to a later one with a full name; JSON-LD or meta crediting only an
    agency ends the search. Agency and desk credits are gathered from every source
    consulted. ``site_names`` (trafilatura's sitename, the host) and the JSON-LD publisher
    are the site's own names, never authors.
    """
    jsonld = page.jsonld
    site = site_of((*site_names, jsonld.publisher if jsonld else None), page.source)
    from_text = text_credits(lines, site)
    seen = Credits(agencies=from_text.head.agencies + from_text.tail.agencies)
    chosen: tuple[str, tuple[str, ...]] | None = None
    stopped = False
    for name, found in _sources(page, extracted_author, site, from_text):
        seen += found
        if any(" " in n for n in found.names):
            chosen = (name, found.names)
            break
        chosen = chosen or ((name, found.names) if found.names else None)
        if found.agencies and name in ("jsonld", "meta") and chosen is None:
            stopped = True  # the publisher credits an agency, not a person
            break
    if chosen is None and not stopped:
        names = visible_credits(page.tree, page.source, site).names
        chosen = ("byline", names) if names else None
    if chosen is None and not stopped:
        chosen = _profile_link_names(page, site)
    agency = "/".join(seen.agencies) or None
    if chosen is not None:
        return Byline(chosen[1], agency, None, chosen[0], from_text.edits)
    desk = seen.organizations[0] if seen.organizations else None
    return Byline(agency=agency, organization=desk, line_edits=from_text.edits)


def _profile_link_names(page: PageSignals, site: SiteNames) -> tuple[str, tuple[str, ...]] | None:
    """The full names the first author-page link credits; later links belong to other texts
    (an author box's "more by", a list of the desk's writers)."""
    value = next(profile_links(page.tree, page.source), None)
    names = tuple(n for n in parse_credit(value or "", site).names if " " in n)
    return ("byline", names) if names else None


def _sources(
    page: PageSignals, extracted_author: str | None, site: SiteNames, from_text: TextCredits
) -> Iterator[tuple[str, Credits]]:
    # lazily: most pages stop at JSON-LD or meta, and the byline XPath reads the whole tree
    yield "jsonld", jsonld_credits(page.jsonld, site)
    yield "text", Credits(from_text.head.names)
    meta = Credits()
    for value in dict.fromkeys(page.meta.matching(_META_KEYS)):
        meta += parse_credit(value, site)
    yield "meta", meta
    yield "trafilatura", parse_credit((extracted_author or "").replace(";", ","), site)
    for count, value in enumerate(byline_values(page.tree, page.source)):
        found = parse_credit(value, site)
        if found.names:
            yield "byline", found
        if count >= _MAX_BYLINE_ELEMENTS:
            break
    yield "text", Credits(from_text.tail.names, (), from_text.tail.organizations)
