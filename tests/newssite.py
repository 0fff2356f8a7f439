"""A fixture German local news site on 127.0.0.1 with a manifest of what a correct crawl finds."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import random
import re
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from lxml import html as lxml_html

from benchmarks.evalset import EvalPage, default_eval_dir, load_eval

SITE_NAME = "Niederrhein Lokal"
SECTIONS = ("lokales", "sport", "politik")
SECTION_TITLES = {"lokales": "Lokales", "sport": "Sport", "politik": "Politik"}
QUERY_PAGINATED = "politik"
"""The section paginated as ``/politik/?seite=N``; the others use ``/<section>/page/N/``."""
PER_PAGE = 10
NEWS_SITEMAP_SIZE = 20
FEED_SIZE = 20
TAG_PATH = "/tag/duisburg/"
AUTHOR_PATH = "/autor/redaktion/"
INTERN_PATH = "/intern/geheim/"
REDIRECT_PATH = "/alt/artikel-1/"
DEAD_PATH = "/2019/03/14/geloeschter-artikel/"
PDF_PATH = "/files/haushalt.pdf"
TZ = timezone(timedelta(hours=1))
NEWEST = datetime(2024, 5, 3, 9, 30, tzinfo=TZ)
STEP = timedelta(hours=7, minutes=13)
HTML_TYPE = "text/html; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
PDF_BODY = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
    b"/Count 1>>endobj\n3 0 obj<</Type/Page/MediaBox[0 0 595 842]/Parent 2 0 R>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

Render = Callable[[str], bytes]
"""Renders a body for a base URL such as ``http://127.0.0.1:8000`` (no trailing slash)."""


@dataclass(frozen=True, slots=True)
class Route:
    """What one path serves; the body is rendered on request so absolute URLs use the base."""

    status: int
    headers: tuple[tuple[str, str], ...]
    render: Render


