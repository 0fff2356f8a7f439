"""Find byline elements and visible byline labels in a page's tree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from itertools import islice

from lxml import etree, html

from pipelines.credits import Credits, SiteNames, parse_credit

# Attribute axes rather than //*[contains(@class, …)]: libxml2 then only tests elements that
# carry the attribute, three to four times faster on a news page.
_BYLINE_XPATH = etree.XPath(
    "//@class[contains(., 'uthor') or contains(., 'utor') or contains(., 'yline')]/.."
    " | //@rel[. = 'author']/.. | //@itemprop[contains(., 'author')]/.."
)
_BYLINE_MARKERS = ("uthor", "utor", "yline")
_BYLINE_CLASS = re.compile(r"author|autor|byline", re.I)  # "utor" alone also finds "tutorial"
_NOT_BYLINE_TAGS = frozenset({"script", "style", "meta", "link", "time", "head", "title"})
# Boxes whose bylines credit other texts (not "sidebar": themes put the author box there).
_FOREIGN = re.compile(r"(?:^|\s)(?:comment|kommentar|teaser|related|recommend)", re.I)
_OTHER_TEXTS = re.compile(r"(?:^|\s)(?:comment|kommentar|related|recommend)", re.I)
_MAX_BYLINE_CHARS = 160

# A text node that starts with a byline label right after a tag: "<h5>Autor: </h5>",
# "<span>von Andreas Kürten</span>", "<span>06.11.2023 13:30 von Olga</span>". The possessive
# \s*+ keeps the scan of a whole page near 0.3 ms.
_LABEL_HINT = re.compile(
    r">\s*+(?:(?:[Vv]on|[Bb]y|Autor|Author|Texte?|Geschrieben|Verfasst|Written)\b"
    r"|\d[^<]{0,24}?\s(?:von|by)\s)"
)
_DATE = (
    r"(?:\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})?|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}\.\s?[A-ZÄÖÜ][a-zäöü]{2,8}\.?\s\d{4})(?:,?\s(?:um\s)?\d{1,2}[:.]\d{2}(?:\sUhr)?)?"
)
_VISIBLE_LABEL = re.compile(
    rf"(?P<date>{_DATE} ?[|,·•–—-]? ?)?(?P<label>(?:geschrieben|verfasst|written|posted) (?:von|by)"
    r"|autor(?:in|en)?|author|texte?|von|by)(?P<colon> ?:)?(?: (?P<rest>.+))?",
    re.I,
)
_FILLER = re.compile(rf"\s*(?:{_DATE})?\s*[|,·•–—-]?\s*")
_DATED = re.compile(rf"\s*(?:[^\W\d]+\s)?{_DATE}\s*[|,·•–—-]?\s*")  # "am 6. November 2023" too
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SECTIONS = frozenset({"article", "aside", "body", "footer", "form", "header", "main", "nav"})
_BLOCKS = (  # what ends a line of text
    _HEADINGS
    | _SECTIONS
    | frozenset({"address", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure"})
    | frozenset({"br", "hr", "li", "ol", "p", "section", "table", "td", "th", "tr", "ul"})
)
_VOID = frozenset({"br", "hr", "img", "input", "wbr"})
# Not the article's byline: navigation, forms, asides, and captions (they credit pictures).
_NOT_ARTICLE = frozenset({"nav", "form", "aside", "button", "select", "head", "figcaption"})
_MAX_LABELS = 12
_AND = re.compile(r"\s*(?:[,&/]|und\s|and\s|sowie\s)")
_HIDDEN = re.compile(r"sr-only|visually-?hidden|screen-?reader", re.I)
_PROFILE_LINKS = etree.XPath("//a[contains(@href, '/autor') or contains(@href, '/author')]")
# the author's own page: a path segment, not "/autorennen/" or a query
_PROFILE_PATH = re.compile(r"/(?:autor|autoren|autorin|author|authors)/[^/?#]+/?(?:$|[?#])", re.I)


def byline_values(tree: html.HtmlElement, source: str) -> Iterator[str]:
    """Texts of byline elements (rel/itemprop author, class author/autor/byline), page order.

    Elements inside links (teasers), comments and related-article boxes are skipped: their
    names belong to other texts.
    """
    if not any(marker in source for marker in _BYLINE_MARKERS):
        return
    for element in _BYLINE_XPATH(tree):
        marks = f"{element.get('class', '')} {element.get('rel', '')} {element.get('itemprop', '')}"
        if element.tag in _NOT_BYLINE_TAGS or not _BYLINE_CLASS.search(marks):
            continue
        if _foreign(element):
            continue
        text = element.get("content") or " ".join(element.text_content().split())
        if not text:
            names = element.xpath(".//*[@itemprop='name']/@content")
            text = str(names[0]) if names else ""
        if 2 <= len(text) <= _MAX_BYLINE_CHARS:
            yield text


def _foreign(element: html.HtmlElement, labelled: bool = False) -> bool:
    """Whether ``element`` sits in a link, comments or a box of other articles' teasers.

    A teaser class of the element itself counts only when nothing else makes it a byline:
    "teaser-box author" is a box about the author, and a ``labelled`` "<span
    class="teaser-cat">von Max Muster" a byline in a reused teaser template; but
    "teaser-author" credits a teaser.
    """
    tokens = f"{element.get('class', '')} {element.get('itemprop', '')}".split()
    own_byline = not any(_FOREIGN.match(t) and _BYLINE_CLASS.search(t) for t in tokens) and (
        labelled or any(_BYLINE_CLASS.search(token) for token in tokens)
    )
    for ancestor in (element, *element.iterancestors()):
        if ancestor.tag in ("body", "html"):
            return False
        marks = f"{ancestor.get('class', '')} {ancestor.get('id', '')}"
        foreign = _OTHER_TEXTS if own_byline and ancestor is element else _FOREIGN
        if (ancestor.tag == "a" and ancestor is not element) or foreign.search(marks):
            return True
    return False


def visible_credits(tree: html.HtmlElement, source: str, site: SiteNames) -> Credits:
    """The names of the first visible byline label in the article that credits a person.

    A label element followed by the name ("<h5>Autor:</h5> Peter Maahn", "<strong>Text:
    </strong> Max Muster", "<h4>Autor</h4><p>Nikolai Huke</p>"), or a line "von Max Muster",
    "06.11.2023 13:30 von Olga". The label must start its line (after a date at most) and
    lie in the headline's article (or the page without one), outside navigation, forms,
    asides, the page footer, links, comments and teaser boxes. A bare "von"/"by" needs a
    full name unless a date precedes it; a heading starting with "Von" is a title.
    """
    region = _headline_region(tree)
    for element, tail, text in _label_nodes(tree, source):
        found = _label_credit(element, tail, text, region, site)
        if found:
            return Credits(found)
    return Credits()


def profile_links(tree: html.HtmlElement, source: str) -> Iterator[str]:
    """Texts of links to an author's page ("/autor/", "/autoren/", "/author/"), page order.

    WordPress links every byline to its author archive ``/author/<slug>/``, Drupal and
    newsroom CMSes to ``/autoren/<name>``; a link inside the headline's article that goes
    there names the article's author even when no class or label says "author". Links in
    navigation, teasers, comments and related boxes are skipped; a picture's credit or
    alt text inside the link does not count, the ``itemprop=name`` text does.
    """
    if "/autor" not in source and "/author" not in source:
        return
    region = _headline_region(tree)
    for link in islice(_PROFILE_LINKS(tree), _MAX_LABELS):
        if not _PROFILE_PATH.search(link.get("href", "")):
            continue
        if not _in_article(link, region) or _foreign(link, labelled=True):
            continue
        named = link.xpath(".//*[@itemprop='name']")
        text = " ".join((named[0] if named else link).text_content().split())
        if 2 <= len(text) <= _MAX_BYLINE_CHARS:
            yield text


def _headline_region(tree: html.HtmlElement) -> html.HtmlElement | None:
    """The <article> or <main> around the first <h1>: where the article's own byline is."""
    h1 = next(tree.iter("h1"), None)
    return None if h1 is None else next(h1.iterancestors("article", "main"), None)


def _label_nodes(
    tree: html.HtmlElement, source: str
) -> Iterator[tuple[html.HtmlElement, bool, str]]:
    """(element, is_tail, text) of the text nodes the label pre-test finds, page order.

    The tag before a hit says where lxml keeps the text: the ``text`` of an element it opens,
    the ``tail`` of one it closes (or of a void element); the n-th equal text of that kind is
    the n-th hit's.
    """
    texts: dict[tuple[str, bool], list[tuple[str, html.HtmlElement]]] = {}
    seen: dict[tuple[str, bool, str], int] = {}
    body = max(source.find("<body"), 0)  # labels are visible text: skip the head's scripts
    for hit in islice(_LABEL_HINT.finditer(source, body), _MAX_LABELS):
        end = source.find("<", hit.start() + 1)
        text = " ".join(unescape(source[hit.start() + 1 : end if end != -1 else None]).split())
        tag = source[source.rfind("<", 0, hit.start()) + 1 : hit.start()]
        name = tag.lstrip("/").split(None, 1)[0].rstrip("/").lower() if tag.strip() else ""
        if not name.isalnum() or len(text) > _MAX_BYLINE_CHARS:
            continue
        tail = tag.startswith("/") or name in _VOID
        if (name, tail) not in texts:  # one walk per tag, however many hits it has
            texts[name, tail] = [
                (" ".join(raw.split()), element)
                for element in tree.iter(name)
                if (raw := element.tail if tail else element.text) and not raw.isspace()
            ]
        nth = seen[name, tail, text] = seen.get((name, tail, text), -1) + 1
        same = (element for value, element in texts[name, tail] if value == text)
        element = next(islice(same, nth, None), None)
        if element is not None:
            yield element, tail, text


def _label_credit(
    element: html.HtmlElement,
    tail: bool,
    text: str,
    region: html.HtmlElement | None,
    site: SiteNames,
) -> tuple[str, ...]:
    """The names a label text node credits, or () when it is no byline of the article."""
    found = _VISIBLE_LABEL.fullmatch(text)
    container = element.getparent() if tail else element
    if found is None or container is None:
        return ()
    label = found["label"].casefold()
    dated = bool(found["date"]) or (tail and bool(_DATED.fullmatch(element.text_content())))
    explicit = label not in ("von", "by")
    if (
        label.startswith(("text", "aut"))
        and not found["colon"]
        and (found["rest"] or label[0] == "t")
    ):
        return ()  # "Autor" alone may label the next element; "Text" needs its colon
    block = next((e for e in (container, *container.iterancestors()) if e.tag in _BLOCKS), None)
    if not dated and (
        not _starts_line(element, tail)
        or (not explicit and block is not None and block.tag in _HEADINGS)
    ):
        return ()  # "Die Rede von Angela Merkel"; a heading "Von Kopf bis Fuß"
    if not _in_article(container, region) or _foreign(container, labelled=True):
        return ()
    names = parse_credit(_line_after(element, tail, found["rest"] or ""), site).names
    return names if explicit or dated else tuple(n for n in names if " " in n)


def _in_article(element: html.HtmlElement, region: html.HtmlElement | None) -> bool:
    """Whether ``element`` is inside ``region`` (anywhere when None), not in navigation,
    forms, asides, or the page footer (an article's own footer is fine)."""
    footer = False
    for ancestor in (element, *element.iterancestors()):
        if ancestor.tag in _NOT_ARTICLE:
            return False
        if ancestor is region:
            return True
        footer = (footer or ancestor.tag == "footer") and ancestor.tag not in ("article", "main")
    return region is None and not footer


def _starts_line(element: html.HtmlElement, tail: bool) -> bool:
    """Whether the text node begins its line: nothing but a date or a separator before it."""
    if tail:
        return element.tag in _BLOCKS or bool(_FILLER.fullmatch(element.text_content()))
    node = element
    while True:
        for previous in node.itersiblings(preceding=True):
            if not _FILLER.fullmatch(previous.tail or ""):
                return False
            if previous.tag in _BLOCKS:
                return True
            if isinstance(previous.tag, str) and not _FILLER.fullmatch(previous.text_content()):
                return False
        parent = node.getparent()
        if parent is None or not _FILLER.fullmatch(parent.text or ""):
            return False
        if parent.tag in _BLOCKS:
            return True
        node = parent


def _line_after(element: html.HtmlElement, tail: bool, rest: str) -> str:
    """The rest of the label's text node and what follows it up to the end of its line:
    out of inline parents while names go on ("<span>Von </span><a>A</a></span> und <a>B"),
    and past a block that holds only the label ("<h5>Autor:</h5> Peter Maahn<br>")."""
    parts = [rest]
    container = element.getparent() if tail else element
    following = element.itersiblings() if tail else iter(element)
    while container is not None:
        for node in following:
            if node.tag in _BLOCKS:
                if node.tag != "br" and not "".join(parts).strip():
                    parts.append(_visible_text(node))  # "<h4>Autor</h4><p>Nikolai Huke</p>"
                return _words(parts)
            parts += (_visible_text(node) if isinstance(node.tag, str) else "", node.tail or "")
            if sum(map(len, parts)) > _MAX_BYLINE_CHARS:
                return _words(parts)
        named = "".join(parts).strip()
        if container.tag in _BLOCKS and (named or container is not element):
            break
        if named and not _AND.match(container.tail or ""):
            break  # "<span>von Olga</span> <span>Teilen</span>": the name has ended
        parts.append(container.tail or "")
        container, following = container.getparent(), container.itersiblings()
    return _words(parts)


def _words(parts: list[str]) -> str:
    # elements apart are words apart: "<a>Jasper Riemann</a><a>Barbara Schneider</a>"
    return " ".join(" ".join(parts).split())


def _visible_text(element: html.HtmlElement) -> str:
    """The element's text as readers see it: without screen-reader-only text, and a list
    of names when it holds several links (one per author)."""
    if _HIDDEN.search(element.get("class", "")):
        return ""
    links = [" ".join(a.text_content().split()) for a in element.iter("a")]
    if len([link for link in links if link]) > 1:
        return ", ".join(link for link in links if link)
    return str(element.text_content())
