"""The date an article shows under its headline, and the blocks whose dates are not its own."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import html

WINDOW_CHARS = 500
"""Text after the headline searched for the date: kicker, byline, date line, the lead's start."""
MAX_LINE_CHARS = 80
"""A date line or byline is short; a date inside longer text is prose about something else."""
_MAX_HEADINGS = 5

# A date inside these blocks is about something else: a comment, a teaser, the site's clock.
# Class tokens match at their start: "comment-meta" and "TeaserMeta_x" count, a page wrapper
# "iz-pagebody--wsidebar" does not.
_ELSEWHERE = re.compile(
    r"(?:^|[\s_-])(?:comments?|kommentar|related|teaser|sidebar|widget|footer|nav|menu"
    r"|breadcrumb|recommend)",
    re.IGNORECASE,
)
_OUTSIDE_TAGS = frozenset({"nav", "footer", "aside"})
# Under the headline, pictures come with captions and credits that date the photo, not the text
# (class tokens at their start again: a byline block "ContentHeaderAccreditation" is no credit).
_PICTURE = re.compile(
    r"(?:^|[\s_-])(?:caption|credit|copyright|bildunterschrift|image|foto|photo|media)",
    re.IGNORECASE,
)
_SKIPPED_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "button", "select", "option", "form",
    "figure", "figcaption", "picture", "img", "nav",
})  # fmt: skip
# "Aktualisiert: 11.04.2020" under the headline is the last edit, not the publication; so is
# an element marked as one (WordPress themes print a hidden class="updated" next to the date).
_MODIFIED = re.compile(r"ktualisiert|\bStand\b|geändert|update|modified", re.IGNORECASE)
_MODIFIED_MARK = re.compile(r"updated|modified", re.IGNORECASE)
# rich snippets and screen-reader copies are declarations, not what the page shows
# (whole class tokens: Drupal's "field--label-hidden" hides a label, not the field)
_NOT_SHOWN = re.compile(
    r"(?:^|\s)(?:(?:is-|visually-|rich-snippet-)?hidden|element-invisible|sr-only"
    r"|screen-reader-text|d-none)(?:\s|$)",
    re.IGNORECASE,
)
_PARAGRAPHS = frozenset({"p", "li", "blockquote", "dd"})
_SUBHEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
# a date after "ab", "bis", "seit" names a period the text is about ("Preise ab 01.01.2024")
_PERIOD = re.compile(r"\b(?:ab|bis|seit|zum|from|until|since)\s+(?:dem\s+)?\d", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def elsewhere(element: html.HtmlElement) -> bool:
    """Whether an element sits in a comment, teaser, navigation or footer block.

    A <footer> or <aside> inside the <article> holds the article's own byline in many
    themes, so those tags count only outside it; class names count everywhere.
    """
    outside = False
    for depth, ancestor in enumerate(element.iterancestors()):
        if depth > 12 or ancestor.tag in ("body", "html"):
            break
        if _ELSEWHERE.search(_names(ancestor)):
            return True
        if ancestor.tag in ("article", "main"):
            return False
        outside = outside or ancestor.tag in _OUTSIDE_TAGS
    return outside


def shown_dates(tree: html.HtmlElement, title: str | None) -> Iterator[str]:
    """Candidate date strings under the article's headline, nearest first.

    The headline is the <h1> showing ``title`` (the sole <h1> outside navigation and teasers
    when none does). Each candidate is a <time>'s ``datetime`` (else its text) or a short
    text line within ``WINDOW_CHARS`` of text after it; dates marked or labelled as an update
    ("Aktualisiert:", ``class="updated"``) are left out. The caller parses them.
    """
    if (headline := _headline(tree, title)) is None:
        return
    seen, before = 0, ""
    for raw, shown, line in _pieces_after(headline):
        if not (shown := _SPACE.sub(" ", shown).strip()):
            continue
        if (
            line
            and len(shown) <= MAX_LINE_CHARS
            and not _MODIFIED.search(f"{before[-30:]} {shown}")
            and not _PERIOD.search(shown)
        ):
            yield raw or shown
        seen += len(shown)
        if seen > WINDOW_CHARS:
            return
        before = f"{before} {shown}"[-60:]


def _headline(tree: html.HtmlElement, title: str | None) -> html.HtmlElement | None:
    headings = [
        (h1, _SPACE.sub(" ", h1.text_content()).strip().casefold())
        for _, h1 in zip(range(_MAX_HEADINGS), tree.iter("h1"), strict=False)
        if not elsewhere(h1)
    ]
    headings = [(h1, text) for h1, text in headings if text]
    wanted = _SPACE.sub(" ", title or "").strip().casefold()
    showing = [h1 for h1, text in headings if wanted and (wanted in text or text in wanted)]
    if showing:
        return showing[0]
    return headings[0][0] if len(headings) == 1 else None


_Piece = tuple[str | None, str, bool]
"""A <time>'s datetime (else None), the text shown, and whether it may be a date line."""


def _pieces_after(element: html.HtmlElement) -> Iterator[_Piece]:
    """Text pieces following ``element`` in document order, up to the next <h1>."""
    node: html.HtmlElement | None = element
    while node is not None and node.tag not in ("body", "html"):
        if node.tail:
            yield None, node.tail, True
        for sibling in node.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag == "h1":
                return
            yield from _pieces(sibling)
            if sibling.tail:
                yield None, sibling.tail, True
        node = node.getparent()


def _pieces(element: html.HtmlElement) -> Iterator[_Piece]:
    if _hidden_or_aside(element):
        return
    if element.tag == "time":
        yield element.get("datetime") or element.text_content(), element.text_content(), True
        return
    if element.tag in _PARAGRAPHS:  # one line, however many inline tags split its text
        stamp = next(
            (t.get("datetime") for t in element.iter("time") if not _hidden_or_aside(t)), None
        )
        yield stamp, element.text_content(), True
        return
    if element.tag in _SUBHEADINGS:  # "Die Preise ab 01.01.2024": a date in a heading is content
        yield None, element.text_content(), False
        return
    if element.text:
        yield None, element.text, True
    for child in element:
        if isinstance(child.tag, str):
            yield from _pieces(child)
        if child.tail:
            yield None, child.tail, True


def _hidden_or_aside(element: html.HtmlElement) -> bool:
    """Whether an element shows no date of the article: chrome, hidden, a picture, an update."""
    names = _names(element)
    return (
        element.tag in _SKIPPED_TAGS
        or _ELSEWHERE.search(names) is not None
        or _NOT_SHOWN.search(names) is not None
        or _PICTURE.search(names) is not None
        or _MODIFIED_MARK.search(f"{names} {element.get('itemprop', '')}") is not None
    )


def _names(element: html.HtmlElement) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"
