"""Sites as data: the default list loads, every invalid file is refused with a clear message."""

from __future__ import annotations

import re
from pathlib import Path

import cssselect
import pytest
from lxml import html

from crawler.sites import (
    SITES_FILE_ENV,
    Region,
    Site,
    SiteError,
    css_to_xpaths,
    default_sites_file,
    load_sites,
    select_sites,
    sites_file_from_env,
)

MINIMAL = """\
[[site]]
id = "demo"
name = "Demo"
url = "https://www.demo.de/"
allowed_domains = ["demo.de"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str) -> list[Site]:
    return load_sites(write(tmp_path, text))


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(SiteError) as info:
        load_text(tmp_path, text)
    message = str(info.value)
    assert str(tmp_path / "sites.toml") in message
    return message


# the default file


def test_default_file_loads_with_xtranews_first() -> None:
    sites = load_sites(default_sites_file())
    assert len(sites) >= 13
    xtranews = sites[0]
    assert xtranews.id == "xtranews"
    assert xtranews.url == "https://www.xtranews.de/"
    assert "https://www.xtranews.de/feed/" in xtranews.feeds
    assert "https://www.xtranews.de/wp-sitemap.xml" in xtranews.sitemaps
    assert xtranews.region == Region(municipality="Duisburg", state="Nordrhein-Westfalen")
    article = "https://www.xtranews.de/2014/09/02/gruene-fordern-ausbau-des-integrationsbereiches-der-stadt-duisburg/"
    assert xtranews.allows(article)
    assert xtranews.is_article_url(article) is True
    assert xtranews.is_article_url("https://www.xtranews.de/category/duisburg/") is False


def test_default_file_urls_are_inside_allowed_domains_and_not_excluded() -> None:
    for site in load_sites(default_sites_file()):
        assert site.feeds or site.sitemaps or site.start_urls, site.id
        for url in (site.url, *site.feeds, *site.sitemaps, *site.start_urls):
            assert site.allows(url), (site.id, url)


def test_default_file_ids_and_regions() -> None:
    sites = load_sites(default_sites_file())
    assert len({site.id for site in sites}) == len(sites)
    assert all(site.region is not None and site.language == "de" for site in sites)
    assert sum(site.region.state == "Nordrhein-Westfalen" for site in sites if site.region) >= 5


def test_default_file_is_documented_at_the_top() -> None:
    head = default_sites_file().read_text(encoding="utf-8")[:3000]
    for key in ("allowed_domains", "article_urls", "[site.cleaning]", "[site.politeness]"):
        assert key in head


# a good file with every key


FULL = """\
[[site]]
id = "full_site-1"
name = "Full"
url = "https://www.full.de/"
allowed_domains = ["full.de", "cdn.full-media.de"]
sitemaps = ["https://www.full.de/wp-sitemap.xml"]
feeds = ["https://www.full.de/feed/"]
start_urls = ["https://news.full.de/lokales/", "https://cdn.full-media.de/archiv/"]
language = "de-AT"
max_age_days = 7
region = { state = "Bayern" }
article_urls = ['/\\d{4}/\\d{2}/\\d{2}/']
exclude_urls = ['/wp-admin/', '[?&]s=']

[site.cleaning]
prune_css = ["div.share-box, #related > li"]
prune_xpath = ["//aside"]
drop_lines = ['Lesen Sie auch:.*']

[site.politeness]
download_delay = 2
concurrency = 2
max_pages = 100
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    (site,) = load_text(tmp_path, FULL)
    assert site.id == "full_site-1"
    assert site.allowed_domains == ("full.de", "cdn.full-media.de")
    assert site.start_urls == ("https://news.full.de/lokales/", "https://cdn.full-media.de/archiv/")
    assert site.language == "de-AT"
    assert site.max_age_days == 7
    assert site.region == Region(municipality=None, state="Bayern")
    assert site.article_urls == (r"/\d{4}/\d{2}/\d{2}/",)
    assert site.drop_lines == ("Lesen Sie auch:.*",)
    assert site.download_delay == 2.0 and isinstance(site.download_delay, float)
    assert (site.concurrency, site.max_pages) == (2, 100)
    assert site.prune_xpaths[0] == "//aside"
    assert len(site.prune_xpaths) == 3  # one per CSS selector in the list


