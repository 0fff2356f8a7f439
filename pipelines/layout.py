"""The datasets' layout: hive partition paths for articles and pages, and reading them back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

Partitioner = Callable[[Mapping[str, Any]], Sequence[tuple[str, str]]]
"""Maps a validated row to its ``(key, value)`` partition pairs, outermost first."""

_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# Keeps "key=value" far below the 255-byte NAME_MAX (X7).
_MAX_SEGMENT_VALUE = 120


def partition_dir(key: str, value: str) -> str:
    """Return the directory name ``key=value`` for one partition value; never leaves root.

    Bytes outside ``[A-Za-z0-9_.-]`` are percent-encoded, which pyarrow, pandas,
    polars and DuckDB all decode back, so ``/``, ``..`` and NUL stay inside one
    path segment and the value survives the round trip. Empty or over-long
    values become ``~`` plus a hash (``~`` is always encoded otherwise, so the
    hashed form cannot collide); these are the only lossy cases.
    """
    raw = value.encode("utf-8")
    encoded = "".join(chr(b) if b in _SAFE_BYTES else f"%{b:02X}" for b in raw)
    if set(encoded) == {"."}:
        encoded = "%2E" * len(encoded)
    if not encoded or len(encoded) > _MAX_SEGMENT_VALUE:
        encoded = "~" + hashlib.sha256(raw).hexdigest()[:32]
    return f"{key}={encoded}"


def article_partition(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Partition an article row by site and the UTC year of ``published``, else ``fetched_at``."""
    when: datetime = row["published"] if row["published"] is not None else row["fetched_at"]
    return [("site", row["site"]), ("year", f"{when.astimezone(UTC).year:04d}")]


def page_partition(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Partition a page-outcome row by the UTC year and month of ``fetched_at``.

    The pages dataset is a fetch log of small rows: partitioning it by time alone keeps
    one file per run and month however many sites a run covers; ``site`` stays a column.
    """
    when: datetime = row["fetched_at"].astimezone(UTC)
    return [("year", f"{when.year:04d}"), ("month", f"{when.month:02d}")]


def read_dataset(root: Path, schema: pa.Schema, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a dataset written by ``DatasetWriter``: ``schema`` columns plus partition columns.

    ``columns`` limits the read to those (article text is most of a dataset's bytes).

    Columns of ``schema`` keep their declared types (``site`` is rebuilt from the path);
    partition keys that are not columns (``year``) get pyarrow's inferred type (int32).
    """
    root = Path(root)
    first = next(iter(sorted(root.rglob("*.parquet"))), None)
    if first is None:
        empty = schema.empty_table()
        return empty.select([c for c in columns if c in schema.names]) if columns else empty
    keys = [name.split("=", 1)[0] for name in first.relative_to(root).parts[:-1]]
    inferred = ds.dataset(root, format="parquet", partitioning="hive").schema
    key_fields = [schema.field(k) if k in schema.names else inferred.field(k) for k in keys]
    full = pa.schema(
        list(schema) + [f for f in key_fields if f.name not in schema.names],
        metadata=schema.metadata,
    )
    partitioning = ds.partitioning(pa.schema(key_fields), flavor="hive")
    table: pa.Table = ds.dataset(
        root, format="parquet", schema=full, partitioning=partitioning
    ).to_table(columns=list(columns) if columns else None)
    return table
