"""Apply site and CMS boilerplate rules: which packs fit a page, and which lines to drop."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from lxml import etree, html

from pipelines.rules import CleaningRules, RulePack


@lru_cache(maxsize=64)  # compiled once per process per pack, not once per page
def _detector(detect: tuple[str, ...]) -> etree.XPath:
    return etree.XPath("boolean(" + " | ".join(detect) + ")")


def matching_packs(tree: html.HtmlElement, packs: Iterable[RulePack]) -> list[RulePack]:
    """The packs whose detector matches this page (packs without detectors always match)."""
    return [pack for pack in packs if not pack.detect or _detector(pack.detect)(tree)]


def prune_xpaths(rules: CleaningRules, packs: Sequence[RulePack]) -> list[str]:
    """All XPath expressions to prune for this page: the site's own, then the packs'."""
    return [*rules.prune_xpaths, *(x for pack in packs for x in pack.prune)]


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
