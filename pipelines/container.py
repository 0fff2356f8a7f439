"""Read a short article from its CMS content container when trafilatura fell back to the page."""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy

from lxml import etree, html

from pipelines.boilerplate import Haystack, compiled, could_match
from pipelines.rules import RulePack

SHORT_TEXT = 250
"""trafilatura's MIN_EXTRACTED_SIZE: below it, it swaps its own result for a fallback."""
_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")


def container_text(page: Haystack, packs: Sequence[RulePack], prune: Sequence[str]) -> str | None:
    """The text blocks (one per line) of the page's CMS content container, or None.

    A one-paragraph notice is shorter than trafilatura's minimum, so it falls back to its
    baseline, which returns the whole article element as one line: headline, byline and
    date included. The matching packs name where their CMS keeps the body (WordPress
    ``entry-content``, the AMP plugin's ``amp-wp-article-content``); when exactly one such
    container is on the page, its paragraphs are the article, minus ``prune`` nodes.
    """
    for pack in packs:
        for xpath in pack.content:
            if not could_match(xpath, page):
                continue
            found = compiled(xpath)(page.tree)
            if len(found) == 1 and isinstance(found[0], etree._Element):
                return _blocks(deepcopy(found[0]), prune) or None
    return None


def _blocks(container: html.HtmlElement, prune: Sequence[str]) -> str:
    # On a detached copy, "//" starts at the container: the prune rules apply inside it only
    # (``prune`` holds only the rules that passed the page's pre-test).
    for xpath in prune:
        for node in compiled(xpath)(container):
            if isinstance(node, etree._Element) and node is not container:
                node.drop_tree()
    lines = []
    for element in container.iter(*_BLOCKS):
        if any(ancestor.tag in _BLOCKS for ancestor in element.iterancestors()):
            continue  # its text is in the enclosing block already
        text = " ".join(element.text_content().split())
        if text:
            lines.append(text)
    if not lines:
        text = " ".join(container.text_content().split())
        lines = [text] if text else []
    return "\n".join(lines)
