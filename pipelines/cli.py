"""The ``localnews`` console script: argument parsing and dispatch to the subcommands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_PARTIAL = 1
"""The run finished but some input could not be read; all readable records were kept."""
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localnews",
        description="Crawl local news, archive raw pages as WARC, clean them into Parquet.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", required=True)
    reclean = commands.add_parser(
        "reclean",
        help="re-clean archived raw pages from WARC files into the Parquet datasets",
        description="Re-run cleaning over WARC files (or folders of them). Re-cleaning the same "
        "WARC again replaces its earlier rows instead of adding duplicates.",
    )
    reclean.add_argument(
        "inputs",
        nargs="*",
        type=Path,
        default=[Path("data/samples")],
        help="WARC files or folders holding them (default: data/samples)",
    )
    reclean.add_argument(
        "--out",
        type=Path,
        default=Path("data"),
        help="data directory receiving articles/ and pages/ (default: data)",
    )
    reclean.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: all cores)",
    )
    reclean.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds one page may take before its worker is killed (default: 30)",
    )
    reclean.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def _run_reclean(args: argparse.Namespace) -> int:
    if args.workers < 1 or args.timeout <= 0:
        print("localnews reclean: --workers must be ≥ 1 and --timeout > 0", file=sys.stderr)
        return EXIT_USAGE
    from pipelines.forkserver import start_early

    start_early()  # before the heavy imports below, so both happen at once
    from pipelines.reclean import RecleanOptions, reclean

    options = RecleanOptions(
        inputs=tuple(args.inputs),
        data_dir=args.out,
        workers=args.workers,
        timeout=args.timeout,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    try:
        summary = reclean(options)
    except FileNotFoundError as exc:
        print(f"localnews reclean: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.render())
    return EXIT_PARTIAL if summary.partial else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``localnews`` command; returns the process exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "reclean":
        return _run_reclean(args)
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
