"""clean(): the owner's AMP example, rejections with reasons, metadata, determinism."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.boilerplate import clean_lines, line_filter
from pipelines.clean import clean
from pipelines.records import Article, Reason, Rejection
from pipelines.rules import CleaningRules
from tests.pages import GERMAN_PARAGRAPHS, article_html, make_page

FIXTURES = Path(__file__).parent / "fixtures"
SEED = Path(__file__).parents[1].parent / "shared" / "seeds" / "000_b5b76411bd1a1805.txt"
AMP_URL = (
    "https://www.xtranews.de/2014/09/02/"
    "gruene-fordern-ausbau-des-integrationsbereiches-der-stadt-duisburg/amp/"
)
BOILERPLATE = ("Website-Icon", "Die mobile Version verlassen", "Nach oben scrollen")


def article(result: Article | Rejection) -> Article:
    assert isinstance(result, Article), result
    return result


@pytest.fixture(scope="module")
def rules() -> CleaningRules:
    return CleaningRules()


def amp_page() -> bytes:
    return (FIXTURES / "amp_reader_xtranews.html").read_bytes()


def test_amp_fixture_really_carries_the_boilerplate() -> None:
    # A naive text dump of the fixture shows both lines, as the owner's example did.
    from lxml import html

    naive = html.fromstring(amp_page()).text_content()
    assert "Die mobile Version verlassen" in naive
    assert "xtranews – das Newsportal aus Duisburg" in naive
    assert 'alt="Website-Icon"' in amp_page().decode()


def test_amp_reader_page_comes_out_clean(rules: CleaningRules) -> None:
    result = article(clean(make_page(amp_page(), url=AMP_URL, site="xtranews"), rules))
    for line in BOILERPLATE:
        assert line not in result.text
    assert result.title == "Grüne fordern Ausbau des Integrationsbereiches der Stadt Duisburg"
    assert result.text.startswith("Dem Rat der Stadt Duisburg und den Ausschüssen")
    assert result.text.endswith("Kinder- und Jugendfürsorge beträfen.")
    assert result.text.count("\n\n") == 4  # five paragraphs
    assert result.canonical_url == AMP_URL.removesuffix("amp/")
    assert (
        result.published is not None and result.published.isoformat() == "2014-09-02T12:26:31+00:00"
    )
    assert result.language == "de"


def test_owner_seed_text_loses_exactly_the_two_boilerplate_lines(rules: CleaningRules) -> None:
    if not SEED.exists():
        pytest.skip(f"owner's seed not found at {SEED}")
    seed = SEED.read_text(encoding="utf-8")
    kept = clean_lines(seed, line_filter(rules, rules.packs))
    assert kept[0] == "Grüne fordern Ausbau des Integrationsbereiches der Stadt Duisburg"
    assert len(kept) == 6  # the headline and the five paragraphs
    assert not any(line.startswith(BOILERPLATE) for line in kept)


def test_site_rules_prune_and_drop_lines() -> None:
    html = article_html(
        [*GERMAN_PARAGRAPHS, "Mehr aus Duisburg gibt es in unserem Newsletter."],
        head="",
    ).replace(
        "<article>", '<article><div class="teaser-box">Anzeige: Jetzt Abo sichern und lesen</div>'
    )
    rules = CleaningRules(
        prune_xpaths=("//div[@class='teaser-box']",),
        drop_line_patterns=("Mehr aus Duisburg .*Newsletter\\.",),
    )
    result = article(clean(make_page(html.encode()), rules))
    assert "Abo sichern" not in result.text
    assert "Newsletter" not in result.text
    assert GERMAN_PARAGRAPHS[0] in result.text


def test_paragraphs_are_separated_by_blank_lines(rules: CleaningRules) -> None:
    result = article(clean(make_page(article_html(GERMAN_PARAGRAPHS).encode()), rules))
    assert result.text.split("\n\n") == GERMAN_PARAGRAPHS
    assert result.word_count == len(re.findall(r"\w+", " ".join(GERMAN_PARAGRAPHS)))
    assert result.authors == []


@pytest.mark.parametrize(
    "encoding,content_type",
    [
        ("utf-8", "text/html; charset=iso-8859-1"),
        ("cp1252", "text/html; charset=utf-8"),
        ("utf-8", "text/html"),
        ("cp1252", None),
    ],
)
def test_umlauts_survive_mislabelled_charsets(
    encoding: str, content_type: str | None, rules: CleaningRules
) -> None:
    body = article_html(GERMAN_PARAGRAPHS).replace('<meta charset="utf-8">', "").encode(encoding)
    result = article(clean(make_page(body, content_type=content_type), rules))
    assert "Straßenübergänge" in result.text
    assert result.charset_used == ("utf-8" if encoding == "utf-8" else "cp1252")


def test_clean_is_deterministic(rules: CleaningRules) -> None:
    page = make_page(amp_page(), url=AMP_URL)
    results = [clean(page, rules) for _ in range(5)]  # trafilatura's dedup would drop the 4th
    assert all(r == results[0] for r in results)


def test_feed_hint_fills_a_missing_date(rules: CleaningRules) -> None:
    page = make_page(
        article_html(GERMAN_PARAGRAPHS).encode(),
        url="https://www.example-lokal.de/lokales/radwege",
        hints={"published": "2026-11-24T18:05:00+01:00"},
    )
    result = article(clean(page, rules))
    assert result.published_source == "hint"
    assert result.published == datetime(2026, 11, 24, 17, 5, tzinfo=UTC)


def test_tracking_parameters_do_not_change_the_article_id(rules: CleaningRules) -> None:
    body = article_html(GERMAN_PARAGRAPHS).encode()
    plain = article(clean(make_page(body, url="https://www.lokal.de/a/1"), rules))
    tracked = article(
        clean(make_page(body, url="https://WWW.lokal.de/a/1?utm_source=fb#top"), rules)
    )
    assert plain.article_id == tracked.article_id


@pytest.mark.parametrize(
    "body,content_type,status,reason",
    [
        (b"%PDF-1.7 binary", "application/pdf", 200, Reason.NOT_HTML),
        (b"\x89PNG\r\n\x1a\n....", None, 200, Reason.NOT_HTML),
        (b"", "text/html", 200, Reason.EMPTY_BODY),
        (
            b"<html><body><p>Seite nicht gefunden</p></body></html>",
            "text/html",
            404,
            Reason.GONE,
        ),
        (b"<html><body><p>Entfernt</p></body></html>", "text/html", 410, Reason.GONE),
        (b"<html><body><p>Verboten</p></body></html>", "text/html", 403, Reason.HTTP_ERROR),
        (
            b"<html><body><nav><a href='/'>Start</a></nav></body></html>",
            "text/html",
            200,
            Reason.NOT_ARTICLE,
        ),
        (
            b"<html><body><p>Kurz.</p><p>Zu kurz f\xc3\xbcr einen Artikel hier.</p></body></html>",
            "text/html",
            200,
            Reason.NOT_ARTICLE,
        ),
        (bytes(range(256)) * 50, "text/html", 200, Reason.BAD_ENCODING),
    ],
)
def test_rejections_carry_a_reason(
    body: bytes, content_type: str | None, status: int, reason: Reason, rules: CleaningRules
) -> None:
    result = clean(make_page(body, content_type=content_type, status=status), rules)
    assert isinstance(result, Rejection)
    assert result.reason == reason, result


def test_too_large_is_rejected_before_parsing() -> None:
    rules = CleaningRules(max_bytes=10_000)
    body = article_html(GERMAN_PARAGRAPHS * 50).encode()
    result = clean(make_page(body), rules)
    assert isinstance(result, Rejection) and result.reason == Reason.TOO_LARGE


@pytest.mark.parametrize("depth,expected", [(300, "article"), (3000, Reason.TOO_DEEP)])
def test_deep_documents_are_kept_or_flagged_never_silently_cut(
    depth: int, expected: object, rules: CleaningRules
) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in GERMAN_PARAGRAPHS)
    body = f"<html><body>{'<div>' * depth}{paragraphs}{'</div>' * depth}</body></html>".encode()
    result = clean(make_page(body), rules)
    if expected == "article":
        assert GERMAN_PARAGRAPHS[0] in article(result).text
    else:
        assert isinstance(result, Rejection) and result.reason == expected


def test_lone_surrogates_and_nul_never_reach_the_article(rules: CleaningRules) -> None:
    body = article_html(GERMAN_PARAGRAPHS).replace("Radwege bauen", "Rad\x00wege bauen").encode()
    result = article(clean(make_page(body), rules))
    assert "\x00" not in result.text


def test_dates_are_bounded_by_the_fetch_day_not_today(rules: CleaningRules) -> None:
    # htmldate's default upper bound is "now": re-cleaning later would change the date.
    text = ["Am 3. Dezember 2099 eröffnet die Stadt das neue Bad. " + GERMAN_PARAGRAPHS[0]]
    page = make_page(article_html(text + GERMAN_PARAGRAPHS[1:]).encode(), url="https://lokal.de/a")
    result = article(clean(page, rules))
    assert result.published is None or result.published <= page.fetched_at + timedelta(days=1)


NOTICE = (
    "Ein Radfahrer ist am Dienstagabend in Hochfeld angefahren worden. "
    "Die Polizei bittet Zeugen, sich unter 0203 2800 zu melden."
)
NOTICE_URL = (
    "https://www.xtranews.de/2024/05/07/radfahrer-in-hochfeld-angefahren-polizei-sucht-zeugen/"
)


@pytest.mark.parametrize(
    ("fixture", "url"),
    [
        ("amp_reader_one_paragraph.html", NOTICE_URL + "amp/"),
        ("wordpress_one_paragraph.html", NOTICE_URL),
    ],
)
def test_a_one_paragraph_notice_is_exactly_its_paragraph(
    rules: CleaningRules, fixture: str, url: str
) -> None:
    # Too short for trafilatura, which falls back to the whole article element: headline,
    # byline, date, share buttons and the site name would all land in the text.
    page = make_page((FIXTURES / fixture).read_bytes(), url=url, site="xtranews")
    result = article(clean(page, rules))
    assert result.text == NOTICE
    assert result.title == "Radfahrer in Hochfeld angefahren: Polizei sucht Zeugen"
    assert result.organization == "Redaktion" and result.authors == []
    assert result.published == datetime(2024, 5, 7, 7, 15, tzinfo=UTC)


def test_a_short_notice_keeps_its_paragraphs(rules: CleaningRules) -> None:
    two = NOTICE.replace(" Die Polizei", "</p>\n<p>Die Polizei")
    body = (FIXTURES / "wordpress_one_paragraph.html").read_text(encoding="utf-8")
    page = make_page(body.replace(NOTICE, two).encode(), url=NOTICE_URL, site="xtranews")
    assert article(clean(page, rules)).text == NOTICE.replace(" Die Polizei", "\n\nDie Polizei")


def test_owner_example_is_exactly_its_headline_and_five_paragraphs(rules: CleaningRules) -> None:
    if not SEED.exists():
        pytest.skip(f"owner's seed not found at {SEED}")
    expected = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()][
        1:-1
    ]  # without "Website-Icon …" and "Die mobile Version verlassen"
    result = article(clean(make_page(amp_page(), url=AMP_URL, site="xtranews"), rules))
    assert [result.title, *result.text.split("\n\n")] == expected
