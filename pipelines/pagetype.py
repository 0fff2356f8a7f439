"""Say what kind of page a parsed page is: article, paywall stub, consent wall, JS shell, …"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlsplit

from lxml import etree, html

from pipelines.jsonld import JsonLdArticle
from pipelines.signals import PageSignals


class PageType(StrEnum):
    """What a fetched page is; everything but ARTICLE and PAYWALL_STUB is rejected."""

    ARTICLE = "article"
    LISTING = "listing"
    TAG_PAGE = "tag_page"
    PAYWALL_STUB = "paywall_stub"
    CONSENT_WALL = "consent_wall"
    JS_SHELL = "js_shell"
    SOFT_404 = "soft_404"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A page type and the evidence for it, short enough for the page-outcome ``detail``."""

    type: PageType
    detail: str = ""

    @property
    def keep(self) -> bool:
        """Whether the page becomes an article row (a paywall stub keeps its teaser)."""
        return self.type in (PageType.ARTICLE, PageType.PAYWALL_STUB)


ARTICLE = Verdict(PageType.ARTICLE)

# Word counts of the extracted text. Error pages, walls and shells say little; a long text
# is only checked for a closing subscription prompt and for tag/listing URLs.
_TINY = 30
_PROSE_PARAGRAPH = 10  # a paragraph of fewer words is a menu item, button or caption
_SHORT = 150
_TEASER = 200  # a declared paid article that delivers less than this is a teaser
_CONSENT_MAX = 400
_PROMPT_MAX = 600  # a text this long ending in a subscription prompt is still complete
_TAIL, _HEAD, _STRIP_WINDOW, _MAX_LINE, _BOX_CHARS = 6, 2, 12, 400, 2000
_SPACELESS = 12
_WORD = re.compile(r"\w+")

# All text patterns are lowercase and run on lowercased text: case-insensitive matching
# of Unicode patterns is several times slower in ``re``.
# Prompts that end a teaser: German first, a few fixed English and French forms. Matched
# on short paragraphs at the end (or start) of the text and inside paywall boxes.
_PROMPT = re.compile(
    r"\b(?:jetzt |hier |einfach )?weiter ?lesen mit\b"
    r"|\b(?:sie möchten|möchten sie|du möchtest|möchtest du|wollen sie|willst du) (?:gerne |jetzt"
    r" )?(?:weiterlesen|den (?:ganzen|kompletten|vollständigen) (?:artikel|beitrag) lesen)"
    r"|\blesen sie (?:jetzt |hier |gleich )?(?:weiter|den (?:ganzen|kompletten|vollständigen"
    r"|gesamten) (?:artikel|beitrag|text) (?:mit|im|als)\b)"
    r"|\b(?:sie haben|du hast|haben sie|hast du) (?:bereits|schon) ein (?:abo|abonnement)\b"
    r"|\b(?:bereits|schon) (?:abonnent|abonniert|plus-)"
    r"|\b(?:exklusiv|nur) für (?:abonnent|abonnentinnen|registrierte|zahlende|plus-)"
    r"|\bum (?:diesen|den|den ganzen|den vollständigen) (?:artikel|beitrag|inhalt|text)"
    r" (?:\w+ ){0,2}(?:zu )?lesen\b"
    r"|\b(?:kostenlos |gratis )?registrieren und (?:kostenlos |gratis )?weiterlesen"
    r"|\b(?:dieser|der) (?:artikel|beitrag|inhalt) ist (?:nur |exklusiv )?(?:für|mit) "
    r"(?:abonnent|abonnentinnen|registrierte|unsere abonnent|\w+[- ]?(?:plus|\+))"
    r"|\bzugang zu allen (?:\w+[- ])?(?:artikeln|inhalten|beiträgen)\b"
    r"|\bsubscribe (?:now )?(?:to (?:continue|keep) reading|for full access|to read)"
    r"|\balready (?:a subscriber|subscribed|have a subscription)"
    r"|\bto (?:view|read|see) the (?:full|whole|entire|complete|rest of the) (?:story|article)"
    r"|\b(?:this|the) (?:article|story|content) is (?:only )?(?:available |reserved |exclusive )"
    r"?(?:to|for) (?:subscribers|members)\b|\bfor the full story\b|\bto continue reading\b"
    r"|\bréservée? aux abonnés\b"
)
# Every prompt contains one of these; most paragraphs contain none, and `in` is cheap.
_PROMPT_KEYS = (
    "lesen", "abo", "registr", "zahlend", "plus", "+", "zugang", "subscri", "story",
    "article", "reading", "réserv",
)  # fmt: skip
# Class or id words of paywall boxes (generic, Piano, Steady, LaterPay, Plenigo).
_PAYWALL_MARKERS = ("paywall", "plus-teaser", "regwall", "piano", "steady", "laterpay", "plenigo")
_CSS_SELECTOR = re.compile(r'"cssSelector"\s*:\s*"([^"]{1,200})"')
_SIMPLE_SELECTOR = re.compile(r"^([.#])([\w-]+)$")
_BY_CLASS = etree.XPath("//*[contains(concat(' ', normalize-space(@class), ' '), $name)]")
_BY_ID = etree.XPath("//*[@id = $name]")
# A literal start lets ``re`` skip to each "<meta" quickly; the few hits are lowercased.
_PAID_META = re.compile(r"<meta[^>]{0,200}(?:content_tier|isAccessibleForFree)[^>]{0,200}>")

