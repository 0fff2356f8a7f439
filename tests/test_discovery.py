"""Sitemaps, feeds, robots.txt, pagination and horizon helpers, including hostile XML."""

from __future__ import annotations

import contextlib
import gzip
import resource
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.discovery import (
    MAX_XML_BYTES,
    DiscoveryError,
    Link,
    Sitemap,
    is_archive_link,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
    within_horizon,
)

BASE = "https://www.example-zeitung.de/sitemap.xml"

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <url>
    <loc>https://www.example-zeitung.de/2024/05/12/stadtrat-beschliesst-haushalt/</loc>
    <lastmod>2024-05-12T09:30:00+02:00</lastmod>
    <image:image><image:loc>https://www.example-zeitung.de/bild.jpg</image:loc></image:image>
    <xhtml:link rel="alternate" hreflang="en" href="https://www.example-zeitung.de/en/x"/>
  </url>
  <url><loc>
      /lokales/feuerwehr-einsatz/
  </loc></url>
  <url><loc>mailto:redaktion@example-zeitung.de</loc></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>ftp://www.example-zeitung.de/file</loc></url>
  <url><loc></loc></url>
  <url><lastmod>2024-05-01</lastmod></url>
  <url><loc>https://www.example-zeitung.de/lokales/feuerwehr-einsatz/</loc></url>
</urlset>
"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://www.example-zeitung.de/lokales/baustelle-b27</loc>
    <lastmod>2024-05-13T10:00:00+02:00</lastmod>
    <news:news>
      <news:publication><news:name>Example Zeitung</news:name>
        <news:language>de</news:language></news:publication>
      <news:publication_date>2024-05-12T18:45:00+02:00</news:publication_date>
      <news:title>Baustelle an der B27: Sperrung bis Juni</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://www.example-zeitung.de/lokales/ohne-datum</loc>
    <lastmod>2024-05-11</lastmod>
    <news:news><news:title>Nur &#220;berschrift &amp; lastmod</news:title></news:news>
  </url>
</urlset>
"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://www.example-zeitung.de/sitemap-posts-1.xml.gz</loc>
    <lastmod>2024-05-12</lastmod></sitemap>
  <sitemap><loc> /sitemap-news.xml </loc></sitemap>
  <sitemap><loc>file:///etc/passwd</loc></sitemap>
