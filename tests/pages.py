"""Helpers for tests that need FetchedPages."""

from __future__ import annotations

from crawler.items import FetchedPage
from tests.factories import FETCHED_AT


def make_page(
    body: bytes,
    *,
    url: str = "https://www.example-lokal.de/2026/11/25/artikel/",
    content_type: str | None = "text/html; charset=utf-8",
    status: int = 200,
    site: str = "example",
    hints: dict[str, str] | None = None,
) -> FetchedPage:
    """A FetchedPage as the crawler or the WARC reader would produce it."""
    headers = (("Content-Type", content_type),) if content_type else ()
    return FetchedPage(
        site=site,
        url=url,
        final_url=url,
        status=status,
        headers=headers,
        fetched_at=FETCHED_AT,
        body=body,
        hints=hints or {},
    )


def article_html(
    paragraphs: list[str],
    *,
    title: str = "Neue Radwege für Duisburg",
    head: str = "",
    lang: str = "de",
) -> str:
    """A small but realistic article page."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><header><nav><a href='/'>Startseite</a></nav></header>"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        "<footer><p>© 2026 Lokalverlag</p></footer></body></html>"
    )


GERMAN_PARAGRAPHS = [
    "Die Stadt Duisburg will in den kommenden zwei Jahren mehr als zwanzig Kilometer neue "
    "Radwege bauen. Das hat der Rat am Donnerstag mit großer Mehrheit beschlossen.",
    "Besonders im Süden der Stadt sollen Lücken im Netz geschlossen werden. Anwohner hatten "
    "sich seit Jahren über gefährliche Straßenübergänge beschwert, vor allem an der "
    "Düsseldorfer Straße.",
    "Die Kosten von rund zwölf Millionen Euro trägt zum größten Teil das Land Nordrhein-Westfalen. "
    "Baubeginn ist für das Frühjahr geplant; die Arbeiten sollen abschnittsweise erfolgen.",
]
