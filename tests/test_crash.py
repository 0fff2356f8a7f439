"""Crash safety of the crawl (issue 5, item 3; reliability O2, S1).

The guarantee (README "Crash safety"): after SIGKILL at any moment, every Parquet file is
readable, no article is stored twice, and the next run completes the set from the WARC
and the site, ending with the same articles as a crawl that was never interrupted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crashloop import kill_and_resume


def _check(tmp_path: Path, trials: int, seed: int) -> None:
    result = kill_and_resume(tmp_path, trials, seed=seed)
    assert result.trials == trials
    assert result.files_checked > 0
    assert not result.unreadable, result.unreadable
    assert not result.duplicates, result.duplicates
    assert not result.missing, (result.missing, result.kill_times)


def test_sigkill_then_resume_gives_the_uninterrupted_dataset(tmp_path: Path) -> None:
    _check(tmp_path, 3, seed=1)


@pytest.mark.slow
def test_sigkill_then_resume_many_trials(tmp_path: Path) -> None:
    _check(tmp_path, 20, seed=2)