</sitemapindex>
"""


def test_plain_sitemap_resolves_and_filters_locs() -> None:
    sitemap = parse_sitemap(URLSET, BASE)
    assert sitemap.sitemaps == []
    assert sitemap.links == [
        Link(
            "https://www.example-zeitung.de/2024/05/12/stadtrat-beschliesst-haushalt/",
            "2024-05-12T09:30:00+02:00",
            None,
            "sitemap",
        ),
        Link("https://www.example-zeitung.de/lokales/feuerwehr-einsatz/", None, None, "sitemap"),
    ]


def test_gzip_sitemap_equals_plain() -> None:
    assert parse_sitemap(gzip.compress(URLSET), BASE) == parse_sitemap(URLSET, BASE)


def test_multi_member_gzip_is_read_whole() -> None:
    half = len(URLSET) // 2
    body = gzip.compress(URLSET[:half]) + gzip.compress(URLSET[half:])
    assert parse_sitemap(body, BASE) == parse_sitemap(URLSET, BASE)


def test_sitemap_index_lists_child_sitemaps() -> None:
    assert parse_sitemap(INDEX, BASE) == Sitemap(
        links=[],
        sitemaps=[
            "https://www.example-zeitung.de/sitemap-posts-1.xml.gz",
            "https://www.example-zeitung.de/sitemap-news.xml",
        ],
    )


def test_news_sitemap_prefers_publication_date_and_keeps_title() -> None:
    links = parse_sitemap(NEWS_SITEMAP, BASE).links
    assert links == [
        Link(
            "https://www.example-zeitung.de/lokales/baustelle-b27",
            "2024-05-12T18:45:00+02:00",
            "Baustelle an der B27: Sperrung bis Juni",
            "news_sitemap",
        ),
        Link(
            "https://www.example-zeitung.de/lokales/ohne-datum",
            "2024-05-11",
            "Nur Überschrift & lastmod",
            "news_sitemap",
        ),
    ]


def test_sitemap_without_namespace_is_read() -> None:
    body = b"<urlset><url><loc>https://a.de/x</loc></url></urlset>"
    assert parse_sitemap(body, BASE).links == [Link("https://a.de/x", None, None, "sitemap")]


def test_feed_submitted_as_sitemap_yields_its_items() -> None:
    assert parse_sitemap(RSS, BASE).links == parse_feed(RSS, BASE)


FIRST = "https://www.example-zeitung.de/2024/05/12/stadtrat-beschliesst-haushalt/"


@pytest.mark.parametrize(
    "cut_before",
    [b"feuerwehr-einsatz/\n", b"</loc></url>\n  <url><loc>mailto", b"<url><loc>mailto"],
)
def test_damaged_sitemap_keeps_entries_before_the_last(cut_before: bytes) -> None:
    # Decision: malformed XML is recovered (lxml recover=True), but the last entry is dropped
    # since it may be cut mid-value ("…/lokales/feuer"); nothing at all → DiscoveryError.
    cut = URLSET[: URLSET.index(cut_before)]
    assert [link.url for link in parse_sitemap(cut, BASE).links] == [FIRST]


def test_mismatched_tags_in_feed_keep_earlier_items() -> None:
    body = (
        b"<rss><channel><item><link>https://a.de/1</link></item>"
        b"<item><link>https://a.de/2</link></item>"
        b"<item><titel>x</title><link>https://a.de/3</link></item></channel></rss>"
    )
    assert [link.url for link in parse_feed(body, BASE)] == ["https://a.de/1", "https://a.de/2"]


@pytest.mark.parametrize("body", [b"", b"   ", b"not xml at all", b"\x89PNG\r\n\x1a\n\0\0"])
def test_non_xml_raises(body: bytes) -> None:
    with pytest.raises(DiscoveryError):
        parse_sitemap(body, BASE)
    with pytest.raises(DiscoveryError):
        parse_feed(body, BASE)


def test_html_page_is_neither_sitemap_nor_feed() -> None:
    body = b"<html><body><a href='/x'>x</a></body></html>"
    with pytest.raises(DiscoveryError, match="not a sitemap"):
        parse_sitemap(body, BASE)
    with pytest.raises(DiscoveryError, match="not a feed"):
        parse_feed(body, BASE)


def test_truncated_gzip_raises() -> None:
    data = gzip.compress(URLSET)
    with pytest.raises(DiscoveryError, match="truncated"):
        parse_sitemap(data[: len(data) // 2], BASE)


def test_gzip_with_bad_crc_raises() -> None:
    data = bytearray(gzip.compress(URLSET))
    data[-8] ^= 0xFF  # first CRC-32 byte of the trailer
    with pytest.raises(DiscoveryError, match="corrupt"):
        parse_sitemap(bytes(data), BASE)


def test_gzip_bomb_is_stopped_with_bounded_memory() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (4 * MAX_XML_BYTES), compresslevel=9)
    assert len(bomb) < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DiscoveryError, match="exceeds"):
        parse_sitemap(bomb, BASE)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    # 200 MB inflated would show; the cap allows ~51 MB plus the bytearray's slack.
    assert grown_kib < 150 * 1024


def test_oversized_plain_body_raises() -> None:
    with pytest.raises(DiscoveryError, match="exceeds"):
        parse_sitemap(b" " * (MAX_XML_BYTES + 1), BASE)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def _no_laughs(links: list[Link]) -> None:
    for link in links:
        assert "lol" not in link.url
        assert "lol" not in (link.title or "")
        assert "lol" not in (link.published or "")


def test_billion_laughs_in_sitemap_is_not_expanded() -> None:
    body = BILLION_LAUGHS + (
        b"<urlset><url><loc>https://a.de/&lol9;</loc></url>"
        b"<url><loc>&lol9;</loc><lastmod>&lol9;</lastmod></url>"
        b"<url><loc>https://a.de/ok</loc><news><title>&lol9;</title></news></url></urlset>"
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # libxml2 stops at its amplification limit; a torn tree is never returned.
    with pytest.raises(DiscoveryError, match="resource limits"):
        parse_sitemap(body, BASE)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024


def test_small_entity_references_never_build_urls_or_text() -> None:
    # Below the amplification limit the entities parse but stay unexpanded: an entity in a
    # loc voids the URL, elsewhere it is dropped.
    body = (
        BILLION_LAUGHS[: BILLION_LAUGHS.index(b" <!ENTITY lol3")]
        + b"]>"
        + (
            b"<urlset><url><loc>https://a.de/&lol2;</loc></url>"
            b"<url><loc>&lol2;</loc><lastmod>&lol2;</lastmod></url>"
            b"<url><loc>https://a.de/ok</loc><news><title>&lol2;</title></news></url></urlset>"
        )
    )
    links = parse_sitemap(body, BASE).links
    _no_laughs(links)
    assert links == [Link("https://a.de/ok", None, None, "news_sitemap")]


def test_billion_laughs_in_feed_is_not_expanded() -> None:
    body = BILLION_LAUGHS + (
        b"<rss><channel><item><title>&lol9;</title><link>https://a.de/&lol9;</link>"
        b"<pubDate>&lol9;</pubDate></item>"
        b"<item><title>ok &lol9;</title><link>https://a.de/ok</link></item></channel></rss>"
    )
    with pytest.raises(DiscoveryError, match="resource limits"):
        parse_feed(body, BASE)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOPSECRET-42", encoding="utf-8")
    return path


def _xxe(secret: Path, document: str) -> bytes:
    doctype = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    return (doctype + document).encode()


def test_xxe_in_sitemap_is_never_resolved(secret: Path) -> None:
    body = _xxe(
        secret,
        "<urlset><url><loc>https://a.de/&xxe;</loc></url>"
        "<url><loc>https://a.de/b</loc><lastmod>&xxe;</lastmod>"
        "<news><title>&xxe;</title><publication_date>&xxe;</publication_date></news></url>"
        "</urlset>",
    )
    try:
        links = parse_sitemap(body, BASE).links
    except DiscoveryError:
        links = []
    assert "TOPSECRET" not in repr(links)
    assert [link.url for link in links] == ["https://a.de/b"]


def test_xxe_in_feed_is_never_resolved(secret: Path) -> None:
    body = _xxe(
        secret,
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&xxe;</title>'
        '<link href="https://a.de/e"/><updated>&xxe;</updated></entry></feed>',
    )
    try:
        links = parse_feed(body, BASE)
    except DiscoveryError:
        links = []
    assert "TOPSECRET" not in repr(links)


def test_external_dtd_is_not_fetched(secret: Path) -> None:
    body = f'<!DOCTYPE rss SYSTEM "{secret.as_uri()}"><rss><channel/></rss>'.encode()
    assert parse_feed(body, BASE) == []


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel>
  <title>Example Zeitung</title><link>https://www.example-zeitung.de/</link>
  <item>
    <title><![CDATA[Stadtrat beschlie\xc3\x9ft Haushalt]]></title>
    <link>https://www.example-zeitung.de/2024/05/12/haushalt/</link>
    <pubDate>Sun, 12 May 2024 18:45:00 +0200</pubDate>
  </item>
  <item>
    <title>Relativer Link</title>
    <link> /lokales/relativ/ </link>
    <pubDate>Mo, 13 Mai 2024 08:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Nur guid</title>
    <guid isPermaLink="true">https://www.example-zeitung.de/guid-only/</guid>
    <dc:date>2024-05-10T07:00:00+02:00</dc:date>
  </item>
  <item>
    <title>guid ist keine URL</title>
    <guid isPermaLink="false">https://www.example-zeitung.de/?p=123</guid>
  </item>
  <item>
    <title>FeedBurner</title>
    <link>https://feedproxy.example.com/~r/x/123</link>
    <feedburner:origLink>https://www.example-zeitung.de/echt/</feedburner:origLink>
    <pubDate>kein Datum</pubDate>
  </item>
</channel>
</rss>
"""


