"""`localnews crawl` as an unattended job: lock, time budget, SIGTERM, verdict, report (issue 5)."""

from __future__ import annotations

import resource
import signal
import subprocess
import time
from pathlib import Path

from crawler.jobs import job_lock
from tests.crawling import ROOT, articles, crawl_command, run_crawl, unreadable_parquet
from tests.newssite import NewsSiteFixture, Route, build_site, serve

SLOW = ["-s", "DOWNLOAD_DELAY=0.25", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
"""About ten seconds for the 40-article site: long enough to be interrupted."""


def test_second_instance_exits_already_running(tmp_path: Path) -> None:
    """S11: overlapping timer slots; the second run exits 75 and touches nothing."""
    site = build_site(3, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        with job_lock(data, "test"):
            run = run_crawl(site, sites_file, data)
    assert run.returncode == 75
    assert "already running" in run.stderr
    assert not run.requests
    assert not (data / "articles").exists()


def test_run_writes_log_and_json_report(tmp_path: Path) -> None:
    """One log file and one JSON report per run, with the per-site counts."""
    site = build_site(5, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        run = run_crawl(site, sites_file, data)
    assert run.returncode == 0, run.stderr[-2000:]
    report = run.report()
    assert report["status"] == "ok"
    assert report["finish_reason"] == "finished"
    fixture = report["sites"]["fixture"]
    assert fixture["articles"] == 5
    assert fixture["bytes"] > 0
    assert fixture["seconds"] >= 0
    assert fixture["rejected"]["listing"] >= 1
    assert fixture["failed"]["robots_disallowed"] == 1
    log = Path(report["log_file"])
    assert log.parent == data / "logs"
    assert "Spider closed (finished)" in log.read_text(encoding="utf-8")


def test_time_budget_closes_gracefully_and_the_next_run_continues(tmp_path: Path) -> None:
    """O5: a run that would exceed its slot closes in time; the next one completes the set."""
    site = build_site(40, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        started = time.monotonic()
        first = run_crawl(site, sites_file, data, *SLOW, "--time-budget", "4")
        elapsed = time.monotonic() - started
        partial = len(articles(data))
        second = run_crawl(site, sites_file, data)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.report()["finish_reason"] == "closespider_timeout"
    assert elapsed < 20  # startup, 3.6 s of crawling, the graceful close
    assert 0 < partial < 40
    assert second.returncode == 0, second.stderr[-2000:]
    rows = articles(data)
    assert len(rows) == 40 == len({r["article_id"] for r in rows})


def test_sigterm_flushes_and_the_next_run_resumes(tmp_path: Path) -> None:
    """O1: SIGTERM finishes in-flight work, commits, exits 130; the next run completes."""
    site = build_site(40, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        command = crawl_command(sites_file, data, *SLOW)
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            while sum(site.requests[a.path] for a in site.manifest.articles) < 5:
                assert proc.poll() is None, "the crawl ended before it could be interrupted"
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            # Generous: the graceful close waits for the pages in flight, slow on a loaded box.
            stdout, _ = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:  # never leave the crawl running into the next test
                proc.kill()
                proc.communicate()
        assert proc.returncode == 130, stdout
        assert not unreadable_parquet(data)
        interrupted = len(articles(data))
        resumed = run_crawl(site, sites_file, data)
    assert "finish reason: shutdown" in stdout
    assert 0 < interrupted < 40
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = articles(data)
    assert len(rows) == 40 == len({r["article_id"] for r in rows})
    # what the interrupted run fetched, the resumed run did not fetch again
    again = [a.path for a in site.manifest.articles if resumed.requests[a.path]]
    assert len(again) == 40 - interrupted


def test_error_ratio_over_threshold_fails_the_run(tmp_path: Path) -> None:
    """O4: a crawl where most pages answer 500 exits non-zero, and the report says why."""
    site = build_site(12, eval_dir=tmp_path)
    for meta in site.manifest.articles:
        old = site.routes[meta.path]
        site.routes[meta.path] = Route(500, old.headers, old.render)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        run = run_crawl(site, sites_file, tmp_path / "data", "-s", "RETRY_TIMES=0")
    assert run.returncode == 1
    report = run.report()
    assert report["status"] == "failed"
    assert any("fetches failed" in problem for problem in report["problems"])


def test_memory_limit_fails_the_run(tmp_path: Path) -> None:
    """O3: Scrapy closes with memusage_exceeded and exits 0; our verdict is failed."""
    site = build_site(40, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        limits = ["-s", "MEMUSAGE_LIMIT_MB=40", "-s", "MEMUSAGE_CHECK_INTERVAL_SECONDS=0.2"]
        run = run_crawl(site, sites_file, tmp_path / "data", *SLOW, *limits)
    assert run.returncode == 1
    assert "memusage_exceeded" in run.stdout
    assert run.report()["status"] == "failed"


def test_storage_failure_fails_the_run_and_the_next_run_completes(tmp_path: Path) -> None:
    """O6 and S4: the disk fills mid-crawl; the run exits 1, the next one completes the set."""
    site = build_site(40, eval_dir=tmp_path)

    def small_files() -> None:  # every file this crawl writes may hold at most 300 kB
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        command = crawl_command(sites_file, data, "-s", "NEWS_WARC_MAX_BYTES=100000000")
        full = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=small_files
        )
        assert full.returncode == 1, full.stdout + full.stderr[-2000:]
        assert "storing failed" in full.stdout
        assert not unreadable_parquet(data)
        resumed = run_crawl(site, sites_file, data)
    assert resumed.returncode == 0, resumed.stdout
    rows = articles(data)
    assert len(rows) == 40 == len({r["article_id"] for r in rows})
