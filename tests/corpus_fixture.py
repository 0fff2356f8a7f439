"""A small corpus on disk for the stats and report tests, partitioned as compaction does."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.corpus import (
    CORPUS_DIR,
    CURRENT_DIR,
    CURRENT_SCHEMA,
    HISTORY_DIR,
    HISTORY_SCHEMA,
    PAGE_SCHEMA,
    PAGES_DIR,
    PART_FILE,
)
from pipelines.layout import article_partition, page_partition, partition_dir
from pipelines.records import Article
from tests.factories import make_article, make_page_outcome

_ARTICLE_FIELDS = {field.name for field in dataclasses.fields(Article)}


def current_row(**overrides: Any) -> dict[str, Any]:
    """A valid CURRENT_SCHEMA row of site ``a``: version 1, its own cluster, seen when fetched.

    ``url`` also derives ``article_id`` (and so ``cluster_id``) unless those are given.
    """
    article = make_article(
        **{"site": "a"} | {k: v for k, v in overrides.items() if k in _ARTICLE_FIELDS}
    )
    row = dataclasses.asdict(article)
    row.update(
        version=1,
        first_seen=article.fetched_at,
        last_seen=article.fetched_at,
        is_current=True,
        simhash=0,
        cluster_id=article.article_id,
    )
    row.update((k, v) for k, v in overrides.items() if k not in _ARTICLE_FIELDS)
    return row


def page_row(**overrides: Any) -> dict[str, Any]:
    """A valid PAGE_SCHEMA row: an article page of site ``a``."""
    return dataclasses.asdict(make_page_outcome(**({"site": "a"} | overrides)))


def fetched(day: int, month: int = 3, hour: int = 8) -> datetime:
    """A fetch time in 2024 (UTC)."""
    return datetime(2024, month, day, hour, tzinfo=UTC)


def write_corpus(
    data_dir: Path,
    current: Sequence[Mapping[str, Any]],
    pages: Sequence[Mapping[str, Any]] = (),
    history: Sequence[Mapping[str, Any]] | None = None,
) -> Path:
    """Write corpus/current, history (default: the current rows) and pages; return corpus/."""
    root = data_dir / CORPUS_DIR
    _write(root / CURRENT_DIR, current, CURRENT_SCHEMA, article_partition)
    _write(
        root / HISTORY_DIR,
        current if history is None else history,
        HISTORY_SCHEMA,
        article_partition,
    )
    _write(root / PAGES_DIR, pages, PAGE_SCHEMA, page_partition)
    return root


def _write(
    root: Path,
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    partition: Callable[[Mapping[str, Any]], Sequence[tuple[str, str]]],
) -> None:
    parts: dict[tuple[tuple[str, str], ...], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        parts[tuple(partition(row))].append(row)
    for pairs, part_rows in parts.items():
        keys = {key for key, _ in pairs}
        # As the dataset writer does: partition columns live in the path only.
        file_schema = pa.schema([field for field in schema if field.name not in keys])
        directory = root.joinpath(*(partition_dir(key, value) for key, value in pairs))
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist([dict(row) for row in part_rows], schema=file_schema)
        pq.write_table(table, directory / PART_FILE)


def _url(name: str) -> str:
    return f"https://www.example-lokal.de/artikel/{name}"


def sample_corpus(data_dir: Path) -> Path:
    """Sites a, b and d with articles and fetches, site c with one failed fetch only.

    The expected numbers are spelled out in tests/test_stats.py.
    """
    a1 = current_row(
        url=_url("a1"), title="Eins", description="Lead", agency="dpa", word_count=100,
        published=datetime(2024, 3, 1, 10, tzinfo=UTC), fetched_at=fetched(2),
    )  # fmt: skip
    a2 = current_row(
        url=_url("a2"), title=None, authors=[], word_count=200,
        published=datetime(2024, 3, 5, 23, 30, tzinfo=UTC), fetched_at=fetched(6),
    )  # fmt: skip
    a3 = current_row(
        url=_url("a3"), title="", description="", authors=["Y", "Z"], agency="dpa/AFP",
        word_count=300, published=None, fetched_at=fetched(6), version=2,
    )  # fmt: skip
    b1 = current_row(
        url=_url("b1"), site="b", agency="AFP", word_count=50, cluster_id=a1["article_id"],
        published=datetime(2023, 12, 31, 23, 30, tzinfo=UTC), fetched_at=fetched(20, 2),
    )  # fmt: skip
    b2 = current_row(
        url=_url("b2"), site="b", word_count=150,
        published=datetime(2024, 1, 10, 9, tzinfo=UTC), fetched_at=fetched(20, 2),
    )  # fmt: skip
    b3 = current_row(
        url=_url("b3"), site="b", agency="", word_count=100, cluster_id=b2["article_id"],
        published=datetime(2024, 1, 11, 9, tzinfo=UTC), fetched_at=fetched(20, 2),
    )  # fmt: skip
    d1 = current_row(
        url=_url("d1"), site="d", word_count=400,
        published=datetime(2024, 2, 1, 7, tzinfo=UTC), fetched_at=fetched(3),
    )  # fmt: skip
    current = [a1, a2, a3, b1, b2, b3, d1]
    a3_first = a3 | {"version": 1, "is_current": False, "content_sha256": "1" * 64}
    pages = [
        *(
            page_row(url=row["url"], site=row["site"], fetched_at=row["fetched_at"])
            for row in current
        ),
        page_row(site="b", reason="paywall_stub", fetched_at=fetched(21, 2)),
        *(_rejected("a", "not_article", fetched(day)) for day in (4, 5)),
        _rejected("a", "listing", fetched(5)),
        _rejected("a", "timeout", fetched(7), outcome="failed"),
        _rejected("b", "not_article", fetched(21, 2)),
        _rejected("b", None, fetched(22, 2, hour=10), outcome="failed"),
        _rejected("c", "http_error", fetched(1), outcome="failed"),
    ]
    return write_corpus(data_dir, current, pages, history=[*current, a3_first])


def _rejected(
    site: str, reason: str | None, when: datetime, outcome: str = "rejected"
) -> dict[str, Any]:
    url = f"https://{site}.example/{reason}/{when:%d%H}"
    return page_row(
        url=url, site=site, outcome=outcome, reason=reason, article_id=None, fetched_at=when,
        status=None if outcome == "failed" else 200,
    )  # fmt: skip
