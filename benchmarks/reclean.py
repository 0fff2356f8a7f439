"""Re-clean speed and memory: `localnews reclean` against bare trafilatura on the same records.

Run: python -m benchmarks.reclean [--repeat 10 20] [--skip-memory]

Builds a WARC from the evaluation pages, times bare ``trafilatura.bare_extraction(...,
with_metadata=True)`` over its records in this process, then runs the real ``localnews
reclean`` command over the same WARC (all cores), and prints both times and the ratio
(target ≤ 0.75). It then re-cleans 10× and 20× the pages (``--repeat``) and prints the
peak RSS of each, which should stay flat as the input grows: the writer's buffers and the
in-flight window are bounded in rows, whatever the input size.
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


def _print_memory(repeat: int, n: int, run: TreeRun, base: TreeRun) -> None:
    print(
        f"  {repeat:3d}x {n * repeat:7d} pages: main {run.peak_main_mb:5.0f} MB, "
        f"tree {run.peak_tree_mb:5.0f} MB (x{run.peak_tree_mb / base.peak_tree_mb:.2f} of 1x), "
        f"{run.seconds:6.1f} s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Build inputs, measure, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, nargs="+", default=[10, 20], help="sizes of the memory runs (× pages)"
    )
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
        print(
            f"bare trafilatura, 1 process : {bare_seconds:7.2f} s  {n / bare_seconds:6.1f} pages/s"
        )
        print(
            f"localnews reclean, all cores: {ours.seconds:7.2f} s  {n / ours.seconds:6.1f} pages/s"
        )
        verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
        print(f"ratio reclean/bare: {ratio:.2f}  (target ≤ {TARGET_RATIO}: {verdict})")
        if not args.skip_memory:
            print("peak RSS (main = the command's own process; tree = it + forkserver + workers)")
            _print_memory(1, n, ours, ours)
            for repeat in args.repeat:
                big = write_pages_warc(pages, work / f"eval-{repeat}x.warc.gz", repeat=repeat)
                _print_memory(repeat, n, run_reclean(big, work / f"out-{repeat}x"), ours)
                big.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
