"""JSON-LD article objects: types, @graph, @id references, odd but common markup."""

from __future__ import annotations

import json
from typing import Any

from pipelines.htmltree import parse_html
from pipelines.jsonld import Person, read_jsonld


def _page(*blocks: Any, raw: str | None = None) -> tuple[Any, str]:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(b, ensure_ascii=False)}</script>'
        for b in blocks
    )
    if raw is not None:
        scripts += f'<script type="application/ld+json">{raw}</script>'
    source = f"<html><head>{scripts}</head><body><p>Text</p></body></html>"
    return parse_html(source), source


def test_news_article_fields() -> None:
    tree, source = _page(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": "Neue Radwege  für Duisburg",
            "description": "Der Rat hat zugestimmt.",
            "author": [{"@type": "Person", "name": "Erika Musterfrau"}, {"name": "Max Muster"}],
            "datePublished": "2024-05-03T14:32:00+02:00",
            "dateModified": "2024-05-04T08:00:00+02:00",
            "articleSection": ["Lokales", "Duisburg"],
            "keywords": "Radwege, Verkehr, Rat",
            "isAccessibleForFree": "False",
            "publisher": {"@type": "NewsMediaOrganization", "name": "WAZ"},
            "articleBody": "Der Rat …",
        }
    )
    article = read_jsonld(tree, source)
    assert article is not None
    assert article.type == "NewsArticle"
    assert article.headline == "Neue Radwege für Duisburg"
    assert article.authors == (Person("Erika Musterfrau"), Person("Max Muster"))
    assert article.date_published == "2024-05-03T14:32:00+02:00"
    assert article.date_modified == "2024-05-04T08:00:00+02:00"
    assert article.sections == ("Lokales", "Duisburg")
    assert article.keywords == ("Radwege", "Verkehr", "Rat")
    assert article.is_accessible_for_free is False
    assert article.publisher == "WAZ"
    assert article.has_body


def test_graph_with_id_references_and_organization_author() -> None:
    tree, source = _page(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "@id": "#site", "name": "xtranews"},
                {"@type": "Person", "@id": "#p1", "name": "Jana Beispiel"},
                {"@type": "Organization", "@id": "#org", "name": "xtranews Redaktion"},
                {
                    "@type": ["Article", "NewsArticle"],
                    "headline": "Grüne fordern Ausbau",
                    "author": [{"@id": "#p1"}, {"@id": "#org"}],
                    "publisher": {"@id": "#org"},
                },
            ],
        }
    )
    article = read_jsonld(tree, source)
    assert article is not None
    assert article.type == "Article"
    assert article.authors == (Person("Jana Beispiel"), Person("xtranews Redaktion", True))
    assert article.publisher == "xtranews Redaktion"


def test_main_object_is_the_one_with_a_headline() -> None:
    tree, source = _page(
        {"@type": "BlogPosting", "url": "https://x.de/teaser"},
        {"@type": "NewsArticle", "headline": "Die Meldung", "author": "Redaktion"},
    )
    article = read_jsonld(tree, source)
    assert article is not None and article.headline == "Die Meldung"
    assert article.authors == (Person("Redaktion"),)


def test_paywall_declared_on_a_part() -> None:
    tree, source = _page(
        {
            "@type": "NewsArticle",
            "headline": "Plus-Artikel",
            "isAccessibleForFree": False,
            "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": False},
        }
    )
    article = read_jsonld(tree, source)
    assert article is not None and article.is_accessible_for_free is False


def test_broken_and_wrapped_json_is_tolerated() -> None:
    raw = '<!-- {"@type": "NewsArticle", "headline": "Zeile\neins"} -->'
    tree, source = _page(raw=raw)
    article = read_jsonld(tree, source)
    assert article is not None and article.headline == "Zeile eins"
    tree, source = _page(raw='{"@type": "NewsArticle", "headline": ')
    assert read_jsonld(tree, source) is None


def test_no_article_objects() -> None:
    tree, source = _page({"@type": "WebSite", "name": "x"}, {"@type": "BreadcrumbList"})
    assert read_jsonld(tree, source) is None
    tree = parse_html("<html><body><p>x</p></body></html>")
    assert read_jsonld(tree, "<html><body><p>x</p></body></html>") is None
