"""The date an article shows under its headline, and the blocks whose dates are not its own."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import html

WINDOW_CHARS = 500
"""Text after the headline searched for the date: kicker, byline, date line, the lead's start."""
MAX_LINE_CHARS = 80
"""A date line or byline is short; a date inside longer text is prose about something else."""
MAX_OTHER_WORDS = 3
"""Words a date line may hold besides the date, its labels and a "Von …" byline."""
MAX_ELEMENTS = 2000
"""Elements walked after the headline at most: markup without text must not cost a page walk."""
_MAX_HEADINGS = 5
_MIN_HEADLINE_SHARE = 0.6  # an <h1> inside the title must be most of it, not a section name

# A date inside these blocks is about something else: a comment, a teaser, the site's clock.
# Class tokens match at their start: "comment-meta" and "TeaserMeta_x" count, a page wrapper
# "iz-pagebody--wsidebar" does not.
_ELSEWHERE = re.compile(
    r"(?:^|[\s_-])(?:comments?|kommentar|related|teaser|sidebar|widget|footer|nav|menu"
    r"|breadcrumb|recommend)",
    re.IGNORECASE,
)
_OUTSIDE_TAGS = frozenset({"nav", "footer", "aside"})
# Under the headline, pictures and galleries come with captions and credits that date the
# photo, not the text (class tokens at their start again: a byline block
# "ContentHeaderAccreditation" is no credit; "bu" is the German Bildunterschrift).
_PICTURE = re.compile(
    r"(?:^|[\s_-])(?:caption|credit|copyright|bildunterschrift|bild|image|img|foto|photo|media"
    r"|gal+er|slider|swiper|carousel|slick|lightbox|bu(?:$|[\s_-]))",
    re.IGNORECASE,
)
_SKIPPED_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "button", "select", "option", "form",
    "figure", "figcaption", "picture", "img", "nav", "dl",
})  # fmt: skip
# "Aktualisiert: 11.04.2020", "Letzte Änderung:", "zuletzt bearbeitet" under the headline is
# the last edit, not the publication; so is an element marked as one (WordPress themes print
# a hidden class="updated" next to the date), unless it is marked published too (a post
# never edited: class="entry-date published updated").
_MODIFIED = re.compile(
    r"ktualisier|nderung|geändert|bearbeitet|überarbeit|korrigiert|zuletzt|\bStand\b"
    r"|edited|update|modified",
    re.IGNORECASE,
)
_MODIFIED_MARK = re.compile(r"updated|modified", re.IGNORECASE)
# rich snippets and screen-reader copies are declarations, not what the page shows
# (whole class tokens: Drupal's "field--label-hidden" hides a label, not the field)
_NOT_SHOWN = re.compile(
    r"(?:^|\s)(?:(?:is-|visually-|rich-snippet-)?hidden|element-invisible|sr-only"
    r"|screen-reader-text|d-none)(?:\s|$)",
    re.IGNORECASE,
)
_PARAGRAPHS = frozenset({"p", "li", "blockquote"})
_SUBHEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
# a date after "ab", "bis", "seit" names a period the text is about ("Preise ab 01.01.2024")
_PERIOD = re.compile(r"\b(?:ab|bis|seit|zum|from|until|since)\s+(?:dem\s+)?\d", re.IGNORECASE)
# a labelled date of something else: an event, a crime, the print edition, a photo; the label
# opens the line or ends the text before it ("<strong>Termin:</strong> Sa., 15.06.2024")
_OTHER = (
    r"(?:termine?|wann|datum|tatzeit|tattag|tatort|ausgabe|printausgabe|erschienen in|foto|bild"
    r"|quelle|©)"
)
_OTHER_LABEL = re.compile(rf"^\W*{_OTHER}", re.IGNORECASE)
_OTHER_LABEL_BEFORE = re.compile(rf"\b{_OTHER}\W*$", re.IGNORECASE)
# what a date line holds besides the date: weekdays, months, labels, separators
_DATE_WORD_GROUPS = (
    "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag mo di mi do fr sa so",
    "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun",
    "januar jänner februar märz april mai juni juli august september oktober november dezember",
    "jan feb mär mrz apr jun jul aug sep sept okt nov dez january february march may june july",
    "october december oct dec",
    "am um uhr vom von by und and veröffentlicht erstellt publiziert erschienen online gepostet",
    "posted published on at",
)
_DATE_WORDS = frozenset(word for group in _DATE_WORD_GROUPS for word in group.split())
_BYLINE_START = frozenset({"von", "by"})
_MAX_BYLINE_NAMES = 6
_SPACE = re.compile(r"\s+")
_WORD_EDGES = ".,:;|–—-()[]/·•"


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

    The headline is the <h1> showing ``title`` (without a title, the sole <h1> outside
    navigation and teasers). Each candidate is a <time>'s ``datetime`` (else its text) or a short
    line within ``WINDOW_CHARS`` of text after it that is mostly a date ("Mittwoch,
    26.01.2022 - 14:30", "Von Anna Beispiel | 4. 2. 2022"). Left out: updates ("Aktualisiert:",
    ``class="updated"``), labelled dates of other things ("Termin:", "Foto:"), periods ("ab
    01.01.2024"), subheadings, captions, galleries and fact boxes. The caller parses them.
    """
    if (headline := _headline(tree, title)) is None:
        return
    seen, before = 0, ""
    for raw, shown, line in _pieces_after(headline):
        if not (shown := _SPACE.sub(" ", shown).strip()):
            continue
        if line and _date_line(shown, before):
            yield raw or shown
        seen += len(shown)
        if seen > WINDOW_CHARS:
            return
        before = f"{before} {shown}"[-60:]


def _date_line(shown: str, before: str) -> bool:
    """Whether a short text could be the article's date line (see ``shown_dates``)."""
    return (
        len(shown) <= MAX_LINE_CHARS
        and not _MODIFIED.search(f"{before[-30:]} {shown}")
        and not _PERIOD.search(shown)
        and not _OTHER_LABEL.match(shown)
        and not _OTHER_LABEL_BEFORE.search(before)
        and _other_words(shown) <= MAX_OTHER_WORDS
    )


def _other_words(shown: str) -> int:
    """Words besides the date, its labels and the names after a leading "Von"."""
    words = [w.strip(_WORD_EDGES).casefold() for w in shown.split()]
    words = [w for w in words if w and not any(c.isdigit() for c in w)]
    if words and words[0] in _BYLINE_START:
        names = 0
        while names < len(words) - 1 and names < _MAX_BYLINE_NAMES:
            if words[names + 1] in _DATE_WORDS and words[names + 1] not in ("und", "and"):
                break
            names += 1
        words = words[names + 1 :]
    return sum(1 for w in words if w not in _DATE_WORDS)


def _headline(tree: html.HtmlElement, title: str | None) -> html.HtmlElement | None:
    headings = [
        (h1, _SPACE.sub(" ", h1.text_content()).strip().casefold())
        for _, h1 in zip(range(_MAX_HEADINGS), tree.iter("h1"), strict=False)
        if not elsewhere(h1)
    ]
    headings = [(h1, text) for h1, text in headings if text]
    wanted = _SPACE.sub(" ", title or "").strip().casefold()
    if wanted:  # an <h1> not showing the title is a section name or a logo
        return next((h1 for h1, text in headings if _shows(text, wanted)), None)
    return headings[0][0] if len(headings) == 1 else None


def _shows(heading: str, title: str) -> bool:
    """Whether a heading shows the title: it holds it (with a kicker), or is most of it."""
    return title in heading or (
        heading in title and len(heading) >= _MIN_HEADLINE_SHARE * len(title)
    )


_Piece = tuple[str | None, str, bool]
"""A <time>'s datetime (else None), the text shown, and whether it may be a date line."""


def _pieces_after(headline: html.HtmlElement) -> Iterator[_Piece]:
    """Text pieces following ``headline`` in document order, up to the next <h1>.

    An explicit stack, not recursion, and at most ``MAX_ELEMENTS`` elements: the walk is
    bounded however deep or large the markup after the headline is.
    """
    opened = 0
    for start in _following(headline):
        todo: list[html.HtmlElement | str] = [start]
        while todo:
            item = todo.pop()
            if isinstance(item, str):
                yield None, item, True
                continue
            opened += 1
            if item.tag == "h1" or opened > MAX_ELEMENTS:
                return
            piece = _whole_piece(item)
            if piece is not None:
                if piece[1]:
                    yield piece
                continue
            pending: list[html.HtmlElement | str] = [item.text] if item.text else []
            for child in item:
                if isinstance(child.tag, str):
                    pending.append(child)
                if child.tail:
                    pending.append(child.tail)
            todo.extend(reversed(pending))


def _following(headline: html.HtmlElement) -> Iterator[html.HtmlElement | str]:
    """What follows the headline, outwards: its tail, its later siblings (with their tails),
    then its parent's tail and later siblings, up to the <body>."""
    node: html.HtmlElement | None = headline
    while node is not None and node.tag not in ("body", "html"):
        if node.tail:
            yield node.tail
        for sibling in node.itersiblings():
            if isinstance(sibling.tag, str):
                yield sibling
            if sibling.tail:
                yield sibling.tail
        node = node.getparent()


def _whole_piece(element: html.HtmlElement) -> _Piece | None:
    """The element as one piece (empty text: skipped whole), or None to walk its children."""
    if _hidden_or_aside(element):
        return None, "", False
    if element.tag == "time":
        return element.get("datetime") or element.text_content(), element.text_content(), True
    if element.tag in _PARAGRAPHS:  # one line, however many inline tags split its text
        stamp = next(
            (t.get("datetime") for t in element.iter("time") if not _hidden_or_aside(t)), None
        )
        return stamp, element.text_content(), True
    if element.tag in _SUBHEADINGS:  # "Die Preise ab 01.01.2024": a date in a heading is content
        return None, element.text_content(), False
    return None


def _hidden_or_aside(element: html.HtmlElement) -> bool:
    """Whether an element shows no date of the article: chrome, hidden, a picture, an update."""
    names = _names(element)
    marks = f"{names} {element.get('itemprop', '')}"
    return (
        element.tag in _SKIPPED_TAGS
        or _ELSEWHERE.search(names) is not None
        or _NOT_SHOWN.search(names) is not None
        or _PICTURE.search(names) is not None
        or (_MODIFIED_MARK.search(marks) is not None and "published" not in marks.casefold())
    )


def _names(element: html.HtmlElement) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"
