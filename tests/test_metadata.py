"""Metadata normalisers: dates in UTC with Berlin as the local zone, authors, titles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.metadata import parse_timestamp, split_authors, strip_site_suffix


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2024-04-15T13:38:00+0200", datetime(2024, 4, 15, 11, 38, tzinfo=UTC)),
        ("2024-04-15T13:38:00Z", datetime(2024, 4, 15, 13, 38, tzinfo=UTC)),
        ("2024-04-15T13:38:00", datetime(2024, 4, 15, 11, 38, tzinfo=UTC)),  # Berlin summer time
        ("2024-01-15T13:38:00", datetime(2024, 1, 15, 12, 38, tzinfo=UTC)),  # Berlin winter time
        ("2024-04-15", datetime(2024, 4, 14, 22, 0, tzinfo=UTC)),  # midnight in Berlin
        (
            "2024-04-15T00:00:00",
            datetime(2024, 4, 14, 22, 0, tzinfo=UTC),
        ),  # htmldate's day-only form
        ("vor 3 Stunden", None),
        (None, None),
    ],
)
def test_parse_timestamp(raw: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(raw) == expected


def test_split_authors() -> None:
    assert split_authors("Birgit Baumann; Anna  Fink; Birgit Baumann") == [
        "Birgit Baumann",
        "Anna Fink",
    ]
    assert split_authors(None) == []


@pytest.mark.parametrize(
    "title,sitename,host,expected",
    [
        (
            "BIP: Grafiken zeigen die Lage - WELT",
            "WELT",
            "www.welt.de",
            "BIP: Grafiken zeigen die Lage",
        ),
        ("Thüringer Bratwurst | MDR.DE", None, "www.mdr.de", "Thüringer Bratwurst"),
        (
            "Grüne fordern mehr – xtranews – das Newsportal aus Duisburg",
            "xtranews – das Newsportal aus Duisburg",
            "www.xtranews.de",
            "Grüne fordern mehr",
        ),
        # a dash inside a German headline is not a site suffix
        (
            "Brand in Lichterfelde – Starke Rauchentwicklung",
            "Tagesspiegel",
            "www.tagesspiegel.de",
            "Brand in Lichterfelde – Starke Rauchentwicklung",
        ),
        ("Golem.de", "Golem.de", "www.golem.de", "Golem.de"),
    ],
)
def test_strip_site_suffix(title: str, sitename: str | None, host: str, expected: str) -> None:
    assert strip_site_suffix(title, sitename, host) == expected


@pytest.mark.parametrize("raw", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_out_of_range_timestamps_are_unknown_not_errors(raw: str) -> None:
    assert parse_timestamp(raw) is None
