"""Publication and modification dates: precedence, German formats, Berlin time, bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from pipelines.dates import DateFinding, DateInputs, day_of, find_dates, parse_date, stated_day
from pipelines.htmltree import parse_html
from pipelines.signals import read_signals

FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _dates(
    body: str, head: str = "", jsonld: dict[str, Any] | None = None, **inputs: Any
) -> tuple[DateFinding | None, DateFinding | None]:
    if jsonld is not None:
        head += f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
    source = f"<html><head>{head}</head><body>{body}</body></html>"
    url = inputs.pop("url", "https://example.de/artikel")
    page = read_signals(parse_html(source), source, url)
    return find_dates(page, DateInputs(**{"fetched_at": FETCHED, **inputs}))


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw,expected,has_time",
    [
        ("2024-05-03T14:32:00+02:00", _utc(2024, 5, 3, 12, 32), True),
        ("2024-05-03T14:32:00+0200", _utc(2024, 5, 3, 12, 32), True),
        ("2020-04-03T10:35:41.085Z", _utc(2020, 4, 3, 10, 35, 41), True),
        ("2024-05-03T14:32:00", _utc(2024, 5, 3, 12, 32), True),  # Berlin summer time
        ("2024-01-15 13:38", _utc(2024, 1, 15, 12, 38), True),  # Berlin winter time
        ("2024-05-03", _utc(2024, 5, 2, 22, 0), False),  # midnight in Berlin
        ("2024-05-03T00:00:00", _utc(2024, 5, 2, 22, 0), False),  # htmldate's day-only form
        ("3. Mai 2024, 14:32 Uhr", _utc(2024, 5, 3, 12, 32), True),
        ("03.05.2024, 14.32 Uhr", _utc(2024, 5, 3, 12, 32), True),
        ("Stand: 03.05.2024 14:32 Uhr", _utc(2024, 5, 3, 12, 32), True),
        ("Di., 25.01.2022 - 14:45", _utc(2022, 1, 25, 13, 45), True),
        ("Von Deutscher Tennis Bund 4.\u20092.\u20092022.", _utc(2022, 2, 3, 23, 0), False),
        ("Veröffentlicht am 25.01.2022. Mehr", _utc(2022, 1, 24, 23, 0), False),
        ("Version 1.12.2024.3", None, False),  # a version number, not a date
        ("2021-11-04T23:00Z", _utc(2021, 11, 4, 23, 0), False),  # a date stored as Berlin midnight
        ("2024-08-26T23:27:57Z", _utc(2024, 8, 26, 23, 27, 57), True),
        ("Mittwoch, 1. März 2023", _utc(2023, 2, 28, 23, 0), False),
        ("28. Jan. 2022", _utc(2022, 1, 27, 23, 0), False),
        ("Sat, 19 Oct 2019 00:04:00 +0200", _utc(2019, 10, 18, 22, 4), True),
        ("May 3, 2024", _utc(2024, 5, 2, 22, 0), False),
        ("vor 3 Stunden", None, False),
        ("31.02.2024", None, False),
        ("0001-01-01T00:30:00+01:00", None, False),  # out of range: unknown, not an error
        ("9999-12-31T23:00:00-05:00", None, False),
        ("", None, False),
    ],
)
def test_parse_date(raw: str, expected: datetime | None, has_time: bool) -> None:
    parsed = parse_date(raw)
    assert (parsed[0] if parsed else None) == expected
    if parsed:
        assert parsed[1] is has_time


def test_stated_day_is_the_raw_iso_day_unless_the_value_is_berlin_midnight() -> None:
    # a local time mislabelled as UTC keeps the day the page printed ...
    assert stated_day("2024-08-26T23:27:57Z", _utc(2024, 8, 26, 23, 27, 57)) == "2024-08-26"
    # ... but a date-only field serialised from Berlin midnight names the next UTC day
    assert stated_day("2021-11-04T23:00Z", _utc(2021, 11, 4, 23, 0)) == "2021-11-05"
    assert stated_day("2024-07-01T22:00:00+00:00", _utc(2024, 7, 1, 22, 0)) == "2024-07-02"
    assert stated_day("03.05.2024", _utc(2024, 5, 2, 22, 0)) == "2024-05-03"
    assert stated_day(None, _utc(2024, 5, 2, 22, 30)) == "2024-05-03"


def test_dst_change_night_is_berlin_time() -> None:
    # 2024-03-31 02:30 does not exist in Berlin; 03:30 is already summer time (UTC+2)
    assert parse_date("2024-03-31T03:30:00") == (_utc(2024, 3, 31, 1, 30), True)
    assert parse_date("2024-03-31T01:30:00") == (_utc(2024, 3, 31, 0, 30), True)


def test_jsonld_publication_beats_print_edition_meta_date() -> None:
    published, _ = _dates(
        "<p>Text</p>",
        head='<meta name="date" content="2024-04-26">',
        jsonld={
            "@type": "NewsArticle",
            "headline": "H",
            "datePublished": "2024-04-25T19:30:04+02:00",
        },
    )
    assert published is not None
    assert (published.raw, published.source) == ("2024-04-25T19:30:04+02:00", "jsonld")


def test_declared_publication_beats_htmldates_modified_pick() -> None:
    published, modified = _dates(
        "<p>Text</p>",
        head='<meta property="article:modified_time" content="2022-12-20T16:55:21+00:00">',
        jsonld={"@type": "Article", "headline": "H", "datePublished": "2022-12-21T05:49:28+00:00"},
        htmldate="2022-12-20T16:55:21+0000",
    )
    assert published is not None and day_of(published) == "2022-12-21"
    assert modified is not None and (modified.source, day_of(modified)) == ("meta", "2022-12-20")


def test_veroeffentlicht_label_beats_a_comment_date() -> None:
    body = (
        "<article><p>Veröffentlicht am&nbsp;16.08.2019<br>Dauer: 1 Stunde</p></article>"
        '<div class="comment-metadata"><time datetime="2019-08-24T03:36:11+02:00">'
        "24. August 2019</time></div>"
    )
    published, _ = _dates(body, htmldate="2019-08-24T00:00:00")
    assert published is not None
    assert (published.raw, published.source, day_of(published)) == (
        "16.08.2019",
        "text",
        "2019-08-16",
    )


def test_label_with_tags_weekday_and_time() -> None:
    body = '<p class="meta">Erstellt am: <span>Freitag, 3. Mai 2024, 14:32 Uhr</span></p>'
    published, _ = _dates(body)
    assert published is not None
    assert published.value == _utc(2024, 5, 3, 12, 32)


def test_label_inside_an_attribute_is_not_a_byline() -> None:
    body = '<a href="/2024/05/01" aria-label="Beiträge veröffentlicht am 1. Mai 2024">1</a>'
    assert _dates(body) == (None, None)


def test_aktualisiert_and_stand_are_modification_dates() -> None:
    published, modified = _dates("<p>Aktualisiert am 04.05.2024, 08:00 Uhr</p>")
    assert published is None
    assert modified is not None and modified.value == _utc(2024, 5, 4, 6, 0)
    published, modified = _dates("<p>Stand: 03.05.2024 14:32 Uhr</p>")
    assert published is None and modified is not None and modified.source == "text"


def test_time_elements_in_comments_teasers_and_navigation_are_ignored() -> None:
    body = (
        '<div class="navtop"><time datetime="2024-06-01">Heute</time></div>'
        '<article><header><time datetime="2024-05-03T14:32:00+02:00">3. Mai</time></header>'
        '<ol class="comment-list"><li><time datetime="2024-05-10">10. Mai</time></li></ol>'
        "</article>"
        '<aside><div class="teaser"><time datetime="2024-04-01">1. April</time></div></aside>'
    )
    published, _ = _dates(body, htmldate="2024-06-01T00:00:00")
    assert published is not None
    assert (published.source, published.value) == ("time", _utc(2024, 5, 3, 12, 32))


def test_footer_inside_the_article_holds_its_date() -> None:
    body = (
        '<article><footer class="entry-meta"><time datetime="2024-05-03">3. Mai</time>'
        "</footer></article>"
    )
    published, _ = _dates(body, htmldate="2024-05-20T00:00:00")
    assert published is not None and day_of(published) == "2024-05-03"


def test_date_only_takes_the_time_of_day_from_a_source_naming_the_same_day() -> None:
    published, _ = _dates(
        '<article><time itemprop="datePublished" datetime="2024-05-03">3. Mai</time></article>',
        head='<meta name="dcterms.created" content="2024-05-03">',
        htmldate="2024-05-03T14:32:00+0200",
    )
    assert published is not None
    assert (published.value, published.has_time) == (_utc(2024, 5, 3, 12, 32), True)


def test_url_day_decides_between_disagreeing_sources() -> None:
    published, _ = _dates(
        "<p>Text</p>",
        head='<meta name="date" content="2023-01-10">',
        htmldate="2022-12-01T00:00:00",
        url="https://example.de/2022/12/01/ein-artikel/",
    )
    assert published is not None and day_of(published) == "2022-12-01"


def test_utc_value_gives_way_to_the_same_instant_in_local_time() -> None:
    published, _ = _dates(
        "<p>Text</p>",
        head='<meta name="date" content="Sat, 19 Oct 2019 00:04:00 +0200">',
        jsonld={"@type": "NewsArticle", "headline": "H", "datePublished": "2019-10-18T22:04:00Z"},
    )
    assert published is not None
    assert published.raw.startswith("Sat") and day_of(published) == "2019-10-19"


def test_dateline_opens_the_body() -> None:
    for text in (
        "Überschrift\n29.11.2022 – Mehrfach hatte die Branche gewarnt.",
        "Titel\nVon Anna Beispiel\n(21. November 2022) Energieverbraucher erhalten …",
        "Duisburg, 3. Mai 2024. Der Rat hat beschlossen …",
    ):
        published, _ = _dates("<p>Text</p>", text=text, htmldate="2024-05-20T00:00:00")
        assert published is not None and published.source == "dateline", text
    published, _ = _dates("<p>x</p>", text="Am 3. Mai 2024 beschloss der Rat …")
    assert published is None


def test_future_and_ancient_dates_are_rejected() -> None:
    published, _ = _dates(
        "<p>Text</p>",
        head='<meta property="article:published_time" content="2024-06-20T10:00:00+02:00">',
        htmldate="1990-01-01T00:00:00",
    )
    assert published is None
    published, _ = _dates("<p>Text</p>", htmldate="2024-06-01T15:00:00+0200")  # 1 h after fetch
    assert published is not None


def test_hint_outranks_htmldate_but_not_the_page_declarations() -> None:
    published, _ = _dates("<p>Text</p>", hint="Fri, 03 May 2024 14:32:00 +0200")
    assert published is not None and (published.source, published.value) == (
        "hint",
        _utc(2024, 5, 3, 12, 32),
    )
    # a feed's date is the publisher's statement; htmldate only guesses
    published, _ = _dates("<p>Text</p>", hint="2024-05-01", htmldate="2024-05-03T00:00:00")
    assert published is not None and published.source == "hint"
    head = '<meta property="article:published_time" content="2024-05-02T08:00:00+02:00">'
    published, _ = _dates("<p>Text</p>", head, hint="2024-05-01")
    assert published is not None and published.source == "meta"


def test_declared_dates_of_german_fundus_pages() -> None:
    """Floor on the eval set's German fundus pages from page evidence alone (no htmldate)."""
    from benchmarks.evalset import default_eval_dir, load_eval, same_day
    from benchmarks.quality import FETCHED_AT
    from pipelines.decode import decode_html

    try:
        pages = [p for p in load_eval(default_eval_dir(), ["fundus"]) if p.lang == "de" and p.date]
    except FileNotFoundError:
        pytest.skip("eval set not available (see benchmarks/evalset.py)")
    if not pages:
        pytest.skip("no German fundus pages in the eval set")
    correct = 0
    for page in pages:
        source = decode_html(page.read_html(), "text/html").text
        signals = read_signals(parse_html(source), source, page.url or "")
        published, _ = find_dates(signals, DateInputs(fetched_at=FETCHED_AT))
        correct += same_day(page.date or "", day_of(published) if published else None)
    assert correct / len(pages) >= 0.96


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2024-04-15T13:38:00+0200", datetime(2024, 4, 15, 11, 38, tzinfo=UTC)),
        ("2024-04-15T13:38:00Z", datetime(2024, 4, 15, 13, 38, tzinfo=UTC)),
        ("2024-04-15T13:38:00", datetime(2024, 4, 15, 11, 38, tzinfo=UTC)),  # Berlin summer time
        ("2024-01-15T13:38:00", datetime(2024, 1, 15, 12, 38, tzinfo=UTC)),  # Berlin winter time
        ("2024-04-15", datetime(2024, 4, 14, 22, 0, tzinfo=UTC)),  # midnight in Berlin
        ("2024-04-15T00:00:00", datetime(2024, 4, 14, 22, 0, tzinfo=UTC)),  # htmldate's day
        ("vor 3 Stunden", None),
        (None, None),
        ("0001-01-01T00:30:00+01:00", None),  # out of range once the offset is applied
        ("9999-12-31T23:00:00-05:00", None),
    ],
)
def test_parse_date_in_utc_with_berlin_as_the_local_zone(
    raw: str | None, expected: datetime | None
) -> None:
    parsed = parse_date(raw)
    assert (parsed[0] if parsed else None) == expected


