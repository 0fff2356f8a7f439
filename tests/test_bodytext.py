"""bodytext: repeated paragraphs, headline lines, and the lead the page shows above the body."""

from __future__ import annotations

from lxml import etree, html

from pipelines.bodytext import dedupe_paragraphs, strip_headline_lines, strip_own_url
from pipelines.htmltree import parse_html
from pipelines.lead import find_lead

TITLE = "Stadtrat beschließt neuen Radweg an der Ringstraße"
FIRST = (
    "Der Stadtrat hat am Dienstagabend mit großer Mehrheit den Bau eines neuen Radwegs "
    "entlang der Ringstraße beschlossen."
)
SECOND = (
    "Die Arbeiten sollen im Frühjahr beginnen und bis zum Herbst abgeschlossen sein, teilte "
    "die Stadtverwaltung mit."
)
TEASER = "Nach langer Debatte gibt es eine Entscheidung: Die Ringstraße bekommt einen Radweg."
BODY = f"<p>{FIRST}</p><p>{SECOND}</p>"


def page(article: str, head: str = "") -> tuple[html.HtmlElement, str]:
    source = (
        f"<html><head><title>{TITLE}</title>{head}</head><body>"
        f'<nav><a href="/">Startseite</a></nav><article><h1>{TITLE}</h1>{article}</article>'
        "<footer>Impressum</footer></body></html>"
    )
    return parse_html(source), source


def lead(article: str, descriptions: tuple[str, ...] = (TEASER,), text: str = "") -> str | None:
    tree, source = page(article, f'<meta name="description" content="{descriptions[0]}">')
    return find_lead(tree, source, text or f"{FIRST}\n{SECOND}", descriptions)


# --- repeated paragraphs ---


def test_repeat_of_a_long_paragraph_goes_even_with_other_punctuation() -> None:
    lines = [FIRST, SECOND, FIRST.upper().replace(",", " ,").rstrip(".")]
    assert dedupe_paragraphs(lines) == [FIRST, SECOND]


def test_short_lines_and_distinct_paragraphs_stay() -> None:
    lines = ["Anzeige", FIRST, "Anzeige", SECOND, "| | | | | | | | |", "| | | | | | | | |"]
    assert dedupe_paragraphs(lines) == lines


def test_a_link_line_counts_its_words_not_its_spaces() -> None:
    url = "https://example.org/bilder/2024/stadtrat-beschliesst-neuen-radweg-ringstrasse.jpg"
    assert dedupe_paragraphs([url, FIRST, url]) == [url, FIRST]


# --- headline lines ---


def test_title_kicker_and_h1_lines_at_the_top_go() -> None:
    lines = [f"Verkehr: {TITLE}", "Ringstraße: Radweg kommt", FIRST, SECOND]
    assert strip_headline_lines(lines, TITLE, ["Ringstraße: Radweg kommt"]) == [FIRST, SECOND]


def test_the_title_line_further_down_and_long_lines_holding_it_stay() -> None:
    long_line = f"{TITLE}, sagte die Bürgermeisterin, und das sei ein guter Tag für alle hier."
    lines = [FIRST, SECOND, long_line, TITLE]
    assert strip_headline_lines(lines, TITLE, []) == lines
    assert strip_headline_lines([long_line, FIRST], TITLE, []) == [long_line, FIRST]


def test_a_two_word_title_proves_no_kicker() -> None:
    lines = ["Neuer Radweg für die Ringstraße", FIRST]
    assert strip_headline_lines(lines, "Neuer Radweg", []) == lines
    assert strip_headline_lines(["Neuer Radweg", FIRST], "Neuer Radweg", []) == [FIRST]


# --- the lead ---


def test_the_visible_teaser_is_the_lead_with_its_dateline() -> None:
    found = lead(f'<p class="intro"><strong>Kassel.</strong> {TEASER}</p>{BODY}')
    assert found == f"Kassel. {TEASER}"


def test_a_lead_already_in_the_text_is_none() -> None:
    assert lead(f"<p>{TEASER}</p>{BODY}", text=f"{TEASER}\n{FIRST}\n{SECOND}") is None


def test_a_description_the_page_does_not_show_is_never_the_lead() -> None:
    assert lead(BODY) is None


def test_captions_links_asides_and_big_blocks_are_no_lead() -> None:
    assert lead(f"<figure><img src=x.jpg><figcaption>{TEASER}</figcaption></figure>{BODY}") is None
    assert lead(f'<a href="/radweg"><p>{TEASER}</p></a>{BODY}') is None
    assert lead(f"<aside><p>{TEASER}</p></aside>{BODY}") is None
    assert lead(f'<ul><li><a href="/radweg">{TEASER}</a></li></ul>{BODY}') is None
    assert lead(f'<div class="image-caption">{TEASER}</div>{BODY}') is None
    padding = " ".join(["Weitere Worte zur Verkehrspolitik der Stadt."] * 12)
    assert lead(f"<div>{TEASER} {padding}</div>{BODY}") is None


def test_descriptions_are_unescaped_and_tried_in_order() -> None:
    escaped = TEASER.replace(":", " &amp;")
    visible = TEASER.replace(":", " &")
    caption = "Die Ringstraße am Dienstag: Hier soll der neue Radweg entlang führen."
    article = f"<figure><figcaption>{caption}</figcaption></figure><p>{visible}</p>{BODY}"
    tree, source = page(article.replace(" & ", " &amp; "))
    found = find_lead(tree, source, f"{FIRST}\n{SECOND}", (caption, f"<p>{escaped}</p>"))
    assert found == visible


def test_a_lead_named_by_its_class_fills_in_without_a_description() -> None:
    shown = f"{TEASER} Die Bauzeit beträgt ein halbes Jahr."
    intro = f'<div class="article__intro">{shown}</div>'
    assert lead(intro + BODY, descriptions=("Kurz",)) == shown


def test_a_lead_class_on_an_image_block_or_teaser_list_is_no_lead() -> None:
    image = f'<div class="lead-image"><img src="x.jpg"><span>{TEASER} Foto: Stadt</span></div>'
    listed = f'<ul><li><p class="teaser">{TEASER} Mehr dazu</p></li></ul>'
    assert lead(image + BODY, descriptions=("Kurz",)) is None
    assert lead(listed + BODY, descriptions=("Kurz",)) is None


def test_the_tree_is_left_as_it_was() -> None:
    tree, source = page(f'<p class="intro">{TEASER}</p>{BODY}')
    before = etree.tostring(tree)
    assert find_lead(tree, source, f"{FIRST}\n{SECOND}", (TEASER,)) == TEASER
    assert etree.tostring(tree) == before


def test_the_pages_own_url_on_a_line_of_its_own_goes() -> None:
    url = "https://www.stadtanzeiger.de/lokales/radweg-kommt-123.html"
    lines = [FIRST, "www.stadtanzeiger.de/lokales/radweg-kommt-123.html/", SECOND, url]
    assert strip_own_url(lines, (url, None)) == [FIRST, SECOND]
    # another address, or the URL inside a sentence, is the article's own reference
    kept = [FIRST, "www.stadt-kassel.de", f"Mehr unter {url}"]
    assert strip_own_url(kept, (url, None)) == kept
