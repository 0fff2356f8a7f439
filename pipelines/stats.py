"""Per-site statistics of the corpus and their terminal table (``localnews stats``)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.corpus import corpus_root, read_current, read_history, read_pages

EXIT_OK = 0
EXIT_EMPTY = 1
"""The corpus is missing or holds no rows."""
TOTAL = "total"
LOCAL_TIMEZONE = "Europe/Berlin"
"""Calendar dates of ``published`` are counted here: a date-only value is midnight Berlin."""
NO_REASON = "(none)"
_KEY = "_key"
CURRENT_COLUMNS = (
    "site", "published", "word_count", "title", "authors", "description", "agency", "cluster_id",
)  # fmt: skip
HISTORY_COLUMNS = ("site",)
PAGE_COLUMNS = ("site", "fetched_at", "outcome", "reason")


class EmptyCorpusError(Exception):
    """The corpus directory is missing or holds no rows."""


@dataclass(frozen=True, slots=True)
class SiteStats:
    """Counts for one site, or for the whole corpus when ``site`` is ``TOTAL``."""

    site: str
    articles: int
    """Rows in corpus/current (one per article)."""
    versions: int
    """Rows in corpus/history (one per version of an article)."""
    pages: int
    """Fetches in corpus/pages, whatever their outcome."""
    published_min: datetime | None
    """Earliest ``published`` of a current article (UTC); None when no article has one."""
    published_max: datetime | None
    last_crawl: datetime | None
    """Latest ``fetched_at`` in corpus/pages (UTC)."""
    titled: int
    """Articles with a non-empty title; likewise ``described`` and ``with_agency``."""
    dated: int
    authored: int
    """Articles with at least one author."""
    described: int
    with_agency: int
    words: int
    """Sum of ``word_count`` over the articles."""
    clusters: int
    """Near-duplicate clusters with more than one member (over the whole corpus) that hold
    an article of this site; for the total, the distinct clusters."""
    rejections: tuple[tuple[str, int], ...]
    """Fetches with outcome other than 'article' per reason, most frequent first."""

    @property
    def rejected(self) -> int:
        """Fetches that did not become an article."""
        return sum(count for _, count in self.rejections)

    @property
    def mean_words(self) -> float | None:
        """Mean ``word_count``; None without articles."""
        return self.words / self.articles if self.articles else None

    def share(self, count: int) -> float | None:
        """``count`` as a share of the articles (a fill rate); None without articles."""
        return count / self.articles if self.articles else None


@dataclass(frozen=True, slots=True)
class CorpusStats:
    """Statistics per site, sorted by site id, and for the whole corpus."""

    sites: tuple[SiteStats, ...]
    total: SiteStats

    @property
    def empty(self) -> bool:
        """True when the corpus holds neither articles nor fetches."""
        return not (self.total.articles or self.total.versions or self.total.pages)


def site_stats(data_dir: Path) -> CorpusStats:
    """Statistics of the corpus in ``data_dir``; empty (not an error) when there is none."""
    return stats_from_tables(*read_corpus_columns(data_dir))


def read_corpus_columns(data_dir: Path) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Current, history and pages with only the columns statistics and charts use.

    Without the texts: a million articles' text is gigabytes, these columns a few dozen MB.
    """
    return (
        read_current(data_dir, CURRENT_COLUMNS),
        read_history(data_dir, HISTORY_COLUMNS),
        read_pages(data_dir, PAGE_COLUMNS),
    )


def stats_from_tables(current: pa.Table, history: pa.Table, pages: pa.Table) -> CorpusStats:
    """Statistics of corpus tables as ``read_current``, ``read_history``, ``read_pages`` return."""
    per_site = _aggregate(current, history, pages, by_site=True)
    total = _aggregate(current, history, pages, by_site=False).get(TOTAL, _zero(TOTAL))
    return CorpusStats(tuple(per_site[site] for site in sorted(per_site)), total)


def empty_message(data_dir: Path) -> str:
    """Why there is nothing to report: no corpus directory, or an empty one."""
    root = corpus_root(data_dir)
    if not root.is_dir():
        return f"no corpus at {root}; run `localnews compact` first"
    return f"the corpus at {root} holds no articles or pages"


def _keyed(table: pa.Table, *, by_site: bool) -> pa.Table:
    key = table["site"] if by_site else pa.repeat(pa.scalar(TOTAL), table.num_rows)
    return table.append_column(_KEY, key)


def _rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row.pop(_KEY): row for row in table.to_pylist()}


