"""The ``localnews`` console script: argument parsing and dispatch to the subcommands."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.sites import SiteError
from crawler.state import StateSchemaError
from pipelines.forkserver import DEFAULT_TIMEOUT_SECONDS, default_workers
from pipelines.learned_store import LearnedStateError

if TYPE_CHECKING:
    from crawler.sites import Site
    from pipelines.siterules import SiteRules

EXIT_OK = 0
EXIT_PARTIAL = 1
"""The run finished but some input could not be read; all readable records were kept."""
EXIT_USAGE = 2
EXIT_FAILED = 1
"""The crawl ran but failed: bad finish reason or nothing fetched."""
EXIT_CRASHED = 3
"""An unexpected error stopped the command; committed files are complete, re-run to finish."""
EXIT_INTERRUPTED = 130
"""Ctrl-C or SIGTERM: committed files are complete, the rest was discarded; re-run to finish."""
EXIT_ALREADY_RUNNING = 75
"""Another crawl holds the data directory (EX_TEMPFAIL: an overlapping slot; try later)."""


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
        default=default_workers(),
        help="worker processes (default: all cores)",
    )
    reclean.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds one page may take before its worker is killed (default: 30)",
    )
    reclean.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _sites_file_option(reclean)
    learn = commands.add_parser(
        "learn-boilerplate",
        help="learn each site's recurring boilerplate lines from its archived pages",
        description="Clean each site's newest archived pages, learn the lines that recur on "
        "many of them (footers, newsletter boxes, 'Mehr zum Thema' blocks) and store them in "
        "DIR/state/boilerplate/<site>.json; crawls and re-cleans then remove them.",
    )
    learn.add_argument("--site", action="append", default=[], help="site id (repeatable)")
    learn.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    learn.add_argument(
        "--raw",
        type=Path,
        action="append",
        default=[],
        help="WARC files or folders to learn from (default: DIR/raw)",
    )
    learn.add_argument(
        "--max-pages", type=int, default=500, help="newest pages per site (default: 500)"
    )
    learn.add_argument("--workers", type=int, default=default_workers())
    _sites_file_option(learn)
    crawl = commands.add_parser(
        "crawl",
        help="crawl the configured local news sites into WARC and the Parquet datasets",
        description="Crawl sites from the sites file (default: all of them), fetching only what "
        "earlier runs did not. Exit status: 0 ok; 1 failed (bad finish reason, nothing fetched, "
        "a site's error ratio over NEWS_MAX_ERROR_RATIO, memory limit); 75 another crawl is "
        "running on the data directory; 130 stopped by SIGTERM/Ctrl-C after flushing (the next "
        "run resumes). Each run writes DIR/logs/<run>.log and a JSON report DIR/logs/<run>.json.",
    )
    crawl.add_argument("--site", action="append", default=[], help="site id (repeatable)")
    _sites_file_option(crawl)
    crawl.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    crawl.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="end the run gracefully within this many seconds (e.g. before the next timer slot)",
    )
    crawl.add_argument(
        "--no-learn",
        action="store_true",
        help="do not relearn the crawled sites' boilerplate after the crawl",
    )
    crawl.add_argument(
        "--no-compact",
        action="store_true",
        help="leave the new rows in the log; do not fold them into DIR/corpus after the crawl",
    )
    crawl.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Scrapy setting override (repeatable), e.g. -s DOWNLOAD_DELAY=0",
    )
    compact = commands.add_parser(
        "compact",
        help="fold the crawl's log (articles/, pages/) into the analysts' corpus",
        description="Merge the small files that crawls and re-cleans wrote into DIR/corpus: one "
        "current row per article, every version in history, every fetch once in pages; one file "
        "per partition, replaced atomically (readers never see missing or doubled rows). "
        "Idempotent; takes the data directory's lock (exit 75 while a crawl runs).",
    )
    compact.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    # Both read the corpus with pyarrow (and plotly): about 0.5 s more for every command.
    from pipelines.report import add_report_command
    from pipelines.stats import add_stats_command

    add_stats_command(commands)
    add_report_command(commands)
    return parser


def _sites_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sites-file",
        type=Path,
        help="TOML site list (default: $NEWS_SITES_FILE or the shipped one)",
    )


def _site_rules(args: argparse.Namespace, data_dir: Path, *, learned: bool = True) -> SiteRules:
    """Rules per site from the sites file and the learned state; raises for a bad file."""
    from pipelines.siterules import SiteRules

    rules = SiteRules(_load_sites(args), data_dir, learned=learned)
    rules.load_all()
    return rules


def _load_sites(args: argparse.Namespace) -> list[Site]:
    from crawler.sites import load_sites, sites_file_from_env

    return load_sites(args.sites_file or sites_file_from_env(os.environ))


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
        rules_for=_site_rules(args, args.out),
        workers=args.workers,
        timeout=args.timeout,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    missing = [str(path) for path in options.inputs if not path.exists()]
    if missing:
        print(f"localnews reclean: no such input: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    summary = reclean(options)
    print(summary.render())
    return EXIT_PARTIAL if summary.partial else EXIT_OK


def _run_crawl(args: argparse.Namespace) -> int:
    overrides = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"localnews crawl: -s takes NAME=VALUE, got {item!r}", file=sys.stderr)
            return EXIT_USAGE
        overrides[name] = value
    from pipelines.forkserver import start_early

    start_early()  # the cleaning workers warm up while Scrapy starts
    from crawler.jobs import AlreadyRunning, job_lock
    from crawler.run import CrawlOptions, NoNetworkError, run_crawl

    _site_rules(args, args.data_dir)  # a bad sites file or learned state fails before Scrapy
    _check_state(args.data_dir)  # so does a state of another schema (Scrapy would hide it)
    if args.verbose:
        overrides.setdefault("LOG_LEVEL", "DEBUG")

    options = CrawlOptions(
        site_ids=tuple(args.site),
        sites_file=args.sites_file,
        data_dir=args.data_dir,
        overrides=overrides,
        time_budget=args.time_budget,
    )
    if args.time_budget is not None and args.time_budget <= 0:
        print("localnews crawl: --time-budget must be positive", file=sys.stderr)
        return EXIT_USAGE
    try:
        # One lock over the crawl and the learning after it: both write the data directory.
        with job_lock(args.data_dir, "localnews crawl"):
            try:
                result = run_crawl(options, lock=False)
            except NoNetworkError as exc:
                print(f"localnews crawl: {exc}", file=sys.stderr)
                return EXIT_FAILED
            print(result.render())
            if result.interrupted:
                return EXIT_INTERRUPTED
            if result.ok and not args.no_learn:
                sites = tuple(summary.site for summary in result.sites if summary.articles)
                _learn(args, sites, args.data_dir, [args.data_dir / "raw"], 500, default_workers())
            if not args.no_compact:  # a failed run's committed rows are worth folding too
                _compact(args.data_dir)
    except AlreadyRunning as exc:
        print(f"localnews crawl: already running: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    return EXIT_OK if result.ok else EXIT_FAILED


def _check_state(data_dir: Path) -> None:
    """Open the crawl state once: raises StateSchemaError for a file of another schema."""
    from crawler.state import STATE_FILE, CrawlState

    if (data_dir / "state" / STATE_FILE).is_file():
        CrawlState.in_data_dir(data_dir).close()


def _run_compact(args: argparse.Namespace) -> int:
    from crawler.jobs import AlreadyRunning, job_lock

    try:
        with job_lock(args.data_dir, "localnews compact"):
            _compact(args.data_dir)
    except AlreadyRunning as exc:
        print(f"localnews compact: already running: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    return EXIT_OK


def _compact(data_dir: Path) -> None:
    """Fold the log into the corpus, leaving the files of runs that still need recovery."""
    from crawler.state import STATE_FILE, CrawlState
    from pipelines.compact import compact

    skip: set[str] = set()
    if (data_dir / "state" / STATE_FILE).is_file():
        state = CrawlState.in_data_dir(data_dir)
        try:
            skip = {page.run_id for page in state.pending()}
        finally:
            state.close()
    print(compact(data_dir, skip_runs=skip).render())


def _run_learn(args: argparse.Namespace) -> int:
    if args.max_pages < 1 or args.workers < 1:
        print("localnews learn-boilerplate: --max-pages and --workers must be ≥ 1", file=sys.stderr)
        return EXIT_USAGE
    site_ids = tuple(args.site) or tuple(site.id for site in _load_sites(args))
    raw = args.raw or [args.data_dir / "raw"]
    missing = [str(path) for path in raw if not path.exists()]
    if missing:
        print(f"localnews learn-boilerplate: no such input: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    _learn(args, site_ids, args.data_dir, raw, args.max_pages, args.workers)
    return EXIT_OK


def _learn(
    args: argparse.Namespace,
    site_ids: tuple[str, ...],
    data_dir: Path,
    raw: list[Path],
    max_pages: int,
    workers: int,
) -> None:
    from pipelines.learning import LearnOptions, learn_sites

    options = LearnOptions(site_ids, tuple(raw), data_dir, max_pages=max_pages, workers=workers)
    for found in learn_sites(options, _site_rules(args, data_dir, learned=False)):
        where = f"-> {found.path}" if found.path else "(too few pages; state unchanged)"
        print(
            f"learned {found.site}: {found.state.pages} distinct pages of {found.pages}, "
            f"{len(found.state.lines)} lines, {len(found.state.blocks)} blocks {where}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``localnews`` command; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.command != "crawl":  # Scrapy configures logging for crawls (LOG_LEVEL, LOG_FILE)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    # SIGTERM (systemd, scrapyd, kill) unwinds like Ctrl-C: writers discard uncommitted files.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.command == "reclean":
            return _run_reclean(args)
        if args.command == "crawl":
            return _run_crawl(args)
        if args.command == "learn-boilerplate":
            return _run_learn(args)
        if args.command == "compact":
            return _run_compact(args)
        if args.command in ("stats", "report"):
            status: int = args.run(args)
            return status
        return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands
    except (SiteError, LearnedStateError, StateSchemaError, FileNotFoundError) as exc:
        # a bad sites file or a damaged learned state: say which, before any work is done
        print(f"localnews {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            f"localnews {args.command}: interrupted; committed files are complete, "
            "re-run to finish",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as exc:
        logging.getLogger(__name__).exception("localnews %s failed", args.command)
        # A crawl logs to its run's file; say it where cron and systemd look as well.
        print(f"localnews {args.command}: crashed: {exc!r}", file=sys.stderr)
        return EXIT_CRASHED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    sys.exit(main())
