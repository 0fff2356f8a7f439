"""Shipped rule packs: each pack's rules fire on a small page through pipelines.boilerplate."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from pipelines.boilerplate import (
    Haystack,
    clean_lines,
    could_match,
    line_filter,
    matching_packs,
    prune_xpaths,
)
from pipelines.htmltree import parse_html
from pipelines.rules import CleaningRules, RulePack, builtin_rule_packs

PROSE = (
    "Der Stadtrat hat am Dienstagabend mit großer Mehrheit den Bau eines neuen Radwegs "
    "entlang der Ringstraße beschlossen."
)


def pack(name: str) -> RulePack:
    return next(p for p in builtin_rule_packs() if p.name == name)


def kept(lines: list[str], packs: tuple[RulePack, ...]) -> list[str]:
    rules = CleaningRules(packs=packs)
    return clean_lines("\n".join(lines), line_filter(rules, packs))


# --- generic: whole lines of credits, consent placeholders, prompts and teasers ---

DROPPED = [
    "Toggle navigation",
    "Foto: Max Mustermann/dpa",
    "Bildquelle: Stadt Kassel",
    "Max Mustermann/picture alliance/dpa",
    "© Stadtwerke Kassel",
    "Externer Inhalt",
    "Empfohlener redaktioneller Inhalt",
    "Deine Privatsphäre-Einstellungen verhindern das Laden und Anzeigen aller externen Inhalte.",
    "Zur Anzeige aktiviere bitte die Einstellungen in den Privatsphäre-Einstellungen.",
    "READ MORE: China plague outbreak confirmed",
    "[Related: Salesforce Dreamforce Keynote]",
    "You may also like...",
    "Most read in world news",
    "Click here to subscribe to The Paradigm Newsletter",
    "Thanks for signing up!",
    "- Order Reprints",
    "Tell us what YOU think...",
    "CLICK HERE TO GET THE FOX NEWS APP",
    "4 comments",
    "Kommentare",
    "Schlagworte:",
    "Ich bin damit einverstanden, dass mir externe Inhalte angezeigt werden. Damit können "
    "personenbezogene Daten an Drittplattformen übermittelt werden.",
    "Jetzt 4 Wochen gratis testen",
    "Fehler gefunden? Jetzt melden.",
    "Hat Ihnen dieser Artikel gefallen? Dann teilen Sie ihn.",
    "Unabhängiger Journalismus braucht Ihre Unterstützung. Jetzt spenden!",
    "Zum Newsletter anmelden",
    "Lesen Sie auch: Neuer Radweg an der Ringstraße",
    "Mehr zum Thema:",
    "Das könnte Sie auch interessieren",
    "» Alle Nachrichten aus Kassel",
    ">> Zur Bildergalerie",
    "Auch lesen: Diese drei Radwege sind die schönsten",
    "Das Thema könnte dich auch interessieren:",
    "Weitere aktuelle Themen aus Kassel",
    "| Weitere Artikel zum Thema |",  # a table row
    "Aktualisiert am 17.01.2021.",
    "Stand: 03.05.2024, 14:32 Uhr",
    "Video verfügbar bis 28.02.2021",
    "ANZEIGE - Heute mal ausgehen? Wie wäre es mit:",
    "Anzeige",
    "(Alle Angaben ohne Gewähr)",
    "Keine Kommentare (Kommentare erscheinen erst nach unserer Freigabe)",
    "|---|---|---|",  # a layout table's Markdown rule row
    "| --- | :---: |",
]
KEPT = [
    PROSE,
    "»Wir sind sehr zufrieden«, sagte die Bürgermeisterin nach der Sitzung.",
    "Die Quelle des Streits ist ein Gutachten, das schon im Mai vorlag und vieles offen ließ, "
    "wie die Verwaltung einräumte.",
    "Wer sich für den Newsletter der Stadt interessiert: " + " ".join([PROSE] * 3),
    "More than 200 people came to the town hall on Tuesday evening.",
    "Also on the agenda was the new cycle path along the river.",
    "Related to the vote, the council discussed parking fees.",
    "Kommentare der Leserinnen und Leser sind willkommen, schrieb die Redaktion.",
    "Anzeigen gegen den Betreiber liegen der Polizei bereits vor.",
    "Stand der Dinge: Der Rat berät am 12.05.2024 erneut.",
    "Das Video ist bis zum Ende der Woche in der Mediathek verfügbar.",
    "| Bezirk | Einwohner |",
]


@pytest.mark.parametrize("line", DROPPED)
def test_generic_drops_boilerplate_lines(line: str) -> None:
    assert kept([PROSE, line], (pack("generic"),)) == [PROSE]


@pytest.mark.parametrize("line", KEPT)
def test_generic_keeps_prose(line: str) -> None:
    assert kept([line], (pack("generic"),)) == [line]


def test_generic_patterns_stay_linear_on_long_lines() -> None:
    drop = line_filter(CleaningRules(packs=(pack("generic"),)), (pack("generic"),))
    assert drop is not None
    lines = [
        "Foto: " + "x" * 20_000,
        "Datenschutzeinstellungen " * 1000,
        "» " + "a" * 20_000,
        "Newsletter " * 2000 + "hier",
        "/dpa " * 4000,
    ]
    started = time.perf_counter()
    assert not any(drop.fullmatch(line) for line in lines)
    assert time.perf_counter() - started < 0.5


# --- newsroom: fact boxes, author boxes and bare link lists ---

NEWSROOM_PAGE = f"""<html><body><article>
<h1>Neuer Radweg</h1><p>{PROSE}</p>
<div class="article-infobox"><p>Info: Der Radweg ist 2,4 Kilometer lang.</p></div>
<ul class="related"><li><a href="/a">Kassel baut weiter</a></li>
<li>Stichwort: <a href="/b">Was der Radweg kostet</a></li></ul>
<ul><li>Erstens soll die Ringstraße <a href="/c">sicherer</a> werden, für alle.</li>
<li>Zweitens wird der Verkehr beruhigt.</li></ul>
<div class="author-bio"><p>Max Mustermann schreibt seit 2010 über Kassel.</p></div>
<ul><li><h3>Schritt eins</h3><p>Die Stadt plant die Trasse.</p></li>
<li><h3>Schritt zwei</h3><p>Der Rat stimmt zu.</p></li></ul>
<div itemscope itemtype="https://schema.org/NewsArticle" style="display: none">
<div itemprop="headline">Neuer Radweg (Kopie)</div>
<div itemprop="datePublished">2024-05-03</div></div>
</article>
<ul class="latest-news"><li><a href="/d"><img src="d.jpg"></a>
<h3><a href="/d">Gronau feiert</a></h3>
<h4>Das Stadtfest lockt Tausende</h4></li>
<li><a href="/e"><h3>Neue Kita eröffnet</h3></a><p>Platz für 80 Kinder</p></li></ul>
<nav><ul><li><a href="/">Start</a></li><li><a href="/k">Kassel</a></li></ul></nav>
</body></html>"""


def pruned(source: str) -> str:
    """The page text after the newsroom pack's prunes, as trafilatura would apply them."""
    tree = parse_html(source)
    page = Haystack(tree, source)
    packs = matching_packs(page, [pack("newsroom")])
    assert [p.name for p in packs] == ["newsroom"]  # no detector: every page
    for xpath in prune_xpaths(CleaningRules(packs=()), packs, page):
        for node in etree.XPath(xpath)(tree):
            node.drop_tree()
    return " ".join(tree.text_content().split())


