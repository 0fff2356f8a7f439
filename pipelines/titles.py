"""Choose an article's headline from its <h1>, JSON-LD and meta titles, minus site names."""

from __future__ import annotations

import html as entities
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

from lxml import html

from pipelines.signals import PageSignals

# Between a headline and a site or section name. Dashes and the colon also occur inside
# German headlines, so a segment is only removed when it names the site.
_SEPARATORS = re.compile(r"\s+(?:[|│·•⋆›»«/~\-–—]|::)\s+|\s*[|│]\s*|\s*:\s+")
_DANGLING = re.compile(r"\s+[-–—|│·•⋆›»«:]+$")
_LEADING_PUNCT = re.compile(r"^[\s:|\-–—]+")
_PUNCT_ONLY = re.compile(r"[\s:|\-–—.,·•]+")
_NON_ALNUM = re.compile(r"[\W_]+")
_WORD = re.compile(r"\w+")
_ALNUM_RUN = re.compile(r"[^\W_]+")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_QUOTES = str.maketrans("„“”«»‚‘’‹›", "\"\"\"\"\"'''''")
# Headings in or marked as these are site chrome (logo, navigation, widgets, breadcrumb).
_CHROME_TAGS = frozenset({"nav", "footer", "aside", "menu"})
_CHROME_ROLES = frozenset({"navigation", "banner", "complementary", "contentinfo"})
_CHROME_OWN = re.compile(
    r"widget|screen-reader|sr-only|visually-hidden|aural|assistive|offscreen|skip|breadcrumb",
    re.IGNORECASE,
)
# Around a heading only whole class words count ("elementor-widget-container" and
# "without-sidebar" wrap articles), except "breadcrumb", which CSS modules embed.
_CHROME_AROUND = re.compile(
    r"breadcrumb|(?:^|\s)(?:widget|sidebar|logo|site-?branding|site-?header|masthead)(?=[\s_-]|$)",
    re.IGNORECASE,
)
_LOGO = re.compile(r"logo|brand|site-?(?:title|name)", re.IGNORECASE)
# A kicker ("Dachzeile", "Spitzmarke") printed before the headline inside the same heading.
_KICKER = re.compile(
    r"kicker|dachzeile|overline|roofline|topline|top-?title|supertitle|subtitle|titleheader"
    r"|topic|spitzmarke|eyebrow|pre-?title|pre-?headline|label",
    re.IGNORECASE,
)
_MAX_HEADINGS = 10

_Probe: TypeAlias = tuple[str, frozenset[str]]  # squashed text, its words


@dataclass(frozen=True, slots=True)
class _Heading:
    """A heading's whole text, and its headline without a leading kicker if it has one."""

    text: str
    headline: str
    kicker: str | None
    in_main: bool


def choose_title(
    page: PageSignals, extracted_title: str | None, site_name: str | None
) -> tuple[str | None, str | None]:
    """The headline and its source ("h1", "jsonld", "og", "twitter", "extracted", "title").

    The article's visible <h1> wins once told apart from site chrome (logo, breadcrumb,
    widgets), without its kicker unless the publisher declares "Kicker: Headline". Without
    one, the declared title that an <h2> shows wins (a breadcrumb <h1> with the SEO title
    often stands beside an <h2> headline), else the first of JSON-LD headline, og:title,
    twitter:title, trafilatura's title and <title>, each without segments naming the site.
    (None, None) when the page offers no title at all.
    """
    tree, source, jsonld, meta = page.tree, page.source, page.jsonld, page.meta
    h1s, logos = _scan(tree, source, "h1")
    publisher = jsonld.publisher if jsonld else None
    site_names = [site_name, meta.first(("og:site_name",)), publisher, *logos]
    strip = SiteAffixes(site_names, urlsplit(page.url).netloc)
    headline = jsonld.headline if jsonld else None
    candidates: list[tuple[str, str]] = []
    for label, value in (
        ("jsonld", entities.unescape(headline) if headline else None),  # CMSs escape twice
        ("og", meta.first(("og:title",))),
        ("twitter", meta.first(("twitter:title",))),
        ("extracted", extracted_title),
        ("title", meta.title),
    ):
        stripped = strip(_clean(value))
        if stripped:
            candidates.append((label, stripped))
    # a title that is only the site's name (a home page) is the last resort
    candidates.sort(key=lambda candidate: strip.is_name(candidate[1]))
    found = dict(candidates)
    headings = [h for h in h1s if not strip.is_name(h.text)]
    heading = _best_h1(headings, [value for _, value in candidates])
    if heading is not None:
        if _kicker_declared(heading, found.get("jsonld"), found.get("og")):
            return found["jsonld"], "jsonld"
        return heading.headline, "h1"
    for heading in _scan(tree, source, "h2")[0]:
        shown = _shown_as(heading, candidates, found)
        if shown is not None:
            return shown
    return (candidates[0][1], candidates[0][0]) if candidates else (None, None)


