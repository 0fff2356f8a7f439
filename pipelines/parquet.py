"""Write validated records into a hive-partitioned Parquet dataset: buffered, rotated, atomic."""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.layout import Partitioner, partition_dir
from pipelines.validate import RecordError, check_schema_supported, to_row

__all__ = [
    "DatasetWriter",
    "RecordError",
    "clean_staging",
    "dictionary_columns",
    "replace_file",
    "to_row",
]

logger = logging.getLogger(__name__)

STAGING_MAX_AGE_SECONDS = 3600.0
"""Unlocked staging files older than this are removed even if their pid looks alive."""
DICTIONARY_KEY = b"localnews.dictionary"
"""Field metadata key: ``b"true"`` asks the writer to dictionary-encode the column."""

_FILE_KEY = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_PARTITION_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_STAGE_NAME = re.compile(r"stage-(?P<pid>\d+)-[0-9a-f]+-\d+\.parquet")
_CLOSE_THREADS = 4


@dataclass(eq=False)
class _Partition:
    """Buffer and open staging file of one partition directory."""

    dirs: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    row_bytes: int = 0
    """Approximate size of ``rows`` (see ``approx_bytes``)."""
    seq: int = 0
    file: IO[bytes] | None = None
    staging: Path | None = None
    writer: Any = None  # pq.ParquetWriter while a staging file is open
    file_rows: int = 0
    last_used: int = 0


