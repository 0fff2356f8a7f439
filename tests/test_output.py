"""DatasetOutput: every page leaves a pages row, even when its article fails validation."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from crawler.items import FetchFailure
from pipelines.layout import read_dataset
from pipelines.output import DatasetOutput
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA, Article, Reason, Rejection
from pipelines.rules import CleaningRules
from tests.factories import make_article
from tests.pages import FETCHED_AT, make_page

RULES = CleaningRules()


def test_invalid_article_is_recorded_as_a_rejection_with_the_field(tmp_path: Path) -> None:
    output = DatasetOutput(tmp_path)
    good = make_article()
    bad = make_article(
        url="https://www.example-lokal.de/b", fetched_at=datetime(2026, 1, 1)
    )  # naive
    page = make_page(b"<html></html>")
    assert isinstance(output.write("run1", page, good, RULES), Article)
    recorded = output.write("run1", page, bad, RULES)
    output.close()
    assert isinstance(recorded, Rejection) and recorded.reason == Reason.INVALID_RECORD
    assert "fetched_at" in recorded.detail
    assert read_dataset(tmp_path / "articles", ARTICLE_SCHEMA).num_rows == 1
    pages = read_dataset(tmp_path / "pages", PAGE_SCHEMA).to_pylist()
    assert [p["outcome"] for p in pages] == ["article", "rejected"]
    assert pages[1]["reason"] == "invalid_record"


def test_a_new_key_commits_the_previous_files(tmp_path: Path) -> None:
    output = DatasetOutput(tmp_path)
    page = make_page(b"<html></html>")
    output.write("first", page, make_article(), RULES)
    output.write("second", page, Rejection(Reason.NOT_ARTICLE, "listing"), RULES)
    committed = sorted(p.name for p in (tmp_path / "pages").rglob("*.parquet"))
    assert committed == ["part-first-00000.parquet"]
    output.close()
    assert len(list((tmp_path / "pages").rglob("*.parquet"))) == 2


def test_fetch_failures_leave_a_failed_row(tmp_path: Path) -> None:
    output = DatasetOutput(tmp_path)
    failure = FetchFailure(
        site="example",
        url="https://lokal.de/intern/",
        reason="robots_disallowed",
        detail="robots: Disallow /intern/",
        fetched_at=FETCHED_AT,
    )
    output.write_failure("run1", failure, RULES)
    output.close()
    (row,) = read_dataset(tmp_path / "pages", PAGE_SCHEMA).to_pylist()
    assert (row["outcome"], row["reason"], row["status"]) == ("failed", "robots_disallowed", None)


def test_hostile_header_values_still_leave_a_row(tmp_path: Path) -> None:
    output = DatasetOutput(tmp_path)
    page = make_page(b"%PDF", content_type="application/pdf\x00\udcc3evil")
    output.write(
        "run1", page, Rejection(Reason.NOT_HTML, "Content-Type application/pdf\x00"), RULES
    )
    output.close()
    (row,) = read_dataset(tmp_path / "pages", PAGE_SCHEMA).to_pylist()
    assert row["reason"] == "not_html" and "\x00" not in row["content_type"]