# --- the date shown under the headline (pipelines/shown_date.py) ---

_REPUBLISHED_HEAD = '<meta property="article:published_time" content="2024-04-02T09:00:00+02:00">'


def _shown(article: str, title: str | None = "Neue Brücke eröffnet", **inputs: Any) -> DateFinding:
    published, _ = _dates(article, head=_REPUBLISHED_HEAD, title=title, **inputs)
    assert published is not None
    return published


def test_the_date_line_under_the_headline_beats_a_stale_declaration() -> None:
    # a re-published piece: the CMS still declares the draft's date, readers see the new one
    published = _shown(
        "<article><h1>Neue Brücke eröffnet</h1>"
        '<div class="meta">am <span>Mittwoch, 15.05.2024 - 14:30</span></div>'
        "<p>Die neue Brücke über die Ruhr ist seit heute für den Verkehr freigegeben.</p></article>"
    )
    assert (published.source, day_of(published)) == ("header", "2024-05-15")
    assert published.value == _utc(2024, 5, 15, 12, 30)


def test_a_time_element_under_the_headline_gives_its_datetime() -> None:
    published = _shown(
        '<h1>Neue Brücke eröffnet</h1><p class="byline">Von Anna Beispiel | '
        '<time datetime="2024-05-15T08:00:00+02:00">15. Mai 2024</time></p>'
    )
    assert (published.source, published.raw) == ("header", "2024-05-15T08:00:00+02:00")
    # class names count by their tokens: an "Accreditation" block is a byline, not a credit
    published = _shown(
        '<header><h1>Neue Brücke eröffnet</h1><div class="ContentHeaderAccreditation-x">'
        "<p>Von Anna Beispiel</p><time>15. Mai 2024</time></div></header>"
    )
    assert (published.source, day_of(published)) == ("header", "2024-05-15")


