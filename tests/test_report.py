"""The HTML corpus report: self-contained, the charts' data, and the charts rendered by Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from pipelines.cli import main
from pipelines.report import PLOT_IDS, ReportOptions, write_report
from pipelines.stats import EXIT_EMPTY, EXIT_OK, EmptyCorpusError
from tests.corpus_fixture import sample_corpus

ARTIFACTS = Path(__file__).parent / "artifacts"


def plots(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """The data and layout of each ``Plotly.newPlot`` call in the page, by div id."""
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        separator = re.compile(r",\s*").match(page, end)
        assert separator is not None
        layout, _ = decoder.raw_decode(page, separator.end())
        found[match.group(1)] = (data, layout)
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("data")
    sample_corpus(data_dir)
    # top 2 sites: b (3 dated articles) and a (2); d goes into 'other'
    return write_report(data_dir, data_dir / "out" / "report.html", ReportOptions(top_sites=2))


def test_report_is_one_offline_file(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js is inlined, no CDN
    assert page.count("plotly.js v") >= 1 and page.count("window.PlotlyConfig") == 1
    assert list(plots(page)) == list(PLOT_IDS)
    assert "not_article 3, (none) 1" in page  # the statistics table is included
    assert not list(report.parent.glob(".*.tmp"))


def test_articles_per_day_groups_small_sites_into_other(report: Path) -> None:
    data, _ = plots(report.read_text(encoding="utf-8"))["articles-per-day"]
    assert [(t["name"], t["x"], t["y"]) for t in data] == [
        ("b", ["2024-01-01", "2024-01-10", "2024-01-11"], [1, 1, 1]),
        # a2 was published 2024-03-05 23:30 UTC: 6 March in Berlin
        ("a", ["2024-03-01", "2024-03-06"], [1, 1]),
        ("other", ["2024-02-01"], [1]),
    ]


def test_fill_rates_lengths_agencies_and_rejections(report: Path) -> None:
    found = plots(report.read_text(encoding="utf-8"))
    fill = {t["name"]: (t["x"], t["y"]) for t in found["fill-rates"][0]}
    assert list(fill) == ["title", "published", "authors", "description"]
    assert fill["title"] == (["a", "b", "d"], [pytest.approx(100 / 3), 100, 100])
    assert fill["description"] == (["a", "b", "d"], [pytest.approx(100 / 3), 0, 0])
    (lengths,) = found["word-counts"][0]
    assert lengths["x"] == [75, 125, 175, 225, 325, 425] and lengths["y"] == [1, 2, 1, 1, 1, 1]
    (agencies,) = found["agencies"][0]
    assert agencies["y"] == ["AFP", "dpa"] and agencies["x"] == [2, 2]  # 'dpa/AFP' counts twice
    weekly = [(t["name"], t["x"], t["y"]) for t in found["rejections"][0]]
    assert weekly == [
        ("not_article", ["2024-02-19", "2024-03-04"], [1, 2]),
        ("(none)", ["2024-02-19"], [1]),
        ("http_error", ["2024-02-26"], [1]),
        ("listing", ["2024-03-04"], [1]),
        ("timeout", ["2024-03-04"], [1]),
    ]


def test_a_long_date_range_opens_on_the_recent_days(tmp_path: Path) -> None:
    sample_corpus(tmp_path)
    out = write_report(tmp_path, tmp_path / "r.html", ReportOptions(recent_days=30))
    _, layout = plots(out.read_text(encoding="utf-8"))["articles-per-day"]
    assert layout["xaxis"]["range"] == ["2024-02-05", "2024-03-07"]


def run(argv: list[str]) -> int:
    """``localnews`` as users run it, in this process."""
    return main(argv)


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(EmptyCorpusError, match="no corpus at"):
        write_report(tmp_path, tmp_path / "r.html")
    assert run(["report", "--data-dir", str(tmp_path)]) == EXIT_EMPTY
    assert capsys.readouterr().err.startswith("localnews report: no corpus at ")
    assert not (tmp_path / "reports").exists()
    sample_corpus(tmp_path)
    assert run(["report", "--data-dir", str(tmp_path)]) == EXIT_OK
    default = tmp_path / "reports" / "corpus.html"
    assert capsys.readouterr().out == f"wrote {default}\n" and default.is_file()
    with pytest.raises(SystemExit):
        run(["report", "--top-sites", "0"])


def chromium(*args: str, profile: Path) -> str:
    # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
    command = [
        "chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="chromium is not installed (apt-get install -y --no-install-recommends chromium)",
)
def test_every_plot_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    url = report.resolve().as_uri()
    dom = lxml.html.fromstring(chromium("--dump-dom", url, profile=tmp_path / "profile"))
    for plot_id in PLOT_IDS:
        (div,) = dom.xpath(f'//div[@id="{plot_id}"]')
        svgs = div.xpath('.//svg[contains(concat(" ", @class, " "), " main-svg ")]')
        bars = div.xpath('.//g[contains(concat(" ", @class, " "), " point ")]/path')
        assert svgs and bars, f"{plot_id} did not render"
    (per_day,) = dom.xpath('//div[@id="articles-per-day"]')
    assert {t.text for t in per_day.xpath('.//*[contains(@class, "legendtext")]')} == {
        "a", "b", "other"
    }  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    chromium("--window-size=1280,3200", f"--screenshot={shot}", url, profile=tmp_path / "profile")
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