@dataclass(frozen=True, slots=True)
class ManifestArticle:
    """One article a correct crawl must find, and what the site says about it."""

    path: str
    """Local path, ``/YYYY/MM/DD/<slug>/``; the full URL is ``base_url + path``."""
    title: str | None
    """Expected cleaned title; None where the eval set gives none."""
    snippet: str
    """Whitespace-normalised text that must appear in the cleaned text."""
    published: datetime
    """Time zone aware publication time given to sitemaps and the feed (and the URL's date)."""
    page_date: str | None
    """YYYY-MM-DD the page itself states (eval gold date; for synthetic pages = published)."""
    section: str
    section_page: str
    """Path of the section archive page that teases this article."""
    sitemap: str
    """``/sitemap-posts.xml`` or ``/sitemap-old.xml.gz``."""
    in_news_sitemap: bool
    in_feed: bool
    amp_path: str | None
    """``<path>amp/`` when the article has an AMP reader variant, else None."""
    source: str
    """``synthetic`` or the eval page id whose raw HTML is served."""

    def url(self, base_url: str) -> str:
        """The article's absolute URL on a running server."""
        return base_url + self.path


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything a crawl of the fixture site should (and should not) touch."""

    articles: tuple[ManifestArticle, ...]
    start_paths: tuple[str, ...] = tuple(f"/{s}/" for s in SECTIONS)
    sitemap_paths: tuple[str, ...] = ("/sitemap_index.xml",)
    feed_paths: tuple[str, ...] = ("/feed/",)
    disallowed_paths: tuple[str, ...] = (INTERN_PATH,)
    """Linked from the home page but disallowed by robots.txt: must never be requested."""
    dead_paths: tuple[str, ...] = (DEAD_PATH,)
    """Linked (from synthetic articles, AMP pages and ``/lokales/``) but answered with 404."""
    redirects: tuple[tuple[str, str], ...] = ()
    """(from path, to path) answered with 301."""
    non_html: tuple[tuple[str, str], ...] = ((PDF_PATH, "application/pdf"),)
    """(path, content type) of linked files that are not pages."""


@dataclass(slots=True)
class FixtureSite:
    """The in-memory site: routes by path (or path + query), the manifest, request counts."""

    routes: dict[str, Route]
    manifest: Manifest
    requests: Counter[str] = field(default_factory=Counter)
    """Requests per path, query stripped: ``/x/?utm_source=rss`` counts as ``/x/``."""
    targets: Counter[str] = field(default_factory=Counter)
    """Requests per request target, query included."""
    not_modified: int = 0
    """Requests answered 304 (their ``If-None-Match`` matched the page's ETag)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, target: str) -> Route | None:
        """The route for a request target: exact (with query) first, then the bare path."""
        return self.routes.get(target) or self.routes.get(urlsplit(target).path)

    def count(self, target: str) -> None:
        """Record one request (thread-safe)."""
        with self.lock:
            self.requests[urlsplit(target).path] += 1
            self.targets[target] += 1


@dataclass(frozen=True, slots=True)
class _Spec:
    """Build-time description of one article; bodies are rendered from it on request."""

    index: int
    meta: ManifestArticle
    author: str
    lead: str
    tags: tuple[str, ...]
    eval_page: EvalPage | None
    paragraphs_seed: str


# ---------------------------------------------------------------- synthetic German text

_TOWNS = ("Duisburg", "Moers", "Oberhausen", "Dinslaken", "Wesel", "Kamp-Lintfort", "Rheinberg")
_DISTRICTS = ("Hochfeld", "Ruhrort", "Meiderich", "Rheinhausen", "Homberg", "Walsum", "Hamborn")
_STREETS = ("Düsseldorfer Straße", "Königstraße", "Friedrich-Ebert-Straße", "Am Burgacker")
_PEOPLE = ("Sabine Krüger", "Thomas Wendland", "Aylin Demir", "Jürgen Hoffmann", "Petra Lübke")
_AUTHORS = ("Redaktion", "Martina Schäfer", "Kai Brüggemann", "Lena Özdemir", "Frank Theißen")
_CLUBS = ("MSV Duisburg", "SV Sonsbeck", "GSV Moers", "VfB Homberg", "TuS Asterlagen")
_PARTIES = ("SPD", "CDU", "die Grünen", "die FDP", "die Linke")
_DAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag")
_HEADLINES = {
    "lokales": (
        "{town}: Neue Kita an der {street} öffnet im Herbst",
        "Wochenmarkt in {district} zieht um",
        "Stadtbibliothek {town} wird für {n} Millionen Euro saniert",
        "Anwohner in {district} klagen über Baustellenlärm",
    ),
    "sport": (
        "{club} gewinnt Derby mit {goals}",
        "Trainerwechsel beim {club}",
        "Hallenbad in {district} öffnet wieder für Vereine",
        "{club} verpflichtet Torwart aus der Regionalliga",
    ),
    "politik": (
        "Rat der Stadt {town} beschließt neuen Haushalt",
        "{party_cap} fordern mehr Radwege in {district}",
        "Bürgerentscheid zum Bad in {town} rückt näher",
        "Bezirksvertretung {district} vertagt Entscheidung zur {street}",
    ),
}
_SENTENCES = (
    "Die Stadt {town} will in den kommenden Monaten rund {n} Millionen Euro investieren.",
    "Anwohner aus {district} hatten sich seit Jahren über die Lage an der {street} beschwert.",
    "„Wir haben lange darauf gewartet“, sagte {person} am {day} bei einem Ortstermin.",
    "Nach Angaben der Verwaltung sollen die Arbeiten im Frühjahr beginnen.",
    "Der Ausschuss hatte sich bereits im vergangenen Jahr mit dem Thema befasst.",
    "{party_cap} kritisierten, dass die Bürger zu spät beteiligt worden seien.",
    "Beim {club} zeigte man sich nach dem Spiel am {day} zufrieden.",
    "Rund {people} Menschen kamen nach Schätzung der Veranstalter in die Innenstadt.",
    "Die Polizei meldete am Abend keine besonderen Vorkommnisse.",
    "Ein Sprecher der Stadt bestätigte die Pläne auf Nachfrage dieser Redaktion.",
    "Ob der Zeitplan zu halten ist, hängt auch von der Förderung des Landes ab.",
    "In {district} gibt es seit dem Sommer eine Bürgerinitiative, die sich dafür einsetzt.",
    "Die Kosten trägt zum größten Teil das Land Nordrhein-Westfalen.",
    "{person} verwies darauf, dass ähnliche Projekte in {town2} gut angenommen worden seien.",
    "Bis zur nächsten Sitzung soll die Verwaltung weitere Varianten prüfen.",
)


def _fill(template: str, rng: random.Random) -> str:
    party = rng.choice(_PARTIES)
    values = {
        "town": rng.choice(_TOWNS),
        "town2": rng.choice(_TOWNS),
        "district": rng.choice(_DISTRICTS),
        "street": rng.choice(_STREETS),
        "person": rng.choice(_PEOPLE),
        "club": rng.choice(_CLUBS),
        "party_cap": party[0].upper() + party[1:],
        "day": rng.choice(_DAYS),
        "n": str(rng.randint(2, 40)),
        "people": str(rng.randrange(200, 5000, 50)),
        "goals": f"{rng.randint(1, 4)}:{rng.randint(0, 3)}",
    }
    return template.format(**values)


def _paragraphs(seed: str) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(_fill(rng.choice(_SENTENCES), rng) for _ in range(rng.randint(3, 5)))
        for _ in range(rng.randint(4, 8))
    ]