class SiteAffixes:
    """Strips leading and trailing title segments that name the site ("… | WAZ", "BMAS - …")."""

    def __init__(self, names: Iterable[str | None], host: str) -> None:
        labels = host.lower().removeprefix("www.").split(":")[0].split(".")
        # A site is named by its host ("wien.orf.at"), the host's main label ("orf") and its
        # declared names, compared word by word: "Sternstunde" does not name stern.de.
        spelled = [".".join(labels), labels[-2] if len(labels) > 1 else labels[0]]
        for name in names:
            # some CMSs fill the site name with the page title: a name is a few words at most
            if name and len(name.split()) <= 6:
                spelled += [name, *_SEPARATORS.split(name)]  # "Viertausendhertz | Das Label"
        self.names: dict[str, frozenset[str]] = {}
        for name in spelled:
            tokens = _tokens(name)
            if len("".join(tokens)) >= 2:
                self.names.setdefault("".join(tokens), _runs(tokens))

    def is_name(self, text: str) -> bool:
        """Whether ``text`` is exactly the site's name or host (a logo, not a headline)."""
        return "".join(_tokens(text)) in self.names

    def names_site(self, segment: str) -> bool:
        """Whether ``segment`` is a name or host, a part of one, or one plus a few words."""
        tokens = _tokens(segment)
        whole = "".join(tokens)
        if len(whole) < 2 or len(segment.split()) > 5:
            return False
        runs = _runs(tokens)
        return any(
            whole == name
            or (len(whole) >= 3 and whole in parts)
            or (len(name) >= 3 and name in runs)
            for name, parts in self.names.items()
        )

    def __call__(self, title: str | None) -> str | None:
        """``title`` without site-name segments; None for None or an empty result."""
        title = _DANGLING.sub("", title or "").strip()
        while parts := list(_SEPARATORS.finditer(title)):
            last, first = parts[-1], parts[0]
            head, rest = title[: last.start()].strip(), title[first.end() :].strip()
            # One side must stay: "mediaarchitecture.de // » Jens Weber" with a mistaken site
            # name "Jens Weber" keeps the side that is not the host.
            if len(head) > 1 and self.names_site(title[last.end() :]) and not self.is_name(head):
                title = head
            # "Site | Headline", but not "Duisburg: Neue Radwege": a kicker naming the town
            # is no site prefix
            elif (
                ":" not in first.group()
                and len(rest) > 1
                and self.names_site(title[: first.start()])
                and not self.is_name(rest)
            ):
                title = rest
            else:
                break
        return title or None


def _scan(tree: html.HtmlElement, source: str, tag: str) -> tuple[list[_Heading], list[str]]:
    """Headings of one level outside site chrome, and the site names that logo headings show."""
    headings: list[_Heading] = []
    logos: list[str] = []
    # the tree walk is most of this module's cost: skipped when the source has no such tag
    if f"<{tag}" not in source and f"<{tag.upper()}" not in source:
        return headings, logos
    for count, element in enumerate(tree.iter(tag)):
        if count >= 3 * _MAX_HEADINGS or len(headings) >= _MAX_HEADINGS:
            break
        links = element.findall(".//a")
        if _LOGO.search(_marks(element)) or _is_home(element, links):
            name = _clean(element.text_content() or (links[0].get("title") if links else None))
            logos += [name] if name else []
            continue
        in_main = _context(element)
        if in_main is not None and (text := _text(element)):
            headings.append(_split_kicker(element, text, in_main))
    return headings, logos


def _is_home(heading: html.HtmlElement, links: list[html.HtmlElement]) -> bool:
    """A heading that is all one link to the home page is the site's name (a text logo)."""
    if len(links) != 1 or _clean(links[0].text_content()) != _clean(heading.text_content()):
        return False
    href = links[0].get("href") or ""
    return links[0].get("rel") == "home" or (bool(href) and urlsplit(href).path in ("", "/"))


def _context(element: html.HtmlElement) -> bool | None:
    """None when the heading is site chrome; else whether it sits in <article> or <main>."""
    if _CHROME_OWN.search(_marks(element)):
        return None
    in_main = False
    for ancestor in element.iterancestors():
        tag = ancestor.tag if isinstance(ancestor.tag, str) else ""
        if tag in ("body", "html"):
            break
        role = ancestor.get("role")
        if tag in _CHROME_TAGS or role in _CHROME_ROLES:
            return None
        if _CHROME_AROUND.search(ancestor.get("class", "")) or "crumb" in ancestor.get("id", ""):
            return None
        in_main = in_main or tag in ("article", "main") or role == "main"
    return in_main


def _split_kicker(element: html.HtmlElement, text: str, in_main: bool) -> _Heading:
    """The heading with a leading kicker child set apart.

    A kicker is known by its class, or by the CMS pattern "<span>Kicker</span><span>: </span>
    <span>Headline</span>" with a (usually visually hidden) separator element between.
    """
    first = element[0] if len(element) and isinstance(element[0].tag, str) else None
    if first is None or (element.text or "").strip():
        return _Heading(text, text, None, in_main)
    marked = any(_KICKER.search(_marks(node)) for node in first.iter() if isinstance(node.tag, str))
    separated = len(element) >= 3 and not (first.tail or "").strip()
    if marked or (separated and _PUNCT_ONLY.fullmatch(element[1].text_content() or "")):
        kicker = _text(first).rstrip(":–—- ")
        rest = _LEADING_PUNCT.sub("", _text(element, skip=first))
        if kicker and rest:
            return _Heading(text, rest, kicker, in_main)
    return _Heading(text, text, None, in_main)


