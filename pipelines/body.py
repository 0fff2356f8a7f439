"""Turn trafilatura's main text into the article body and its byline, rule by rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from pipelines import authors, bodytext, boilerplate, learned
from pipelines.authors import Byline
from pipelines.lead import find_lead
from pipelines.rules import CleaningRules, RulePack
from pipelines.signals import PageSignals

_MAX_H1S = 3


@dataclass(frozen=True, slots=True)
class BodyInputs:
    """What trafilatura returned for a page, and what the cleaner decided before the body."""

    text: str
    """trafilatura's main text, one line per paragraph, heading or list item."""
    author: str | None
    """trafilatura's ``;``-joined author string."""
    site_names: tuple[str | None, ...]
    """Names the page gives its site (trafilatura's sitename, the host): never authors."""
    title: str | None
    descriptions: tuple[str, ...]
    """Teaser candidates in order of trust, for the lead (see ``lead.find_lead``)."""
    german: bool
    """Whether the page is in German: only German pages get their visible lead prepended."""


@dataclass(frozen=True, slots=True)
class Body:
    """The article's paragraphs, and who it credits (found in, and removed from, the text)."""

    lines: tuple[str, ...]
    byline: Byline


def assemble_body(
    page: PageSignals, found: BodyInputs, rules: CleaningRules, packs: Sequence[RulePack]
) -> Body:
    """The body lines, each rule applied in turn; deterministic for a page, rules and state.

    1. boilerplate lines of the site, the matching rule packs and the learned state;
    2. repeats of a long paragraph (trafilatura runs with ``deduplicate=False``);
    3. the headline (with or without its kicker) at the top, and the page's own URL;
    4. byline, dateline and credit lines, recorded in the byline;
    5. the visible lead, on German pages, when trafilatura left it out.
    """
    lines = boilerplate.clean_lines(found.text, boilerplate.line_filter(rules, packs))
    lines = learned.remove(lines, rules.learned)
    lines = bodytext.dedupe_paragraphs(lines)
    h1s = [" ".join(h.text_content().split()) for h in islice(page.tree.iter("h1"), _MAX_H1S)]
    lines = bodytext.strip_headline_lines(lines, found.title, h1s)
    lines = bodytext.strip_own_url(lines, (page.url, page.meta.first(("og:url",))))
    byline = authors.find_byline(page, found.author, lines, found.site_names)
    lines = authors.strip_credit_lines(lines, byline)
    if found.german and lines:
        lead = find_lead(page.tree, page.source, "\n".join(lines), found.descriptions)
        if lead:
            lines = [lead, *lines]
    return Body(tuple(lines), byline)