_CONSENT_WORD = re.compile(
    r"cookie|einwillig|zustimm|consent|datenschutzeinstellung|privatsphäre-einstellung"
    r"|tracking|akzeptier|personenbezogen|werbefrei|pur-abo|accept|agree"
)
_CONSENT_KEYS = ("cookie", "einwillig", "zustimm", "consent", "tracking")
_CMP_MARKERS = (
    "sourcepoint", "usercentrics", "onetrust", "consentmanager", "didomi", "cookiebot",
    "borlabs", "quantcast", "__tcfapi",
)  # fmt: skip
_JS_PROMPT = re.compile(
    r"javascript\W+(?:\w+\W+){0,3}(?:aktivier|einschalt|erlaub|zulass|deaktiviert|benötigt"
    r"|erforderlich|notwendig|enable|required|disabled)|(?:enable|aktivieren sie) javascript"
)
_APP_ROOT_ATTR = re.compile(r"""id=["']?(?:root|app|__next|__nuxt|___gatsby)\b|ng-app""")
_APP_ROOT = etree.XPath(
    "//body//*[@id='root' or @id='app' or @id='__next' or @id='__nuxt' or @id='___gatsby'"
    " or @ng-app]"
)
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template)]"
)

# Error titles are short and say so; "Seite der Stadt nicht erreichbar" is news, so being
# unreachable is not an error phrase, and a title of more than eight words never is one.
_ERROR_TITLE = re.compile(
    r"^\W*(?:(?:fehler|error|http|code)\W*)?404\b|^\W*(?:fehler|error|not found)\W*$"
    r"|\b(?:seite|page|inhalt|artikel|beitrag|datei)\b.{0,40}?\b(?:nicht (?:mehr )?gefunden"
    r"|not (?:be )?found|existiert nicht|nicht (?:mehr )?(?:verfügbar|vorhanden)"
    r"|no longer available|does not exist)|^\W*(?:ups|oops|hoppla)\b"
)
_ERROR_TITLE_WORDS = 8

_TAG_PATH = re.compile(
    r"/(?:tag|tags|thema|themen|schlagwort|schlagworte|stichwort|stichworte|autor|autoren"
    r"|author|authors|topic|topics)/[^/]+/?(?:(?:page|seite)/\d+/?)?$"
)
_LISTING_PATH = re.compile(
    r"^/?$|/(?:category|kategorie|rubrik|ressort|section)/[^/.]+/?$|/(?:page|seite)/\d+/?$"
    r"|^/\d{4}/(?:\d{2}/){0,2}$"
)
_LISTING_QUERY = re.compile(r"(?:^|&)(?:page|seite|paged)=\d")
_TEASERS = etree.XPath(
    "count(//body//article | //body//*[self::h2 or self::h3][.//a][not(ancestor::article)])"
)
_MIN_TEASERS = 8
_WORDS_PER_TEASER = 40  # teaser snippets are short; an article carries more prose


def classify_page(page: PageSignals, text: str, title: str | None) -> Verdict:
    """Classify a parsed page from its signals (tree, source, URL, JSON-LD) and body text.

    ``text`` is the extracted body after boilerplate removal, paragraphs separated by a
    blank line (may be empty); ``title`` the extracted headline (None: the page's
    ``<title>`` is read). A real article is ARTICLE, or PAYWALL_STUB when its text is only
    the free teaser of a paid article; every other type means "not an article". A long
    article costs a few substring tests on its last paragraphs; the tree is searched only
    for pages with little text or a tag/listing URL.
    """
    tree, source, url, jsonld = page.tree, page.source, page.url, page.jsonld
    words = _words(text)
    if words < _CONSENT_MAX:
        verdict = _not_an_article(tree, source, jsonld, text, title, words)
        if verdict is not None:
            return verdict
    return _paywall(tree, source, jsonld, text, words) or _listing(tree, url, words) or ARTICLE


