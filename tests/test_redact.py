"""Secrets never reach the logs (reliability X8): the redactor, and a real crawl's log."""

from __future__ import annotations

import logging
import pprint
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.redact import _RedactingFactory, install_redaction, redact, redact_record, secret_name
from tests.test_middlewares import Site, static

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Crawled (200) <GET http://user:pw@example.org/a?api_key=XYZ&page=2> (referer: None)",
            "Crawled (200) <GET http://***@example.org/a?api_key=***&page=2> (referer: None)",
        ),
        ("https://token@example.org/", "https://***@example.org/"),
        ("/a?APIKEY=1&Token=2&access_token=3&sig=4&Signature=5&auth=6", "/a?APIKEY=***&Token=***"
         "&access_token=***&sig=***&Signature=***&auth=***"),
        ("/a?session=1;sid=2#secret=3&password=4&passwd=5&pwd=6&key=7", "/a?session=***;sid=***"
         "#secret=***&password=***&passwd=***&pwd=***&key=***"),
        ("/a?X-Amz-Signature=s&X-Amz-Credential=c&jsessionid=j", "/a?X-Amz-Signature=***"
         "&X-Amz-Credential=***&jsessionid=***"),
        ("(referer: https://a.de/?sid=42)", "(referer: https://a.de/?sid=***)"),
        ("scrapy crawl -s AWS_SECRET_ACCESS_KEY=XYZ -s LOG_LEVEL=INFO",
         "scrapy crawl -s AWS_SECRET_ACCESS_KEY=*** -s LOG_LEVEL=INFO"),
        ("Authorization: Bearer abc.def", "Authorization: ***"),
        ("{b'Cookie': [b'a=1; b=2'], b'Accept': [b'*/*']}",
         "{b'Cookie': '***', b'Accept': [b'*/*']}"),
        ("Telnet Password: 0123abcd", "Telnet Password: ***"),
        ("robots.txt of user:pw@127.0.0.1:8000 unavailable", "robots.txt of ***@127.0.0.1:8000 "
         "unavailable"),
    ],
)  # fmt: skip
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "GET https://example.org/a?keywords=rat&author=x&monkey=1&page=2#top",
        "mail info@example.org or see https://example.org/@user",
        "{'BOT_NAME': 'localnews', 'DOWNLOAD_DELAY': 5, 'RETRY_TIMES': 2}",
        "Content-Type: text/html; charset=utf-8",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_overridden_settings_line_is_masked_however_pprint_wraps_it() -> None:
    settings = {
        "AWS_SECRET_ACCESS_KEY": "XYZ",
        "AWS_ACCESS_KEY_ID": "AKIA" + "X" * 120,  # pprint splits long strings over lines
        "BOT_NAME": "localnews",
        "DOWNLOAD_DELAY": 5,
        "SOME_TOKEN": 12345,
    }
    text = redact("Overridden settings:\n" + pprint.pformat(settings))
    assert "XYZ" not in text and "AKIA" not in text and "12345" not in text
    assert "'BOT_NAME': 'localnews'" in text and "'DOWNLOAD_DELAY': 5" in text
    assert "'AWS_SECRET_ACCESS_KEY': '***'" in text


@pytest.mark.parametrize(
    ("name", "secret"),
    [("api_key", True), ("apikey", True), ("key", True), ("token", True),
     ("access_token", True), ("secret", True), ("password", True), ("passwd", True),
     ("pwd", True), ("sig", True), ("signature", True), ("auth", True), ("session", True),
     ("sid", True), ("PHPSESSID", True), ("AWS_SECRET_ACCESS_KEY", True),
     ("REMOTE_CONTROL_TOKEN", True), ("keywords", False), ("author", False),
     ("page", False), ("BOT_NAME", False)],
)  # fmt: skip
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