def _synthetic_spec(index: int, seed: int, section: str, published: datetime) -> _Spec:
    rng = random.Random(f"{seed}:{index}")
    title = _fill(rng.choice(_HEADLINES[section]), rng)
    lead = _fill(rng.choice(_SENTENCES), rng)
    person, district = rng.choice(_PEOPLE), rng.choice(_DISTRICTS)
    snippet = (
        f"Die Vorlage mit der Drucksachennummer {published:%y}/{index:05d} hatte {person} "
        f"bereits im Frühjahr in der Bezirksvertretung {district} vorgestellt."
    )
    slug = f"{_slugify(title)}-{index}"
    meta = _meta(index, slug, title, snippet, published, published.date().isoformat(), section)
    tags = ("Duisburg",) if index % 4 == 0 else (rng.choice(_TOWNS),)
    author = "Redaktion" if index % 5 == 0 else rng.choice(_AUTHORS[1:])
    return _Spec(index, meta, author, lead, tags, None, f"{seed}:{index}:body")


# ---------------------------------------------------------------- eval pages


def _eval_candidates(eval_dir: Path, seed: int) -> list[tuple[EvalPage, str]]:
    """German eval pages with ground truth, each with a snippet verified in the page text."""
    chosen: list[tuple[EvalPage, str]] = []
    for page in load_eval(eval_dir):
        if page.lang != "de" or not (page.body or page.with_snippets):
            continue
        try:
            text = " ".join(lxml_html.fromstring(page.read_html()).text_content().split())
        except (ValueError, OSError):
            continue
        for candidate in _snippet_candidates(page):
            if candidate in text:
                chosen.append((page, candidate))
                break
    random.Random(seed).shuffle(chosen)
    return chosen


def _snippet_candidates(page: EvalPage) -> Iterator[str]:
    for snippet in page.with_snippets:
        yield " ".join(snippet.split())
    paragraphs = [p for p in (page.body or "").split("\n\n") if len(p) > 80]
    mid = len(paragraphs) // 2
    for paragraph in paragraphs[mid:] + paragraphs[:mid]:
        words = paragraph.split()[:10]
        yield " ".join(words)


def _eval_spec(
    index: int, page: EvalPage, snippet: str, cycle: int, section: str, published: datetime
) -> _Spec:
    words = (page.title or "").split()[:8] or [urlsplit(page.url or "").path.rstrip("/")[-60:]]
    stem = _slugify(" ".join(words)) or _slugify(page.id)[:60]
    slug = f"{stem}-{cycle + 1}" if cycle else stem
    meta = _meta(index, slug, page.title, snippet, published, page.date, section)
    tags = ("Duisburg",) if index % 4 == 0 else ()
    return _Spec(index, meta, "Redaktion", "", tags, page, "")


def _meta(
    index: int,
    slug: str,
    title: str | None,
    snippet: str,
    published: datetime,
    page_date: str | None,
    section: str,
) -> ManifestArticle:
    return ManifestArticle(
        path=f"/{published:%Y/%m/%d}/{slug}/",
        title=title,
        snippet=snippet,
        published=published,
        page_date=page_date,
        section=section,
        section_page="",
        sitemap="",
        in_news_sitemap=index < NEWS_SITEMAP_SIZE,
        in_feed=index < FEED_SIZE,
        amp_path=None,
        source="synthetic",
    )


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _slugify(text: str) -> str:
    text = text.lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


# ---------------------------------------------------------------- building


