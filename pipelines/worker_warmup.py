"""Preloaded by the worker pool's forkserver: warms lazy caches once so every worker starts hot.

Importing this module cleans one small built-in page. That loads what trafilatura,
htmldate, dateparser and py3langid otherwise load on a worker's first page (about half a
second: language models, compiled date patterns), before the forkserver forks workers, so
each worker, including those restarted after a time-out kill, inherits it ready to use.
This import-time work is the reason the module exists; nothing else imports it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.items import FetchedPage
from pipelines.clean import clean
from pipelines.rules import CleaningRules

_PARAGRAPH = (
    "Am 3. Mai 2024 hat der Rat der Stadt beschlossen, die Radwege im Süden auszubauen. "
    "Die Arbeiten beginnen im Frühjahr und sollen bis zum Herbst abgeschlossen sein."
)
_PAGE = (
    "<html><head><title>Radwege</title></head><body><article><h1>Radwege</h1>"
    f"<p class='date'>Veröffentlicht am 3. Mai 2024, 14:32 Uhr</p><p>{_PARAGRAPH}</p>"
    f"<p>{_PARAGRAPH}</p></article></body></html>"
)


def warm_up() -> None:
    """Clean one small page with the default rules, discarding the result."""
    clean(
        FetchedPage(
            site="warmup",
            url="https://warmup.invalid/a",
            final_url="https://warmup.invalid/a",
            status=200,
            headers=(("Content-Type", "text/html; charset=utf-8"),),
            fetched_at=datetime(2024, 5, 3, tzinfo=UTC),
            body=_PAGE.encode(),
        ),
        CleaningRules(),
    )


warm_up()
