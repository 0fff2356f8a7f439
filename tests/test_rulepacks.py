"""Shipped rule packs: each pack's rules fire on a small page through pipelines.boilerplate."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from pipelines.boilerplate import clean_lines, line_filter, matching_packs, prune_xpaths
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
</article><nav><ul><li><a href="/">Start</a></li><li><a href="/k">Kassel</a></li></ul></nav>
</body></html>"""


def pruned(source: str) -> str:
    """The page text after the newsroom pack's prunes, as trafilatura would apply them."""
    tree = parse_html(source)
    packs = matching_packs(tree, source, [pack("newsroom")])
    assert [p.name for p in packs] == ["newsroom"]  # no detector: every page
    for xpath in prune_xpaths(CleaningRules(packs=()), packs, source):
        for node in etree.XPath(xpath)(tree):
            node.drop_tree()
    return " ".join(tree.text_content().split())


def test_newsroom_prunes_boxes_and_link_lists() -> None:
    text = pruned(NEWSROOM_PAGE)
    assert PROSE in text
    for gone in ("2,4 Kilometer", "Kassel baut weiter", "Was der Radweg kostet", "seit 2010"):
        assert gone not in text
    # a list of sentences that hold a link is content; navigation is left to trafilatura
    assert "Erstens soll die Ringstraße sicherer werden" in text
    assert "Zweitens" in text
    assert "Start" in text


def test_newsroom_class_rules_are_skipped_without_their_literals() -> None:
    source = f"<html><body><p>{PROSE}</p><ul><li><a href='/a'>A</a></li></ul></body></html>"
    xpaths = prune_xpaths(CleaningRules(packs=()), [pack("newsroom")], source)
    assert len(xpaths) == 1 and xpaths[0].startswith("//ul")
