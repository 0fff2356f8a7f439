"""Learning a site's boilerplate from its archived pages, and re-cleaning with it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks.evalwarc import write_pages_warc
from crawler.items import FetchedPage
from pipelines.cli import EXIT_OK, EXIT_USAGE, main
from pipelines.layout import read_dataset
from pipelines.learned_store import load
from pipelines.learning import LearnOptions, learn_sites
from pipelines.records import ARTICLE_SCHEMA
from pipelines.siterules import SiteRules
from tests.pages import article_html, make_page

FOOTER = "Sie haben Hinweise für unsere Redaktion? Schreiben Sie uns"
SITES_TOML = """
[[site]]
id = "lokal"
name = "Lokalblatt"
url = "https://www.lokalblatt.de/"
allowed_domains = ["lokalblatt.de"]
sitemaps = []
feeds = []
start_urls = []
language = "de"
"""


def _pages(n: int) -> list[FetchedPage]:
    pages = []
    for i in range(n):
        paragraphs = [
            f"Der Rat der Stadt hat am Dienstag über den Antrag Nummer {i} beraten und "
            f"nach langer Debatte mit knapper Mehrheit beschlossen, das Projekt {i} zu fördern.",
            f"Die Verwaltung soll bis zum Herbst einen Plan für die {i}. Bauphase vorlegen; "
            "Anwohner können sich in einer Bürgerversammlung informieren.",
            FOOTER,
        ]
        html = article_html(paragraphs, title=f"Beschluss zum Projekt {i}")
        url = f"https://www.lokalblatt.de/2026/11/{i:02d}/projekt-{i}/"
        pages.append(make_page(html.encode(), url=url, site="lokal"))
    return pages


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    write_pages_warc(_pages(30), tmp_path / "data" / "raw" / "crawl.warc.gz")
    return tmp_path / "data"


def test_a_recurring_line_is_learned_and_removed_on_re_clean(archive: Path) -> None:
    options = LearnOptions(("lokal",), (archive / "raw",), archive, workers=1)
    with ThreadPoolExecutor(2) as executor:
        [found] = learn_sites(options, SiteRules((), archive, learned=False), executor)
    assert found.pages == 30 and found.path is not None
    assert FOOTER.casefold() in {line for line, _ in load(archive, "lokal").lines}
    assert all("projekt" not in line for line, _ in found.state.lines)  # real prose stays
    # re-cleaning the data directory's own archive uses the state stored beside it
    command = ["reclean", str(archive / "raw"), "--out", str(archive), "-q", "--workers", "1"]
    assert main(command) == EXIT_OK
    texts = read_dataset(archive / "articles", ARTICLE_SCHEMA).column("text").to_pylist()
    assert len(texts) == 30 and not any(FOOTER in text for text in texts)


def test_too_few_pages_leave_the_state_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_pages_warc(_pages(5), data / "raw" / "crawl.warc.gz")
    options = LearnOptions(("lokal",), (data / "raw",), data, workers=1)
    with ThreadPoolExecutor(2) as executor:
        [found] = learn_sites(options, SiteRules((), data, learned=False), executor)
    assert found.path is None and not (data / "state").exists()


def test_learn_boilerplate_command(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sites = archive.parent / "sites.toml"
    sites.write_text(SITES_TOML, encoding="utf-8")
    command = ["learn-boilerplate", "--data-dir", str(archive), "--sites-file", str(sites)]
    assert main([*command, "--workers", "1"]) == EXIT_OK
    assert "learned lokal: 30 distinct pages of 30" in capsys.readouterr().out
    assert main([*command, "--raw", str(archive / "missing")]) == EXIT_USAGE
