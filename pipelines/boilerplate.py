"""Apply site and CMS boilerplate rules: which packs fit a page, and which lines to drop."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from lxml import etree, html

from pipelines.rules import CleaningRules, RulePack

_LITERAL = re.compile(r"'([^']+)'|\"([^\"]+)\"")


@lru_cache(maxsize=1024)
def _literals(xpath: str) -> tuple[str, ...] | None:
    """String literals one of which must occur in the page for ``xpath`` to match anything.

    None when no such guarantee can be read off the expression: no literals, a union
    (one branch may need none) or a negation (``not(contains(@class, 'x'))`` matches
    exactly when the literal is absent).
    """
    if "|" in xpath or "not(" in xpath:
        return None
    found = tuple(single or double for single, double in _LITERAL.findall(xpath))
    return found or None


def could_match(xpath: str, source: str) -> bool:
    """A cheap pre-test: False only when ``xpath`` certainly selects nothing in ``source``.

    Evaluating an XPath walks the whole tree (about 0.5 ms on a news page); a substring
    test on the HTML source takes microseconds and rules out most rules on most pages.
    """
    literals = _literals(xpath)
    return literals is None or any(literal in source for literal in literals)


@lru_cache(maxsize=1024)  # compiled once per process, not once per page
def compiled(xpath: str) -> etree.XPath:
    """``xpath`` compiled, cached for the process."""
    return etree.XPath(xpath)


def matching_packs(
    tree: html.HtmlElement, source: str, packs: Iterable[RulePack]
) -> list[RulePack]:
    """The packs whose detector matches this page (packs without detectors always match)."""
    return [
        pack
        for pack in packs
        if not pack.detect
        or any(could_match(x, source) and bool(compiled(x)(tree)) for x in pack.detect)
    ]


def prune_xpaths(rules: CleaningRules, packs: Sequence[RulePack], source: str) -> list[str]:
    """The XPath expressions worth pruning on this page: the site's own, then the packs'."""
    candidates = [*rules.prune_xpaths, *(x for pack in packs for x in pack.prune)]
    return [x for x in candidates if could_match(x, source)]


def line_filter(rules: CleaningRules, packs: Sequence[RulePack]) -> re.Pattern[str] | None:
    """One regex that fully matches any boilerplate line, or None when there are no rules."""
    patterns = [*rules.drop_line_patterns, *(p for pack in packs for p in pack.drop_lines)]
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def clean_lines(text: str, drop: re.Pattern[str] | None) -> list[str]:
    """Split extracted text into whitespace-normalised lines, without boilerplate or blanks."""
    lines = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line and (drop is None or drop.fullmatch(line) is None):
            lines.append(line)
    return lines
