"""Re-clean speed and memory: `localnews reclean` against bare trafilatura on the same records.

Run: python -m benchmarks.reclean [--repeat-big 10]

Builds a WARC from the evaluation pages, times bare ``trafilatura.bare_extraction(...,
with_metadata=True)`` over its records in this process, then runs the real ``localnews
reclean`` command over the same WARC (all cores), and prints both times and the ratio
(target ≤ 0.75). It then re-cleans 1× and N× the pages and prints the peak RSS of each,
which should stay flat as the input grows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import trafilatura

from benchmarks.evalwarc import eval_pages, write_pages_warc
from benchmarks.procmem import TreeRun, run_measured
from benchmarks.quality import fetched_page
from pipelines.warc import iter_pages

TARGET_RATIO = 0.75


def time_bare(warc: Path) -> tuple[float, int]:
    """Seconds for bare trafilatura over every record body (read into memory first)."""
    records = [(page.final_url, page.body) for page in iter_pages(warc)]
    started = time.perf_counter()
    for url, body in records:
        trafilatura.bare_extraction(body, url=url, with_metadata=True)
    return time.perf_counter() - started, len(records)


def run_reclean(warc: Path, out: Path) -> TreeRun:
    """The real command, as users run it, with its whole process tree measured."""
    command = [sys.executable, "-m", "pipelines.cli", "reclean", str(warc), "--out", str(out), "-q"]
    run = run_measured(command)
    if run.returncode != 0:
        raise SystemExit(f"localnews reclean failed with status {run.returncode}")
    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Build inputs, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat-big", type=int, default=10, help="size of the memory run (× pages)")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    pages = [fetched_page(p) for p in eval_pages()]
    with tempfile.TemporaryDirectory(prefix="localnews-bench-") as tmp:
        work = Path(tmp)
        warc = write_pages_warc(pages, work / "eval-1x.warc.gz")
        bare_seconds, n = time_bare(warc)
        ours = run_reclean(warc, work / "out-1x")
        ratio = ours.seconds / bare_seconds
        print(f"pages: {n}")
        print(f"bare trafilatura, 1 process : {bare_seconds:7.2f} s  {n / bare_seconds:6.1f} pages/s")
        print(f"localnews reclean, all cores: {ours.seconds:7.2f} s  {n / ours.seconds:6.1f} pages/s")
        verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
        print(f"ratio reclean/bare: {ratio:.2f}  (target ≤ {TARGET_RATIO}: {verdict})")
        if not args.skip_memory:
            big = write_pages_warc(pages, work / f"eval-{args.repeat_big}x.warc.gz", repeat=args.repeat_big)
            large = run_reclean(big, work / "out-big")
            print(f"peak RSS, {n} pages      : tree {ours.peak_tree_mb:6.0f} MB, main {ours.peak_main_mb:5.0f} MB")
            print(
                f"peak RSS, {n * args.repeat_big} pages     : tree {large.peak_tree_mb:6.0f} MB, "
                f"main {large.peak_main_mb:5.0f} MB  ({large.seconds:.1f} s)"
            )
            print(f"RSS ratio {args.repeat_big}x/1x (tree): {large.peak_tree_mb / ours.peak_tree_mb:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