def strip_prompt(text: str) -> str:
    """A paywall stub's teaser without the subscription prompt and what follows it."""
    paragraphs = text.split("\n\n")
    for index in range(max(0, len(paragraphs) - _STRIP_WINDOW), len(paragraphs)):
        if _prompt([paragraphs[index]]):
            return "\n\n".join(paragraphs[:index])
    return text


def _words(text: str) -> int:
    """Words of clean()'s text (single spaces, blank-line paragraphs), counted cheaply.

    Text whose tokens average over a dozen characters is written without spaces (Chinese,
    Japanese): there a word is about three characters.
    """
    if not text.strip():
        return 0
    tokens = text.count(" ") + text.count("\n\n") + 1
    return tokens if tokens * _SPACELESS > len(text) else len(text) // 3


def _not_an_article(
    tree: html.HtmlElement,
    source: str,
    jsonld: JsonLdArticle | None,
    text: str,
    title: str | None,
    words: int,
) -> Verdict | None:
    """Error page, consent wall or JavaScript shell: pages with little text of their own."""
    if words < _SHORT and _is_error(tree, title):
        return Verdict(PageType.SOFT_404, f"error page served as 200 ({words} words)")
    if _consent_dominated(text.lower(), strict=words >= _SHORT):
        return Verdict(PageType.CONSENT_WALL, f"text dominated by consent prompts ({words} words)")
    if _prose_words(text) >= _TINY or (jsonld is not None and jsonld.has_body):
        return None  # menu lines and a <noscript> note are not prose; JSON-LD text is
    visible = " ".join(" ".join(_VISIBLE_TEXT(tree)).split())
    if _consent_dominated(visible.lower(), strict=False):
        return Verdict(PageType.CONSENT_WALL, "page dominated by consent prompts, no article text")
    visible_words = len(_WORD.findall(visible))
    shell = _shell_evidence(tree, source, visible_words)
    if shell:
        return Verdict(PageType.JS_SHELL, f"{shell}, {visible_words} words on the page")
    low = source.lower() if visible_words < 2 * _TINY else ""
    cmp = next((marker for marker in _CMP_MARKERS if marker in low), None)
    if cmp:
        return Verdict(PageType.CONSENT_WALL, f"consent manager ({cmp.strip('_')}), no text")
    return None


def _prose_words(text: str) -> int:
    """Words in paragraphs that are sentences: not menu items, not a JavaScript notice."""
    return sum(
        n
        for paragraph in text.split("\n\n")
        if (n := _words(paragraph)) >= _PROSE_PARAGRAPH and not _JS_PROMPT.search(paragraph.lower())
    )


def _is_error(tree: html.HtmlElement, title: str | None) -> bool:
    heading = next(tree.iter("h1"), None)
    candidates = (
        title if title is not None else tree.findtext(".//title"),
        heading.text_content()[:300] if heading is not None else None,
    )
    return any(
        c and len(c.split()) <= _ERROR_TITLE_WORDS and _ERROR_TITLE.search(c.lower())
        for c in candidates
    )


def _consent_dominated(low: str, *, strict: bool) -> bool:
    """Most of the text is in paragraphs about cookies and consent, naming several of them."""
    if not any(key in low for key in _CONSENT_KEYS):
        return False
    lines = [line for line in low.split("\n") if line.strip()]
    consent_chars = sum(len(line) for line in lines if _CONSENT_WORD.search(line))
    total = sum(len(line) for line in lines)
    distinct = {m[:6] for m in _CONSENT_WORD.findall(low)}
    return total > 0 and consent_chars >= 0.5 * total and len(distinct) >= (3 if strict else 2)


def _shell_evidence(tree: html.HtmlElement, source: str, visible_words: int) -> str | None:
    """Why a page without prose looks rendered in the browser, or None.

    An empty application root beside little other text is decisive. A <noscript> note or
    script-heavy HTML also come with real pages (video embeds, inline state), so they
    count only on a nearly empty page.
    """
    if visible_words < _SHORT and _APP_ROOT_ATTR.search(source):
        for root in _APP_ROOT(tree):
            if len(_WORD.findall(root.text_content())) < _TINY:
                return f"empty application root <{root.tag} id={root.get('id')!r}>"
    if visible_words >= 2 * _TINY:
        return None
    if "noscript" in source:
        for noscript in tree.iter("noscript"):
            if _JS_PROMPT.search(noscript.text_content().lower()):
                return "<noscript> asks for JavaScript"
    scripts = sum(len(script.text or "") for script in tree.iter("script"))
    if scripts > len(source) / 2:
        return f"scripts are {100 * scripts // max(len(source), 1)}% of the HTML"
    return None


