"""Finish what a killed crawl left: clean pages it archived but whose rows it never committed.

The crawl state lists such pages as *pending* with their WARC location (``crawler.state``).
Each was in one of three conditions when the process died:

1. its rows were committed but the state was not told (the kill fell between the Parquet
   rename and the state transaction): found in the run's own files, only marked stored;
2. its article row was committed but not its page row (the kill fell between the two
   datasets' commits): the page row is written, the article is not written twice;
3. nothing was committed: the record is read back from the WARC and cleaned, exactly as
   the live crawl would have (same ``clean_task``, same ``DatasetOutput``).

A record that cannot be read back (the kill tore the WARC's tail) is forgotten, so the
next crawl fetches the URL again. Nothing fetched is lost for good, nothing is doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from crawler.items import FetchedPage
from crawler.state import CrawlState, PendingPage, StoredOutcome
from pipelines.output import ARTICLES_DIR, PAGES_DIR, DatasetOutput
from pipelines.pool import clean_in_order
from pipelines.records import Article, Rejection
from pipelines.rules import CleaningRules
from pipelines.warc import WarcReadError, read_page

logger = logging.getLogger(__name__)

Location = tuple[str, int]
"""(WARC file name, record offset): how rows and the state name one fetched page."""


@dataclass(slots=True)
class RecoveryReport:
    """What recovery found and did."""

    pending: int = 0
    already_stored: int = 0
    recleaned: int = 0
    refetch: list[str] = field(default_factory=list)
    """URLs whose WARC record was unreadable: forgotten, so the next crawl fetches them."""

    def render(self) -> str:
        """One line for the log."""
        return (
            f"recovery: {self.pending} pending page(s) of interrupted runs; "
            f"{self.already_stored} already stored, {self.recleaned} re-cleaned from WARC, "
            f"{len(self.refetch)} to fetch again"
        )


def recover(
    state: CrawlState,
    data_dir: Path,
    output: DatasetOutput,
    key: str,
    run_id: str,
    rules_for: Callable[[str], CleaningRules],
    pool: Executor,
    window: int = 8,
) -> RecoveryReport:
    """Bring every pending page of earlier runs into the datasets (or back to the frontier).

    Writes with ``output`` under file key ``key``, commits, and only then tells the state
    (as run ``run_id``).
    """
    report = RecoveryReport()
    pending = state.pending()
    report.pending = len(pending)
    if not pending:
        return report
    runs = sorted({p.run_id for p in pending})
    pages_done = _committed_rows(
        data_dir / PAGES_DIR, runs, ["url", "site", "outcome", "reason", "status", "article_id"]
    )
    articles_done = _committed_rows(data_dir / ARTICLES_DIR, runs, ["content_sha256", "published"])
    stored: list[StoredOutcome] = []
    todo: list[PendingPage] = []
    for item in pending:
        location = _location(item)
        if location is not None and location in pages_done:
            stored.append(_already_stored(pages_done[location], articles_done.get(location)))
            report.already_stored += 1
        else:
            todo.append(item)
    pages = _read_back(data_dir / "raw", todo, report)
    work = ((page, page, rules_for(page.site)) for page in pages)
    for page, _, rules, result in clean_in_order(pool, work, window):
        location = (page.warc_file or "", page.warc_offset or 0)
        recorded = output.write(
            key, page, result, rules, article_committed=location in articles_done
        )
        if location in articles_done and isinstance(result, Article):
            recorded = result
        stored.append(stored_outcome(page, recorded))
        report.recleaned += 1
    output.close()
    state.mark_stored(stored, run_id, datetime.now(UTC))
    state.forget(report.refetch)
    logger.info("%s", report.render())
    return report


def stored_outcome(page: FetchedPage, recorded: Article | Rejection) -> StoredOutcome:
    """What the state keeps of a page whose rows are written."""
    published = None
    if isinstance(recorded, Article):
        published = recorded.published
    return StoredOutcome(
        url=page.url,
        site=page.site,
        outcome="article" if isinstance(recorded, Article) else "rejected",
        reason=None if isinstance(recorded, Article) else str(recorded.reason),
        status=page.status,
        article_id=recorded.article_id if isinstance(recorded, Article) else None,
        content_sha256=recorded.content_sha256 if isinstance(recorded, Article) else None,
        published=published,
    )


def _location(item: PendingPage) -> Location | None:
    if item.warc_file is None or item.warc_offset is None:
        return None
    return (item.warc_file, item.warc_offset)


def _read_back(raw: Path, todo: list[PendingPage], report: RecoveryReport) -> Iterator[FetchedPage]:
    """The archived pages of ``todo``, with the run's hints; unreadable ones go to refetch."""
    for item in todo:
        location = _location(item)
        if location is None:
            report.refetch.append(item.url)
            continue
        try:
            page = read_page(raw / location[0], location[1])
        except (WarcReadError, OSError) as exc:
            logger.warning("cannot read back %s (%s): it will be fetched again", item.url, exc)
            report.refetch.append(item.url)
            continue
        yield page


def _committed_rows(
    root: Path, runs: list[str], columns: list[str]
) -> dict[Location, dict[str, Any]]:
    """Rows of the runs' own committed files under ``root``, by WARC location.

    Only files named after those runs can hold their rows (``part-crawl-<run>-…``), so this
    reads a few files however large the dataset.
    """
    files = [
        str(path)
        for run in runs
        for path in root.glob(f"**/part-crawl-{run}-*.parquet")
        if not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
    ]
    if not files:
        return {}
    dataset = ds.dataset(files, format="parquet", partitioning="hive")
    table = dataset.to_table(columns=["warc_file", "warc_offset", *columns])
    return {
        (row["warc_file"], row["warc_offset"]): row
        for row in table.to_pylist()
        if row["warc_file"] is not None and row["warc_offset"] is not None
    }


def _already_stored(page_row: dict[str, Any], article_row: dict[str, Any] | None) -> StoredOutcome:
    """The state entry of a page whose rows a killed run had committed."""
    return StoredOutcome(
        url=page_row["url"],
        site=page_row["site"],
        outcome=page_row["outcome"],
        reason=page_row["reason"],
        status=page_row["status"],
        article_id=page_row["article_id"],
        content_sha256=article_row["content_sha256"] if article_row else None,
        published=article_row["published"] if article_row else None,
    )
