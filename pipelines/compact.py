"""``localnews compact``: fold the crawl's log datasets into the analysts' corpus.

The log (``articles/``, ``pages/``) holds what crawls and re-cleans wrote: many small
files, every fetch of a changed article, and a re-clean's rows beside the crawl's rows of
the same fetches. Compaction turns it into ``corpus/`` (see ``pipelines.corpus``):

1. **Fetches.** A fetch is identified by ``(url, fetched_at)``; when the log holds several
   rows of one fetch (crawl, then re-clean), the newest file's row wins.
2. **Versions.** An article's fetches in time order; consecutive fetches with the same
   ``content_sha256`` are one version (``first_seen`` … ``last_seen``); a changed text
   starts the next version. ``unchanged`` / ``duplicate`` page rows extend ``last_seen``.
   A fetch whose latest page row rejects it for its content (a re-clean's better verdict)
   is no version any more: the article's versions are rebuilt without it, and an article
   left with none leaves the corpus. Its cluster id may still name it in other articles.
3. **Clusters.** A new article takes the ``cluster_id`` of the earliest-seen indexed
   article its SimHash nearly matches, else its own ``article_id``; never reassigned.
4. **Partitions.** An article's partition (``site``, year of its first version's
   ``published``, else ``first_seen``) is fixed when it is first compacted, so rows never
   move between files. Only partitions with changed rows are rewritten, each as one file
   replaced atomically: a reader during compaction sees every article exactly once.
5. The consumed log files are deleted last. A compaction killed before that is simply
   repeated: every step above is idempotent.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from crawler.urls import canonicalize
from pipelines.corpus import (
    CORPUS_PAGE_SCHEMA,
    CURRENT_DIR,
    CURRENT_SCHEMA,
    HISTORY_DIR,
    HISTORY_SCHEMA,
    PAGES_DIR,
    PART_FILE,
    corpus_root,
)
from pipelines.layout import article_partition, partition_dir
from pipelines.neardup import MAX_DISTANCE, MIN_TOKENS, NearDuplicateIndex, simhash
from pipelines.output import ARTICLES_DIR
from pipelines.output import PAGES_DIR as LOG_PAGES_DIR
from pipelines.parquet import replace_file
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA

logger = logging.getLogger(__name__)

ROW_GROUP_ROWS = 10_000
"""Rows per row group in corpus files: ~30 MB of article text, small enough to skip by stats."""
_ORDER = "__order"
_FETCH_KEY = ["url", "fetched_at"]
_PAGE_KEY = ["url", "final_url", "fetched_at"]
_SEEN_REASONS = ("unchanged", "duplicate")
_GONE_REASON = "gone"
_RETRACTING_REASONS = (
    "not_html", "empty_body", "not_article", "listing", "tag_page", "consent_wall", "js_shell",
    "soft_404", "too_large", "too_deep", "bad_encoding",
)  # fmt: skip
"""Verdicts on a page's content: a re-clean giving one to a stored article's fetch retracts
that version. Failures of the cleaner (timeout, extract_error, worker_crashed) do not."""
FetchKey = tuple[str, datetime]
"""(url, fetched_at) of one fetch, as article rows carry it."""
_ARTICLE_KEYS = pa.schema([("site", pa.string()), ("year", pa.int32())])
"""Partition columns of the article log and of corpus/current and history."""
_PAGE_KEYS = pa.schema([("year", pa.int32()), ("month", pa.int32())])
"""Partition columns of the page log and of corpus/pages."""
Partition = tuple[str, str]
"""(site, year) of a corpus article partition."""


@dataclass(frozen=True, slots=True)
class Sightings:
    """What page rows without a new article row say about stored articles."""

    repeated: dict[str, datetime]
    """article_id → latest fetch that found its text unchanged (or at another URL)."""
    gone: dict[str, datetime]
    """article_id → latest fetch that found it removed (404 / 410)."""
    retracted: frozenset[FetchKey] = frozenset()
    """Fetches whose latest page row (a re-clean's) says they are no article after all."""
    retracted_ids: frozenset[str] = frozenset()
    """Corpus articles with a version from one of the ``retracted`` fetches."""

    def article_ids(self) -> set[str]:
        """Every article these sightings touch."""
        return set(self.repeated) | set(self.gone) | set(self.retracted_ids)


@dataclass(slots=True)
class CompactionReport:
    """What one compaction read, wrote and removed."""

    log_files: int = 0
    skipped_files: int = 0
    article_rows: int = 0
    page_rows: int = 0
    new_articles: int = 0
    new_versions: int = 0
    retracted_versions: int = 0
    """Versions removed because a re-clean no longer finds an article in their fetch."""
    partitions_written: int = 0
    articles_total: int = 0
    seconds: float = 0.0
    removed: list[Path] = field(default_factory=list)
    quarantined: list[Path] = field(default_factory=list)
    """Unreadable log files, moved to ``quarantine/`` (their pages are still in the WARC)."""

    def render(self) -> str:
        """A short summary for the terminal."""
        if not self.log_files:
            return f"compact: nothing to do ({self.articles_total} articles in the corpus)"
        skipped = f", {self.skipped_files} left for recovery" if self.skipped_files else ""
        if self.quarantined:
            skipped += f", {len(self.quarantined)} unreadable moved to quarantine/"
        if self.retracted_versions:
            skipped += f", {self.retracted_versions} versions retracted (now not articles)"
        return (
            f"compact: {self.log_files} log files ({self.article_rows} article rows, "
            f"{self.page_rows} page rows){skipped} -> {self.new_articles} new articles, "
            f"{self.new_versions} new versions, {self.partitions_written} partition files "
            f"rewritten; {self.articles_total} articles in the corpus ({self.seconds:.1f} s)"
        )


def compact(data_dir: Path, *, skip_runs: Collection[str] = ()) -> CompactionReport:
    """Fold the log datasets of ``data_dir`` into its corpus; the caller holds the data lock.

    ``skip_runs``: run ids with pages not yet recovered; their files stay in the log.
    """
    started = time.monotonic()
    data_dir = Path(data_dir)
    corpus = corpus_root(data_dir)
    staging = data_dir / ".staging"
    report = CompactionReport()
    article_files, skipped_a = _log_files(data_dir / ARTICLES_DIR, skip_runs)
    page_files, skipped_p = _log_files(data_dir / LOG_PAGES_DIR, skip_runs)
    report.skipped_files = skipped_a + skipped_p
    report.log_files = len(article_files) + len(page_files)
    if report.log_files:
        # Page rows are small: one chunk makes the per-partition takes cheap.
        quarantine = _Quarantine(data_dir, report.quarantined)
        try:
            pages = _read_files(data_dir / LOG_PAGES_DIR, page_files, PAGE_SCHEMA, _PAGE_KEYS)
        except (pa.ArrowInvalid, OSError):
            page_files = quarantine.readable(page_files)
            pages = _read_files(data_dir / LOG_PAGES_DIR, page_files, PAGE_SCHEMA, _PAGE_KEYS)
        pages = pages.combine_chunks()
        report.page_rows = pages.num_rows
        report.partitions_written += _fold_pages(corpus / PAGES_DIR, pages, staging)
        log = _ArticleLog(data_dir / ARTICLES_DIR, article_files, quarantine)
        _fold_articles(corpus, log, pages, staging, report)
        # Only now is every consumed row in the corpus: the log files can go.
        for path in article_files + page_files:
            if path.exists():  # not moved to quarantine/
                path.unlink()
                report.removed.append(path)
    report.articles_total = _count_rows(corpus / CURRENT_DIR)
    report.seconds = time.monotonic() - started
    logger.info("%s", report.render())
    return report


# --------------------------------------------------------------------------- reading


def _log_files(root: Path, skip_runs: Collection[str]) -> tuple[list[Path], int]:
    """The committed Parquet files under ``root``, oldest first; and how many were skipped."""
    if not root.is_dir():
        return [], 0
    files, skipped = [], 0
    for path in root.rglob("*.parquet"):
        if any(part.startswith((".", "_")) for part in path.relative_to(root).parts):
            continue
        if any(path.name.startswith(f"part-crawl-{run}-") for run in skip_runs):
            skipped += 1
            continue
        files.append(path)
    # Newest last, so that a re-clean's rows win over the crawl's rows of the same fetch.
    files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
    return files, skipped


class _ArticleLog:
    """The log's article files, read one site at a time.

    A million articles' text does not fit one Arrow string array (2 GB offsets), and
    ``take`` on a table of thousands of file chunks concatenates all of them each call:
    per site, both stay small.
    """

    def __init__(self, root: Path, files: list[Path], quarantine: _Quarantine) -> None:
        self._root = root
        self._quarantine = quarantine
        self._by_site: dict[str, list[tuple[int, Path]]] = defaultdict(list)
        for rank, path in enumerate(files):  # rank: the file's place in the newest-last order
            self._by_site[_site_of(root, path)].append((rank, path))

    def sites(self) -> list[str]:
        """Sites with log files, sorted."""
        return sorted(self._by_site)

    def read_site(self, site: str, columns: list[str] | None = None) -> pa.Table | None:
        """The site's log rows, one row per fetch (the newest file's row wins)."""
        files = self._by_site.get(site)
        if not files:
            return None
        try:
            table = self._read(files, columns)
        except (pa.ArrowInvalid, OSError):
            good = set(self._quarantine.readable([p for _, p in files]))
            files = self._by_site[site] = [(r, p) for r, p in files if p in good]
            table = self._read(files, columns)
        return _latest_per_key(table, _FETCH_KEY).combine_chunks()

    def _read(self, files: list[tuple[int, Path]], columns: list[str] | None) -> pa.Table:
        ranks, paths = [r for r, _ in files], [p for _, p in files]
        return _read_files(self._root, paths, ARTICLE_SCHEMA, _ARTICLE_KEYS, columns, ranks=ranks)


class _Quarantine:
    """Moves log files that do not read back out of the way, so one never stops compaction.

    Our writers never leave such a file (reliability S2), but a foreign or damaged one
    would fail every later compaction. Checking costs a read, so files are checked one by
    one only after reading them together failed.
    """

    def __init__(self, data_dir: Path, moved: list[Path]) -> None:
        self._dir = data_dir / "quarantine"
        self._data_dir = data_dir
        self._moved = moved

    def readable(self, files: list[Path]) -> list[Path]:
        """``files`` minus those that do not read back, which are moved to quarantine/."""
        good = []
        for path in files:
            try:
                pq.read_table(path)
            except (pa.ArrowInvalid, OSError) as exc:
                target = self._dir / path.relative_to(self._data_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                self._moved.append(target)
                logger.warning("unreadable log file %s moved to %s: %s", path, target, exc)
            else:
                good.append(path)
        return good


def _site_of(root: Path, path: Path) -> str:
    """The site a log file belongs to, decoded from its ``site=`` directory."""
    expression = ds.partitioning(pa.schema([("site", pa.string())]), flavor="hive").parse(
        path.relative_to(root).parts[0] + "/"  # a directory: parse() wants the trailing slash
    )
    return str(ds.get_partition_keys(expression)["site"])


def _read_files(
    root: Path,
    files: list[Path],
    schema: pa.Schema,
    keys: pa.Schema,
    columns: list[str] | None = None,
    ranks: list[int] | None = None,
) -> pa.Table:
    """Rows of ``files`` (with partition columns) in file order, numbered in ``__order``.

    ``ranks`` (default: the files' positions) orders files across calls: ``__order`` is
    rank * 2**32 + row number, so the newest file's row of a fetch has the highest.
    """
    partitioning = _partitioning(keys)
    full = _full_schema(schema, keys)
    wanted = None if columns is None else [*columns, *(k for k in _FETCH_KEY if k not in columns)]
    names = wanted or full.names
    if not files:
        return full.empty_table().select(names).append_column(_ORDER, pa.array([], pa.int64()))
    rank_of = {
        str(path): rank for rank, path in zip(ranks or range(len(files)), files, strict=True)
    }
    # One scan over all files (threaded, no per-file set-up: a log holds thousands of
    # small files); each batch says which file it came from.
    dataset = ds.dataset(
        [str(p) for p in files],
        format="parquet",
        schema=full,
        partitioning=partitioning,
        partition_base_dir=str(root),
    )
    rows_seen: dict[str, int] = defaultdict(int)
    batches = []
    for tagged in dataset.scanner(columns=names).scan_batches():
        batch, path = tagged.record_batch, tagged.fragment.path
        start = (rank_of[path] << 32) + rows_seen[path]
        rows_seen[path] += batch.num_rows
        order = pa.array(range(start, start + batch.num_rows), pa.int64())
        batches.append(pa.RecordBatch.from_arrays([*batch.columns, order], [*names, _ORDER]))
    if not batches:
        return full.empty_table().select(names).append_column(_ORDER, pa.array([], pa.int64()))
    return pa.Table.from_batches(batches)


def _partitioning(keys: pa.Schema) -> ds.Partitioning:
    return ds.partitioning(keys, flavor="hive")


def _full_schema(schema: pa.Schema, keys: pa.Schema) -> pa.Schema:
    extra = [f for f in keys if f.name not in schema.names]
    return pa.schema(list(schema) + extra, metadata=schema.metadata)


def _read_part(path: Path, schema: pa.Schema) -> pa.Table | None:
    """One corpus partition file, without partition columns; None when it does not exist."""
    if not path.is_file():
        return None
    return ds.dataset(str(path), format="parquet", schema=schema).to_table()


def _site_parts(root: Path, site: str) -> dict[str, Path]:
    """year → part file of ``site``'s existing corpus partitions under ``root``."""
    site_dir = root / partition_dir("site", site)
    if not site_dir.is_dir():
        return {}
    return {
        year_dir.name.split("=", 1)[1]: year_dir / PART_FILE
        for year_dir in sorted(site_dir.glob("year=*"))
        if (year_dir / PART_FILE).is_file()
    }


def _count_rows(root: Path) -> int:
    files = sorted(root.glob(f"*/*/{PART_FILE}")) if root.is_dir() else []
    return ds.dataset([str(f) for f in files], format="parquet").count_rows() if files else 0


# --------------------------------------------------------------------------- pages


def _fold_pages(root: Path, pages: pa.Table, staging: Path) -> int:
    """Upsert the log's page rows into corpus/pages by fetch; the number of files written."""
    if not pages.num_rows:
        return 0
    written = 0
    for (year, month), rows in _group(pages, ["year", "month"]).items():
        target = (
            root
            / partition_dir("year", f"{year:04d}")
            / partition_dir("month", f"{month:02d}")
            / PART_FILE
        )
        fresh = rows.drop_columns(["year", "month"])
        old = _read_part(target, CORPUS_PAGE_SCHEMA)
        if old is not None:
            # Below every log row's number, and distinct: the log's row of a fetch wins.
            old = old.append_column(_ORDER, pa.array(range(-old.num_rows, 0), pa.int64()))
            fresh = pa.concat_tables([old, fresh.cast(old.schema)])
        merged = _latest_per_key(fresh, _PAGE_KEY).sort_by([("fetched_at", "ascending")])
        replace_file(
            _conform(merged, CORPUS_PAGE_SCHEMA),
            target,
            staging,
            row_group_rows=ROW_GROUP_ROWS * 10,
        )
        written += 1
    return written


def _seen_after(pages: pa.Table) -> dict[str, datetime]:
    """article_id → latest fetch of a page that repeated its stored text."""
    mask = pc.and_(
        pc.is_valid(pages["article_id"]), pc.is_in(pages["reason"], pa.array(_SEEN_REASONS))
    )
    seen: dict[str, datetime] = {}
    rows = pages.filter(mask).select(["article_id", "fetched_at"]).to_pylist()
    for row in rows:
        when = row["fetched_at"]
        if row["article_id"] not in seen or when > seen[row["article_id"]]:
            seen[row["article_id"]] = when
    return seen


def _gone(current: Path, articles: pa.Table | None, pages: pa.Table) -> dict[str, datetime]:
    """article_id → latest 404/410 of a URL that a corpus (or this batch's) article has.

    A removed page answers without an article, so its row names no article_id: the
    article is found by its fetched or canonical URL.
    """
    rows = pages.filter(pc.equal(pages["reason"], _GONE_REASON)).select(["url", "fetched_at"])
    if not rows.num_rows:
        return {}
    when_by_url: dict[str, datetime] = {}
    for row in rows.to_pylist():
        url = canonicalize(row["url"])
        when_by_url[url] = max(row["fetched_at"], when_by_url.get(url, row["fetched_at"]))
    urls = pa.array(sorted(when_by_url), pa.string())
    found = [] if articles is None else [articles.select(["article_id", "url", "canonical_url"])]
    if current.is_dir() and any(current.glob(f"*/*/{PART_FILE}")):
        dataset = ds.dataset(
            str(current),
            format="parquet",
            schema=CURRENT_SCHEMA,
            partitioning=_partitioning(_ARTICLE_KEYS),
        )
        wanted = pc.field("canonical_url").isin(urls) | pc.field("url").isin(urls)
        found.append(
            dataset.to_table(columns=["article_id", "url", "canonical_url"], filter=wanted)
        )
    gone: dict[str, datetime] = {}
    for row in pa.concat_tables(found).to_pylist() if found else []:
        for url in (row["canonical_url"], canonicalize(row["url"])):
            if url in when_by_url:
                when = when_by_url[url]
                gone[row["article_id"]] = max(when, gone.get(row["article_id"], when))
    return gone


def _retracted(pages: pa.Table) -> frozenset[FetchKey]:
    """Fetches whose latest page row rejects them for their content (a re-clean's verdict).

    A fetch has one outcome per cleaning; when a later cleaning of the same stored response
    finds no article (a better classifier: a listing, a consent wall), the article version
    that fetch produced is withdrawn. Article rows name the fetch by its final URL.
    """
    latest = _latest_per_key(pages, _PAGE_KEY)
    mask = pc.and_(
        pc.equal(latest["outcome"], "rejected"),
        pc.is_in(latest["reason"], pa.array(_RETRACTING_REASONS)),
    )
    rows = latest.filter(mask).select(["final_url", "fetched_at"]).to_pylist()
    return frozenset((row["final_url"], row["fetched_at"]) for row in rows)


def _without(rows: pa.Table, fetches: frozenset[FetchKey]) -> pa.Table:
    """``rows`` minus those of the given fetches."""
    if not fetches or not rows.num_rows:
        return rows
    keys = zip(rows["url"].to_pylist(), rows["fetched_at"].to_pylist(), strict=True)
    return rows.filter(pa.array([key not in fetches for key in keys], pa.bool_()))


def _articles_of(history: Path, fetches: frozenset[FetchKey]) -> frozenset[str]:
    """Corpus articles with a version row from one of ``fetches``."""
    if not fetches or not history.is_dir() or not any(history.glob(f"*/*/{PART_FILE}")):
        return frozenset()
    dataset = ds.dataset(
        str(history),
        format="parquet",
        schema=HISTORY_SCHEMA,
        partitioning=_partitioning(_ARTICLE_KEYS),
    )
    urls = pa.array(sorted({url for url, _ in fetches}), pa.string())
    table = dataset.to_table(
        columns=["article_id", "url", "fetched_at"], filter=pc.field("url").isin(urls)
    )
    return frozenset(
        row["article_id"] for row in table.to_pylist() if (row["url"], row["fetched_at"]) in fetches
    )


# --------------------------------------------------------------------------- articles


def _fold_articles(
    corpus: Path,
    log: _ArticleLog,
    pages: pa.Table,
    staging: Path,
    report: CompactionReport,
) -> None:
    """Merge new article rows and the pages' sightings into corpus/history and current.

    Two passes over the log, a site at a time: the first finds the new articles (for their
    clusters, assigned over all sites in time order, so that "earliest" does not depend
    on site order) and every article's URLs (for tombstones); the second folds.
    """
    columns = ["article_id", "url", "canonical_url", "fetched_at", "text", "word_count"]
    retracted = _retracted(pages)
    identities, new_first = [], []
    for site in log.sites():
        rows = log.read_site(site, columns)
        if rows is not None:
            report.article_rows += rows.num_rows
            rows = _without(rows, retracted)
            identities.append(rows.select(["article_id", "url", "canonical_url"]))
            new_first.extend(_new_first_versions(corpus, site, rows))
    known = pa.concat_tables(identities) if identities else None
    seen = Sightings(
        _seen_after(pages),
        _gone(corpus / CURRENT_DIR, known, pages),
        retracted,
        _articles_of(corpus / HISTORY_DIR, retracted),
    )
    clusters = _assign_clusters(_cluster_index(corpus / CURRENT_DIR), new_first)
    # Sightings of articles already in the corpus touch their sites too.
    sites = sorted(set(log.sites()) | set(_sites_of(corpus / CURRENT_DIR, seen.article_ids())))
    for site in sites:
        _fold_site(corpus, site, log.read_site(site), seen, clusters, staging, report)


def _sites_of(current: Path, seen: set[str]) -> list[str]:
    """Sites of corpus articles among the ids ``seen``."""
    if not seen or not current.is_dir():
        return []
    dataset = ds.dataset(
        str(current),
        format="parquet",
        schema=CURRENT_SCHEMA,
        partitioning=_partitioning(_ARTICLE_KEYS),
    )
    table = dataset.to_table(
        columns=["site"], filter=pc.field("article_id").isin(pa.array(list(seen)))
    )
    return sorted(set(table["site"].to_pylist()))


def _cluster_index(current: Path) -> NearDuplicateIndex:
    """The near-duplicate index of every current article, in first_seen order."""
    index = NearDuplicateIndex()
    if not current.is_dir() or not any(current.glob(f"*/*/{PART_FILE}")):
        return index
    dataset = ds.dataset(
        str(current),
        format="parquet",
        schema=CURRENT_SCHEMA,
        partitioning=_partitioning(_ARTICLE_KEYS),
    )
    columns = ["article_id", "simhash", "cluster_id", "word_count"]
    table = dataset.to_table(columns=[*columns, "first_seen"])
    table = table.sort_by([("first_seen", "ascending"), ("article_id", "ascending")])
    ids, hashes, clusters, words = (table[c].to_pylist() for c in columns)
    for article_id, value, cluster, count in zip(ids, hashes, clusters, words, strict=True):
        index.add(article_id, value, cluster, _match_limit(count))
    return index


def _match_limit(word_count: int) -> int:
    """How far a text may be from another to match: short texts only match exactly.

    Taken from the stored ``word_count``, not re-tokenised, so an article's limit is the
    same when it is new and when it is loaded from the corpus later.
    """
    return MAX_DISTANCE if word_count >= MIN_TOKENS else 0


def _new_first_versions(
    corpus: Path, site: str, rows: pa.Table | None
) -> list[tuple[datetime, str, int, int]]:
    """(first_seen, article_id, simhash, match limit) of the site's articles new to the corpus."""
    if rows is None or not rows.num_rows:
        return []
    known = _known_ids(corpus / HISTORY_DIR, site)
    fresh = rows.filter(pc.invert(pc.is_in(rows["article_id"], known)))
    first = _first_per_article(fresh)
    return [
        (
            row["fetched_at"],
            row["article_id"],
            simhash(row["text"]),
            _match_limit(row["word_count"]),
        )
        for row in first.select(["fetched_at", "article_id", "text", "word_count"]).to_pylist()
    ]


def _assign_clusters(
    index: NearDuplicateIndex, new: list[tuple[datetime, str, int, int]]
) -> dict[str, tuple[int, str]]:
    """article_id → (simhash, cluster_id) for new articles, matched in first_seen order."""
    result: dict[str, tuple[int, str]] = {}
    for _, article_id, value, limit in sorted(new):
        cluster = index.match(value, limit) or article_id
        index.add(article_id, value, cluster, limit)
        result[article_id] = (value, cluster)
    return result


def _known_ids(history: Path, site: str) -> pa.Array:
    parts = list(_site_parts(history, site).values())
    if not parts:
        return pa.array([], pa.string())
    table = ds.dataset([str(p) for p in parts], format="parquet").to_table(columns=["article_id"])
    return pc.unique(table["article_id"])


def _fold_site(
    corpus: Path,
    site: str,
    rows: pa.Table | None,
    seen: Sightings,
    clusters: dict[str, tuple[int, str]],
    staging: Path,
    report: CompactionReport,
) -> None:
    """Rewrite the partitions of ``site`` whose articles got new fetches or sightings."""
    history_parts = _site_parts(corpus / HISTORY_DIR, site)
    old = [
        t.append_column("year", pa.array([year] * t.num_rows, pa.string()))
        for year, path in history_parts.items()
        if (t := _read_part(path, _file_schema(HISTORY_SCHEMA))) is not None
    ]
    old_history = pa.concat_tables(old) if old else None
    fetches = _as_fetches(rows) if rows is not None else None
    touched = seen.article_ids()
    if fetches is not None:
        touched |= set(fetches["article_id"].to_pylist())
    if old_history is not None:
        touched_old = old_history.filter(
            pc.is_in(old_history["article_id"], pa.array(sorted(touched), pa.string()))
        )
        touched_ids_in_corpus = set(touched_old["article_id"].to_pylist())
    else:
        touched_old, touched_ids_in_corpus = None, set()
    if fetches is None and not touched_ids_in_corpus:
        return
    kept_old = None
    if touched_old is not None:
        kept_old = _without(touched_old, seen.retracted)
        report.retracted_versions += touched_old.num_rows - kept_old.num_rows
    fresh = _without(fetches, seen.retracted) if fetches is not None else None
    candidates = [_conform_loose(t) for t in (kept_old, fresh) if t is not None and t.num_rows]
    folded = None
    if candidates:
        folded, new_articles, new_versions = _versions(pa.concat_tables(candidates), seen, clusters)
        report.new_articles += new_articles
        report.new_versions += new_versions
    # Rewritten: the years of the folded articles, and of stored articles touched (one whose
    # every version was retracted leaves its partition).
    changed_years = set(folded["year"].to_pylist()) if folded is not None else set()
    if touched_old is not None:
        changed_years |= set(touched_old["year"].to_pylist())
    keep = (
        old_history.filter(
            pc.invert(
                pc.is_in(
                    old_history["article_id"], pa.array(sorted(touched_ids_in_corpus), pa.string())
                )
            )
        )
        if old_history is not None
        else None
    )
    for year in sorted(changed_years):
        parts = [t.filter(pc.equal(t["year"], year)) for t in (keep, folded) if t is not None]
        history = pa.concat_tables([_conform_loose(p) for p in parts]).drop_columns(["year"])
        history = history.sort_by(
            [("published", "ascending"), ("article_id", "ascending"), ("version", "ascending")]
        )
        current = history.filter(history["is_current"])
        dirs = (partition_dir("site", site), partition_dir("year", year))
        replace_file(
            _conform(history, _file_schema(HISTORY_SCHEMA)),
            corpus.joinpath(HISTORY_DIR, *dirs, PART_FILE),
            staging,
            row_group_rows=ROW_GROUP_ROWS,
        )
        replace_file(
            _conform(current, _file_schema(CURRENT_SCHEMA)),
            corpus.joinpath(CURRENT_DIR, *dirs, PART_FILE),
            staging,
            row_group_rows=ROW_GROUP_ROWS,
        )
        report.partitions_written += 2


def _as_fetches(rows: pa.Table) -> pa.Table:
    """Log article rows without the log's own partition year (the corpus fixes its own)."""
    return rows.drop_columns([c for c in ("year", _ORDER) if c in rows.column_names])


def _versions(
    combined: pa.Table, seen: Sightings, clusters: dict[str, tuple[int, str]]
) -> tuple[pa.Table, int, int]:
    """Version rows of the touched articles; and how many articles and versions are new.

    ``combined`` holds the articles' existing version rows (with ``version`` set) and
    their new fetches (``version`` null). A new fetch of an existing version's own fetch
    (same url and fetched_at: a re-clean) replaces that version's row.
    """
    narrow = combined.select(
        [
            "article_id",
            "url",
            "fetched_at",
            "content_sha256",
            "version",
            "first_seen",
            "last_seen",
            "simhash",
            "cluster_id",
            "year",
            "published",
            "removed_at",
            "is_current",
        ]
    ).to_pylist()
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(narrow):
        by_article[row["article_id"]].append(i)
    take: list[int] = []
    fields: dict[str, list[Any]] = defaultdict(list)
    new_articles = new_versions = 0
    texts = combined["text"]
    for article_id in sorted(by_article):
        indices = by_article[article_id]
        existing = [i for i in indices if narrow[i]["version"] is not None]
        # The newest row of one fetch wins; existing rows come first, new fetches after.
        by_fetch: dict[tuple[str, datetime], int] = {}
        carried: dict[tuple[str, datetime], datetime] = {}
        for i in existing:
            key = (narrow[i]["url"], narrow[i]["fetched_at"])
            by_fetch[key], carried[key] = i, narrow[i]["last_seen"]
        for i in indices:
            if narrow[i]["version"] is None:
                by_fetch[(narrow[i]["url"], narrow[i]["fetched_at"])] = i
        ordered = sorted(by_fetch.values(), key=lambda i: (narrow[i]["fetched_at"], i))
        if not existing:
            new_articles += 1
        year = narrow[existing[0]]["year"] if existing else _year_of(narrow[ordered[0]])
        cluster = narrow[existing[0]]["cluster_id"] if existing else None
        if cluster is None:
            cluster = clusters.get(article_id, (0, article_id))[1]
        versions: list[dict[str, Any]] = []
        for i in ordered:
            row = narrow[i]
            # A re-cleaned version row keeps the sightings its old row had gathered.
            last = carried.get((row["url"], row["fetched_at"]), row["fetched_at"])
            if versions and versions[-1]["content_sha256"] == row["content_sha256"]:
                versions[-1]["last_seen"] = max(versions[-1]["last_seen"], last)
                continue
            value = row["simhash"]
            if not existing and not versions and article_id in clusters:
                value = clusters[article_id][0]  # computed for its cluster already
            elif row["version"] is None or value is None:
                value = simhash(texts[i].as_py())
            versions.append(
                {
                    "index": i,
                    "content_sha256": row["content_sha256"],
                    "first_seen": row["fetched_at"],
                    "last_seen": last,
                    "simhash": value,
                }
            )
        sighting = seen.repeated.get(article_id)
        if sighting is not None and sighting >= versions[-1]["first_seen"]:
            versions[-1]["last_seen"] = max(versions[-1]["last_seen"], sighting)
        removed = _removed_at(
            [narrow[i]["removed_at"] for i in existing if narrow[i]["is_current"]],
            seen.gone.get(article_id),
            versions[-1]["last_seen"],
        )
        new_versions += max(len(versions) - (len(existing) if existing else 1), 0)
        for number, version in enumerate(versions, start=1):
            take.append(version["index"])
            fields["version"].append(number)
            fields["first_seen"].append(version["first_seen"])
            fields["last_seen"].append(version["last_seen"])
            fields["is_current"].append(number == len(versions))
            fields["removed_at"].append(removed if number == len(versions) else None)
            fields["simhash"].append(version["simhash"])
            fields["cluster_id"].append(cluster)
            fields["year"].append(year)
    folded = combined.take(pa.array(take, pa.int64()))
    for name, values in fields.items():
        column = folded.schema.get_field_index(name)
        type_ = pa.string() if name == "year" else HISTORY_SCHEMA.field(name).type
        folded = folded.set_column(column, name, pa.array(values, type_))
    return folded, new_articles, new_versions


def _removed_at(
    carried: list[datetime | None], gone: datetime | None, last_seen: datetime
) -> datetime | None:
    """When the article was found removed; None when it was seen online after that."""
    found = [when for when in (*carried, gone) if when is not None]
    removed = max(found) if found else None
    return removed if removed is not None and removed > last_seen else None


def _year_of(row: dict[str, Any]) -> str:
    """The partition year of a new article: of its first version's published, else fetch."""
    return article_partition({"site": "", **row})[1][1]


def _first_per_article(rows: pa.Table) -> pa.Table:
    """The earliest fetch row of each article in ``rows``."""
    ordered = rows.sort_by([("article_id", "ascending"), ("fetched_at", "ascending")])
    ids = ordered["article_id"].to_pylist()
    firsts = [i for i, a in enumerate(ids) if i == 0 or ids[i - 1] != a]
    return ordered.take(pa.array(firsts, pa.int64()))


# --------------------------------------------------------------------------- table helpers


def _group(table: pa.Table, keys: list[str]) -> dict[Any, pa.Table]:
    """Rows of ``table`` by the values of ``keys`` (a scalar key for one column)."""
    values = table.select(keys).to_pylist()
    indices: dict[Any, list[int]] = defaultdict(list)
    for i, row in enumerate(values):
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        indices[key].append(i)
    return {key: table.take(pa.array(ix, pa.int64())) for key, ix in sorted(indices.items())}


def _latest_per_key(table: pa.Table, keys: list[str]) -> pa.Table:
    """One row per ``keys``: the one with the highest ``__order``; the column dropped."""
    latest = table.group_by(keys, use_threads=False).aggregate([(_ORDER, "max")])
    wanted = pc.is_in(table[_ORDER], latest[f"{_ORDER}_max"])
    return table.filter(wanted).drop_columns([_ORDER])


def _file_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` without the partition columns, which live only in the path."""
    return pa.schema([f for f in schema if f.name != "site"], metadata=schema.metadata)


def _conform_loose(table: pa.Table) -> pa.Table:
    """``table`` with every corpus column (missing version columns as nulls), in order."""
    names = [f.name for f in HISTORY_SCHEMA] + ["year"]
    columns = []
    for name in names:
        if name in table.column_names:
            columns.append(table[name])
        else:
            type_ = pa.string() if name == "year" else HISTORY_SCHEMA.field(name).type
            columns.append(pa.nulls(table.num_rows, type_))
    return pa.table(columns, names=names)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` cast to ``schema``: its columns in order, missing nullable ones as nulls."""
    columns = []
    for f in schema:
        if f.name in table.column_names:
            column = table[f.name]
            if not f.nullable and column.null_count:
                if pa.types.is_list(f.type):  # a list column older files lacked: empty
                    column = pc.fill_null(column, pa.scalar([], f.type))
                else:
                    raise ValueError(f"{f.name}: {column.null_count} nulls in a required column")
            columns.append(column.cast(f.type))
        elif f.nullable or pa.types.is_list(f.type):
            empty = pa.scalar([], f.type) if not f.nullable else None
            columns.append(pa.array([empty.as_py() if empty else None] * table.num_rows, f.type))
        else:
            raise ValueError(f"{f.name}: required column missing")
    return pa.Table.from_arrays(columns, schema=schema)