def test_rss2_items() -> None:
    assert parse_feed(RSS, BASE) == [
        Link(
            "https://www.example-zeitung.de/2024/05/12/haushalt/",
            "2024-05-12T18:45:00+02:00",
            "Stadtrat beschließt Haushalt",
            "feed",
        ),
        Link(
            "https://www.example-zeitung.de/lokales/relativ/",
            "2024-05-13T08:00:00+00:00",
            "Relativer Link",
            "feed",
        ),
        Link(
            "https://www.example-zeitung.de/guid-only/",
            "2024-05-10T07:00:00+02:00",
            "Nur guid",
            "feed",
        ),
        Link("https://www.example-zeitung.de/echt/", None, "FeedBurner", "feed"),
    ]


def test_rss_pubdate_without_zone_is_utc_and_iso_is_kept() -> None:
    body = (
        b"<rss><channel>"
        b"<item><link>https://a.de/1</link><pubDate>12 May 2024 18:45:00 -0000</pubDate></item>"
        b"<item><link>https://a.de/2</link><pubDate>2024-05-12T18:45:00+02:00</pubDate></item>"
        b"</channel></rss>"
    )
    assert [link.published for link in parse_feed(body, BASE)] == [
        "2024-05-12T18:45:00+00:00",
        "2024-05-12T18:45:00+02:00",
    ]