def _non_empty(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # An empty title or description is as useless as a missing one.
    return pc.fill_null(pc.greater(pc.utf8_length(column), 0), False).cast(pa.int64())


def _aggregate(
    current: pa.Table, history: pa.Table, pages: pa.Table, *, by_site: bool
) -> dict[str, SiteStats]:
    current = _keyed(current, by_site=by_site)
    flags = pa.table(
        {
            _KEY: current[_KEY],
            "published": current["published"],
            "words": current["word_count"].cast(pa.int64()),
            "titled": _non_empty(current["title"]),
            "dated": pc.is_valid(current["published"]).cast(pa.int64()),
            "authored": pc.greater(pc.list_value_length(current["authors"]), 0).cast(pa.int64()),
            "described": _non_empty(current["description"]),
            "with_agency": _non_empty(current["agency"]),
        }
    )
    sums = ["words", "titled", "dated", "authored", "described", "with_agency"]
    articles = _rows(
        flags.group_by(_KEY).aggregate(
            [(_KEY, "count"), ("published", "min"), ("published", "max")]
            + [(name, "sum") for name in sums]
        )
    )
    versions = _rows(_keyed(history, by_site=by_site).group_by(_KEY).aggregate([(_KEY, "count")]))
    pages = _keyed(pages, by_site=by_site)
    fetches = _rows(pages.group_by(_KEY).aggregate([(_KEY, "count"), ("fetched_at", "max")]))
    clusters = _rows(_clusters(current))
    rejections = _rejections(pages)
    result = {}
    for key in articles.keys() | versions.keys() | fetches.keys():
        article, fetched = articles.get(key, {}), fetches.get(key, {})
        result[key] = SiteStats(
            site=key,
            articles=article.get(f"{_KEY}_count", 0),
            versions=versions.get(key, {}).get(f"{_KEY}_count", 0),
            pages=fetched.get(f"{_KEY}_count", 0),
            published_min=article.get("published_min"),
            published_max=article.get("published_max"),
            last_crawl=fetched.get("fetched_at_max"),
            clusters=clusters.get(key, {}).get("cluster_id_count_distinct", 0),
            rejections=rejections.get(key, ()),
            **{name: article.get(f"{name}_sum", 0) for name in sums},
        )
    return result


def _clusters(current: pa.Table) -> pa.Table:
    """Distinct multi-member clusters per key; sizes count across sites (agency copies)."""
    sizes = current.group_by("cluster_id").aggregate([("cluster_id", "count")])
    shared = sizes.filter(pc.greater(sizes["cluster_id_count"], 1))["cluster_id"]
    members = current.filter(pc.is_in(current["cluster_id"], value_set=shared.combine_chunks()))
    return members.group_by(_KEY).aggregate([("cluster_id", "count_distinct")])


def _rejections(pages: pa.Table) -> dict[str, tuple[tuple[str, int], ...]]:
    lost = pages.filter(pc.not_equal(pages["outcome"], "article"))
    lost = pa.table({_KEY: lost[_KEY], "reason": pc.fill_null(lost["reason"], NO_REASON)})
    counts = lost.group_by([_KEY, "reason"]).aggregate([("reason", "count")])
    counts = counts.sort_by(
        [(_KEY, "ascending"), ("reason_count", "descending"), ("reason", "ascending")]
    )
    result: dict[str, list[tuple[str, int]]] = {}
    for row in counts.to_pylist():
        result.setdefault(row[_KEY], []).append((row["reason"], row["reason_count"]))
    return {key: tuple(pairs) for key, pairs in result.items()}


def _zero(site: str) -> SiteStats:
    return SiteStats(site, 0, 0, 0, None, None, None, 0, 0, 0, 0, 0, 0, 0, ())


_HEADERS = (
    "site", "articles", "versions", "from", "to", "last crawl UTC",
    "title", "date", "authors", "descr", "agency", "words", "dupes", "rejected",
)  # fmt: skip
_LEFT = frozenset({0, 3, 4, 5})
_NOTE = tuple(
    textwrap.wrap(
        "from/to: range of published (calendar dates in Europe/Berlin); title … agency: share of "
        "current articles with a non-empty value; words: mean word_count; dupes: near-duplicate "
        "clusters with more than one member; rejected: fetches that did not become an article.",
        width=100,
    )
)


def format_stats(stats: CorpusStats) -> str:
    """A fixed-width table: one line per site, a total line, then rejection reasons per site."""
    if stats.empty:
        return "The corpus is empty: no articles and no fetched pages."
    rows = [_cells(site) for site in stats.sites]
    total = _cells(stats.total)
    widths = [max(len(row[i]) for row in [_HEADERS, *rows, total]) for i in range(len(_HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        padded = (
            cell.ljust(width) if i in _LEFT else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    lines = [line(_HEADERS), rule, *map(line, rows), rule, line(total), "", *_NOTE, ""]
    if not stats.total.rejections:
        return "\n".join([*lines, "No rejected or failed fetches."])
    lines.append("Rejected or failed fetches by reason:")
    width = max(len(site.site) for site in (*stats.sites, stats.total))
    for site in (*stats.sites, stats.total):
        reasons = ", ".join(f"{reason} {count}" for reason, count in site.rejections)
        lines.append(f"  {site.site.ljust(width)}  {reasons or '-'}")
    return "\n".join(lines)


def _cells(site: SiteStats) -> tuple[str, ...]:
    local = ZoneInfo(LOCAL_TIMEZONE)
    shares = (site.titled, site.dated, site.authored, site.described, site.with_agency)
    return (
        site.site,
        str(site.articles),
        str(site.versions),
        site.published_min.astimezone(local).date().isoformat() if site.published_min else "-",
        site.published_max.astimezone(local).date().isoformat() if site.published_max else "-",
        f"{site.last_crawl:%Y-%m-%d %H:%M}" if site.last_crawl else "-",
        *(_percent(site.share(count)) for count in shares),
        f"{site.mean_words:.0f}" if site.mean_words is not None else "-",
        str(site.clusters),
        str(site.rejected),
    )


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def add_stats_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``localnews stats``; its parsed arguments carry ``run``, returning the status."""
    parser = subparsers.add_parser(
        "stats",
        help="print per-site statistics of the compacted corpus",
        description="Print one line per site of DIR/corpus: articles, versions, published "
        "range, last crawl, fill rates, mean length, agency share, near-duplicate clusters "
        "and rejected fetches, then the rejection reasons. Exit status: 0 ok; 1 when the "
        "corpus is missing or empty.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    parser.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    """Print the statistics of ``args.data_dir``; 1 with a message when there is no corpus."""
    stats = site_stats(args.data_dir)
    if stats.empty:
        print(f"localnews stats: {empty_message(args.data_dir)}", file=sys.stderr)
        return EXIT_EMPTY
    print(format_stats(stats))
    return EXIT_OK
