"""Authors, agency and desk credits: JSON-LD, meta, byline elements, German credit lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipelines.authors import Byline, find_byline, strip_credit_lines
from pipelines.credits import agency_of, parse_credit, site_of
from pipelines.htmltree import parse_html
from pipelines.signals import read_signals


def _byline(
    head: str = "",
    body: str = "<p>Text</p>",
    *,
    jsonld: dict[str, Any] | None = None,
    extracted: str | None = None,
    lines: tuple[str, ...] = ("Ein Absatz.",),
    site: tuple[str | None, ...] = ("Stadtanzeiger", "www.stadtanzeiger.de"),
) -> Byline:
    if jsonld is not None:
        head += f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
    source = f"<html><head>{head}</head><body>{body}</body></html>"
    page = read_signals(parse_html(source), source, "https://www.stadtanzeiger.de/a")
    return find_byline(page, extracted, lines, site)


def _article(*authors: dict[str, Any], publisher: str = "Stadtanzeiger") -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Neue Radwege",
        "author": list(authors),
        "publisher": {"@type": "Organization", "name": publisher},
    }


def test_jsonld_person_beats_meta_site_name() -> None:
    byline = _byline(
        '<meta name="author" content="Stadtanzeiger">',
        jsonld=_article({"@type": "Person", "name": "Erika Musterfrau"}),
        extracted="Stadtanzeiger; Erika Musterfrau",
    )
    assert byline.authors == ("Erika Musterfrau",)
    assert byline.source == "jsonld"
    assert byline.agency is None


def test_splits_german_bylines() -> None:
    site = site_of(["Stadtanzeiger"])
    assert parse_credit("Von Max Mustermann und Erika Musterfrau", site).names == (
        "Max Mustermann",
        "Erika Musterfrau",
    )
    assert parse_credit("Anna Beispiel, Jörg Muster & Lea Probe / Tom Test").names == (
        "Anna Beispiel",
        "Jörg Muster",
        "Lea Probe",
        "Tom Test",
    )
    assert parse_credit("Autor: Christoph von Ritter").names == ("Christoph von Ritter",)
    assert parse_credit("Richard David Precht im Gespräch mit Karin Fischer").names == (
        "Richard David Precht",
        "Karin Fischer",
    )


def test_strips_roles_tails_mail_and_urls() -> None:
    site = site_of(["MDR", "www.mdr.de"])
    assert parse_credit("Von FOCUS-Online-Experte Robin Tschöpe").names == ("Robin Tschöpe",)
    assert parse_credit(
        "von David Straub, MDR THÜRINGEN Stand: 28. April 2023, 05:00 Uhr", site
    ).names == ("David Straub",)
    assert parse_credit("Harald Bauer Autor | 12.03.2024").names == ("Harald Bauer",)
    assert parse_credit("Text & Fotos: Ivan Valetny").names == ("Ivan Valetny",)
    assert parse_credit("Text von Christian Seiler Illustration von Markus Roost").names == (
        "Christian Seiler",
    )
    assert parse_credit("Lea Probe lea.probe@example.org").names == ("Lea Probe",)
    assert parse_credit("https://www.facebook.com/stadtanzeiger") == parse_credit("")


def test_agencies_are_kept_apart() -> None:
    found = parse_credit("Felix Schröder und Jörg Soldwisch, dpa")
    assert found.names == ("Felix Schröder", "Jörg Soldwisch")
    assert found.agencies == ("dpa",)
    assert parse_credit("Max Muster (AFP)").agencies == ("AFP",)
    assert parse_credit("Max Muster (AFP)").names == ("Max Muster",)
    assert parse_credit("dpa/lnw").names == ()
    assert parse_credit("dpa/lnw").agencies == ("dpa",)
    assert agency_of("Deutsche Presse-Agentur") == "dpa"
    assert agency_of("Reuters") == "Reuters"
    assert agency_of("Reuter") is None


def test_rejects_site_organisations_and_placeholders() -> None:
    site = site_of(["Stuttgarter Zeitung", "www.stuttgarter-zeitung.de"])
    for value in (
        "Stuttgarter Zeitung",
        "Redaktion",
        "Mdr De",
        "SWR Sport",
        "Der Postillon",
        "Web Commerce GmbH",
        "wordpressadmin",
        "Peter Amende und Fuchsy designed",
        "Donnerstag, 4. November 2021",
    ):
        assert parse_credit(value, site).names == (), value
    assert parse_credit("Redaktion", site).organizations == ("Redaktion",)
    assert parse_credit("x" * 40 + " " + "y" * 40).names == ()


def test_single_words_beside_full_names_are_places() -> None:
    assert parse_credit("Markus Muster, London, Beat Beispiel").names == (
        "Markus Muster",
        "Beat Beispiel",
    )
    assert parse_credit("stadtanzeiger.de, Frankfurt, Germany").names == ()
    assert parse_credit("Paddy").names == ("Paddy",)
    assert parse_credit("det/dpa").names == ("det",)  # a newsroom Kürzel names a person


def test_agency_only_jsonld_ends_the_search() -> None:
    byline = _byline(
        '<meta name="author" content="Stuttgarter Zeitung">',
        '<div class="teaser-author">Von Christoph Reisinger</div>',
        jsonld=_article({"@type": "Organization", "name": "dpa"}, publisher="Stuttgarter Zeitung"),
        site=("Stuttgarter Zeitung", "www.stuttgarter-zeitung.de"),
    )
    assert byline.authors == ()
    assert byline.agency == "dpa"
    assert byline.credits == ("dpa",)


def test_desk_credit_when_no_person_is_named() -> None:
    byline = _byline(
        jsonld=_article({"@type": "Organization", "name": "DER SPIEGEL"}, publisher="DER SPIEGEL"),
        site=("DER SPIEGEL", "www.spiegel.de"),
    )
    assert byline.authors == ()
    assert byline.organization == "DER SPIEGEL"
    assert byline.credits == ("DER SPIEGEL",)


def test_dateline_gives_agency_and_loses_only_its_prefix() -> None:
    lines = ("DUISBURG (dpa) – Die Stadt baut neue Radwege.", "Der Rat stimmte zu.")
    byline = _byline(lines=lines)
    assert byline.agency == "dpa"
    assert byline.line_edits == ((0, "Die Stadt baut neue Radwege."),)
    assert strip_credit_lines(lines, byline) == ["Die Stadt baut neue Radwege.", lines[1]]
    assert _byline(lines=("Hamburg (dpa/lno) – Trotz eines Gesprächs …",)).agency == "dpa"


def test_credit_lines_at_start_and_end() -> None:
    lines = ("Von Max Mustermann", "Die Stadt baut.", "Mehr folgt.", "Der Rat tagt.", "/ jb")
    byline = _byline(lines=lines)
    assert byline.authors == ("Max Mustermann",)
    assert byline.source == "text"
    assert strip_credit_lines(lines, byline) == list(lines[1:4])
    red = _byline(lines=("Die Stadt baut.", "(red)"))
    assert red.authors == ()
    assert red.line_edits == ((1, ""),)
    kuerzel = _byline(lines=("Die Stadt baut.", "Der Rat tagt.", "ssi, dan; Foto [M]: Archiv"))
    assert kuerzel.authors == ("ssi", "dan")
    assert _byline(lines=("Die Stadt baut.", "Quelle: kathpress")).agency == "Kathpress"


def test_last_line_name_and_sign_off() -> None:
    lone = _byline(lines=("Die Stadt baut.", "Stefan Wasmer"))
    assert lone.authors == ("Stefan Wasmer",)
    assert lone.line_edits == ((1, ""),)
    signed = _byline(lines=("Viel Glück!", "Euer HansEhrlich"))
    assert signed.authors == ("HansEhrlich",)
    assert signed.line_edits == ()  # a sign-off belongs to the text
    assert _byline(lines=("Die Stadt baut.", "Neue Abstimmung am Montag")).authors == ()


def test_visible_opening_byline_beats_meta() -> None:
    byline = _byline(
        '<meta name="author" content="Isabell Angele">', lines=("Von Matthias Lauerer", "Text.")
    )
    assert byline.authors == ("Matthias Lauerer",)


def test_byline_elements_skip_comments_and_teasers() -> None:
    body = (
        '<ol class="comment-list"><li><div class="comment-author">Kersti Wolnow</div></li></ol>'
        '<ul><li><a href="/x"><span class="media-box__autor">Von Clara Müller</span></a></li></ul>'
        '<div class="single-post--header_author">von Arian Schlichenmayer</div>'
    )
    byline = _byline(body=body, extracted=None)
    assert byline.authors == ("Arian Schlichenmayer",)
    assert byline.source == "byline"


def test_single_word_name_yields_to_a_full_one() -> None:
    byline = _byline(
        body='<span class="author-name">Stefanus Stahl</span>',
        jsonld=_article({"@type": "Person", "name": "Stefanus"}),
    )
    assert byline.authors == ("Stefanus Stahl",)


def test_personal_site_keeps_its_owner_as_author() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": ["Person", "Organization"], "@id": "#me", "name": "Andreas Kalt"},
            {"@type": "BlogPosting", "headline": "15 Jahre", "author": {"@id": "#me"}},
        ],
    }
    byline = _byline(
        f'<script type="application/ld+json">{json.dumps(graph)}</script>',
        site=("Andreas Kalt", "rete-mirabile.net"),
    )
    assert byline.authors == ("Andreas Kalt",)


def test_trafilatura_author_is_normalised() -> None:
    byline = _byline(extracted="Frankfurter Allgemeine Zeitung GmbH; Benjamin Fischer")
    assert byline.authors == ("Benjamin Fischer",)
    assert byline.source == "trafilatura"
    assert _byline(extracted="Follow").authors == ()


def test_eval_pages_author_quality() -> None:
    """German fundus pages: credits F1 well above bare trafilatura, and cheap per page."""
    evalset = pytest.importorskip("benchmarks.evalset")
    trafilatura = pytest.importorskip("trafilatura")
    try:
        pages = [p for p in evalset.load_eval(datasets=["fundus"]) if p.lang == "de"]
    except FileNotFoundError as exc:
        pytest.skip(f"evaluation set absent: {exc}")
    from urllib.parse import urlsplit

    from pipelines.decode import decode_html

    scores = []
    for page in pages:
        if not page.authors:
            continue
        source = decode_html(page.read_html(), "text/html").text
        tree = parse_html(source)
        document = trafilatura.bare_extraction(tree, url=page.url, with_metadata=True)
        lines = [line for line in (document.text or "").splitlines() if line.strip()]
        signals = read_signals(tree, source, page.url or "")
        site = (document.sitename, urlsplit(page.url).hostname)
        byline = find_byline(signals, document.author, lines, site)
        scores.append(evalset.author_f1(page.authors, byline.credits))
    assert sum(scores) / len(scores) >= 0.9


def _visible(body: str, **kwargs: Any) -> Byline:
    """The byline of a page whose only credit is visible text in ``body``."""
    return _byline(body=f"<main><h1>Neue Radwege</h1>{body}</main>", **kwargs)


def test_label_element_followed_by_the_name() -> None:
    byline = _visible(
        '<div><h5 class="title-inline">Datum: </h5>03.11.2021<br>'
        '<h5 class="title-inline">Autor: </h5>Peter Maahn/SP-X<br></div>'
    )
    assert byline.authors == ("Peter Maahn",)
    assert byline.source == "byline"
    closing = _visible("<p>Die Stadt baut.<br><strong>Text:</strong> Klausmartin Friedrich</p>")
    assert closing.authors == ("Klausmartin Friedrich",)
    meta = _visible(
        '<section><div><h4 class="news__meta-title">Autor</h4>'
        '<p class="news__meta-text"><a href="/p/huke">Nikolai Huke</a><b>, </b></p></div>'
        '<div><h4 class="news__meta-title">Datum</h4><p>12.02.2021</p></div></section>'
    )
    assert meta.authors == ("Nikolai Huke",)
    assert _visible('<p>Text: <a href="/autor/1">Lea Probe</a></p>').authors == ("Lea Probe",)


def test_von_line_and_dated_von() -> None:
    teaser_template = '<div class="details"><span class="teaser-cat"> von Andreas Kürten </span>'
    assert _visible(teaser_template + "<p>Das Epizentrum.</p></div>").authors == ("Andreas Kürten",)
    assert _visible("<p> von <em>Klaus Stanjek</em></p><p>Durch das …</p>").authors == (
        "Klaus Stanjek",
    )
    dated = _visible('<h2>Stars (1 / 1) <span style="x">06.11.2023 13:30 von Olga </span></h2>')
    assert dated.authors == ("Olga",)
    assert _visible("<p><time>6. November 2023</time> von Olga</p>").authors == ("Olga",)
    assert _visible("<p>von Olga</p>").authors == ()  # a bare "von" needs a full name


def test_names_continue_through_inline_elements() -> None:
    both = _visible(
        '<p><span><span class="byline__preamble">Von </span><a href="/a/fb">Fiona Bornhöft</a>'
        '</span> und <span><a href="/a/mh">Mariam Hofbeck</a></span></p>'
    )
    assert both.authors == ("Fiona Bornhöft", "Mariam Hofbeck")
    links = _visible(
        '<div><div>Von</div><div><a href="/a/jr">Jasper Riemann</a>'
        '<a href="/a/bs">Barbara Schneider</a></div></div>'
    )
    assert links.authors == ("Jasper Riemann", "Barbara Schneider")
    hidden = _visible(
        '<p><span>03.02.2022</span> von Sarah Schnieder <span class="sr-only">Reiterrevue'
        " Magazin</span></p>"
    )
    assert hidden.authors == ("Sarah Schnieder",)
    ended = _visible(
        '<p><span class="by">Geschrieben von <a href="/u/6">Cooper</a></span> '
        "<span>am 25.08.2015 22:30</span></p>"
    )
    assert ended.authors == ("Cooper",)


def test_visible_labels_that_are_no_byline() -> None:
    for body in (
        "<h2>Von Wiener Walzer und Mozartkugeln</h2>",  # a title
        "<p>Eine Rede <b>von</b> Angela Merkel</p>",  # mid-sentence
        "<p>Von Kopf bis Fuß gut versorgt</p>",
        '<nav><ul><li><span>Von</span> <a href="/x">Max Muster</a></li></ul></nav>',
        "<form><label>Von:</label> <span>Max Muster</span></form>",
        '<div class="teaser-list"><span>von Clara Müller</span></div>',
        '<div><a href="/other"><span>Von Clara Müller</span></a></div>',
        '<div class="comments"><p>Von Kersti Wolnow</p></div>',
        "<figure><figcaption>Von Lea Probe</figcaption></figure>",
        "<p><strong>Text</strong> Erika Muster</p>",  # "Text" labels only with its colon
        "<p>Autor Erika Muster</p>",
    ):
        assert _visible(body).authors == (), body


def test_visible_label_only_in_the_headline_article() -> None:
    body = (
        "<article><h1>Neue Radwege</h1><p>Die Stadt baut.</p></article>"
        "<section><p>Von Clara Müller</p></section>"
    )
    assert _byline(body=body).authors == ()
    footer = "<h1>Neue Radwege</h1><p>Die Stadt baut.</p><footer><p>Von Clara Müller</p></footer>"
    assert _byline(body=footer).authors == ()


def test_visible_label_is_the_last_resort() -> None:
    body = "<p>Von Clara Müller</p>"
    meta = '<meta name="author" content="Erika Musterfrau">'
    assert _visible(body, head=meta).authors == ("Erika Musterfrau",)
    agency = _visible(body, jsonld=_article({"@type": "Organization", "name": "dpa"}))
    assert agency.authors == ()
    assert agency.agency == "dpa"


def test_author_teaser_box_is_no_foreign_teaser() -> None:
    box = (
        '<div class="sidebar"><div class="teaser-box author short"><div class="text">'
        '<div class="title-small">Johanna Kropfitsch</div></div></div></div>'
    )
    assert _byline(body=box).authors == ("Johanna Kropfitsch",)
    teaser = '<ul><li><div class="teaser-author">Clara Müller</div></li></ul>'
    assert _byline(body=teaser).authors == ()


def test_a_link_to_the_authors_page_names_the_author_last() -> None:
    # the byline is a bare link to the author's archive: no class, label or markup says so
    picture = '<picture><img alt="Kathrin Führes"></picture><span>© Kathrin Führes</span>'
    linked = (
        f'<a href="/autoren/kathrin-fuehres-684124">{picture}'
        '<span itemprop="name"> Kathrin Führes </span></a>'
    )
    found = _visible(linked)
    assert (found.authors, found.source) == (("Kathrin Führes",), "byline")
    wordpress = (
        '<p>Par <a href="https://www.stadtanzeiger.de/author/clara-mueller/">Clara Müller</a>'
    )
    assert _visible(f"{wordpress} am 3. Mai</p>").authors == ("Clara Müller",)
    # any source before it wins
    meta = '<meta name="author" content="Erika Musterfrau">'
    assert _visible(linked, head=meta).authors == ("Erika Musterfrau",)


def test_links_to_other_pages_or_other_texts_name_no_author() -> None:
    for body in (
        '<nav><a href="/autoren/clara-mueller">Clara Müller</a></nav>',  # the desk's writers
        '<div class="related"><a href="/author/clara-mueller/">Clara Müller</a></div>',
        '<p><a href="/autorennen/">Max Verstappen</a> gewinnt</p>',  # not an author's page
        '<p><a href="/author/">Alle Autoren</a></p>',
        '<a href="/autoren/die-redaktion">Redaktion</a>',  # no person's full name
    ):
        assert _visible(body).authors == (), body
    # only the first link counts: later ones are an author box's "more by" lists
    first = (
        '<a href="/autoren/redaktion">Redaktion</a>'
        '<a href="/autoren/clara-mueller">Clara Müller</a>'
    )
    assert _visible(first).authors == ()
