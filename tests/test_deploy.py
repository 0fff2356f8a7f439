"""The scheduling recipes in deploy/ work as written: systemd units, the cron line, Scrapyd."""

from __future__ import annotations

import configparser
import fcntl
import importlib.util
import itertools
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipelines.layout import read_dataset
from pipelines.records import ARTICLE_SCHEMA
from tests.newssite import NewsSiteFixture, build_site, serve

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "systemd" / "localnews-crawl.service"
TIMER = DEPLOY / "systemd" / "localnews-crawl.timer"
CRON = DEPLOY / "cron" / "localnews.cron"
INSTALL_DIR = "/opt/localnews"
DATA_DIR = "/var/lib/localnews"
LOG_DIR = "/var/log/localnews"
CRAWL = f"localnews crawl --data-dir {DATA_DIR} --time-budget 10200"
BIN = Path(sys.executable).parent
PROJECT_FILES = ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md", "crawler", "pipelines")
"""What ``scrapyd-deploy`` needs to build the egg (the test builds in a copy of these)."""
FAST_SETTINGS = (
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "NEWS_ALLOW_PRIVATE_ADDRESSES=True",
    "NEWS_WORKERS=2",
    "CLOSESPIDER_TIMEOUT=120",
)
JOB_TIMEOUT = 120.0


# ---------------------------------------------------------------- systemd