def test_defaults_of_optional_keys(tmp_path: Path) -> None:
    (site,) = load_text(tmp_path, MINIMAL)
    assert site == Site(
        id="demo", name="Demo", url="https://www.demo.de/", allowed_domains=("demo.de",)
    )
    assert site.language == "de"
    assert site.max_age_days is None and site.region is None and site.max_pages is None
    assert site.is_article_url("https://www.demo.de/x") is None


def test_css_is_converted_to_xpath_that_selects_the_same_nodes(tmp_path: Path) -> None:
    (site,) = load_text(tmp_path, FULL)
    page = html.fromstring(
        "<html><body><div class='a share-box'>s</div><div class='share-boxes'>k</div>"
        "<ul id='related'><li>r</li></ul><li>keep</li><aside>x</aside></body></html>"
    )
    selected = [node.text for xpath in site.prune_xpaths for node in page.xpath(xpath)]
    assert selected == ["x", "s", "r"]


def test_css_to_xpaths_refuses_pseudo_elements() -> None:
    assert css_to_xpaths("p.lead") == (
        "//p[@class and contains(@class, 'lead') and "
        "contains(concat(' ', normalize-space(@class), ' '), ' lead ')]",
    )
    with pytest.raises(cssselect.SelectorError, match="pseudo-element"):
        css_to_xpaths("a::before")


# Site methods


def test_allows_checks_scheme_domain_subdomain_and_excludes(tmp_path: Path) -> None:
    (site,) = load_text(tmp_path, FULL)
    assert site.allows("https://www.full.de/2024/01/02/x/")
    assert site.allows("http://full.de/")
    assert site.allows("https://deep.news.full.de/a")
    assert site.allows("https://WWW.FULL.DE./a")  # host case and trailing dot
    assert site.allows("https://www.full.de:8443/a")
    assert not site.allows("https://notfull.de/a")  # suffix, not a subdomain
    assert not site.allows("https://full.de.evil.com/a")
    assert not site.allows("ftp://www.full.de/a")
    assert not site.allows("/relative/path")
    assert not site.allows("http://[::1")
    assert not site.allows("https://www.full.de/wp-admin/options.php")
    assert not site.allows("https://www.full.de/?s=duisburg")
    assert site.excludes("https://www.full.de/?s=duisburg")


def test_is_article_url(tmp_path: Path) -> None:
    (site,) = load_text(tmp_path, FULL)
    assert site.is_article_url("https://www.full.de/2024/01/02/rat-beschliesst/") is True
    assert site.is_article_url("https://www.full.de/category/politik/") is False


def test_sites_are_hashable_and_compare_by_value() -> None:
    one = Site(
        id="a", name="A", url="https://a.de/", allowed_domains=("a.de",), article_urls=("x",)
    )
    two = Site(
        id="a", name="A", url="https://a.de/", allowed_domains=("a.de",), article_urls=("x",)
    )
    assert one == two and hash(one) == hash(two)
    assert "_article" not in repr(one)


def test_a_site_built_in_code_refuses_a_bad_pattern() -> None:
    with pytest.raises(re.error):
        Site(id="a", name="A", url="https://a.de/", allowed_domains=("a.de",), exclude_urls=("(",))


# validation errors, each with its message