def build_site(n_articles: int, *, eval_dir: Path | None = None, seed: int = 0) -> FixtureSite:
    """Build the site with ``n_articles`` articles, newest first.

    Real German eval pages (raw bytes) when ``eval_dir`` (default: the shared eval folder, if
    present) holds them, cycled under distinct slugs; otherwise synthetic articles from ``seed``.
    """
    folder = eval_dir if eval_dir is not None else default_eval_dir()
    candidates = _eval_candidates(folder, seed) if (folder / "manifest.jsonl").is_file() else []
    specs: list[_Spec] = []
    for index in range(n_articles):
        section = SECTIONS[index % len(SECTIONS)]
        published = NEWEST - index * STEP
        if candidates:
            page, snippet = candidates[index % len(candidates)]
            cycle = index // len(candidates)
            spec = _eval_spec(index, page, snippet, cycle, section, published)
        else:
            spec = _synthetic_spec(index, seed, section, published)
        specs.append(_finish(spec, index, n_articles))
    routes = _routes(specs)
    redirect_to = specs[min(1, n_articles - 1)].meta.path if specs else "/"
    routes[REDIRECT_PATH] = Route(
        301, (("Content-Type", HTML_TYPE),), lambda base: _redirect_body(base + redirect_to)
    )
    manifest = Manifest(
        articles=tuple(s.meta for s in specs), redirects=((REDIRECT_PATH, redirect_to),)
    )
    return FixtureSite(routes=routes, manifest=manifest)


def _finish(spec: _Spec, index: int, total: int) -> _Spec:
    """Fill in where the article is listed and whether it has an AMP variant."""
    meta = spec.meta
    position = index // len(SECTIONS)
    page_no = position // PER_PAGE + 1
    # AMP variants: every fifth synthetic article; every eval page with a gold body and title
    # (the AMP reader page is rendered from that body, as the plugin renders the post)
    page = spec.eval_page
    amp = index % 5 == 0 if page is None else bool(page.body and meta.title)
    meta = replace(
        meta,
        section_page=_section_page_path(meta.section, page_no),
        sitemap="/sitemap-posts.xml" if index < (total + 1) // 2 else "/sitemap-old.xml.gz",
        amp_path=meta.path + "amp/" if amp else None,
        source=spec.eval_page.id if spec.eval_page else "synthetic",
    )
    return replace(spec, meta=meta)


def _section_page_path(section: str, page_no: int) -> str:
    if page_no == 1:
        return f"/{section}/"
    if section == QUERY_PAGINATED:
        return f"/{section}/?seite={page_no}"
    return f"/{section}/page/{page_no}/"