def unit(path: Path) -> configparser.ConfigParser:
    """A unit file as INI: case-kept keys, repeated keys allowed (the last one wins)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return parser


def test_service_unit_runs_one_hardened_crawl() -> None:
    service = unit(SERVICE)["Service"]
    assert service["Type"] == "oneshot"
    assert service["User"] == "localnews" and service["Group"] == "localnews"
    assert service["WorkingDirectory"] == INSTALL_DIR
    assert service["ExecStart"] == f"{INSTALL_DIR}/.venv/bin/{CRAWL}"
    # 75 = already running (a skipped run), 130 = stopped by systemd after flushing;
    # 1 (failed) must leave the unit failed
    assert service["SuccessExitStatus"].split() == ["75", "130"]
    assert service["KillMode"] == "mixed" and service["KillSignal"] == "SIGTERM"
    assert service["TimeoutStopSec"] == "5min"
    assert service["TimeoutStartSec"] == "3h"  # above the 10200 s budget plus the flush
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"].split() == [DATA_DIR]
    assert service["ProtectHome"] == "yes" and service["PrivateTmp"] == "yes"
    assert "AF_UNIX" in service["RestrictAddressFamilies"].split()  # the forkserver socket
    assert int(service["Nice"]) > 0
    assert service["MemoryMax"] == "3G"


def test_timer_starts_the_service_every_three_hours() -> None:
    timer = unit(TIMER)
    assert timer["Timer"]["OnCalendar"] == "*-*-* 00/3:00:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["RandomizedDelaySec"] == "10min"
    assert timer["Timer"]["Unit"] == SERVICE.name
    assert timer["Install"]["WantedBy"] == "timers.target"


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed")
    return found


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    # verify insists that ExecStart's program exists: use this environment's localnews
    program = BIN / "localnews"
    assert program.is_file(), "pip install -e . installs the localnews script"
    text = SERVICE.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALL_DIR}/.venv/bin/localnews " in text
    text = text.replace(f"{INSTALL_DIR}/.venv/bin/localnews", str(program))
    (tmp_path / SERVICE.name).write_text(text, encoding="utf-8")
    shutil.copy(TIMER, tmp_path / TIMER.name)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # unknown or misspelt options are only warnings ("..., ignoring"): fail on them too
    ours = [line for line in output.splitlines() if "localnews-crawl" in line]
    assert not ours, output


def test_on_calendar_elapses_every_three_hours() -> None:
    analyze = systemd_analyze()
    expression = unit(TIMER)["Timer"]["OnCalendar"]
    result = subprocess.run(
        [analyze, "calendar", "--iterations=4", expression],
        capture_output=True, text=True, timeout=60, env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    hours = [int(h) for h in re.findall(r"(\d\d):00:00 UTC", result.stdout)]
    assert len(hours) == 4 and all(h % 3 == 0 for h in hours), result.stdout
    assert all((b - a) % 24 == 3 for a, b in itertools.pairwise(hours)), result.stdout


# ---------------------------------------------------------------- cron


@dataclass(frozen=True)
class CronJob:
    schedule: list[str]
    command: str


def cron_job() -> CronJob:
    """The one job line of the crontab (comments, blank lines and NAME=value lines skipped)."""
    jobs = [
        line
        for line in CRON.read_text(encoding="utf-8").splitlines()
        if line.strip()
        and not line.lstrip().startswith("#")
        and not re.match(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*=", line)
    ]
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(maxsplit=5)
    assert len(fields) == 6, jobs[0]
    return CronJob(fields[:5], fields[5])


CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def test_cron_line_runs_every_three_hours_under_flock() -> None:
    job = cron_job()
    for value, (low, high) in zip(job.schedule, CRON_RANGES, strict=True):
        assert CRON_FIELD.match(value), value
        numbers = [int(n) for n in re.findall(r"\d+", value.split("/")[0])]
        assert all(low <= n <= high for n in numbers), value
    minute, hour, *rest = job.schedule
    assert minute.isdigit() and hour == "*/3" and rest == ["*", "*", "*"]
    assert "%" not in job.command  # cron would turn it into a newline
    assert job.command.startswith(f"cd {INSTALL_DIR} && ")
    assert "flock -n " in job.command
    assert "localnews crawl" in job.command and CRAWL in job.command
    assert f">> {LOG_DIR}/" in job.command and "2>&1" in job.command


def test_cron_command_is_valid_shell() -> None:
    command = cron_job().command
    for shell in ("bash", "sh"):  # cron runs it with /bin/sh
        result = subprocess.run([shell, "-n", "-c", command], capture_output=True, text=True)
        assert result.returncode == 0, (shell, result.stderr)


def test_cron_command_runs_the_crawl_once_at_a_time(tmp_path: Path) -> None:
    if shutil.which("flock") is None:
        pytest.skip("flock (util-linux) is not installed")
    install, data, logs = tmp_path / "opt", tmp_path / "data", tmp_path / "log"
    stub = install / ".venv" / "bin" / "localnews"
    stub.parent.mkdir(parents=True)
    data.mkdir()
    logs.mkdir()
    calls = tmp_path / "calls"
    stub.write_text(f'#!/bin/sh\necho "$PWD $*" >> {shlex.quote(str(calls))}\necho crawled\n')
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    command = cron_job().command
    for old, new in ((INSTALL_DIR, install), (DATA_DIR, data), (LOG_DIR, logs)):
        command = command.replace(old, str(new))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}

    def run() -> None:
        subprocess.run(["sh", "-c", command], env=env, cwd="/", check=True, timeout=30)

    run()
    assert calls.read_text().splitlines() == [
        f"{install} crawl --data-dir {data} --time-budget 10200"
    ]
    log = next(logs.iterdir())
    assert log.read_text() == "crawled\n"
    lock_file = re.search(r"flock -n (?:-E \d+ )?(\S+)", command)
    assert lock_file is not None
    with open(lock_file[1], "a") as held:  # an earlier run still holds the lock
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        run()
    assert len(calls.read_text().splitlines()) == 1  # skipped
    lines = log.read_text().splitlines()
    assert lines[0] == "crawled" and lines[1].endswith("localnews crawl exited with status 75")


# ---------------------------------------------------------------- scrapyd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str, data: list[tuple[str, str]] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=10) as response:
        return json.loads(response.read())


@dataclass
class Scrapyd:
    url: str
    root: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return (self.root / "scrapyd.log").read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    for module in ("scrapyd", "scrapyd_client"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[test]'")
    root = tmp_path / "scrapyd"
    for name in ("home", "tmp", "eggs", "logs", "dbs"):
        (root / name).mkdir(parents=True)
    port = free_port()
    (root / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {root / 'eggs'}\n"
        f"logs_dir = {root / 'logs'}\n"
        f"dbs_dir = {root / 'dbs'}\n"
        # no item feeds: the pipeline writes its own Parquet and WARC files
        "items_dir =\n"
        "max_proc = 1\n"
        "poll_interval = 0.5\n",
        encoding="utf-8",
    )
    # no ~/.scrapyd.conf, ~/.scrapy.cfg or ~/.netrc of the user running the tests; the job
    # must import the project from the uploaded egg, not from a PYTHONPATH
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY", "NEWS_"))}
    env.pop("PYTHONPATH", None)
    env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"), PYTHONUNBUFFERED="1")
    with open(root / "scrapyd.log", "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "scrapyd")], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Scrapyd(f"http://127.0.0.1:{port}/", root, env, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, server.log()
            try:
                if fetch(server.url + "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "scrapyd did not start\n" + server.log()
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def deploy_project(server: Scrapyd, tmp_path: Path) -> dict[str, Any]:
    """``scrapyd-deploy`` (default target) from a copy of the project pointed at ``server``.

    A copy, because building the egg writes build/ and an egg-info next to setup.py.
    """
    project = tmp_path / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, project / name, ignore=ignore)
        else:
            shutil.copy2(source, project / name)
    config = (project / "scrapy.cfg").read_text(encoding="utf-8")
    assert "url = http://127.0.0.1:6800/" in config and "project = localnews" in config
    (project / "scrapy.cfg").write_text(config.replace("127.0.0.1:6800", server.url[7:-1]))
    result = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "-d"],  # -d: keep the build output (in TMPDIR)
        cwd=project, env=server.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    # with -d the build output comes first; the server's JSON answer is the last line
    response: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return response


def test_scrapyd_deploy_and_schedule_crawls_the_fixture_site(
    scrapyd: Scrapyd, tmp_path: Path
) -> None:
    deployed = deploy_project(scrapyd, tmp_path)
    assert deployed["status"] == "ok" and deployed["project"] == "localnews", deployed
    assert deployed["spiders"] == 1, deployed
    assert fetch(scrapyd.url + "listspiders.json?project=localnews")["spiders"] == ["news"]

    # the egg carries both packages, their data files and the settings entry point
    (egg,) = (scrapyd.root / "eggs" / "localnews").glob("*.egg")
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert {"crawler/spiders/news.py", "pipelines/cli.py", "crawler/sites.toml"} <= names
    assert "pipelines/rulepacks/generic.toml" in names
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)
    assert re.search(r"\[scrapy\]\s+settings = crawler\.settings", entry_points), entry_points

    site = build_site(5, eval_dir=tmp_path)
    with serve(site) as base_url:
        sites_file = NewsSiteFixture(base_url, site).sites_toml(tmp_path)
        data = tmp_path / "data"
        settings = [f"NEWS_SITES_FILE={sites_file}", f"NEWS_DATA_DIR={data}", *FAST_SETTINGS]
        scheduled = fetch(
            scrapyd.url + "schedule.json",
            [("project", "localnews"), ("spider", "news"), ("site", "fixture")]
            + [("setting", setting) for setting in settings],
        )
        assert scheduled["status"] == "ok", scheduled
        job = scheduled["jobid"]
        deadline = time.monotonic() + JOB_TIMEOUT
        while not any(j["id"] == job for j in fetch(scrapyd.url + "listjobs.json")["finished"]):
            if time.monotonic() > deadline:
                fetch(scrapyd.url + "cancel.json", [("project", "localnews"), ("job", job)])
                pytest.fail(f"job {job} did not finish in {JOB_TIMEOUT:.0f} s\n{scrapyd.log()}")
            time.sleep(0.5)

    log_file = scrapyd.root / "logs" / "localnews" / "news" / f"{job}.log"
    log = log_file.read_text(encoding="utf-8")
    assert "Traceback" not in log, log[-5000:]
    assert "'finish_reason': 'finished'" in log, log[-5000:]
    assert "Process died" not in scrapyd.log(), scrapyd.log()  # a non-zero exit status
    articles = read_dataset(data / "articles", ARTICLE_SCHEMA)
    expected = {article.url(base_url) for article in site.manifest.articles}
    assert sorted(articles.column("canonical_url").to_pylist()) == sorted(expected), log[-3000:]
    assert set(articles.column("site").to_pylist()) == {"fixture"}
