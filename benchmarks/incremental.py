"""Incremental crawling: a second run over an unchanged site against the first run.

Run: python -m benchmarks.incremental [--articles 2000] [--synthetic]

Serves a fixture news site on 127.0.0.1 (real German eval pages when present), crawls it
into an empty data directory, then crawls it again unchanged into the same directory. It
prints both runs' requests (as the server counted them), 304 answers and wall times, and
the ratios second/first. Targets: requests ≤ 2 %, wall time ≤ 10 %.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks.crawl import FAST
from pipelines.layout import read_dataset
from pipelines.records import ARTICLE_SCHEMA
from tests.newssite import FixtureSite, NewsSiteFixture, build_site, serve

TARGET_REQUESTS = 0.02
TARGET_TIME = 0.10


def _crawl(site: FixtureSite, sites_file: Path, data: Path) -> tuple[int, int, float]:
    """One ``localnews crawl``; (requests, 304 answers, seconds)."""
    before, not_modified = Counter(site.requests), site.not_modified
    started = time.monotonic()
    command = [
        sys.executable, "-m", "pipelines.cli", "crawl", "--sites-file", str(sites_file),
        "--data-dir", str(data), "--no-learn", "--no-compact", *FAST,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"localnews crawl failed ({result.returncode}): {result.stdout}")
    during = Counter(site.requests)
    during.subtract(before)
    return sum(during.values()), site.not_modified - not_modified, seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Crawl twice and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--synthetic", action="store_true", help="synthetic pages, not eval pages")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="localnews-incremental-bench-") as tmp:
        work = Path(tmp)
        site = build_site(args.articles, eval_dir=work if args.synthetic else None)
        with serve(site) as base_url:
            sites_file = NewsSiteFixture(base_url, site).sites_toml(work)
            first = _crawl(site, sites_file, work / "data")
            stored = read_dataset(work / "data" / "articles", ARTICLE_SCHEMA).num_rows
            second = _crawl(site, sites_file, work / "data")
            after = read_dataset(work / "data" / "articles", ARTICLE_SCHEMA).num_rows
    print(f"site of {args.articles} articles")
    for name, (requests, not_modified, seconds) in (("first run", first), ("second run", second)):
        print(
            f"  {name:10s}: {requests:6d} requests ({not_modified} answered 304)  {seconds:7.1f} s"
        )
    print(f"  articles stored: {stored} after the first run, {after} after the second")
    request_ratio, time_ratio = second[0] / first[0], second[2] / first[2]
    for label, ratio, target in (
        ("requests", request_ratio, TARGET_REQUESTS),
        ("wall time", time_ratio, TARGET_TIME),
    ):
        verdict = "OK" if ratio <= target else "MISSED"
        print(f"  ratio second/first {label}: {ratio:.4f} (target ≤ {target}: {verdict})")
    return 0 if request_ratio <= TARGET_REQUESTS and time_ratio <= TARGET_TIME else 1


if __name__ == "__main__":
    sys.exit(main())