def test_update_lines_and_marks_under_the_headline_are_not_the_publication() -> None:
    for shown in (
        "<span>Aktualisiert: 20.05.2024, 10:27</span>",
        '<time class="updated" datetime="2024-05-20T10:00:00+02:00">20. Mai 2024</time>',
        '<time itemprop="dateModified" datetime="2024-05-20T10:00:00+02:00">20. Mai</time>',
        '<span class="updated rich-snippet-hidden">2024-05-20T10:00:00+02:00</span>',
        '<span class="sr-only">20.05.2024</span>',
    ):
        published = _shown(f"<h1>Neue Brücke eröffnet</h1><div>{shown}</div><p>Text</p>")
        assert (published.source, day_of(published)) == ("meta", "2024-04-02"), shown


def test_dates_in_captions_prose_subheadings_and_periods_are_not_date_lines() -> None:
    lead = "Die neue Brücke über die Ruhr wurde am 20.05.2024 nach drei Jahren Bauzeit eröffnet."
    for below in (
        '<figure><img src="b.jpg"><figcaption>Baustelle am 20.05.2024</figcaption></figure>',
        '<div class="image-credit">Foto: 20.05.2024</div>',
        f"<p>{lead}</p>",
        "<p>Die Brücke wurde am <b>20.05.2024</b> nach drei Jahren Bauzeit eröffnet, sagt"
        " die Stadt Duisburg.</p>",
        "<h2>Die Preise ab 20.05.2024</h2>",
        "<div>Sperrung bis 20.05.2024</div>",
        '<div class="teaser"><span>20.05.2024</span> Andere Meldung</div>',
        f"<p>{'Langer Text ohne Datum. ' * 25}</p><div>20.05.2024</div>",  # past the window
    ):
        published = _shown(f"<article><h1>Neue Brücke eröffnet</h1>{below}</article>")
        assert published.source == "meta", below