def test_newsroom_prunes_boxes_and_link_lists() -> None:
    text = pruned(NEWSROOM_PAGE)
    assert PROSE in text
    for gone in (
        "2,4 Kilometer", "Kassel baut weiter", "Was der Radweg kostet", "seit 2010",
        "Gronau feiert", "Das Stadtfest lockt", "Neue Kita", "Platz für 80",  # teaser cards
        "(Kopie)", "2024-05-03",  # a hidden microdata copy of the article
    ):  # fmt: skip
        assert gone not in text
    # a list of sentences that hold a link is content; navigation is left to trafilatura
    assert "Erstens soll die Ringstraße sicherer werden" in text
    assert "Zweitens" in text
    assert "Start" in text
    # a list of headed steps without links is the story's own structure
    assert "Schritt einsDie Stadt plant die Trasse." in text


def test_newsroom_class_rules_are_skipped_without_their_literals() -> None:
    source = f"<html><body><p>{PROSE}</p><ul><li><a href='/a'>A</a></li></ul></body></html>"
    xpaths = prune_xpaths(
        CleaningRules(packs=()), [pack("newsroom")], Haystack(parse_html(source), source)
    )
    # the two list rules have no literal to pre-test; the class and style rules are skipped
    assert len(xpaths) == 2 and all(xpath.startswith("//ul") for xpath in xpaths)


# --- CMS and plugin packs: each detects its page, prunes its chrome and keeps the story ---


def _page(head: str, body: str) -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


