"""Crawl speed and memory: `localnews crawl` of a loopback site against re-cleaning its WARCs.

Run: python -m benchmarks.crawl [--articles 2000 10000] [--synthetic]

For each size it serves a fixture news site on 127.0.0.1 (real German pages from the
evaluation set when present, else synthetic ones), crawls it with politeness delays off,
then re-cleans the WARCs the crawl wrote with `localnews reclean`, and prints pages/s of
both and the ratio crawl/re-clean (target ≤ 1.5), and the peak RSS of the crawl process
(target ≤ 500 MB, flat as the site grows) and of its whole process tree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.procmem import TreeRun, run_measured
from pipelines.layout import read_dataset
from pipelines.records import PAGE_SCHEMA
from tests.newssite import NewsSiteFixture, build_site, serve

TARGET_RATIO = 1.5
TARGET_RSS_MB = 500
FAST = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "CONCURRENT_REQUESTS=32",
    "-s", "NEWS_ALLOW_PRIVATE_ADDRESSES=True",
    "-s", "LOG_LEVEL=WARNING",
]  # fmt: skip


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def measure(n_articles: int, work: Path, synthetic: bool) -> tuple[int, TreeRun, TreeRun]:
    """Crawl a site of ``n_articles`` and re-clean its WARCs; (pages, crawl run, re-clean run)."""
    site = build_site(n_articles, eval_dir=work if synthetic else None)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(work)
        data = work / f"crawl-{n_articles}"
        crawl = run_measured(
            _cli(
                "crawl",
                "--no-compact",
                "--sites-file",
                str(sites_file),
                "--data-dir",
                str(data),
                *FAST,
            )
        )
    if crawl.returncode != 0:
        raise SystemExit(f"localnews crawl failed with status {crawl.returncode}")
    reclean = run_measured(_cli("reclean", str(data / "raw"), "--out", str(work / "re"), "-q"))
    if reclean.returncode != 0:
        raise SystemExit(f"localnews reclean failed with status {reclean.returncode}")
    pages = read_dataset(data / "pages", PAGE_SCHEMA).num_rows
    return pages, crawl, reclean


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each size and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--articles", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--synthetic", action="store_true", help="synthetic pages, not eval pages")
    args = parser.parse_args(argv)
    for n in args.articles:
        with tempfile.TemporaryDirectory(prefix="localnews-crawl-bench-") as tmp:
            pages, crawl, reclean = measure(n, Path(tmp), args.synthetic)
        ratio = crawl.seconds / reclean.seconds
        print(f"site of {n} articles: {pages} page rows")
        for name, run in (("crawl (fetch+archive+clean+write)", crawl), ("reclean", reclean)):
            print(f"  {name:34s}: {run.seconds:7.1f} s  {pages / run.seconds:6.1f} pages/s")
        verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
        print(f"  ratio crawl/reclean: {ratio:.2f} (target ≤ {TARGET_RATIO}: {verdict})")
        rss_ok = "OK" if crawl.peak_main_mb <= TARGET_RSS_MB else "MISSED"
        print(
            f"  peak RSS crawl process: {crawl.peak_main_mb:.0f} MB "
            f"(target ≤ {TARGET_RSS_MB}: {rss_ok}); with workers: {crawl.peak_tree_mb:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