class DatasetWriter:
    """Buffer rows per partition and commit them as Parquet files under ``root``.

    Files are named ``root/<key=value>/.../part-{file_key}-{seq:05d}.parquet``; ``seq``
    counts per partition from 0, so the same writes produce the same names. A file is
    written in a staging directory outside ``root`` (readers' globs never see it) and
    renamed in complete, after fsync: a reader or a SIGKILL never meets a torn file.

    ``file_key`` names one logical job. ``close()`` deletes every other
    ``part-{file_key}-*.parquet`` under ``root`` (files of an earlier run of the same
    job, including partitions its rows have since left), so re-running a job replaces
    its output instead of duplicating it. Never let two different jobs, or two running
    copies of one job, share a ``file_key`` on the same root.
    """

    def __init__(
        self,
        root: Path,
        schema: pa.Schema,
        partition: Partitioner,
        *,
        file_key: str,
        rows_per_file: int = 200_000,
        row_group_rows: int = 20_000,
        max_buffered_rows: int = 50_000,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        max_open_files: int = 64,
        staging_dir: Path | None = None,
    ) -> None:
        if not _FILE_KEY.fullmatch(file_key):
            raise ValueError(f"file_key must match {_FILE_KEY.pattern}: {file_key!r}")
        limits = (rows_per_file, row_group_rows, max_buffered_rows, max_buffered_bytes)
        if min(*limits, max_open_files) < 1:
            raise ValueError("row and file limits must be positive")
        check_schema_supported(schema)
        self._root = Path(root)
        self._root.mkdir(parents=True, exist_ok=True)
        self._real_root = os.path.realpath(self._root)
        self._staging = Path(staging_dir) if staging_dir else self._root.parent / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)
        real_staging = os.path.realpath(self._staging)
        if (real_staging + os.sep).startswith(self._real_root + os.sep):
            raise ValueError("staging_dir must lie outside root: DuckDB/polars globs see it")
        if os.stat(self._staging).st_dev != os.stat(self._root).st_dev:
            raise ValueError("staging_dir must be on the same filesystem as root (os.replace)")
        self._schema = schema
        self._partition = partition
        self._file_key = file_key
        self._rows_per_file = rows_per_file
        self._row_group_rows = row_group_rows
        self._max_buffered = max_buffered_rows
        self._max_buffered_bytes = max_buffered_bytes
        self._max_open = max_open_files
        self._keys: tuple[str, ...] | None = None
        self._file_schema = schema
        self._parts: dict[tuple[str, ...], _Partition] = {}
        self._buffered = 0
        self._buffered_bytes = 0
        self._committed: list[Path] = []
        self._token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._stage_numbers = itertools.count(1)  # next() is atomic: close() uses threads
        self._clock = 0
        self._closing = False
        # The system allocator gives memory back after each row group; pyarrow's default
        # (mimalloc) keeps a heap per thread, which made closing a many-partition writer
        # raise a crawl's peak RSS by 50-80 MB.
        self._pool = pa.system_memory_pool()
        self._state = "open"
        clean_staging(self._staging)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @property
    def buffered_rows(self) -> int:
        """Rows held in memory, not yet written to any file."""
        return self._buffered

    @property
    def buffered_bytes(self) -> int:
        """Approximate size of the rows held in memory (see ``approx_bytes``)."""
        return self._buffered_bytes

    def write(self, record: object) -> None:
        """Validate ``record`` and buffer it; a ``RecordError`` leaves the writer unchanged."""
        self._require("open")
        row = to_row(record, self._schema)
        part = self._part(self._dirs_for(row))
        values = tuple(row[name] for name in self._file_schema.names)
        size = approx_bytes(values)
        part.rows.append(values)
        part.row_bytes += size
        self._buffered += 1
        self._buffered_bytes += size
        try:
            if len(part.rows) >= self._row_group_rows:
                self._flush(part)
            # Bytes, not just rows, bound memory: article rows differ in size a hundredfold.
            while self._buffered > self._max_buffered or (
                self._buffered_bytes > self._max_buffered_bytes
            ):
                self._flush(max(self._parts.values(), key=lambda p: p.row_bytes))
        except BaseException:
            self._fail()
            raise

    def close(self) -> list[Path]:
        """Commit every buffered row, delete stale files of ``file_key``; return the new paths."""
        if self._state == "closed":
            return list(self._committed)
        self._require("open")
        self._closing = True
        pending = sorted(self._parts.values(), key=lambda p: p.dirs)
        try:
            # Each partition's last file is independent of the others, and its cost is
            # zstd, fsync and rename, which release the GIL: committing several at once
            # shortens the tail of a run over many sites. Batches bound the open files.
            with ThreadPoolExecutor(max_workers=_CLOSE_THREADS) as pool:
                for start in range(0, len(pending), self._max_open):
                    list(pool.map(self._finish, pending[start : start + self._max_open]))
        except BaseException:
            self._fail()
            raise
        self._state = "closed"
        # Threads updated these without a lock; everything is written now.
        self._buffered = self._buffered_bytes = 0
        self._committed.sort()  # threads finish in any order; callers get a stable list
        self._remove_stale()
        return list(self._committed)

    def _finish(self, part: _Partition) -> None:
        self._flush(part)
        if part.writer is not None:
            self._commit(part)

    def abort(self) -> None:
        """Discard buffered rows and staging files; files committed before stay in place."""
        if self._state in ("open", "failed"):
            self._discard_all()
            self._state = "aborted"

    def _require(self, state: str) -> None:
        if self._state != state:
            raise RuntimeError(f"DatasetWriter is {self._state}; expected {state}")

    def _dirs_for(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        pairs = list(self._partition(row))
        keys = tuple(key for key, _ in pairs)
        if self._keys is None:
            bad = [k for k in keys if not _PARTITION_KEY.fullmatch(k)]
            if bad or len(set(keys)) != len(keys):
                raise ValueError(
                    f"partition keys must be unique and match {_PARTITION_KEY.pattern}"
                )
            self._keys = keys
            # Partition columns live in the path only; readers rebuild them from it.
            metadata = {**(self._schema.metadata or {}), b"localnews.partitioning": ",".join(keys)}
            kept = [f for f in self._schema if f.name not in keys]
            self._file_schema = pa.schema(kept, metadata=metadata)
        elif keys != self._keys:
            raise ValueError(f"partition keys changed from {self._keys} to {keys}")
        dirs = []
        for key, value in pairs:
            if not isinstance(value, str):
                raise RecordError(key, f"partition value must be str, got {type(value).__name__}")
            try:
                dirs.append(partition_dir(key, value))
            except UnicodeEncodeError:
                raise RecordError(key, "partition value contains a lone surrogate") from None
        return tuple(dirs)

    def _part(self, dirs: tuple[str, ...]) -> _Partition:
        part = self._parts.get(dirs)
        if part is None:
            part = self._parts[dirs] = _Partition(dirs)
        return part

    def _flush(self, part: _Partition) -> None:
        while part.rows:
            if part.writer is None:
                self._open(part)
            # Cut at the file boundary so every file but the last holds rows_per_file rows.
            n = min(len(part.rows), self._rows_per_file - part.file_rows)
            chunk, part.rows = part.rows[:n], part.rows[n:]
            chunk_bytes = part.row_bytes if not part.rows else sum(map(approx_bytes, chunk))
            part.row_bytes -= chunk_bytes
            self._buffered -= n
            self._buffered_bytes -= chunk_bytes
            columns = zip(*chunk, strict=True)
            arrays = [
                pa.array(col, type=f.type, memory_pool=self._pool)
                for col, f in zip(columns, self._file_schema, strict=True)
            ]
            table = pa.Table.from_arrays(arrays, schema=self._file_schema)
            part.writer.write_table(table, row_group_size=self._row_group_rows)
            part.file_rows += n
            self._clock += 1
            part.last_used = self._clock
            if part.file_rows >= self._rows_per_file:
                self._commit(part)

    def _open(self, part: _Partition) -> None:
        open_parts = [p for p in self._parts.values() if p.writer is not None]
        # While closing, batches bound the open files instead (and threads must not
        # commit each other's partitions).
        if not self._closing and len(open_parts) >= self._max_open:
            # Bounded file descriptors: many partitions trade for a few smaller files.
            self._commit(min(open_parts, key=lambda p: p.last_used))
        path = self._staging / f"stage-{self._token}-{next(self._stage_numbers):05d}.parquet"
        file = path.open("xb")
        try:
            # The lock tells clean_staging in other processes that this file is alive;
            # the kernel drops it when we die, even by SIGKILL.
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            part.writer = pq.ParquetWriter(
                file,
                self._file_schema,
                compression="zstd",
                compression_level=3,
                write_statistics=True,
                use_dictionary=dictionary_columns(self._file_schema),
                memory_pool=self._pool,
            )
        except BaseException:
            file.close()
            path.unlink(missing_ok=True)
            raise
        part.file, part.staging, part.file_rows = file, path, 0

    def _commit(self, part: _Partition) -> None:
        writer, file, staging = part.writer, part.file, part.staging
        assert file is not None and staging is not None
        part.writer = part.file = part.staging = None
        target = Path()
        try:
            writer.close()
            file.flush()
            os.fsync(file.fileno())
            target_dir = self._make_dirs(part.dirs)
            target = target_dir / f"part-{self._file_key}-{part.seq:05d}.parquet"
            os.replace(staging, target)
            _fsync_dir(target_dir)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        finally:
            # Closed only after the rename, so the lock covers the file until it is in root.
            file.close()
        logger.debug("committed %s (%d rows)", target, part.file_rows)
        part.seq += 1
        part.file_rows = 0
        self._committed.append(target)

    def _make_dirs(self, dirs: tuple[str, ...]) -> Path:
        path = self._root
        for name in dirs:
            child = path / name
            if not child.is_dir():
                with contextlib.suppress(FileExistsError):
                    child.mkdir()
                _fsync_dir(path)  # makes the new directory entry durable
            path = child
        real = os.path.realpath(path)
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise ValueError(f"partition directory {path} resolves outside root")
        return path

    def _fail(self) -> None:
        self._discard_all()
        self._state = "failed"

    def _discard_all(self) -> None:
        for part in self._parts.values():
            writer, file, staging = part.writer, part.file, part.staging
            part.writer = part.file = part.staging = None
            part.rows.clear()
            part.row_bytes = 0
            if file is not None:
                with contextlib.suppress(Exception):
                    writer.close()
                file.close()
            if staging is not None:
                staging.unlink(missing_ok=True)
        self._buffered = 0

    def _remove_stale(self) -> None:
        mine = set(self._committed)
        name = re.compile(rf"part-{re.escape(self._file_key)}-\d+\.parquet")
        for dirpath, _dirs, files in os.walk(self._root):
            stale = [p for f in files if name.fullmatch(f) and (p := Path(dirpath, f)) not in mine]
            for path in stale:
                path.unlink(missing_ok=True)
                logger.info("removed stale %s from an earlier run of %s", path, self._file_key)
            if stale:
                _fsync_dir(Path(dirpath))  # else a crash could bring the stale rows back


def clean_staging(staging_dir: Path, *, max_age: float = STAGING_MAX_AGE_SECONDS) -> list[Path]:
    """Remove staging files left by dead writers; return the removed paths.

    A file is left alone while its writer holds its lock. An unlocked file goes when
    the pid in its name is gone or it is older than ``max_age`` seconds (the pid may
    have been reused, or belong to another pid namespace).
    """
    removed = []
    for path in Path(staging_dir).glob("stage-*.parquet"):
        match = _STAGE_NAME.fullmatch(path.name)
        if match is None:
            continue
        try:
            file = path.open("rb")
        except FileNotFoundError:
            continue
        with file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            age = time.time() - os.fstat(file.fileno()).st_mtime
            if _pid_alive(int(match["pid"])) and age < max_age:
                continue
            path.unlink(missing_ok=True)
        removed.append(path)
        logger.warning("removed staging file %s of a dead writer", path)
    return removed


def replace_file(
    table: pa.Table, target: Path, staging_dir: Path, *, row_group_rows: int = 20_000
) -> None:
    """Write ``table`` to ``target`` atomically: staged, fsynced, then renamed over any old file.

    A reader opening ``target`` meanwhile gets the old file or the new one, whole; the
    staging name and lock let ``clean_staging`` remove what a killed writer left.
    """
    staging_dir.mkdir(parents=True, exist_ok=True)
    path = staging_dir / f"stage-{os.getpid()}-{secrets.token_hex(4)}-0.parquet"
    with path.open("xb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            pq.write_table(
                table,
                file,
                row_group_size=row_group_rows,
                compression="zstd",
                compression_level=3,
                write_statistics=True,
                use_dictionary=dictionary_columns(table.schema),
            )
            file.flush()
            os.fsync(file.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            _fsync_dir(target.parent)
        except BaseException:
            path.unlink(missing_ok=True)
            raise


def approx_bytes(values: tuple[Any, ...]) -> int:
    """A cheap estimate of a row's size: string and bytes lengths, 8 per other value."""
    total = 0
    for value in values:
        if isinstance(value, str | bytes):
            total += len(value)
        elif isinstance(value, list):
            total += sum(len(v) if isinstance(v, str) else 8 for v in value)
        else:
            total += 8
    return total


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns whose field metadata asks for dictionary encoding (few distinct values).

    Only those: a dictionary for every column costs ~0.5 ms per file and buys nothing on
    unique values such as text or URLs.
    """
    return [f.name for f in schema if (f.metadata or {}).get(DICTIONARY_KEY) == b"true"]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
