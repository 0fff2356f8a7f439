"""Find the visible lead (teaser) a page shows above its body."""

from __future__ import annotations

import html as entities
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, islice

from lxml import etree, html

from pipelines.bodytext import HEADLINE_WINDOW, words_key

MIN_LEAD_WORDS = 6
LEAD_CLASS_WINDOW = 80  # elements between a lead named by its class and the first paragraph

_TAG = re.compile(r"<[^>]+>")
_OPEN_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_SHINGLE = 4
_PROBE_WORDS = 4
_MATCH_WORDS = 12
_MAX_HITS = 16
_SCAN_BACK = 4000
_MAX_STEPS = 3
_CLASS_SCAN = 20_000  # source characters before the first paragraph searched for class words
_RAW_TEXT = frozenset({"script", "style", "title", "textarea", "noscript", "template", "option"})
_VOID = frozenset({"br", "hr", "img", "wbr", "input", "meta", "link", "source", "embed"})
_BLOCKS = frozenset(
    {"p", "div", "h2", "h3", "section", "header", "li", "td", "blockquote", "article"}
)
_CHROME = frozenset({"nav", "footer"})
_NOT_LEAD = frozenset({"figure", "figcaption", "aside", "a"})
_LEAD_TAGS = frozenset({"p", "div", "span", "h2"})
# CMS class vocabulary of a standfirst ("article-lead", "intro-text", "cms_teaser", …).
_LEAD_WORDS = ("lead", "intro", "teaser", "excerpt", "standfirst", "summary", "abstract")
_LEAD_CLASS = re.compile("|".join(_LEAD_WORDS), re.IGNORECASE)
_MEDIA = frozenset({"img", "picture", "figure", "figcaption", "video", "iframe"})


def _contained(snippet: str, padded_text: str) -> bool:
    """Whether half of ``snippet``'s word 4-shingles occur in ``padded_text`` (" " + key + " ")."""
    words = words_key(snippet).split()
    if not words:
        return True
    grams = [
        " " + " ".join(words[i : i + _SHINGLE]) + " "
        for i in range(max(1, len(words) - _SHINGLE + 1))
    ]
    hits = 0
    for done, gram in enumerate(grams, 1):
        hits += gram in padded_text
        if 2 * hits >= len(grams):
            return True
        if 2 * (hits + len(grams) - done) < len(grams):
            return False
    return False


@dataclass(slots=True)
class _Page:
    tree: html.HtmlElement
    source: str
    body_start: int  # head meta tags hold no visible text
    found: dict[str, tuple[tuple[str, ...], int] | None] = field(default_factory=dict)


@lru_cache(maxsize=256)
def _text_xpath(steps: tuple[str, ...]) -> etree.XPath:
    """Text nodes holding ``$probe`` under the given location steps (any text if none)."""
    try:
        return etree.XPath(" | ".join(f"//{step}[contains(., $probe)]" for step in steps))
    except etree.XPathSyntaxError:  # no steps, or a tag name XPath cannot spell
        return etree.XPath("//body//text()[contains(., $probe)]")


def _text_steps(page: _Page, probe: str) -> tuple[tuple[str, ...], int] | None:
    """Location steps to the text nodes holding ``probe``, read off the HTML source.

    The tag before each occurrence names the text's element (``p/text()``) or, after a
    closing or void tag, its preceding sibling (``b/following-sibling::text()[1]``): an
    XPath over those elements costs a fraction of one over every text node. No steps:
    the element cannot be read off the source. With the steps, where the first occurrence
    is; None when ``probe`` is no element text (only in attributes, scripts or absent).
    """
    if probe in page.found:
        return page.found[probe]
    source, start = page.source, page.body_start
    steps: set[str] = set()
    unknown, first = False, -1
    variants = (probe, entities.escape(probe, quote=False), entities.escape(probe))
    for variant in dict.fromkeys(variants):
        index = source.find(variant, start)
        for _ in range(_MAX_HITS):
            if index < 0:
                break
            floor = max(start, index - _SCAN_BACK)
            opened = source.rfind("<", floor, index)
            # outside any tag (not an attribute value) and near one (not a long JSON blob)
            if opened >= 0 and source.rfind(">", floor, index) > opened:
                match = _OPEN_TAG.match(source, opened)
                name = match.group(2).lower() if match else ""
                if name not in _RAW_TEXT:
                    first = index if first < 0 else min(first, index)
                if match is None:
                    unknown = True  # after a comment or doctype
                elif match.group(1) or name in _VOID:
                    steps.add(f"{name}/following-sibling::text()[1]")
                elif name not in _RAW_TEXT:
                    steps.add(f"{name}/text()")
            index = source.find(variant, index + 1)
    result = None
    if first >= 0:
        exact = not unknown and len(steps) <= _MAX_STEPS
        result = (tuple(sorted(steps)) if exact else (), first)
    page.found[probe] = result
    return result


