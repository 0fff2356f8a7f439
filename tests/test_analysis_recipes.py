"""The recipes of docs/analysis.md run as written against a fixture corpus (issue 6, item 7)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.compact import compact
from tests.factories import make_page_outcome
from tests.logrows import fetch, write_log
from tests.pages import GERMAN_PARAGRAPHS

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
SHARED = " ".join(GERMAN_PARAGRAPHS) + " " + " ".join(f"Satz {i} der Meldung." for i in range(12))


def _text(n: int) -> str:
    return f"Meldung {n}: " + " ".join(f"Wort{n}x{i}" for i in range(40))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """9 articles of 3 sites (one site id looks numeric), 10 versions, 8 stories, 12 fetches."""
    work = tmp_path_factory.mktemp("analysis")
    data = work / "data"
    rows = []
    for n in range(4):
        rows.append(fetch(f"https://lokal.de/{n}/", _text(n), T0 + timedelta(hours=n), site="lokal",
                          published=T0 - timedelta(days=10 * n)))  # fmt: skip
    rows.append(fetch("https://lokal.de/dpa/", SHARED, T0, site="lokal", agency="dpa"))
    rows.append(fetch("https://nullachtfuenfzehn.de/dpa/", "BERLIN (dpa) – " + SHARED,
                      T0 + timedelta(hours=2), site="0815", agency="dpa"))  # fmt: skip
    for n in (10, 11):
        rows.append(fetch(f"https://nullachtfuenfzehn.de/{n}/", _text(n), T0, site="0815"))
    rows.append(fetch("https://kreis.de/epd/", _text(20), T0, site="kreis", agency="epd"))
    write_log(data, "crawl-r1-00000", [r[0] for r in rows], [r[1] for r in rows])
    compact(data)
    changed = fetch("https://lokal.de/0/", _text(0) + " Nachtrag.", T0 + timedelta(days=1),
                    site="lokal", published=T0)  # fmt: skip
    rejected = [
        make_page_outcome(url="https://lokal.de/", outcome="rejected", reason="listing",
                          article_id=None, fetched_at=T0 + timedelta(days=1, minutes=m))
        for m in (1, 2)
    ] + [make_page_outcome(url="https://kreis.de/intern/", outcome="failed",
                           reason="robots_disallowed", article_id=None, raw_sha256=None,
                           warc_file=None, warc_offset=None, content_length=0,
                           fetched_at=T0 + timedelta(days=1))]  # fmt: skip
    write_log(data, "crawl-r2-00000", [changed[0]], [changed[1], *rejected])
    compact(data)
    return work


def _recipes() -> list[str]:
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.fixture(scope="module")
def namespace(corpus_dir: Path) -> Iterator[dict[str, Any]]:
    """Every recipe run in order in one namespace, from the directory holding data/."""
    here = Path.cwd()
    os.chdir(corpus_dir)
    try:
        scope: dict[str, Any] = {}
        for block in _recipes():
            exec(compile(block, "docs/analysis.md", "exec"), scope)
        yield scope
    finally:
        os.chdir(here)


def test_the_document_has_a_recipe_per_library() -> None:
    blocks = _recipes()
    assert len(blocks) == 3
    libraries = ("import pandas", "import polars", "import duckdb")
    assert all(lib in block for lib, block in zip(libraries, blocks, strict=True))


def test_pandas_recipe(namespace: dict[str, Any]) -> None:
    current, history = namespace["current"], namespace["history"]
    assert (len(current), len(history)) == (9, 10)
    assert current["article_id"].is_unique
    assert namespace["per_site"].to_dict() == {"0815": 3, "kreis": 1, "lokal": 5}
    assert len(namespace["local_only"]) == 6
    assert namespace["changed"] == 1


def test_polars_recipe(namespace: dict[str, Any]) -> None:
    assert (namespace["current_pl"].height, namespace["history_pl"].height) == (9, 10)
    assert namespace["per_site_pl"].rows() == [("0815", 3), ("kreis", 1), ("lokal", 5)]
    assert namespace["stories"] == 8  # the dpa story and its reprint are one


def test_duckdb_recipe(namespace: dict[str, Any]) -> None:
    per_month = namespace["per_month"]
    assert sum(n for _, _, n in per_month) == 9
    assert {site for site, _, _ in per_month} == {"0815", "kreis", "lokal"}
    assert namespace["agency_share"] == [("0815", 2, 1), ("kreis", 0, 1), ("lokal", 4, 1)]
    versions = namespace["versions"]
    assert [v[1] for v in versions] == [1, 2]
    assert versions[0][3] < versions[1][2]  # version 1 was last seen before version 2 appeared
    assert namespace["reasons"] == [("listing", 2), ("robots_disallowed", 1)]
