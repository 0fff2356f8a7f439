"""Check one record against its Arrow schema and turn it into a row dict before batching."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

# pyarrow rejects a lone surrogate only when it converts the whole batch (one bad
# string kills every row with it), and NUL bytes break C tools reading the files.
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


class RecordError(ValueError):
    """One record does not fit its schema; ``field`` names the offending column."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def to_row(record: object, schema: pa.Schema) -> dict[str, Any]:
    """Return ``record`` (a records dataclass or a mapping) as a row dict valid for ``schema``.

    Checked here, one record at a time, because pyarrow would otherwise drop extra
    keys, fill missing ones with null, accept null in required columns until the
    write, take naive datetimes as UTC, or fail a whole batch on one bad string.
    Aware datetimes come back converted to UTC; lists come back as fresh copies so
    later changes by the caller cannot alter buffered rows.

    Raises:
        RecordError: naming the first field that is missing, extra, null where not
            allowed, of the wrong type, naive, out of range, or holding a lone
            surrogate or NUL character.
    """
    values = _as_mapping(record)
    names = schema.names
    missing = [name for name in names if name not in values]
    if missing:
        raise RecordError(missing[0], f"missing (all missing: {', '.join(missing)})")
    extra = sorted(set(values) - set(names))
    if extra:
        raise RecordError(extra[0], f"not in the schema (all extra: {', '.join(extra)})")
    row: dict[str, Any] = {}
    for field in schema:
        value = values[field.name]
        if value is None:
            if not field.nullable:
                raise RecordError(field.name, "is None but the column is not nullable")
            row[field.name] = None
        else:
            row[field.name] = _check_value(field.name, field.type, value)
    return row


def check_schema_supported(schema: pa.Schema) -> None:
    """Raise ``TypeError`` if ``schema`` has a column type ``to_row`` cannot check."""
    for field in schema:
        type_ = field.type
        if pa.types.is_list(type_) or pa.types.is_large_list(type_):
            type_ = type_.value_type
            if not _is_string(type_):
                raise TypeError(f"{field.name}: only lists of strings are supported")
        if pa.types.is_timestamp(type_) and type_.tz is None:
            raise TypeError(f"{field.name}: timestamp columns must carry a time zone")
        if not (
            _is_string(type_)
            or pa.types.is_integer(type_)
            or pa.types.is_boolean(type_)
            or pa.types.is_floating(type_)
            or pa.types.is_timestamp(type_)
        ):
            raise TypeError(f"{field.name}: unsupported column type {type_}")


def _as_mapping(record: object) -> Mapping[str, Any]:
    if isinstance(record, Mapping):
        return record
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        # getattr, not asdict: asdict deep-copies every value, the text included.
        return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    raise TypeError(f"expected a records dataclass or a mapping, got {type(record).__name__}")


def _is_string(type_: pa.DataType) -> bool:
    return bool(pa.types.is_string(type_) or pa.types.is_large_string(type_))


def _check_value(name: str, type_: pa.DataType, value: object) -> object:
    if _is_string(type_):
        return _check_str(name, value)
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        if not isinstance(value, list):
            raise RecordError(name, f"expected list[str], got {type(value).__name__}")
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_check_str(name, item))
            except RecordError as exc:
                raise RecordError(name, f"item {i}: {exc.problem}") from None
        return items
    if pa.types.is_timestamp(type_):
        if not isinstance(value, datetime):
            raise RecordError(name, f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise RecordError(name, "naive datetime; give it a time zone")
        return value.astimezone(UTC)
    # bool is a subclass of int, so it has to be excluded by hand in both branches.
    if pa.types.is_integer(type_):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordError(name, f"expected int, got {type(value).__name__}")
        bits = type_.bit_width
        low, high = (
            (0, 2**bits - 1)
            if pa.types.is_unsigned_integer(type_)
            else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        )
        if not low <= value <= high:
            raise RecordError(name, f"{value} out of range for {type_}")
        return int(value)
    if pa.types.is_boolean(type_):
        if not isinstance(value, bool):
            raise RecordError(name, f"expected bool, got {type(value).__name__}")
        return value
    if pa.types.is_floating(type_):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecordError(name, f"expected float, got {type(value).__name__}")
        return float(value)
    raise TypeError(f"{name}: unsupported column type {type_}")


def _check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        shown = "None" if value is None else type(value).__name__
        raise RecordError(name, f"expected str, got {shown}")
    bad = _BAD_CHARS.search(value)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
        raise RecordError(name, f"contains {what} at index {bad.start()}")
    # str.__str__ turns StrEnum members and other subclasses into plain str.
    return str.__str__(value)
