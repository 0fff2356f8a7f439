"""Run `localnews crawl` in a subprocess against a loopback fixture site, as timers run it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipelines.layout import read_dataset
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA
from tests.newssite import FixtureSite

ROOT = Path(__file__).parents[1]
FAST = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "NEWS_ALLOW_PRIVATE_ADDRESSES=True",
    "-s", "NEWS_WORKERS=2",
    "-s", "CLOSESPIDER_TIMEOUT=120",
]  # fmt: skip
"""Politeness off and private addresses allowed: the fixture sites live on 127.0.0.1."""


def crawl_command(sites_file: Path, data: Path, *extra: str, compact: bool = False) -> list[str]:
    """The ``localnews crawl`` command line for a fixture site, without learning.

    Without compaction unless ``compact``: most tests read the log (articles/, pages/).
    ``extra`` comes last, so its ``-s`` values win; with ``--time-budget`` in it, the
    budget replaces FAST's ``CLOSESPIDER_TIMEOUT``.
    """
    fast = FAST[:-2] if "--time-budget" in extra else FAST
    return [
        sys.executable, "-m", "pipelines.cli", "crawl", "--sites-file", str(sites_file),
        "--data-dir", str(data), "--no-learn", *([] if compact else ["--no-compact"]),
        *fast, *extra,
    ]  # fmt: skip


@dataclass
class Run:
    """One finished crawl: its exit status, output, and the requests the site saw."""

    returncode: int
    stdout: str
    stderr: str
    requests: Counter[str]

    def report(self) -> dict[str, Any]:
        """The JSON report of this run (its path is on the summary's last line)."""
        line = next(x for x in self.stdout.splitlines() if x.startswith("report: "))
        path = Path(line.removeprefix("report: ").split("  log: ")[0])
        return dict(json.loads(path.read_text(encoding="utf-8")))


def run_crawl(
    site: FixtureSite, sites_file: Path, data: Path, *extra: str, compact: bool = False
) -> Run:
    """Crawl once and count the requests the fixture site answered during the run."""
    before = Counter(site.requests)
    result = subprocess.run(
        crawl_command(sites_file, data, *extra, compact=compact),
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    during = Counter(site.requests)
    during.subtract(before)
    return Run(result.returncode, result.stdout, result.stderr, +during)


def articles(data: Path) -> list[dict[str, Any]]:
    """All article rows of ``data`` (empty when none were written)."""
    if not (data / "articles").exists():
        return []
    return list(read_dataset(data / "articles", ARTICLE_SCHEMA).to_pylist())


def pages(data: Path) -> list[dict[str, Any]]:
    """All page rows of ``data``."""
    if not (data / "pages").exists():
        return []
    return list(read_dataset(data / "pages", PAGE_SCHEMA).to_pylist())


def unreadable_parquet(data: Path) -> list[str]:
    """Parquet files under ``data`` that do not read back completely."""
    bad = []
    for path in sorted(data.rglob("*.parquet")):
        try:
            pq.read_table(path)
        except Exception as exc:
            bad.append(f"{path}: {exc}")
    return bad