def test_the_headline_is_the_h1_showing_the_title() -> None:
    logo_then_article = (
        '<h1><a href="/">Lokalblatt</a></h1><nav><span>Heute, 20.05.2024</span></nav>'
        "<main><h1>Kicker: Neue Brücke eröffnet</h1><div>15.05.2024</div></main>"
    )
    assert day_of(_shown(logo_then_article)) == "2024-05-15"
    # several headings and none shows the title: no date line is trusted
    assert _shown(logo_then_article, title="Etwas anderes").source == "meta"
    # a sole headline counts without a title
    assert _shown("<h1>Irgendwas</h1><div>15.05.2024</div>", title=None).source == "header"


# Found in review: lines under the headline that date something else. The page declares
# 2024-04-02 and the article is fetched long after every date here.
_LATER = datetime(2024, 9, 1, tzinfo=UTC)
_NOT_DATE_LINES = {
    "update label": "<div>Letzte Aktualisierung: 15.05.2024, 08:10 Uhr</div>",
    "change label": "<div>Letzte Änderung: 15.05.2024</div>",
    "edited": "<div>Zuletzt bearbeitet am 15.05.2024</div>",
    "event": "<div class='event-info'><strong>Termin:</strong> Sa., 15.05.2024, 19 Uhr</div>",
    "fact box": "<dl><dt>Wann:</dt><dd>Sa., 15.05.2024, 19 Uhr</dd></dl>",
    "print edition": "<div>Erschienen in der Ausgabe vom 15.05.2024</div>",
    "crime time": "<p>Tatzeit: 15.05.2024, 22:00 Uhr</p>",
    "slider": "<div class='swiper'><div class='swiper-slide'><img src=a.jpg>"
    "<div>Der Brand am 15.05.2024</div></div></div>",
    "caption (bu)": "<div class='bildbox'><img src=a.jpg><span class='bu'>15.05.2024</span></div>",
    "subtitle": "<p class='subtitle'>Bilanz nach dem Unwetter vom 15. Mai 2024</p>",
    "earlier line": "<div class='meta'>vor 3 Stunden</div><p>Am 01.03.2024 brannte es.</p>",
}


