"""Article versus listing classification from URL, head metadata and page shape."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from crawler.classify import page_kind

FIXTURES = Path(__file__).parent / "fixtures"
PARAGRAPH = "<p>" + "Der Stadtrat hat am Dienstag lange über den Haushalt beraten. " * 6 + "</p>"


def page(head: str = "", body: str = "") -> str:
    return f"<!doctype html><html><head><title>T</title>{head}</head><body>{body}</body></html>"


def og(kind: str) -> str:
    return f'<meta property="og:type" content="{kind}" />'


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


MENU = "<nav>" + "".join(f'<a href="/rubrik-{i}/">Rubrik {i}</a>' for i in range(15)) + "</nav>"
ARTICLE_BODY = MENU + "<article><h1>Haushalt</h1>" + PARAGRAPH * 8 + "</article>"


def teasers(n: int) -> str:
    return "".join(
        f'<article class="post"><h2><a href="/2024/05/{i:02d}/meldung-{i}/">Meldung {i}</a></h2>'
        f"<p>Kurzer Anriss {i}.</p></article>"
        for i in range(n)
    )


YOAST_GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "NewsArticle", "headline": "Haushalt beschlossen"},
        {"@type": "WebPage", "@id": "https://a.de/haushalt/"},
        {"@type": "BreadcrumbList", "itemListElement": []},
        {"@type": ["Person"], "name": "Redaktion"},
    ],
}


def test_wordpress_article() -> None:
    html = page(og("article") + jsonld(YOAST_GRAPH), ARTICLE_BODY)
    url = "https://www.lokal-blog.de/2024/05/12/stadtrat-beschliesst-haushalt/"
    assert page_kind(url, html, None) == "article"


def test_wordpress_date_permalink_alone_is_an_article() -> None:
    url = "https://www.lokal-blog.de/2024/05/12/stadtrat-beschliesst-haushalt/"
    assert page_kind(url, page(body=ARTICLE_BODY), None) == "article"


def test_wordpress_category_page() -> None:
    graph = {"@graph": [{"@type": "CollectionPage"}, {"@type": "BreadcrumbList"}]}
    html = page(og("website") + jsonld(graph), MENU + teasers(10))
    assert page_kind("https://www.lokal-blog.de/category/lokales/", html, None) == "listing"


def test_category_url_beats_a_misconfigured_og_type() -> None:
    html = page(og("article"), MENU + teasers(2))
    assert page_kind("https://www.lokal-blog.de/category/lokales/", html, None) == "listing"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.lokal-blog.de/tag/feuerwehr/",
        "https://www.lokal-blog.de/schlagwort/feuerwehr/",
        "https://www.lokal-blog.de/author/redaktion/",
        "https://www.lokal-blog.de/lokales/page/3/",
        "https://www.lokal-blog.de/lokales/seite-2.html",
        "https://www.lokal-blog.de/2024/05/",
        "https://www.lokal-blog.de/2024/05/12/",
        "https://www.lokal-blog.de/lokales/?page=2",
    ],
)
def test_listing_url_shapes(url: str) -> None:
    assert page_kind(url, page(og("website")), None) == "listing"


def test_tag_page() -> None:
    html = page(og("website"), MENU + teasers(4))
    assert page_kind("https://www.lokal-blog.de/tag/feuerwehr/", html, None) == "listing"


def test_jsonld_graph_news_article_without_any_other_hint() -> None:
    html = page(jsonld(YOAST_GRAPH), ARTICLE_BODY)
    assert page_kind("https://www.zeitung.de/lokales/haushalt-beschlossen", html, None) == "article"


@pytest.mark.parametrize(
    "data",
    [
        {"@type": "NewsArticle"},
        {"@type": "ReportageNewsArticle"},
        {"@type": "BlogPosting"},
        {"@type": ["Article", "NewsArticle"]},
        {"@type": "http://schema.org/NewsArticle"},
        [{"@type": "Organization"}, {"@type": "Article"}],
    ],
)
def test_jsonld_article_types(data: object) -> None:
    assert page_kind("https://www.zeitung.de/x", page(jsonld(data)), None) == "article"


@pytest.mark.parametrize(
    "data",
    [
        {"@type": "CollectionPage"},
        {"@type": "ItemList", "itemListElement": [{"item": {"@type": "NewsArticle"}}]},
        [{"@type": "NewsArticle"}, {"@type": "NewsArticle"}, {"@type": "NewsArticle"}],
    ],
)
def test_jsonld_listing_types(data: object) -> None:
    assert page_kind("https://www.zeitung.de/x", page(jsonld(data)), None) == "listing"


def test_jsonld_webpage_alone_decides_nothing() -> None:
    html = page(jsonld({"@type": "WebPage"}), ARTICLE_BODY)
    assert page_kind("https://www.zeitung.de/impressum", html, None) == "unknown"


def test_listing_with_30_teasers() -> None:
    html = page("", MENU + teasers(30))
    assert page_kind("https://www.zeitung.de/lokales/", html, None) == "listing"


def test_link_list_with_little_text_is_a_listing() -> None:
    links = "".join(f'<li><a href="/meldung-{i}">Meldung {i}</a></li>' for i in range(60))
    html = page("", f"<ul>{links}</ul>")
    assert page_kind("https://www.zeitung.de/nachrichten", html, None) == "listing"


def test_website_og_type_lowers_the_bar() -> None:
    body = MENU + teasers(4)
    assert page_kind("https://www.zeitung.de/lokales", page("", body), None) == "unknown"
    assert page_kind("https://www.zeitung.de/lokales", page(og("website"), body), None) == "listing"


def test_article_with_related_teasers_stays_an_article() -> None:
    html = page(og("article"), ARTICLE_BODY + teasers(6))
    assert page_kind("https://www.zeitung.de/lokales/haushalt", html, None) == "article"


def test_site_pattern_true_wins() -> None:
    html = page(og("website") + jsonld({"@type": "CollectionPage"}), teasers(30))
    assert page_kind("https://www.zeitung.de/tag/x/", html, True) == "article"


def test_site_pattern_false_never_gives_article() -> None:
    url = "https://www.zeitung.de/2024/05/12/haushalt/"
    html = page(og("article") + jsonld(YOAST_GRAPH), ARTICLE_BODY)
    assert page_kind(url, html, False) == "unknown"
    assert page_kind(url, page(og("website"), teasers(30)), False) == "listing"


def test_broken_jsonld_is_ignored() -> None:
    html = page('<script type="application/ld+json">{"@type": "NewsArt', ARTICLE_BODY)
    assert page_kind("https://www.zeitung.de/x", html, None) == "unknown"
    assert page_kind("https://www.zeitung.de/x", "", None) == "unknown"


def test_jsonld_with_raw_newlines_and_comment_wrapper() -> None:
    script = '<script type="application/ld+json"><!--\n{"@type": "NewsArticle",\n'
    script += '"headline": "Zeile\none"}\n--></script>'
    assert page_kind("https://www.zeitung.de/x", page(script), None) == "article"


def test_og_type_article() -> None:
    html = page(og("article"), ARTICLE_BODY)
    assert page_kind("https://www.zeitung.de/lokales/haushalt", html, None) == "article"


def test_only_a_bounded_prefix_is_read() -> None:
    # Teasers after 512 KB of text are not counted: cost does not grow with the page.
    html = page("", PARAGRAPH * 2000 + teasers(30))
    assert len(html) > 600_000
    assert page_kind("https://www.zeitung.de/x", html, None) == "unknown"


def test_amp_reader_fixture_is_an_article() -> None:
    html = (FIXTURES / "amp_reader_xtranews.html").read_text(encoding="utf-8")
    url = "https://www.xtranews.de/2014/09/02/gruene-fordern-ausbau/amp/"
    assert page_kind(url, html, None) == "article"


@pytest.mark.parametrize("junk", ["<p", "<a ", "<meta ", '<script type="application/ld+json">'])
def test_unclosed_tags_stay_cheap(junk: str) -> None:
    html = junk * (600_000 // len(junk))
    started = time.perf_counter()
    assert page_kind("https://www.zeitung.de/x", html, None) == "unknown"
    assert time.perf_counter() - started < 2.0
