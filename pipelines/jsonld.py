"""Read the article object of a page's JSON-LD (NewsArticle, Article, BlogPosting, @graph)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import html

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "LiveBlogPosting",
        "SocialMediaPosting",
        "Report",
        "ScholarlyArticle",
        "TechArticle",
    }
)
"""schema.org types that describe an article (Article and its subtypes news sites use)."""
ORGANIZATION_TYPES = frozenset({"Organization", "NewsMediaOrganization", "Corporation"})

_SCRIPT_XPATH = "//script[contains(@type, 'ld+json')]/text()"
_MAX_SCRIPT_CHARS = 2_000_000
# JSON-LD as CMSs print it: wrapped in HTML comments or CDATA, or with raw newlines in strings.
_WRAPPER = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")
_CONTROL = re.compile(r"[\x00-\x1f]")


@dataclass(frozen=True, slots=True)
class Person:
    """An author as JSON-LD names it; ``is_organization`` for Organization authors."""

    name: str
    is_organization: bool = False


@dataclass(frozen=True, slots=True)
class JsonLdArticle:
    """The fields of a page's main JSON-LD article object that the cleaner uses."""

    type: str
    headline: str | None = None
    description: str | None = None
    authors: tuple[Person, ...] = ()
    date_published: str | None = None
    date_modified: str | None = None
    sections: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    is_accessible_for_free: bool | None = None
    """False when the page declares its content paywalled; None when it says nothing."""
    publisher: str | None = None
    url: str | None = None
    has_body: bool = False
    """Whether the object carries ``articleBody`` text."""


def read_jsonld(tree: html.HtmlElement, source: str) -> JsonLdArticle | None:
    """The page's main article object, or None when its JSON-LD declares no article.

    Several article objects (a page that also describes teasers) resolve to the one with
    a headline and the most fields; ``@graph`` nodes and ``@id`` references are followed.
    """
    if "ld+json" not in source:
        return None
    nodes = list(_nodes(tree))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    articles = [node for node in nodes if _types(node) & ARTICLE_TYPES]
    if not articles:
        return None
    main = max(articles, key=lambda node: (bool(_text(node.get("headline"))), len(node)))
    return _article(main, by_id)


def _nodes(tree: html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object of every JSON-LD script, @graph and list members flattened."""
    for script in tree.xpath(_SCRIPT_XPATH):
        text = _WRAPPER.sub("", str(script)[:_MAX_SCRIPT_CHARS])
        try:
            data = json.loads(text)
        except ValueError:
            try:  # raw newlines or tabs inside strings: invalid JSON, common in the wild
                data = json.loads(_CONTROL.sub(" ", text))
            except ValueError:
                continue
        yield from _flatten(data, depth=0)


def _flatten(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _flatten(graph, depth + 1)
        main_entity = data.get("mainEntity")
        if isinstance(main_entity, dict):
            yield from _flatten(main_entity, depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    # "schema:NewsArticle" and "https://schema.org/NewsArticle" name the same type
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if isinstance(v, str)}


def _text(value: Any) -> str | None:
    """A clean string from a JSON-LD value: first of a list, ``name``/``@value`` of an object."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    cleaned = " ".join(str(value).split())
    return cleaned or None


def _texts(value: Any) -> tuple[str, ...]:
    """Strings from a list, or from one comma-separated string (``keywords``)."""
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        text = _text(item)
        if text is None:
            continue
        parts = text.split(",") if not isinstance(value, list) else [text]
        found += [p.strip() for p in parts if p.strip() and p.strip() not in found]
    return tuple(found)


def _people(value: Any, by_id: dict[str, dict[str, Any]]) -> tuple[Person, ...]:
    items = value if isinstance(value, list) else [value]
    people: list[Person] = []
    for item in items:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = by_id.get(item["@id"], item)
        name = _text(item)
        if not name:
            continue
        is_org = isinstance(item, dict) and bool(_types(item) & ORGANIZATION_TYPES)
        person = Person(name, is_org)
        if person not in people:
            people.append(person)
    return tuple(people)


def _free(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _accessible(node: dict[str, Any]) -> bool | None:
    """``isAccessibleForFree`` of the article, or of a part of it (Google's paywall markup)."""
    declared = _free(node.get("isAccessibleForFree"))
    parts = node.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and _free(part.get("isAccessibleForFree")) is False:
            return False
    return declared


def _article(node: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> JsonLdArticle:
    publisher = node.get("publisher")
    if isinstance(publisher, dict) and "name" not in publisher:
        publisher = by_id.get(str(publisher.get("@id")), publisher)
    main_entity = node.get("mainEntityOfPage")
    url = _text(node.get("url")) or (
        _text(main_entity.get("@id")) if isinstance(main_entity, dict) else _text(main_entity)
    )
    return JsonLdArticle(
        type=sorted(_types(node) & ARTICLE_TYPES)[0],
        headline=_text(node.get("headline")) or _text(node.get("name")),
        description=_text(node.get("description")),
        authors=_people(node.get("author"), by_id),
        date_published=_text(node.get("datePublished")) or _text(node.get("dateCreated")),
        date_modified=_text(node.get("dateModified")),
        sections=_texts(node.get("articleSection")),
        keywords=_texts(node.get("keywords")),
        is_accessible_for_free=_accessible(node),
        publisher=_text(publisher),
        url=url,
        has_body=bool(_text(node.get("articleBody"))),
    )