def _prompt(lines: list[str], longest: int = _MAX_LINE) -> str | None:
    """The first subscription prompt in these paragraphs (long ones are prose, not prompts)."""
    for line in lines:
        low = line.lower()
        if len(low) <= longest and any(key in low for key in _PROMPT_KEYS):
            found = _PROMPT.search(low)
            if found:
                return found[0]
    return None


def _paywall(
    tree: html.HtmlElement, source: str, jsonld: JsonLdArticle | None, text: str, words: int
) -> Verdict | None:
    """PAYWALL_STUB when the text is the free teaser of a paid article; None otherwise."""
    prompt = _prompt(text[-_TAIL * _MAX_LINE :].split("\n\n")[-_TAIL:])
    if prompt is None and words < _TEASER:
        prompt = _prompt(text[: _HEAD * _MAX_LINE].split("\n\n")[:_HEAD])
    if prompt is None and words >= _TEASER:
        return None
    declared = _declared_paid(source, jsonld)
    if prompt is not None and (words < _PROMPT_MAX or declared):
        return Verdict(PageType.PAYWALL_STUB, f"subscription prompt {prompt!r}, {words} words")
    if words >= _TEASER:
        return None
    if declared and not _paid_part_delivered(tree, source):
        return Verdict(PageType.PAYWALL_STUB, f"{declared}, only {words} words delivered")
    markers = tuple(marker for marker in _PAYWALL_MARKERS if marker in source)
    if markers:
        for box in _paywall_boxes(markers)(tree):
            found = _prompt([box.text_content()[:_BOX_CHARS]], _BOX_CHARS)
            if found:
                return Verdict(PageType.PAYWALL_STUB, f"paywall box {found!r}, {words} words")
    return None


@lru_cache(maxsize=128)
def _paywall_boxes(markers: tuple[str, ...]) -> etree.XPath:
    """Elements whose class or id names one of ``markers``: only the words on the page."""
    tests = " or ".join(f"contains(@class, '{m}') or contains(@id, '{m}')" for m in markers)
    return etree.XPath(f"//body//*[{tests} or @data-paywall]")


def _declared_paid(source: str, jsonld: JsonLdArticle | None) -> str | None:
    """How the page declares its content paid (JSON-LD, microdata, ``content_tier``), if it does."""
    if jsonld is not None and jsonld.is_accessible_for_free is False:
        return "JSON-LD isAccessibleForFree=false"
    if "content_tier" not in source and "isAccessibleForFree" not in source:
        return None
    for tag in _PAID_META.findall(source):
        meta = tag.lower()
        if "content_tier" in meta and "locked" in meta:
            return "meta content_tier=locked"
        if "isaccessibleforfree" in meta and "false" in meta:
            return "microdata isAccessibleForFree=false"
    return None


def _paid_part_delivered(tree: html.HtmlElement, source: str) -> bool:
    """Whether the part JSON-LD marks paid (``hasPart.cssSelector``) is in the HTML with text.

    Google's paywall markup names the element holding the paid text; a publisher that
    sends the full text hidden by CSS has that element on the page, and the text is whole.
    """
    if "cssSelector" not in source:
        return False
    for selector in _CSS_SELECTOR.findall(source):
        simple = _SIMPLE_SELECTOR.match(selector.strip())
        if simple is None:
            continue
        kind, name = simple.groups()
        found = _BY_CLASS(tree, name=f" {name} ") if kind == "." else _BY_ID(tree, name=name)
        if any(len(_WORD.findall(element.text_content())) >= _TINY for element in found):
            return True
    return False


def _listing(tree: html.HtmlElement, url: str, words: int) -> Verdict | None:
    """TAG_PAGE or LISTING: a tag, topic, section or archive URL whose page is teasers."""
    try:
        parts = urlsplit(url.lower())
    except ValueError:
        return None
    if _TAG_PATH.search(parts.path):
        kind = PageType.TAG_PAGE
    elif _LISTING_PATH.search(parts.path) or _LISTING_QUERY.search(parts.query):
        kind = PageType.LISTING
    else:
        return None  # without the URL's word, teaser blocks also fill real article pages
    teasers = int(_TEASERS(tree))
    if teasers >= _MIN_TEASERS and words < teasers * _WORDS_PER_TEASER:
        return Verdict(kind, f"{teasers} teasers, {words} words of text")
    return None
