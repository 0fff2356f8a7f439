"""The localnews command: exit statuses for usage errors and interruption."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.evalwarc import write_pages_warc
from pipelines.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, main
from pipelines.layout import read_dataset
from pipelines.records import PAGE_SCHEMA
from tests.pages import make_page

ROOT = Path(__file__).parents[1]


def test_bad_arguments_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reclean", str(tmp_path / "missing"), "--out", str(tmp_path)]) == EXIT_USAGE
    assert main(["reclean", "--workers", "0", "--out", str(tmp_path)]) == EXIT_USAGE
    assert main(["crawl", "-s", "NOVALUE"]) == EXIT_USAGE
    assert "missing" in capsys.readouterr().err


def test_sigterm_stops_reclean_cleanly(tmp_path: Path) -> None:
    slow = "<html><body><p>" + "<span>Wort </span>" * 100_000 + "</p></body></html>"
    pages = [make_page(slow.encode(), url=f"https://lokal.de/slow/{i}") for i in range(6)]
    warc = write_pages_warc(pages, tmp_path / "slow.warc.gz")
    out = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "reclean", str(warc), "--out", str(out), "-q"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "interrupted" in err
    assert read_dataset(out / "pages", PAGE_SCHEMA).num_rows == 0  # nothing half-written
    assert not list((out / ".staging").glob("*.parquet"))


def test_crawl_without_network_fails_fast_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[[site]]\nid = "offline"\nname = "Offline"\nurl = "https://news.example.invalid/"\n'
        'allowed_domains = ["news.example.invalid"]\nsitemaps = []\nfeeds = []\n'
        'start_urls = []\nlanguage = "de"\n',
        encoding="utf-8",
    )
    started = time.monotonic()
    status = main(["crawl", "--sites-file", str(sites), "--data-dir", str(tmp_path / "data")])
    assert status == EXIT_FAILED
    assert time.monotonic() - started < 30
    assert "no network" in capsys.readouterr().err
