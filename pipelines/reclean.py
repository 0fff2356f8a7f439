"""Re-clean archived raw pages: WARC files → clean() in a worker pool → the Parquet datasets."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from crawler.items import FetchedPage
from pipelines.forkserver import DEFAULT_TIMEOUT_SECONDS, default_workers
from pipelines.output import DatasetOutput
from pipelines.pool import KillingProcessPool, clean_in_order
from pipelines.records import Article
from pipelines.rules import CleaningRules
from pipelines.siterules import SiteRules
from pipelines.warc import WarcReadError, find_warc_files, first_record_id, iter_pages

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecleanOptions:
    """What to re-clean, where to write it, and how hard to work."""

    inputs: tuple[Path, ...]
    data_dir: Path
    rules_for: Callable[[str], CleaningRules] | None = None
    """Cleaning rules per site id; None: the default rules plus the site's learned state in
    ``data_dir`` (the command passes ``SiteRules`` built from the sites file)."""
    workers: int = field(default_factory=default_workers)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    progress: bool = False
    window_per_worker: int = 32
    """Pages in flight per worker: enough to keep workers busy, few enough to bound memory."""


@dataclass(slots=True)
class RecleanSummary:
    """Counts for the run; ``input_errors`` non-empty means the run was partial."""

    files: int = 0
    pages: int = 0
    articles: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    input_errors: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        """True when some input could not be read completely."""
        return bool(self.input_errors)

    def render(self) -> str:
        """The human summary printed at the end of the command."""
        rate = self.pages / self.seconds if self.seconds else 0.0
        lines = [
            f"files: {self.files}  pages: {self.pages}  articles: {self.articles}  "
            f"rejected: {sum(self.rejections.values())}  seconds: {self.seconds:.1f}  "
            f"pages/s: {rate:.1f}"
        ]
        lines += [f"  rejected {reason}: {n}" for reason, n in sorted(self.rejections.items())]
        lines += [f"  input error: {error}" for error in self.input_errors]
        lines += [f"  skipped duplicate input: {dup}" for dup in self.duplicates]
        if self.partial:
            lines.append(
                "PARTIAL: some input could not be read; all readable records were processed"
            )
        return "\n".join(lines)


def file_key(warc: Path) -> str:
    """Output file key for one input WARC: re-cleaning it again replaces exactly its files.

    Derived from the file's name and its first record's ``WARC-Record-ID`` (unique per
    file, unchanged when records are appended), not its path: the same WARC re-cleaned from
    another folder replaces its earlier rows, while different WARCs that share a name never
    replace each other's. Files without a readable first record fall back to their bytes.
    """
    identity = first_record_id(warc)
    if identity is None:
        with warc.open("rb") as stream:
            identity = hashlib.sha256(stream.read(65536)).hexdigest()
    digest = hashlib.sha256(f"{warc.name}\0{identity}".encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", warc.name.removesuffix(".gz").removesuffix(".warc"))
    return f"{stem[:60]}-{digest}"


def reclean(options: RecleanOptions, executor: Executor | None = None) -> RecleanSummary:
    """Re-clean every response record of the input WARCs into ``options.data_dir``.

    Results are consumed in input order, so the same input always gives the same rows in
    the same files; the in-flight window gives backpressure, so memory stays flat.
    """
    started = time.monotonic()
    summary = RecleanSummary()
    files = find_warc_files(options.inputs)
    summary.files = len(files)
    own_executor = executor is None
    pool = executor or KillingProcessPool(options.workers, options.timeout)
    window = max(1, options.workers * options.window_per_worker)
    output = DatasetOutput(options.data_dir)
    rules_for = options.rules_for or SiteRules((), options.data_dir)
    # Progress in input bytes: one huge WARC or many small ones both move the bar smoothly.
    sizes = {warc: warc.stat().st_size for warc in files}
    bar = tqdm(
        total=sum(sizes.values()),
        unit="B",
        unit_scale=True,
        disable=not options.progress,
        file=sys.stderr,
    )
    pages = ((key, page, rules_for(page.site)) for key, page in _pages(sizes, summary, bar))
    try:
        for key, page, rules, result in clean_in_order(pool, pages, window):
            recorded = output.write(key, page, result, rules)
            summary.pages += 1
            if isinstance(recorded, Article):
                summary.articles += 1
            else:
                summary.rejections[str(recorded.reason)] += 1
        output.close()
    except BaseException:
        output.abort()
        raise
    finally:
        bar.close()
        if own_executor:
            pool.shutdown(wait=True, cancel_futures=True)
    summary.seconds = time.monotonic() - started
    return summary


def _pages(
    sizes: Mapping[Path, int], summary: RecleanSummary, bar: tqdm[None]
) -> Iterator[tuple[str, FetchedPage]]:
    """(file key, page) for all pages of all files; a damaged file is reported, the next read."""
    first_with_key: dict[str, Path] = {}
    for warc, size in sizes.items():
        done = 0
        try:
            key = file_key(warc)
            if key in first_with_key:  # the same WARC twice (copies in two folders)
                summary.duplicates.append(f"{warc} is the same WARC as {first_with_key[key]}")
                bar.update(size)
                continue
            first_with_key[key] = warc
            for page in iter_pages(warc):
                if page.warc_offset is not None:
                    bar.update(page.warc_offset - done)
                    done = page.warc_offset
                yield key, page
        except WarcReadError as exc:
            logger.error("%s", exc)
            summary.input_errors.append(str(exc))
        except OSError as exc:
            logger.error("cannot read %s: %s", warc, exc)
            summary.input_errors.append(f"{warc}: {exc}")
        bar.update(size - done)