def test_rss_html_entities_from_old_feeds_are_decoded() -> None:
    body = b"<rss><channel><item><title>M&uuml;nster &amp; Umgebung</title>"
    body += b"<link>https://a.de/m</link></item></channel></rss>"
    assert parse_feed(body, BASE)[0].title == "Münster & Umgebung"


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.de/lokal/">
  <title>Lokalblog</title>
  <entry>
    <title type="html">Kirmes &lt;b&gt;2024&lt;/b&gt;</title>
    <link rel="edit" href="https://blog.example.de/wp-admin/1"/>
    <link rel="alternate" type="text/html" href="kirmes-2024/"/>
    <published>2024-05-01T12:00:00Z</published>
    <updated>2024-05-02T12:00:00Z</updated>
  </entry>
  <entry>
    <title>Ohne rel, nur updated</title>
    <link href="https://blog.example.de/ohne-rel/"/>
    <updated>2024-05-03T09:00:00+02:00</updated>
  </entry>
  <entry>
    <title>Kein Datum, kein Link</title>
    <link rel="self" href="https://blog.example.de/feed/3"/>
  </entry>
  <entry>
    <title>Kein Datum</title>
    <link href="/absolut/"/>
  </entry>
</feed>
"""


def test_atom_entries() -> None:
    assert parse_feed(ATOM, "https://blog.example.de/feed/") == [
        Link(
            "https://blog.example.de/lokal/kirmes-2024/",
            "2024-05-01T12:00:00Z",
            "Kirmes 2024",
            "feed",
        ),
        Link(
            "https://blog.example.de/ohne-rel/",
            "2024-05-03T09:00:00+02:00",
            "Ohne rel, nur updated",
            "feed",
        ),
        Link("https://blog.example.de/absolut/", None, "Kein Datum", "feed"),
    ]


RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://www.example.de/"><title>RDF</title>
    <items><rdf:Seq><rdf:li rdf:resource="https://www.example.de/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://www.example.de/a">
    <title>Artikel A</title><link>https://www.example.de/a</link>
    <dc:date>2024-05-12T10:00:00+02:00</dc:date>
  </item>
  <item rdf:about="https://www.example.de/b"><title>Artikel B</title><link>b</link></item>
</rdf:RDF>
"""


def test_rdf_items() -> None:
    assert parse_feed(RDF, "https://www.example.de/feed.rdf") == [
        Link("https://www.example.de/a", "2024-05-12T10:00:00+02:00", "Artikel A", "feed"),
        Link("https://www.example.de/b", None, "Artikel B", "feed"),
    ]


def test_gzip_feed() -> None:
    assert parse_feed(gzip.compress(RSS), BASE) == parse_feed(RSS, BASE)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
@example(b"<:")  # found by this test: the recovering parser returned a root tagged ":"
def test_random_bytes_give_a_result_or_discovery_error(body: bytes) -> None:
    for parse in (parse_sitemap, parse_feed):
        with contextlib.suppress(DiscoveryError):
            parse(body, BASE)


_XMLISH = st.lists(
    st.sampled_from(
        ["<urlset>", "</urlset>", "<url>", "</url>", "<loc>", "</loc>", "<rss>", "<channel>",
         "<item>", "</item>", "<link>", "<pubDate>", "<feed>", "<entry>", '<link href="',
         '"/>', "https://a.de/x", "/rel", "&amp;", "&lol;", "&#0;", "]]>", "<![CDATA[",
         "<!DOCTYPE x [<!ENTITY lol 'a'>]>", "\x00", "Mon, 99 Foo 2024", "2024-13-45",
         "<sitemapindex>", "<sitemap>", '<?xml version="1.0" encoding="bogus"?>', "\ufffe"]
    ),
    max_size=40,
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_XMLISH)
def test_xml_like_fragments_give_a_result_or_discovery_error(body: bytes) -> None:
    for parse in (parse_sitemap, parse_feed):
        with contextlib.suppress(DiscoveryError):
            parse(body, BASE)


