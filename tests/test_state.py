"""The crawl state file across code versions: its schema version is checked on open (O7)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from crawler.state import SCHEMA_VERSION, STATE_FILE, CrawlState
from tests.crawling import ROOT, crawl_command
from tests.newssite import loopback_sites_file

OTHER_VERSION = "0"


def stored_version(path: Path) -> str:
    with sqlite3.connect(path) as db:
        (value,) = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    db.close()
    return str(value)


def state_of_another_version(data_dir: Path) -> Path:
    """A data directory's state file as an older or newer release would have left it."""
    state = CrawlState.in_data_dir(data_dir)
    state.close()
    path = data_dir / "state" / STATE_FILE
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value=? WHERE key='schema'", (OTHER_VERSION,))
    db.close()
    return path


def test_a_new_state_file_records_the_schema_version_and_reopens(tmp_path: Path) -> None:
    CrawlState.in_data_dir(tmp_path).close()
    path = tmp_path / "state" / STATE_FILE
    assert stored_version(path) == SCHEMA_VERSION
    CrawlState(path).close()
    assert stored_version(path) == SCHEMA_VERSION


def test_a_state_file_of_another_schema_version_is_refused_with_file_and_versions(
    tmp_path: Path,
) -> None:
    """O7: the error names the file, the version found and the version this code needs,
    and the refused file keeps its version (it is never silently upgraded)."""
    path = state_of_another_version(tmp_path)
    with pytest.raises(RuntimeError) as raised:
        CrawlState(path)
    message = str(raised.value)
    assert str(path) in message
    assert f"schema {OTHER_VERSION}" in message
    assert f"needs {SCHEMA_VERSION}" in message
    assert stored_version(path) == OTHER_VERSION


def test_crawl_on_a_state_of_another_schema_version_exits_2_naming_the_file(
    tmp_path: Path,
) -> None:
    """O7: ``localnews crawl`` refuses such a data directory as a usage error (exit 2),
    with the state's message on stderr, before fetching anything."""
    data = tmp_path / "data"
    path = state_of_another_version(data)
    # A closed port: nothing is fetched whether or not the state is refused.
    sites_file = loopback_sites_file(tmp_path / "sites.toml", "o7", "O7", "http://127.0.0.1:9")
    result = subprocess.run(
        crawl_command(sites_file, data, "-s", "CLOSESPIDER_TIMEOUT=20"),
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"{path}: crawl state schema {OTHER_VERSION}" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored_version(path) == OTHER_VERSION
