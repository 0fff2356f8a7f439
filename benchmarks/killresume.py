"""Crash safety: SIGKILL a crawl at random moments, resume it, compare with an uninterrupted one.

Run: python -m benchmarks.killresume [--trials 20] [--articles 20] [--seed 0]

Each trial crawls the loopback fixture site into a fresh data directory, kills the whole
process group (crawler, forkserver, cleaning workers) with SIGKILL after a random time
within the length of an uninterrupted crawl, runs `localnews crawl` again, and checks that
every Parquet file reads back, no article is stored twice, and every article of the
uninterrupted crawl is there with the same text. Prints trials, files checked, duplicates
(must be 0) and articles missing after the resume (must be 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.crashloop import kill_and_resume


def main(argv: Sequence[str] | None = None) -> int:
    """Run the trials and print the summary; exit 1 when the guarantee was broken."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="localnews-killresume-") as tmp:
        result = kill_and_resume(Path(tmp), args.trials, args.articles, args.seed)
    print(result.render())
    print("kill times (s): " + " ".join(f"{t:.2f}" for t in result.kill_times))
    for problem in (result.unreadable + result.duplicates + result.missing)[:20]:
        print(f"  {problem}")
    broken = result.unreadable or result.duplicates or result.missing
    print("guarantee: " + ("BROKEN" if broken else "held in every trial"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