def test_sitemaps_from_robots() -> None:
    robots = (
        "\ufeffUser-agent: *\nDisallow: /intern/\n"
        "Sitemap: https://www.example-zeitung.de/sitemap_index.xml\n"
        "sitemap:https://www.example-zeitung.de/news-sitemap.xml # Google News\n"
        "  SITEMAP : /relative-sitemap.xml\n"
        "Sitemap: https://www.example-zeitung.de/sitemap_index.xml\n"
        "Sitemap:\n"
        "Sitemap: ftp://www.example-zeitung.de/s.xml\n"
        "# Sitemap: https://www.example-zeitung.de/commented.xml\n"
        "Disallow: /sitemap: not a sitemap line\n"
    )
    assert sitemaps_from_robots(robots, "https://www.example-zeitung.de/robots.txt") == [
        "https://www.example-zeitung.de/sitemap_index.xml",
        "https://www.example-zeitung.de/news-sitemap.xml",
        "https://www.example-zeitung.de/relative-sitemap.xml",
    ]


def test_sitemaps_from_empty_robots() -> None:
    assert sitemaps_from_robots("", "https://a.de/robots.txt") == []


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("https://a.de/lokales/page/2/", ""),
        ("https://a.de/lokales/page/12", "12"),
        ("https://a.de/lokales/?page=3", ""),
        ("https://a.de/suche?q=x&seite=4", ""),
        ("https://a.de/?paged=2", ""),
        ("https://a.de/lokales/seite-2.html", ""),
        ("https://a.de/lokales/seite/3/", ""),
        ("https://a.de/lokales/", "Ältere Beiträge"),
        ("https://a.de/lokales/", "« Ältere Artikel"),
        ("https://a.de/x", "Nächste Seite →"),
        ("https://a.de/x", "  Weiter  "),
        ("https://a.de/x", "WEITER »"),
        ("https://a.de/x", "Mehr laden"),
        ("https://a.de/x", "»"),
        ("https://a.de/x", "Older posts"),
        ("https://a.de/x", "Next"),
        ("https://a.de/x", "next page ›"),
    ],
)
def test_archive_links(url: str, text: str) -> None:
    assert is_archive_link(url, text)


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("https://a.de/2024/05/12/stadtrat/", "Stadtrat beschließt Haushalt"),
        ("https://a.de/2024/05/12/stadtrat/", "Weiterlesen"),
        ("https://a.de/2024/05/12/stadtrat/", "Weiter zum Artikel über die Kirmes"),
        ("https://a.de/homepage-der-stadt/", "Next Generation Festival"),
        ("https://a.de/page-turner-buchtipp/", ""),
        ("https://a.de/lokales/?pagename=impressum", ""),
        ("https://a.de/seite-des-monats/", ""),
    ],
)
def test_not_archive_links(url: str, text: str) -> None:
    assert not is_archive_link(url, text)


NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "days", "inside"),
    [
        (None, 7, True),
        ("2020-01-01", None, True),
        ("2024-05-10T08:00:00+02:00", 7, True),
        ("2024-05-01T08:00:00+02:00", 7, False),
        ("2024-05-08T12:00:00Z", 7, True),  # exactly on the edge counts as inside
        ("2024-05-08T11:59:59Z", 7, False),
        ("2024-05-14", 7, True),
        ("2024-05", 30, True),
        ("2023", 30, False),
        ("2024-06-01T00:00:00+00:00", 7, True),  # future dates are not too old
        ("gestern", 7, True),  # unreadable counts as unknown
        ("2024-02-30", 7, True),
    ],
)
def test_within_horizon(published: str | None, days: int | None, inside: bool) -> None:
    assert within_horizon(published, NOW, days) is inside


def test_within_horizon_accepts_naive_now_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert within_horizon("2024-05-10T00:00:00+00:00", naive, 7)
    assert not within_horizon("2024-05-01T00:00:00+00:00", naive, 7)
