"""The frontier: compact per-site queues released a batch per site, interleaved."""

from __future__ import annotations

import pytest

from crawler.discovery import Link
from crawler.frontier import Frontier
from crawler.sites import Site


def _site(site_id: str) -> Site:
    return Site(
        id=site_id, name=site_id, url=f"https://{site_id}.de/", allowed_domains=(f"{site_id}.de",)
    )


def test_release_takes_a_batch_per_site_interleaved_in_discovery_order() -> None:
    a, b = _site("a"), _site("b")
    frontier = Frontier(batch_per_site=2)
    for i in range(3):
        frontier.add(a, Link(url=f"https://a.de/{i}"), depth=1)
    frontier.add(b, Link(url="https://b.de/0"), depth=2)
    assert len(frontier) == 4
    first = frontier.release()
    assert [(p.site.id, p.link.url, p.depth) for p in first] == [
        ("a", "https://a.de/0", 1),
        ("b", "https://b.de/0", 2),
        ("a", "https://a.de/1", 1),
    ]
    assert len(frontier) == 1
    assert [p.link.url for p in frontier.release()] == ["https://a.de/2"]
    assert frontier.release() == [] and len(frontier) == 0


def test_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Frontier(batch_per_site=0)
