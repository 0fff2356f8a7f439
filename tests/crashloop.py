"""Kill a crawl with SIGKILL at random moments, resume it, and compare with an uninterrupted crawl.

Shared by ``tests/test_crash.py`` and ``python -m benchmarks.killresume``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.crawling import ROOT, articles, crawl_command, run_crawl, unreadable_parquet
from tests.newssite import FixtureSite, NewsSiteFixture, build_site, serve

# Checkpoints every few pages and a little delay: a kill lands in every phase of the run
# (fetch, clean, write, commit, the state transaction) rather than always mid-fetch.
TRIAL_SETTINGS = [
    "-s", "NEWS_CHECKPOINT_PAGES=4",
    "-s", "DOWNLOAD_DELAY=0.02",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
]  # fmt: skip


@dataclass
class LoopResult:
    """What the trials found; the guarantee holds when the last three lists are empty."""

    trials: int = 0
    files_checked: int = 0
    kill_times: list[float] = field(default_factory=list)
    recovery: Counter[str] = field(default_factory=Counter)
    """What the resume runs' recovery did (pending, already_stored, recleaned, refetch)."""
    unreadable: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    """article_ids stored more than once after the resume."""
    missing: list[str] = field(default_factory=list)
    """article_ids of the uninterrupted crawl absent after the resume (or with other text)."""

    def render(self) -> str:
        """The benchmark's summary line."""
        return (
            f"trials {self.trials}  files checked {self.files_checked}  "
            f"duplicates {len(self.duplicates)}  missing after resume {len(self.missing)}  "
            f"unreadable files {len(self.unreadable)}  recovery "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.recovery.items())) or "none")
        )


def kill_and_resume(work: Path, trials: int, n_articles: int = 20, seed: int = 0) -> LoopResult:
    """Run ``trials`` kill-and-resume rounds over one fixture site, each against a reference."""
    rng = random.Random(seed)
    result = LoopResult()
    site = build_site(n_articles, eval_dir=work / "no-eval")
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(work)
        started = time.monotonic()
        reference = run_crawl(site, sites_file, work / "reference", *TRIAL_SETTINGS)
        full = time.monotonic() - started
        if reference.returncode != 0:
            raise RuntimeError(f"the reference crawl failed: {reference.stderr[-2000:]}")
        expected = {r["article_id"]: r["content_sha256"] for r in articles(work / "reference")}
        for trial in range(trials):
            data = work / f"trial-{trial:02d}"
            at = rng.uniform(0.2, full)
            result.kill_times.append(round(at, 2))
            _kill_after(site, sites_file, data, at)
            resumed = run_crawl(site, sites_file, data)
            if resumed.returncode != 0:
                raise RuntimeError(f"trial {trial}: the resume run failed: {resumed.stdout}")
            result.trials += 1
            result.recovery.update(resumed.report()["recovery"])
            result.files_checked += len(list(data.rglob("*.parquet")))
            result.unreadable += unreadable_parquet(data)
            rows = articles(data)
            counts = Counter(r["article_id"] for r in rows)
            result.duplicates += [f"trial {trial}: {a}" for a, n in counts.items() if n > 1]
            got = {r["article_id"]: r["content_sha256"] for r in rows}
            result.missing += [
                f"trial {trial}: {a}" for a, sha in expected.items() if got.get(a) != sha
            ]
    return result


def _kill_after(site: FixtureSite, sites_file: Path, data: Path, seconds: float) -> None:
    """Start a crawl and SIGKILL its whole process group (crawler, forkserver, workers)."""
    command = crawl_command(sites_file, data, *TRIAL_SETTINGS)
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # like an OOM kill or `systemctl kill -s KILL` of the unit
    )
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    else:
        # finished before the kill: still a valid trial of "kill after the end"
        pass
    # Orphaned workers of the group are gone too; wait until none is left.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
