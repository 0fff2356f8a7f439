"""Scrapy settings load and keep the safe defaults unattended crawls rely on (reliability §c)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scrapy.settings import Settings

from crawler import settings as project_settings

ROOT = Path(__file__).parents[1]


def test_safe_defaults() -> None:
    settings = Settings()
    settings.setmodule(project_settings)
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert not settings.getbool("TELNETCONSOLE_ENABLED")
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    assert not settings.getbool("COOKIES_ENABLED")
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert "+http" in settings.get("USER_AGENT")
    assert settings.getdict("DOWNLOAD_HANDLERS")["file"] is None


def test_scrapy_cfg_points_at_the_settings() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "settings", "--get", "BOT_NAME"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "localnews"
