"""Shared fixtures: the fixture news site served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.newssite import NewsSiteFixture, build_site, serve


@pytest.fixture(scope="module")
def news_site() -> Iterator[NewsSiteFixture]:
    """A 40-article fixture site, running for the whole test module."""
    site = build_site(40)
    with serve(site) as base_url:
        yield NewsSiteFixture(base_url=base_url, site=site)