def test_records_are_redacted_with_their_traceback() -> None:
    try:
        raise ValueError("cannot fetch http://user:pw@example.org/?token=XYZ")
    except ValueError:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "visiting %s", ("http://a.de/?api_key=XYZ",),
            sys.exc_info(),
        )  # fmt: skip
    redact_record(record)
    formatted = logging.Formatter().format(record)
    assert "XYZ" not in formatted and "pw@" not in formatted
    assert "visiting http://a.de/?api_key=***" in formatted
    assert "ValueError: cannot fetch http://***@example.org/?token=***" in formatted


def test_install_is_idempotent_and_covers_every_handler() -> None:
    previous = logging.getLogRecordFactory()
    try:
        install_redaction()
        install_redaction()
        factory = logging.getLogRecordFactory()
        assert isinstance(factory, _RedactingFactory)
        assert not isinstance(factory.inner, _RedactingFactory)
        record = logging.getLogger("any").makeRecord(
            "any", logging.INFO, "f", 1, "key=%s", (1,), None
        )
        assert record.getMessage() == "key=***"
    finally:
        logging.setLogRecordFactory(previous)


# --- end to end: the log of a real crawl ----------------------------------------------------

SPIDER = r"""
from scrapy import Request, Spider


class Leaky(Spider):
    name = "leaky"

    async def start(self):
        base = self.settings["PROBE_BASE"]
        yield Request(base + "/broken?api_key=XYZ-query&page=1", callback=self.parse)
        yield Request(base + "/page?token=XYZ-token", callback=self.parse_fail)
        # Scrapy's HTTP/1.1 handler cannot fetch a URL with user info: "invalid hostname"
        yield Request(base.replace("//", "//user:XYZ-password@") + "/login", callback=self.parse)

    def parse(self, response):
        self.logger.info("parsed %s", response.url)

    def parse_fail(self, response):
        raise ValueError(f"cannot parse {response.url}")
"""


@pytest.fixture(scope="module")
def crawl_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("redact")
    site = Site(
        "127.0.0.1",
        {"/robots.txt": static(404, "text/plain", b""), "/broken?api_key=XYZ-query&page=1":
         static(500, "text/html", b"broken")},
    )  # fmt: skip
    (tmp / "leaky.py").write_text(SPIDER)
    base = f"http://127.0.0.1:{site.port}"
    overrides = {
        "PROBE_BASE": base,
        "AWS_SECRET_ACCESS_KEY": "XYZ-aws",
        "ITEM_PIPELINES": "{}",
        "NEWS_ALLOW_PRIVATE_ADDRESSES": "True",
        "NEWS_DATA_DIR": str(tmp / "data"),
        "NEWS_RETRY_BACKOFF_BASE": "0.05",
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "LOG_LEVEL": "DEBUG",
        "CLOSESPIDER_TIMEOUT": "30",
    }
    command = [sys.executable, "-m", "scrapy", "runspider", str(tmp / "leaky.py")]
    for name, value in overrides.items():
        command += ["-s", f"{name}={value}"]
    try:
        # cwd is the project: scrapy.cfg loads crawler.settings, whose EXTENSIONS redact
        proc = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        yield proc.stderr
    finally:
        site.close()


def test_x8_no_secret_reaches_the_crawl_log(crawl_log: str) -> None:
    assert "Spider closed (finished)" in crawl_log, crawl_log[-3000:]
    assert "XYZ" not in crawl_log, [line for line in crawl_log.splitlines() if "XYZ" in line]


def test_x8_the_lines_that_carried_secrets_are_still_logged(crawl_log: str) -> None:
    assert "'AWS_SECRET_ACCESS_KEY': '***'" in crawl_log  # the "Overridden settings" line
    assert "Gave up retrying <GET http://127.0.0.1:" in crawl_log
    assert "/broken?api_key=***&page=1>" in crawl_log
    assert "ValueError: cannot parse http://127.0.0.1:" in crawl_log  # a traceback
    assert "/page?token=***" in crawl_log
    # robots.txt of the user-info URL cannot be fetched either; its warning names the host
    assert "robots.txt of ***@127.0.0.1:" in crawl_log
    assert "ValueError: invalid hostname: ***@127.0.0.1" in crawl_log