def _routes(specs: list[_Spec]) -> dict[str, Route]:
    routes: dict[str, Route] = {}

    def add(path: str, content_type: str, render: Render) -> None:
        routes[path] = Route(200, (("Content-Type", content_type),), render)

    for spec in specs:
        add(
            spec.meta.path,
            HTML_TYPE if spec.eval_page is None else "text/html",
            partial(_article_body, spec=spec),
        )
        if spec.meta.amp_path:
            add(spec.meta.amp_path, HTML_TYPE, partial(_amp_body, spec=spec))
    for section in SECTIONS:
        listed = [s for s in specs if s.meta.section == section]
        pages = max(1, -(-len(listed) // PER_PAGE))
        for page_no in range(1, pages + 1):
            chunk = listed[(page_no - 1) * PER_PAGE : page_no * PER_PAGE]
            add(
                _section_page_path(section, page_no),
                HTML_TYPE,
                partial(_section_body, section=section, page_no=page_no, pages=pages, specs=chunk),
            )
    add("/", HTML_TYPE, lambda base: _home_body(base, specs[:PER_PAGE]))
    add(
        TAG_PATH,
        HTML_TYPE,
        lambda base: _listing_body(
            base, "Schlagwort: Duisburg", [s for s in specs if "Duisburg" in s.tags][:50]
        ),
    )
    add(
        AUTHOR_PATH,
        HTML_TYPE,
        lambda base: _listing_body(
            base, "Autor: Redaktion", [s for s in specs if s.author == "Redaktion"][:50]
        ),
    )
    add(INTERN_PATH, HTML_TYPE, lambda base: _page(base, "Intern", "<p>Interne Notizen.</p>"))
    add(PDF_PATH, "application/pdf", lambda base: PDF_BODY)
    add("/robots.txt", "text/plain; charset=utf-8", _robots_body)
    add("/sitemap_index.xml", XML_TYPE, _sitemap_index_body)
    half = (len(specs) + 1) // 2
    add("/sitemap-posts.xml", XML_TYPE, lambda base: _urlset_body(base, specs[:half]))
    add(
        "/sitemap-old.xml.gz",
        "application/gzip",
        lambda base: gzip.compress(_urlset_body(base, specs[half:]), mtime=0),
    )
    add("/news-sitemap.xml", XML_TYPE, lambda base: _news_body(base, specs[:NEWS_SITEMAP_SIZE]))
    add(
        "/feed/",
        "application/rss+xml; charset=utf-8",
        lambda base: _feed_body(base, specs[:FEED_SIZE]),
    )
    return routes


# ---------------------------------------------------------------- rendering


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _headline(spec: _Spec) -> str:
    return spec.meta.title or spec.meta.path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")


def _page(base: str, title: str, main: str, head: str = "") -> bytes:
    nav = "".join(f'<li><a href="{base}/{s}/">{SECTION_TITLES[s]}</a></li>' for s in SECTIONS)
    return (
        f'<!DOCTYPE html>\n<html lang="de-DE"><head><meta charset="utf-8">'
        f"<title>{_e(title)} – {SITE_NAME}</title>"
        f'<link rel="alternate" type="application/rss+xml" href="{base}/feed/">{head}</head>'
        f'<body><a class="skip-link" href="#main">Zum Inhalt springen</a>'
        f'<header><a href="{base}/">{SITE_NAME}</a><nav><ul>{nav}</ul></nav></header>'
        f'<main id="main">{main}</main>'
        '<div class="cookie-notice">Diese Website verwendet Cookies. '
        "<button>Akzeptieren</button></div>"
        f'<footer><p>© 2024 {SITE_NAME} · <a href="{base}/impressum/">Impressum</a></p></footer>'
        "</body></html>\n"
    ).encode()


def _article_body(base: str, spec: _Spec) -> bytes:
    if spec.eval_page is not None:
        return _inject_head(spec.eval_page.read_html(), base, spec)
    meta, url = spec.meta, base + spec.meta.path
    paragraphs = _paragraphs(spec.paragraphs_seed)
    paragraphs.insert(min(2, len(paragraphs)), meta.snippet)
    iso = meta.published.isoformat()
    ld = (
        '{"@context":"https://schema.org","@type":"NewsArticle",'
        f'"headline":{_json(_headline(spec))},"datePublished":"{iso}","dateModified":"{iso}",'
        f'"author":{{"@type":"Person","name":{_json(spec.author)}}},'
        f'"publisher":{{"@type":"Organization","name":"{SITE_NAME}"}},'
        f'"mainEntityOfPage":"{url}","articleSection":"{SECTION_TITLES[meta.section]}"}}'
    )
    head = (
        f'<link rel="canonical" href="{url}"><meta name="author" content="{_e(spec.author)}">'
        f'<meta property="og:type" content="article"><meta property="og:url" content="{url}">'
        f'<meta property="og:title" content="{_e(_headline(spec))}">'
        f'<meta name="description" content="{_e(spec.lead)}">'
        f'<meta property="article:published_time" content="{iso}">'
        f'<meta property="article:section" content="{SECTION_TITLES[meta.section]}">'
        + "".join(f'<meta property="article:tag" content="{_e(t)}">' for t in spec.tags)
        + (f'<link rel="amphtml" href="{base}{meta.amp_path}">' if meta.amp_path else "")
        + f'<script type="application/ld+json">{ld}</script>'
    )
    body = "".join(f"<p>{_e(p)}</p>" for p in paragraphs)
    main = (
        f'<article class="post"><header><h1 class="entry-title">{_e(_headline(spec))}</h1>'
        f'<p class="byline">Von <span class="author">{_e(spec.author)}</span> · '
        f'<time datetime="{iso}">{meta.published:%d.%m.%Y, %H:%M} Uhr</time></p></header>'
        f'<p class="lead"><strong>{_e(spec.lead)}</strong></p>'
        f'<div class="entry-content">{body}</div></article>'
        f'<aside class="related"><h2>Mehr zum Thema</h2><ul><li><a href="{base}{DEAD_PATH}">'
        "Rat stimmt über Schulneubau ab</a></li></ul></aside>"
        '<div class="sharedaddy"><h3>Teilen mit:</h3><a href="#">Facebook</a></div>'
        '<div id="respond"><h3>Schreibe einen Kommentar</h3><p>Deine E-Mail-Adresse wird nicht '
        "veröffentlicht.</p></div>"
    )
    return _page(base, _headline(spec), main, head)


def _json(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\u003c") + '"'


_HEAD_RE = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)
_OWN_LINK_RE = re.compile(rb"(<link\b[^>]*?\brel\s*=\s*[\"']?)(canonical|amphtml)\b", re.I)
_BASE_RE = re.compile(rb"<base\b", re.IGNORECASE)


def _inject_head(raw: bytes, base: str, spec: _Spec) -> bytes:
    """The eval page's bytes with a local canonical (and amphtml, base) first in its head.

    The page's own canonical/amphtml links are renamed ``x-original-…`` so each page has one
    canonical, the local URL; a ``<base>`` with the original URL keeps the page's relative
    links pointing where they pointed (off-site) instead of at 404s on this server.
    """
    url = base + spec.meta.path
    extra = f'<link rel="canonical" href="{url}">'
    if spec.meta.amp_path:
        extra += f'<link rel="amphtml" href="{base}{spec.meta.amp_path}">'
    assert spec.eval_page is not None
    if spec.eval_page.url and not _BASE_RE.search(raw):
        extra = f'<base href="{_e(spec.eval_page.url)}">' + extra
    raw = _OWN_LINK_RE.sub(rb"\1x-original-\2", raw)
    match = _HEAD_RE.search(raw)
    at = match.end() if match else 0
    return raw[:at] + extra.encode("ascii", "xmlcharrefreplace") + raw[at:]


def _amp_body(base: str, spec: _Spec) -> bytes:
    """WordPress AMP plugin reader-mode markup (see tests/fixtures/amp_reader_xtranews.html)."""
    meta, url = spec.meta, base + spec.meta.path
    if spec.eval_page is not None and spec.eval_page.body:
        paragraphs = spec.eval_page.body.split("\n\n")
    else:
        paragraphs = _paragraphs(spec.paragraphs_seed)
        paragraphs.insert(min(2, len(paragraphs)), meta.snippet)
    iso, title = meta.published.isoformat(), _headline(spec)
    content = "".join(f"<p>{_e(p)}</p>\n" for p in paragraphs)
    return (
        '<!DOCTYPE html>\n<html amp lang="de-DE" transformed="self;v=1">\n<head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width">\n'
        f"<title>{_e(title)} &#8211; {SITE_NAME}</title>\n"
        f'<link rel="canonical" href="{url}">\n'
        '<meta name="generator" content="AMP Plugin v2.5.4; mode=reader; theme=legacy">\n'
        '<script type="application/ld+json">{"@context":"http://schema.org",'
        f'"@type":"BlogPosting","mainEntityOfPage":"{url}","headline":{_json(title)},'
        f'"datePublished":"{iso}","author":{{"@type":"Person","name":{_json(spec.author)}}}}}'
        "</script>\n</head>\n<body>\n"
        f'<header id="top" class="amp-wp-header"><div><a href="{base}/">'
        '<amp-img alt="Website-Icon" width="32" height="32"></amp-img>'
        f'<span class="amp-site-title">{SITE_NAME}</span></a></div></header>\n'
        '<article class="amp-wp-article">\n<header class="amp-wp-article-header">'
        f'<h1 class="amp-wp-title">{_e(title)}</h1>'
        '<div class="amp-wp-meta amp-wp-byline">'
        f'<span class="amp-wp-author author vcard">{_e(spec.author)}</span></div>'
        f'<div class="amp-wp-meta amp-wp-posted-on"><time datetime="{iso}">vor 2 Tagen</time>'
        "</div></header>\n"
        f'<div class="amp-wp-article-content">\n{content}</div>\n'
        '<footer class="amp-wp-article-footer"><div class="amp-wp-meta amp-wp-tax-category">'
        f'Kategorien: <a href="{base}/{meta.section}/" rel="category tag">'
        f"{SECTION_TITLES[meta.section]}</a></div>"
        f'<div class="amp-wp-meta">Mehr zum Thema: <a href="{base}{DEAD_PATH}">Schulneubau</a>'
        f'</div><div class="amp-wp-meta amp-wp-comments-link"><a href="{url}#respond">'
        "Einen Kommentar hinterlassen</a></div></footer>\n</article>\n"
        f'<footer class="amp-wp-footer"><div><h2>{SITE_NAME}</h2>'
        '<a href="#top" class="back-to-top">Nach oben scrollen</a></div></footer>\n'
        f'<div id="amp-mobile-version-switcher"><a rel="nofollow" href="{url}?noamp=mobile">'
        "Die mobile Version verlassen</a></div>\n</body>\n</html>\n"
    ).encode()


def _teasers(base: str, specs: list[_Spec]) -> str:
    return "".join(
        f'<article class="teaser"><h2><a href="{base}{s.meta.path}">{_e(_headline(s))}</a></h2>'
        f'<time datetime="{s.meta.published.isoformat()}">{s.meta.published:%d.%m.%Y}</time>'
        + (f"<p>{_e(s.lead)}</p>" if s.lead else "")
        + "</article>"
        for s in specs
    )


def _section_body(base: str, section: str, page_no: int, pages: int, specs: list[_Spec]) -> bytes:
    links = ""
    if page_no > 1:
        links += f'<a rel="prev" href="{base}{_section_page_path(section, page_no - 1)}">'
        links += "Neuere Beiträge</a> "
    if page_no < pages:
        links += (
            f'<a class="next" rel="next" href="{base}{_section_page_path(section, page_no + 1)}">'
        )
        links += "Ältere Beiträge</a>"
    extra = ""
    if section == "lokales" and page_no == 1:
        extra = (
            f'<p><a href="{base}{PDF_PATH}">Haushaltsplan 2024 (PDF)</a></p>'
            f'<article class="teaser"><h2><a href="{base}{DEAD_PATH}">Rat stimmt über Schulneubau '
            "ab</a></h2></article>"
        )
    title = SECTION_TITLES[section] + (f" – Seite {page_no}" if page_no > 1 else "")
    main = f'<h1>{title}</h1>{extra}{_teasers(base, specs)}<nav class="pagination">{links}</nav>'
    return _page(base, title, main)


def _listing_body(base: str, title: str, specs: list[_Spec]) -> bytes:
    return _page(base, title, f"<h1>{_e(title)}</h1>{_teasers(base, specs)}")


def _home_body(base: str, newest: list[_Spec]) -> bytes:
    links = "".join(
        f'<li><a href="{base}{path}">{label}</a></li>'
        for path, label in (
            (TAG_PATH, "Duisburg"),
            (AUTHOR_PATH, "Redaktion"),
            (INTERN_PATH, "Intern"),
            (REDIRECT_PATH, "Aus dem Archiv"),
        )
    )
    main = f'<h1>{SITE_NAME}</h1><ul class="topics">{links}</ul>{_teasers(base, newest)}'
    return _page(base, "Startseite", main)


def _redirect_body(location: str) -> bytes:
    return f'<html><body><a href="{_e(location)}">Moved Permanently</a></body></html>'.encode()


def _robots_body(base: str) -> bytes:
    return (
        f"User-agent: *\nDisallow: /intern/\nDisallow: /wp-admin/\n\n"
        f"Sitemap: {base}/sitemap_index.xml\n"
    ).encode()


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_SM_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _sitemap_index_body(base: str) -> bytes:
    lastmod = NEWEST.isoformat()
    entries = "".join(
        f"<sitemap><loc>{base}{path}</loc><lastmod>{lastmod}</lastmod></sitemap>\n"
        for path in ("/sitemap-posts.xml", "/news-sitemap.xml", "/sitemap-old.xml.gz")
    )
    return f"{_XML_HEAD}<sitemapindex {_SM_NS}>\n{entries}</sitemapindex>\n".encode()


def _urlset_body(base: str, specs: list[_Spec]) -> bytes:
    entries = "".join(
        f"<url><loc>{base}{s.meta.path}</loc><lastmod>{s.meta.published.isoformat()}</lastmod>"
        "</url>\n"
        for s in specs
    )
    return f"{_XML_HEAD}<urlset {_SM_NS}>\n{entries}</urlset>\n".encode()


def _news_body(base: str, specs: list[_Spec]) -> bytes:
    entries = "".join(
        f"<url><loc>{base}{s.meta.path}</loc><news:news><news:publication>"
        f"<news:name>{SITE_NAME}</news:name><news:language>de</news:language>"
        f"</news:publication><news:publication_date>{s.meta.published.isoformat()}"
        f"</news:publication_date><news:title>{_e(_headline(s))}</news:title></news:news></url>\n"
        for s in specs
    )
    news_ns = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    return f"{_XML_HEAD}<urlset {_SM_NS} {news_ns}>\n{entries}</urlset>\n".encode()


def _feed_body(base: str, specs: list[_Spec]) -> bytes:
    items = "".join(
        f"<item><title>{_e(_headline(s))}</title>"
        f"<link>{base}{s.meta.path}?utm_source=rss&amp;utm_medium=rss&amp;utm_campaign="
        f"{s.meta.path.rstrip('/').rsplit('/', 1)[-1]}</link>"
        f'<guid isPermaLink="true">{base}{s.meta.path}</guid>'
        f"<pubDate>{s.meta.published:%a, %d %b %Y %H:%M:%S %z}</pubDate>"
        f"<category>{SECTION_TITLES[s.meta.section]}</category></item>\n"
        for s in specs
    )
    return (
        f'{_XML_HEAD}<rss version="2.0"><channel><title>{SITE_NAME}</title>'
        f"<link>{base}/</link><description>Nachrichten vom Niederrhein</description>"
        f"<language>de-DE</language>\n{items}</channel></rss>\n"
    ).encode()


def _not_found_body(base: str) -> bytes:
    return _page(base, "Seite nicht gefunden", "<h1>Seite nicht gefunden</h1><p>Fehler 404.</p>")


# ---------------------------------------------------------------- serving


@contextmanager
def serve(site: FixtureSite, *, gzip_html: bool = False) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (port 0) in a daemon thread; yield the base URL.

    Bodies are rendered with the request's Host header (else the bound address), so absolute
    links match the name the client used. ``gzip_html`` compresses HTML for clients that send
    ``Accept-Encoding: gzip``.
    """
    server = _QuietServer(("127.0.0.1", 0), _handler(site, gzip_html))
    server.daemon_threads = True
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="newssite", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _QuietServer(ThreadingHTTPServer):
    """Ignores clients that hang up mid-request (crash tests kill the crawler on purpose)."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler(site: FixtureSite, gzip_html: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._respond(send_body=True)

        def do_HEAD(self) -> None:
            self._respond(send_body=False)

        def _respond(self, *, send_body: bool) -> None:
            site.count(self.path)
            host = self.headers.get("Host") or "127.0.0.1"
            base = f"http://{host}"
            route = site.route(self.path)
            if route is None:
                route = Route(404, (("Content-Type", HTML_TYPE),), _not_found_body)
            body = route.render(base)
            headers = list(route.headers)
            if route.status in (301, 302) and not any(n == "Location" for n, _ in headers):
                target = dict(site.manifest.redirects).get(urlsplit(self.path).path, "/")
                headers.append(("Location", base + target))
            encoding = self.headers.get("Accept-Encoding", "")
            if gzip_html and "gzip" in encoding and route.headers[0][1].startswith("text/html"):
                body = gzip.compress(body, mtime=0)
                headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
            if route.status == 200:
                # Conditional GET as common servers do it (strong ETag of the bytes sent).
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                headers.append(("ETag", etag))
                if self.headers.get("If-None-Match") == etag:
                    with site.lock:
                        site.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            self.send_response(route.status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Silence per-request logging; tests read ``site.requests`` instead."""

    return Handler


def loopback_sites_file(
    path: Path, site_id: str, name: str, base_url: str, start_paths: Iterable[str] = ("/",)
) -> Path:
    """Write a sites file with one site on ``base_url`` that starts at ``start_paths``."""
    start_urls = ", ".join(json.dumps(base_url + p) for p in start_paths)
    path.write_text(
        f'[[site]]\nid = "{site_id}"\nname = "{name}"\nurl = "{base_url}/"\n'
        f'allowed_domains = ["127.0.0.1"]\nstart_urls = [{start_urls}]\nlanguage = "de"\n',
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True, slots=True)
class NewsSiteFixture:
    """A running fixture site as the ``news_site`` pytest fixture yields it."""

    base_url: str
    site: FixtureSite

    def sites_toml(self, tmp_path: Path) -> Path:
        """Write a sites file with one ``[[site]]`` table (id ``fixture``) for this server."""
        manifest, base = self.site.manifest, self.base_url

        def urls(paths: tuple[str, ...]) -> str:
            return "[" + ", ".join(json.dumps(base + p) for p in paths) + "]"

        text = (
            "[[site]]\n"
            'id = "fixture"\n'
            f"name = {json.dumps(SITE_NAME + ' (Testseite)', ensure_ascii=False)}\n"
            f"url = {json.dumps(base + '/')}\n"
            'allowed_domains = ["127.0.0.1"]\n'
            f"sitemaps = {urls(manifest.sitemap_paths)}\n"
            f"feeds = {urls(manifest.feed_paths)}\n"
            f"start_urls = {urls(manifest.start_paths)}\n"
            'language = "de"\n'
        )
        path = tmp_path / "sites.toml"
        path.write_text(text, encoding="utf-8")
        return path
