"""Records and their Arrow schemas agree, field by field, and every field is documented."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime

import pyarrow as pa
import pytest

from pipelines import records
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA, SCHEMA_VERSION, Article, PageOutcome

ARROW_FOR = {
    bool: (pa.bool_(),),
    str: (pa.string(),),
    int: (pa.int32(), pa.int64()),
    datetime: (records.UTC_TIMESTAMP,),
    list[str]: (pa.list_(pa.string()),),
}


def _unwrap(hint: object) -> tuple[object, bool]:
    """(inner type, nullable) of a possibly ``X | None`` annotation."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return inner, True
    return hint, False


@pytest.mark.parametrize("record,schema", [(Article, ARTICLE_SCHEMA), (PageOutcome, PAGE_SCHEMA)])
def test_dataclass_fields_match_the_schema(record: type, schema: pa.Schema) -> None:
    hints = typing.get_type_hints(record)
    names = [f.name for f in dataclasses.fields(record)]
    assert names == schema.names
    for name in names:
        inner, nullable = _unwrap(hints[name])
        field = schema.field(name)
        assert field.type in ARROW_FOR[inner], name  # type: ignore[index]
        assert field.nullable == nullable, name


@pytest.mark.parametrize("schema", [ARTICLE_SCHEMA, PAGE_SCHEMA])
def test_every_field_is_documented_and_the_schema_versioned(schema: pa.Schema) -> None:
    for field in schema:
        assert field.metadata and field.metadata[b"doc"].strip(), field.name
    assert schema.metadata[b"localnews.schema_version"] == SCHEMA_VERSION.encode()


def test_article_has_the_fields_the_issue_requires() -> None:
    required = {
        "article_id",
        "url",
        "canonical_url",
        "site",
        "title",
        "description",
        "text",
        "authors",
        "published",
        "published_raw",
        "modified",
        "language",
        "categories",
        "tags",
        "image_url",
        "word_count",
        "raw_sha256",
        "warc_file",
        "warc_offset",
        "fetched_at",
        "cleaner_version",
        "config_hash",
    }
    assert required <= set(ARTICLE_SCHEMA.names)
