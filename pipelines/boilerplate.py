"""Apply site and CMS boilerplate rules: which packs fit a page, and which lines to drop."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from lxml import etree, html

from pipelines.rules import CleaningRules, RulePack

_LITERAL = re.compile(r"'([^']+)'|\"([^\"]+)\"")
# //@class[…] and //@id[…] rules: their first predicate tests the attribute's value only.
_ATTRIBUTE_RULE = re.compile(r"//@(class|id)\[([^\[\]]*)\]")


@lru_cache(maxsize=1024)
def _requirement(xpath: str) -> tuple[str, tuple[str, ...]] | None:
    """Where one of which string literals must occur for ``xpath`` to select anything.

    ("class", literals) for a ``//@class[contains(., 'x') or …]`` rule: one literal must
    occur in the page's class values; ("id", …) likewise for ``//@id[.='x' …]``; else
    ("source", literals of the whole expression). None when no such guarantee can be read
    off the expression: no literals, a union (one branch may need none) or a negation
    (``not(contains(@class, 'x'))`` matches exactly when the literal is absent), or when
    the expression is cheap anyway (an absolute path into the head).
    """
    if "|" in xpath or "not(" in xpath:
        return None
    if xpath.startswith(("/html/head/", "/html[")):
        return None  # a few head elements: cheaper to evaluate than any substring search
    attribute = _ATTRIBUTE_RULE.match(xpath)
    if attribute is not None:
        found = tuple(a or b for a, b in _LITERAL.findall(attribute.group(2)))
        if found:
            return attribute.group(1), found
    found = tuple(single or double for single, double in _LITERAL.findall(xpath))
    return ("source", found) if found else None


class Haystack:
    """What rule pre-tests search on one page: its source, and its class and id values.

    A substring search of a 200 kB page costs about 0.1 ms; the page's class and id
    values (read once, when a rule first needs them) are a tenth of that size, so the
    dozens of class and id rules of the packs cost a few hundredths of a millisecond each.
    """

    def __init__(self, tree: html.HtmlElement, source: str) -> None:
        self.tree = tree
        self.source = source
        self._values: dict[str, str] = {}

    def holds(self, where: str, literal: str) -> bool:
        """Whether ``literal`` occurs in the page's ``where`` ("source", "class" or "id")."""
        if where == "source":
            return literal in self.source
        values = self._values.get(where)
        if values is None:
            values = self._values[where] = " ".join(self.tree.xpath(f"//@{where}"))
        return literal in values


def could_match(xpath: str, page: Haystack) -> bool:
    """A cheap pre-test: False only when ``xpath`` certainly selects nothing on ``page``.

    Evaluating an XPath walks the whole tree (about 0.5 ms on a news page); a substring
    test rules out most rules on most pages for a fraction of that.
    """
    requirement = _requirement(xpath)
    if requirement is None:
        return True
    where, literals = requirement
    return any(page.holds(where, literal) for literal in literals)


@lru_cache(maxsize=1024)  # compiled once per process, not once per page
def compiled(xpath: str) -> etree.XPath:
    """``xpath`` compiled, cached for the process."""
    return etree.XPath(xpath)


def matching_packs(page: Haystack, packs: Iterable[RulePack]) -> list[RulePack]:
    """The packs whose detector matches this page (packs without detectors always match)."""
    return [
        pack
        for pack in packs
        if not pack.detect
        or any(could_match(x, page) and bool(compiled(x)(page.tree)) for x in pack.detect)
    ]


def prune_xpaths(rules: CleaningRules, packs: Sequence[RulePack], page: Haystack) -> list[str]:
    """The XPath expressions worth pruning on this page: the site's own, then the packs'."""
    candidates = [*rules.prune_xpaths, *(x for pack in packs for x in pack.prune)]
    return [x for x in candidates if could_match(x, page)]


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
        # a table row comes out as "| cell | cell |": its cells are tested as the line
        if line and (drop is None or drop.fullmatch(line.strip("| ")) is None):
            lines.append(line)
    return lines