# pack name -> (test page, text that must stay, texts that must go)
PACK_PAGES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "wordpress": (
        _page(
            '<meta name="generator" content="WordPress 6.5.3">',
            f"<article><div class='entry-content'><p>{PROSE}</p>"
            "<div class='sharedaddy sd-sharing-enabled'><h3>Teilen mit:</h3></div></div>"
            "<nav class='navigation post-navigation'><a href='/a'>Vorheriger Beitrag</a></nav>"
            "</article>",
        ),
        PROSE,
        ("Teilen mit", "Vorheriger Beitrag"),
    ),
    "wordpress_amp": (
        _page(
            "",
            "<header class='amp-wp-header'><img alt='Website-Icon'>xtranews</header>"
            f"<article><div class='amp-wp-article-content'><p>{PROSE}</p></div></article>"
            "<div id='amp-mobile-version-switcher'><a href='?noamp'>Die mobile Version "
            "verlassen</a></div>",
        ).replace("<html>", "<html amp>"),
        PROSE,
        ("Die mobile Version verlassen", "xtranews"),
    ),
    "consent": (
        _page(
            '<script src="https://consent.cookiebot.com/uc.js"></script>',
            f"<div id='CybotCookiebotDialog'><p>Diese Website verwendet Cookies.</p></div>"
            f"<article><p>{PROSE}</p><p>Alle Cookies akzeptieren</p></article>",
        ),
        PROSE,
        ("Diese Website verwendet Cookies", "Alle Cookies akzeptieren"),
    ),
    "share": (
        _page(
            "",
            f"<article><p>{PROSE}</p><div class='shariff' data-services='[&quot;facebook&quot;]'>"
            "<ul><li><a href='#'>Teilen auf Facebook (neues Fenster)</a></li></ul></div>"
            "<div class='addtoany_share_save_container'><a>Share</a></div></article>",
        ),
        PROSE,
        ("neues Fenster", "Share"),
    ),
    "seo_breadcrumbs": (
        _page(
            "",
            "<p id='breadcrumbs'><a href='/'>Startseite</a> » <a href='/lokales/'>Lokales</a></p>"
            f"<article><p>{PROSE}</p><p>Startseite » Lokales » Radweg</p></article>",
        ),
        PROSE,
        ("Lokales",),
    ),
    "typo3": (
        _page(
            '<meta name="generator" content="TYPO3 CMS">',
            f"<div class='news news-single'><div class='news-text-wrap'><p>{PROSE}</p></div>"
            "<div class='news-related-wrap'><h4>Weitere Meldungen</h4></div>"
            "<div class='news-backlink-wrap'><a href='/'>Zurück</a></div></div>",
        ),
        PROSE,
        ("Weitere Meldungen", "Zurück"),
    ),
    "drupal": (
        _page(
            '<meta name="Generator" content="Drupal 10 (https://www.drupal.org)">',
            f"<article><div class='field field--name-body'><p>{PROSE}</p></div>"
            "<div class='field field--name-field-tags'><a href='/t'>Verkehr</a></div>"
            "<ul class='links inline'><li><a href='/c'>Kommentar schreiben</a></li></ul>"
            "</article>",
        ),
        PROSE,
        ("Verkehr", "Kommentar schreiben"),
    ),
    "joomla": (
        _page(
            '<meta name="generator" content="Joomla! - Open Source Content Management">',
            "<div class='item-page'><dl class='article-info'><dd>Zugriffe: 123</dd></dl>"
            f"<div itemprop='articleBody'><p>{PROSE}</p></div>"
            "<ul class='pager pagenav'><li><a href='/p'>Zurück</a></li></ul></div>",
        ),
        PROSE,
        ("Zugriffe", "Zurück"),
    ),
    "generic": (
        _page("", f"<a class='skip-link' href='#c'>Zum Inhalt springen</a><p>{PROSE}</p>"),
        PROSE,
        ("Zum Inhalt springen",),
    ),
    "newsroom": (NEWSROOM_PAGE, PROSE, ("2,4 Kilometer", "seit 2010")),
}


def applied(source: str, name: str) -> str:
    """The page's lines after pack ``name``'s prunes and line rules, when it detects the page."""
    tree = parse_html(source)
    page = Haystack(tree, source)
    packs = matching_packs(page, [pack(name)])
    assert [p.name for p in packs] == [name], f"{name} does not detect its test page"
    for xpath in prune_xpaths(CleaningRules(packs=()), packs, page):
        for node in etree.XPath(xpath)(tree):
            node.drop_tree()
    lines = [" ".join(t.split()) for t in tree.itertext() if t.strip()]
    return "\n".join(kept(lines, packs))


def test_every_shipped_pack_has_a_test_page() -> None:
    assert {p.name for p in builtin_rule_packs()} == set(PACK_PAGES)


@pytest.mark.parametrize("name", sorted(PACK_PAGES))
def test_pack_removes_its_chrome_and_keeps_the_story(name: str) -> None:
    source, stays, gone = PACK_PAGES[name]
    text = applied(source, name)
    assert stays in text
    for chrome in gone:
        assert chrome not in text, (name, chrome)


@pytest.mark.parametrize("name", ["wordpress", "typo3", "drupal", "joomla", "consent", "share"])
def test_cms_packs_stay_off_pages_of_other_systems(name: str) -> None:
    source = _page(
        '<meta name="generator" content="Hugo 0.120">', f"<article><p>{PROSE}</p></article>"
    )
    assert matching_packs(Haystack(parse_html(source), source), [pack(name)]) == []


def test_class_and_id_rules_are_pre_tested_against_attribute_values_only() -> None:
    # "shariff" in a script or in prose does not make the class rule run; in a class it does
    source = (
        "<html><head><script>var shariff = 1;</script></head><body>"
        "<p id='x-notice'>Über shariff und cookie-notice</p></body></html>"
    )
    page = Haystack(parse_html(source), source)
    assert not could_match("//@class[contains(., 'shariff')]/..", page)
    assert not could_match("//@id[.='cookie-notice']/..", page)
    assert could_match("//@id[.='x-notice']/..", page)
    assert could_match("//*[contains(@class, 'shariff')]", page)  # other forms: the source
    assert could_match("//p[not(contains(@class, 'a'))]", page)  # no guarantee to read off