def _blocks_holding(page: _Page, text: str) -> Iterator[html.HtmlElement]:
    """The blocks, in page order, whose visible text runs on with the first words of ``text``."""
    words = text.split()
    probe = " ".join(words[:_PROBE_WORDS])
    located = _text_steps(page, probe) if len(words) >= _PROBE_WORDS else None
    if located is None:
        return
    head = " ".join(words[:_MATCH_WORDS])
    want = words_key(head)
    seen: set[html.HtmlElement] = set()
    for node in _text_xpath(located[0])(page.tree, probe=probe):
        element = node.getparent()
        if element is not None and node.is_tail:
            element = element.getparent()
        if element is None or element.tag in _RAW_TEXT:
            continue
        # climb to the block; text in a link or a caption on the way is no lead
        while element is not None and element.tag not in _BLOCKS:
            element = None if element.tag in _NOT_LEAD else element.getparent()
        if element is None or element in seen:
            continue
        seen.add(element)
        if any(a.tag in _CHROME for a in chain((element,), element.iterancestors())):
            continue
        content = element.text_content()
        at = content.find(probe)
        if at >= 0 and words_key(content[at : at + 3 * len(head) + 40]).startswith(want):
            yield element


def _is_aside(element: html.HtmlElement) -> bool:
    """Whether the block is in a caption, a link, an aside, the navigation or a footer."""
    classes = [element.get("class") or ""]
    for node in chain((element,), element.iterancestors()):
        if node.tag in _NOT_LEAD or node.tag in _CHROME:
            return True
        if node.tag not in ("body", "html"):
            classes.append(node.get("class") or "")
    return "caption" in " ".join(classes).lower()


def _preceding(element: html.HtmlElement) -> Iterator[html.HtmlElement | None]:
    """Elements before ``element`` in document order, nearest first; None for its ancestors."""
    ancestors = set(element.iterancestors())
    node = element
    while True:
        previous = node.getprevious()
        if previous is None:
            parent = node.getparent()
            if parent is None:
                return
            node = parent
            # an ancestor is no block before the paragraph, but it counts towards the window
            yield None if node in ancestors else node
            continue
        node = previous
        while len(node):
            node = node[-1]
        yield node


def _lead_by_class(page: _Page, lines: Sequence[str]) -> str | None:
    """A block named by CMS lead class vocabulary just before the first body paragraph."""
    first = next((line for line in lines[:HEADLINE_WINDOW] if len(line.split()) >= 4), None)
    located = _text_steps(page, " ".join(first.split()[:_PROBE_WORDS])) if first else None
    if first is None or located is None:
        return None
    # walking the tree costs ~1.5 µs an element: first see whether the source names a lead
    before = page.source[max(page.body_start, located[1] - _CLASS_SCAN) : located[1]].lower()
    if not any(word in before for word in _LEAD_WORDS):
        return None
    body = next(_blocks_holding(page, first), None)
    if body is None:
        return None
    for node in islice(_preceding(body), LEAD_CLASS_WINDOW):
        if node is None or node.tag not in _LEAD_TAGS:
            continue
        if not _LEAD_CLASS.search(node.get("class") or "") or _is_aside(node):
            continue
        # not a teaser list item, an image block ("lead-image") or a link to another article
        if any(a.tag == "li" for a in node.iterancestors()) or any(
            d.tag in _MEDIA or (d.tag == "a" and len(d.text_content().strip()) > 20)
            for d in node.iterdescendants()
        ):
            continue
        text = " ".join(node.text_content().split())
        if 8 <= len(text.split()) <= 120:
            return text
    return None


def find_lead(
    tree: html.HtmlElement, source: str, text: str, descriptions: Sequence[str]
) -> str | None:
    """The teaser (standfirst) the page shows above the body and the text lacks, or None.

    For German pages only: clean() calls it when the page language is "de" (English gold
    standards such as ScrapingHub's never include standfirsts, German ones do).
    ``descriptions`` are candidate teasers in order of trust: trafilatura's description,
    og:description, the meta description, then JSON-LD's (some CMSs put the image caption
    there). A description already in ``text`` (half its word 4-shingles) means no lead.
    Otherwise the lead is the full text of the visible block that begins like a
    description, so a dateline ("Berlin.") comes with it; blocks in captions, links,
    asides, navigation or footers and blocks far larger than the description do not
    count. Without one, a block whose class names a lead (lead, intro, teaser, …) just
    above the first paragraph is taken. A description the page does not show is never
    returned: hidden meta text is not part of the article.
    """
    padded_text = f" {words_key(text)} "
    page = _Page(tree, source, max(0, source.find("<body")))
    found: list[str] = []
    for raw in descriptions:
        description = " ".join(_TAG.sub(" ", entities.unescape(entities.unescape(raw))).split())
        if len(description.split()) < MIN_LEAD_WORDS or description in found:
            continue
        if _contained(description, padded_text):
            return None
        found.append(description)
    for description in found:
        limit = max(60, 2 * len(description.split()) + 10)  # not a whole article container
        for block in _blocks_holding(page, description):
            shown = "" if _is_aside(block) else " ".join(block.text_content().split())
            if shown and len(shown.split()) <= limit:
                return None if _contained(shown, padded_text) else shown
    lead = _lead_by_class(page, text.splitlines())
    return None if lead is None or _contained(lead, padded_text) else lead