def _text(element: html.HtmlElement, skip: html.HtmlElement | None = None) -> str:
    """Whitespace-normalised text; <br> counts as a space and ``skip``'s subtree as nothing."""
    parts: list[str] = []

    def walk(node: html.HtmlElement) -> None:
        if node is not skip:
            if isinstance(node.tag, str):
                parts.append(" " if node.tag == "br" else (node.text or ""))
            for child in node:
                walk(child)
        if node is not element:
            parts.append(node.tail or "")

    walk(element)
    return _clean("".join(parts)) or ""


def _best_h1(headings: Sequence[_Heading], declared: Sequence[str]) -> _Heading | None:
    """The <h1> agreeing best with a declared title; an unconfirmed one only alone in <main>."""
    probes = [_probe(value) for value in declared]
    best: tuple[float, bool, int] | None = None
    chosen: _Heading | None = None
    for index, heading in enumerate(headings):
        texts = [_probe(heading.text), *([_probe(heading.headline)] if heading.kicker else [])]
        agreement = max((_similarity(t, p) for p in probes for t in texts), default=0.0)
        if agreement > 0 and (best is None or (agreement, heading.in_main, -index) > best):
            best, chosen = (agreement, heading.in_main, -index), heading
    if chosen is not None:
        return chosen
    in_main = [heading for heading in headings if heading.in_main]
    # one unconfirmed word is more often a section name ("Literatur") than a headline
    if len(in_main) == 1 and (len(in_main[0].headline.split()) > 1 or not declared):
        return in_main[0]
    return headings[0] if len(headings) == 1 and not declared else None


def _kicker_declared(heading: _Heading, declared: str | None, og: str | None) -> bool:
    """Whether the publisher counts the heading's kicker as part of the headline.

    It does when the JSON-LD headline (and og:title, if any) reads "Kicker: Headline", the
    German one-line form. "Kicker – Headline" is two fields run together for search engines,
    and a lone og:title is social-media copy.
    """
    if declared is None or (og is not None and _loose(og) != _loose(declared)):
        return False
    if heading.kicker:
        return _loose(declared) == _loose(f"{heading.kicker}: {heading.headline}")
    head, colon, tail = declared.partition(": ")
    return bool(colon) and _loose(tail) == _loose(heading.headline) and len(head.split()) <= 5


def _shown_as(
    heading: _Heading, candidates: Sequence[tuple[str, str]], found: dict[str, str]
) -> tuple[str, str] | None:
    """The declared title this <h2> shows, as (title, source), or None."""
    if _kicker_declared(heading, found.get("jsonld"), found.get("og")):
        return found["jsonld"], "jsonld"
    for label, value in candidates:
        if _squash(value) == _squash(heading.headline):
            return value, label
    if heading.kicker is not None:
        # no declared title without the kicker: one that reads "Kicker: Headline" is shown
        joined = _loose(f"{heading.kicker}: {heading.headline}")
        return next(((v, label) for label, v in candidates if _loose(v) == joined), None)
    shown = _probe(heading.text)
    return next(((v, label) for label, v in candidates if _similarity(shown, _probe(v)) >= 2), None)


def _marks(element: html.HtmlElement) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _probe(text: str) -> _Probe:
    return _squash(text), frozenset(_WORD.findall(text.casefold()))


def _similarity(a: _Probe, b: _Probe) -> float:
    """3 equal, 2 one contains the other, else the word overlap when at least 0.6, else 0."""
    (ka, wa), (kb, wb) = a, b
    if not ka or not kb:
        return 0.0
    if ka == kb:
        return 3.0
    if min(len(ka), len(kb)) >= 8 and (ka in kb or kb in ka):
        return 2.0
    overlap = len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0
    return overlap if overlap >= 0.6 else 0.0


def _tokens(text: str) -> list[str]:
    return _ALNUM_RUN.findall(unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS))


def _runs(tokens: Sequence[str]) -> frozenset[str]:
    """Every run of consecutive tokens, joined: the word-aligned parts of a name."""
    count = len(tokens)
    return frozenset("".join(tokens[i:j]) for i in range(count) for j in range(i + 1, count + 1))


def _loose(text: str) -> str:
    """Casefolded, whitespace collapsed, quotes unified: equal up to typographic noise."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold().split())


def _squash(value: str) -> str:
    """Letters and digits only, casefolded, umlauts as hosts spell them ("jäger" -> "jaeger")."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", value).casefold().translate(_UMLAUTS))


def _clean(value: str | None) -> str | None:
    """Invisible characters (soft hyphens) removed and whitespace collapsed; None if empty."""
    cleaned = " ".join(_INVISIBLE.sub("", value or "").split())
    return cleaned or None