def with_line(line: str) -> str:
    return MINIMAL + line + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            with_line('feed = ["https://www.demo.de/feed/"]'),
            "key 'feed': unknown key (did you mean 'feeds'?)",
        ),
        (with_line("[site.cleaning]\nprune = []"), "key 'cleaning.prune': unknown key"),
        (with_line("[site.politeness]\ndelay = 1"), "key 'politeness.delay': unknown key"),
        (with_line('region = { city = "Duisburg" }'), "key 'region.city': unknown key"),
        ("sites = []\n" + MINIMAL, "top level: key 'sites': unknown key (did you mean 'site'?)"),
        (
            MINIMAL.replace('name = "Demo"\n', ""),
            "[[site]] #1 (id 'demo'): key 'name': is required",
        ),
        (MINIMAL.replace('id = "demo"\n', ""), "[[site]] #1: key 'id': is required"),
        (
            MINIMAL.replace('allowed_domains = ["demo.de"]\n', ""),
            "key 'allowed_domains': is required",
        ),
        (
            with_line('feeds = "https://www.demo.de/feed/"'),
            "key 'feeds': must be an array of strings, got string",
        ),
        (with_line("sitemaps = [1]"), "key 'sitemaps': must contain non-empty strings only, got 1"),
        (with_line('language = ["de"]'), "key 'language': must be a string, got array"),
        (with_line('language = "deutsch"'), "key 'language': 'deutsch' is not a language code"),
        (with_line("region = 5"), "key 'region': must be a table, got int"),
        (with_line("region = {}"), "key 'region': needs 'municipality', 'state' or both"),
        (with_line('max_age_days = "30"'), "key 'max_age_days': must be an integer, got string"),
        (with_line("max_age_days = true"), "key 'max_age_days': must be an integer, got boolean"),
        (with_line("max_age_days = -1"), "key 'max_age_days': must be >= 1, got -1"),
        (
            with_line("[site.politeness]\ndownload_delay = -0.5"),
            "key 'politeness.download_delay': must be >= 0 and finite, got -0.5",
        ),
        (
            with_line("[site.politeness]\ndownload_delay = nan"),
            "key 'politeness.download_delay': must be >= 0",
        ),
        (
            with_line("[site.politeness]\nconcurrency = 0"),
            "key 'politeness.concurrency': must be >= 1, got 0",
        ),
        (
            with_line("[site.politeness]\nmax_pages = 1.5"),
            "key 'politeness.max_pages': must be an integer, got float",
        ),
        (
            with_line("article_urls = ['(unclosed']"),
            "key 'article_urls': invalid regular expression '(unclosed'",
        ),
        (
            with_line("exclude_urls = ['[a-']"),
            "key 'exclude_urls': invalid regular expression '[a-'",
        ),
        (
            with_line("[site.cleaning]\ndrop_lines = ['(?i)teilen']"),
            "key 'cleaning.drop_lines': invalid regular expression",
        ),
        (
            with_line("[site.cleaning]\nprune_css = ['div >']"),
            "key 'cleaning.prune_css': invalid CSS selector 'div >'",
        ),
        (
            with_line("[site.cleaning]\nprune_css = ['p::first-line']"),
            "key 'cleaning.prune_css': invalid CSS selector 'p::first-line': pseudo-element",
        ),
        (
            with_line("[site.cleaning]\nprune_xpath = ['//div[@class=']"),
            "key 'cleaning.prune_xpath': invalid XPath '//div[@class='",
        ),
        (
            MINIMAL.replace('"demo"', '"Demo"', 1),
            "key 'id': 'Demo' does not match [a-z0-9][a-z0-9_-]{0,63}",
        ),
        (MINIMAL.replace('"demo"', '"../etc"', 1), "key 'id': '../etc' does not match"),
        (
            MINIMAL.replace('"demo"', '"' + "a" * 65 + '"', 1),
            "does not match [a-z0-9][a-z0-9_-]{0,63}",
        ),
        (MINIMAL.replace('"demo"', '""', 1), "key 'id': must not be empty"),
        (
            MINIMAL.replace("https://www.demo.de/", "ftp://www.demo.de/"),
            "key 'url': 'ftp://www.demo.de/' is not an absolute http(s) URL",
        ),
        (
            MINIMAL.replace("https://www.demo.de/", "www.demo.de/"),
            "key 'url': 'www.demo.de/' is not an absolute http(s) URL",
        ),
        (
            MINIMAL.replace("https://www.demo.de/", "https://www.other.de/"),
            "key 'url': host of 'https://www.other.de/' is not inside allowed_domains ['demo.de']",
        ),
        (
            with_line('feeds = ["https://feeds.example.com/demo"]'),
            "key 'feeds': host of 'https://feeds.example.com/demo' is not inside allowed_domains",
        ),
        (
            with_line('sitemaps = ["https://demo.de.evil.com/s.xml"]'),
            "key 'sitemaps': host of 'https://demo.de.evil.com/s.xml' is not inside",
        ),
        (
            with_line('start_urls = ["javascript:alert(1)"]'),
            "key 'start_urls': 'javascript:alert(1)' is not an absolute http(s) URL",
        ),
        (
            with_line("feeds = ['https://www.demo.de/feed/']\nexclude_urls = ['/feed/']"),
            "key 'feeds': 'https://www.demo.de/feed/' matches one of exclude_urls",
        ),
        (
            MINIMAL.replace('["demo.de"]', '["https://demo.de"]'),
            "key 'allowed_domains': 'https://demo.de' is not a lower-case host name",
        ),
        (
            MINIMAL.replace('["demo.de"]', '["Demo.de"]'),
            "key 'allowed_domains': 'Demo.de' is not a lower-case host name",
        ),
        (
            MINIMAL.replace('["demo.de"]', '["*.demo.de"]'),
            "key 'allowed_domains': '*.demo.de' is not a lower-case host name",
        ),
        (
            MINIMAL.replace('["demo.de"]', "[]"),
            "key 'allowed_domains': must name at least one host",
        ),
        (MINIMAL + MINIMAL, "[[site]] #2: duplicate id 'demo' (already used by [[site]] #1)"),
        ("", "needs one or more [[site]] tables"),
        ("site = 3", "needs one or more [[site]] tables"),
        ("[[site]]\nid = 'x'\nname = ", "not valid TOML"),
    ],
)
def test_invalid_files_are_refused_with_a_clear_message(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in refused(tmp_path, text)


def test_messages_name_the_position_and_id_of_the_site(tmp_path: Path) -> None:
    text = MINIMAL + MINIMAL.replace('"demo"', '"second"', 1).replace('name = "Demo"\n', "")
    assert "[[site]] #2 (id 'second'): key 'name': is required" in refused(tmp_path, text)


def test_a_missing_file_is_a_site_error(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="cannot read sites file"):
        load_sites(tmp_path / "absent.toml")


def test_a_non_utf8_file_is_a_site_error(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_bytes(MINIMAL.replace("Demo", "Dü").encode("latin-1"))
    with pytest.raises(SiteError, match="not UTF-8"):
        load_sites(path)


# choosing the file and the sites


def test_the_default_file_sits_next_to_the_module() -> None:
    path = default_sites_file()
    assert path.name == "sites.toml" and path.parent.name == "crawler" and path.is_file()


def test_env_var_overrides_the_default_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert SITES_FILE_ENV == "NEWS_SITES_FILE"
    assert sites_file_from_env({"NEWS_SITES_FILE": str(path)}) == path
    assert [s.id for s in load_sites(sites_file_from_env({"NEWS_SITES_FILE": str(path)}))] == [
        "demo"
    ]
    assert sites_file_from_env({}) == default_sites_file()
    assert sites_file_from_env({"NEWS_SITES_FILE": "  "}) == default_sites_file()
    assert sites_file_from_env({"NEWS_SITES_FILE": "~/s.toml"}) == Path.home() / "s.toml"


def test_select_sites_keeps_the_order_asked_and_refuses_unknown_ids() -> None:
    sites = load_sites(default_sites_file())
    chosen = select_sites(sites, ["wdr-ruhrgebiet", "xtranews", "wdr-ruhrgebiet"])
    assert [s.id for s in chosen] == ["wdr-ruhrgebiet", "xtranews"]
    assert select_sites(sites, []) == sites
    with pytest.raises(
        SiteError, match=r"unknown site id 'nope', 'xtranew'; known ids: xtranews, "
    ):
        select_sites(sites, ["nope", "xtranews", "xtranew"])
    with pytest.raises(TypeError):
        select_sites(sites, "xtranews")
