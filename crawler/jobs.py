"""Job plumbing for unattended crawls: one instance per data directory, run files, reports."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_FILE = "crawl.lock"
LOGS_DIR = "logs"
SHUTDOWN_MARGIN_SECONDS = 120.0
"""Part of a time budget kept for the graceful close: in-flight pages, the last commit."""


class AlreadyRunning(RuntimeError):
    """Another crawl holds the data directory's lock (an overlapping timer or cron slot)."""


@contextlib.contextmanager
def job_lock(data_dir: Path, run_id: str) -> Iterator[Path]:
    """Hold ``<data_dir>/state/crawl.lock`` for the duration; AlreadyRunning when taken.

    ``flock`` is released by the kernel when the process dies, even by SIGKILL, so a crash
    never leaves a stale lock behind; the file's text (pid, run id) is for people only.
    """
    path = data_dir / "state" / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise AlreadyRunning(
                f"a crawl is already running on {data_dir} ({holder}); this run exits"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} run {run_id}\n")
        handle.flush()
        try:
            yield path
        finally:
            handle.seek(0)
            handle.truncate()


@dataclass(frozen=True, slots=True)
class RunFiles:
    """Where one run writes its log and its JSON report."""

    log: Path
    report: Path


def run_files(data_dir: Path, run_id: str) -> RunFiles:
    """``<data_dir>/logs/<run_id>.log`` and ``.json``."""
    logs = data_dir / LOGS_DIR
    logs.mkdir(parents=True, exist_ok=True)
    return RunFiles(logs / f"{run_id}.log", logs / f"{run_id}.json")


def close_timeout(time_budget: float) -> float:
    """The ``CLOSESPIDER_TIMEOUT`` that ends a crawl in time to close within ``time_budget``."""
    margin = min(SHUTDOWN_MARGIN_SECONDS, time_budget * 0.1)
    return max(1.0, time_budget - margin)


def write_json_report(path: Path, report: Mapping[str, Any]) -> None:
    """Write ``report`` as JSON atomically (a monitor never reads half a report)."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(staging, path)