@pytest.mark.parametrize("name", sorted(_NOT_DATE_LINES))
def test_lines_dating_something_else_leave_the_declaration(name: str) -> None:
    below = _NOT_DATE_LINES[name]
    published = _shown(f"<article><h1>Neue Brücke eröffnet</h1>{below}<p>x</p></article>",
                       fetched_at=_LATER)  # fmt: skip
    assert published.source == "meta", name


def test_a_shown_date_earlier_than_the_declaration_does_not_win() -> None:
    published = _shown("<h1>Neue Brücke eröffnet</h1><div>15.03.2024</div>")
    assert published.source == "meta"


def test_a_section_heading_or_a_live_blog_has_no_date_line() -> None:
    section = "<h1>Polizei</h1><div class='item'><span>15.05.2024</span> Einbruch</div>"
    assert _shown(section, title="Polizei: Unfall auf der B9").source == "meta"
    blog = {"@type": "LiveBlogPosting", "headline": "Hochwasser", "datePublished": "2024-04-02"}
    published, _ = _dates(
        "<h1>Hochwasser</h1><span class='time'>15.05.2024, 11:45 Uhr</span>",
        jsonld=blog,
        title="Hochwasser",
    )
    assert published is not None and published.source == "jsonld"


def test_a_never_edited_wordpress_post_keeps_its_published_updated_date() -> None:
    published = _shown(
        '<h1>Neue Brücke eröffnet</h1><time class="entry-date published updated" '
        'datetime="2024-05-15T09:00:00+02:00">15. Mai 2024</time>'
    )
    assert (published.source, day_of(published)) == ("header", "2024-05-15")


def test_the_walk_after_the_headline_is_bounded() -> None:
    # deep markup (quality.too_deep guards clean(), not find_dates) and wide empty markup
    deep = "<div>" * 1500 + "15.05.2024" + "</div>" * 1500
    assert _shown(f"<h1>Neue Brücke eröffnet</h1>{deep}").source in ("header", "meta")
    wide = "<span></span>" * 5000 + "<div>15.05.2024</div>"
    assert _shown(f"<h1>Neue Brücke eröffnet</h1>{wide}").source == "meta"  # past the limit
