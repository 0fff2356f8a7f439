"""The analysts' corpus written by compaction: its layout, its Arrow schemas and its readers.

Crawls and re-cleans append to the *log* datasets ``articles/`` and ``pages/`` (every
version, every fetch, possibly twice). ``localnews compact`` folds the log into
``corpus/``, the datasets analysts read:

- ``corpus/current/site=/year=/part-0.parquet``: one row per article, its latest version;
- ``corpus/history/site=/year=/part-0.parquet``: one row per version of every article;
- ``corpus/pages/year=/month=/part-0.parquet``: one row per fetch, each once.

Each partition is one file, replaced atomically, and a row never moves to another
partition, so a reader running during compaction sees every row exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from pipelines.layout import read_dataset
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA, SCHEMA_VERSION, UTC_TIMESTAMP

CORPUS_DIR = "corpus"
CURRENT_DIR = "current"
HISTORY_DIR = "history"
PAGES_DIR = "pages"
PART_FILE = "part-0.parquet"


def _field(name: str, type_: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


# fmt: off
VERSION_FIELDS = [
    _field("version", pa.int32(), "1 for the first text of an article, +1 each time a re-check found its text changed.", nullable=False),
    _field("first_seen", UTC_TIMESTAMP, "When this version's text was first fetched (UTC).", nullable=False),
    _field("last_seen", UTC_TIMESTAMP, "When this version's text was last fetched unchanged (UTC); the next version's first_seen is later.", nullable=False),
    _field("removed_at", UTC_TIMESTAMP, "When a re-check found the article gone (HTTP 404 or 410) after last_seen; null while it is online. Set on the current version only."),
    _field("is_current", pa.bool_(), "True for the latest version of the article (the row in current/).", nullable=False),
    _field("simhash", pa.int64(), "64-bit SimHash of text (signed); near-duplicate texts differ in few bits.", nullable=False),
    _field("cluster_id", pa.string(), "article_id of the earliest article whose text this one nearly duplicates (agency copy, reprint); its own article_id when none. Assigned once.", nullable=False),
]
# fmt: on


def _with_versions(record: str) -> pa.Schema:
    metadata = dict(ARTICLE_SCHEMA.metadata or {})
    metadata.update(
        {b"localnews.record": record.encode(), b"localnews.schema_version": SCHEMA_VERSION.encode()}
    )
    return pa.schema(list(ARTICLE_SCHEMA) + VERSION_FIELDS, metadata=metadata)


CURRENT_SCHEMA = _with_versions("current_article")
"""corpus/current: the article columns plus version, first/last seen and near-duplicate cluster."""
HISTORY_SCHEMA = _with_versions("article_version")
"""corpus/history: the same columns, one row per version."""
CORPUS_PAGE_SCHEMA = PAGE_SCHEMA
"""corpus/pages: the page-outcome columns, one row per fetch."""


def corpus_root(data_dir: Path) -> Path:
    """The corpus directory inside ``data_dir``."""
    return Path(data_dir) / CORPUS_DIR


def read_current(data_dir: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """Current articles (one row per article_id) with ``site`` and ``year`` columns."""
    return read_dataset(corpus_root(data_dir) / CURRENT_DIR, CURRENT_SCHEMA, columns)


def read_history(data_dir: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """Every version of every article, with ``site`` and ``year`` columns."""
    return read_dataset(corpus_root(data_dir) / HISTORY_DIR, HISTORY_SCHEMA, columns)


def read_pages(data_dir: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """Every fetch once, with ``year`` and ``month`` columns."""
    return read_dataset(corpus_root(data_dir) / PAGES_DIR, CORPUS_PAGE_SCHEMA, columns)
