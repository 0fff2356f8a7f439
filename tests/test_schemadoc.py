"""docs/schema.md is generated from the schemas and must not drift from them (issue 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.corpus import CORPUS_PAGE_SCHEMA, CURRENT_SCHEMA, HISTORY_SCHEMA
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA
from pipelines.schemadoc import DOC_PATH, render

ROOT = Path(__file__).resolve().parents[1]


def test_docs_schema_md_is_the_rendered_schema() -> None:
    written = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert written == render(), (
        "docs/schema.md is stale: python -m pipelines.schemadoc > docs/schema.md"
    )


@pytest.mark.parametrize(
    "schema", [ARTICLE_SCHEMA, PAGE_SCHEMA, CURRENT_SCHEMA, HISTORY_SCHEMA, CORPUS_PAGE_SCHEMA]
)
def test_every_column_is_documented(schema: object) -> None:
    undocumented = [f.name for f in schema if not (f.metadata or {}).get(b"doc")]  # type: ignore[attr-defined]
    assert not undocumented


def test_every_schema_carries_its_version() -> None:
    versions = {
        s.metadata[b"localnews.schema_version"]
        for s in (ARTICLE_SCHEMA, CURRENT_SCHEMA, HISTORY_SCHEMA)
    }
    assert len(versions) == 1
