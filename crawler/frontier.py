"""Article links waiting to be requested: held compactly per site, released a batch at a time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from crawler.discovery import Link
from crawler.sites import Site


@dataclass(frozen=True, slots=True)
class Pending:
    """A discovered article link and the depth of the page that listed it."""

    site: Site
    link: Link
    depth: int


class Frontier:
    """Per-site FIFO queues of discovered article links, released round-robin.

    A sitemap can list 50,000 URLs. Turned into Scrapy requests at once, they would sit in
    the scheduler at about 1 KB each; held here as links (about a third of that) and
    released a batch per site whenever the scheduler runs dry, the scheduler stays small
    and every site keeps a request in the downloader, so per-domain politeness never
    starves the other sites of a run.
    """

    def __init__(self, batch_per_site: int) -> None:
        if batch_per_site < 1:
            raise ValueError("batch_per_site must be positive")
        self._batch = batch_per_site
        self._queues: dict[str, deque[Pending]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def waiting(self, site_id: str) -> int:
        """Links of ``site_id`` not yet released."""
        queue = self._queues.get(site_id)
        return len(queue) if queue else 0

    def add(self, site: Site, link: Link, depth: int) -> None:
        """Queue ``link`` of ``site``, found on a page at ``depth``."""
        self._queues.setdefault(site.id, deque()).append(Pending(site, link, depth))
        self._size += 1

    def release(self) -> list[Pending]:
        """Up to one batch per site, interleaved across sites in the order they were first seen."""
        batches = []
        for queue in self._queues.values():
            take = min(self._batch, len(queue))
            batches.append([queue.popleft() for _ in range(take)])
        self._size -= sum(len(batch) for batch in batches)
        return [item for round_ in _interleave(batches) for item in round_]


def _interleave(batches: list[list[Pending]]) -> list[list[Pending]]:
    """Rounds of one item per site: [[a1, b1], [a2, b2], [a3]] from [[a1, a2, a3], [b1, b2]]."""
    longest = max((len(batch) for batch in batches), default=0)
    return [[batch[i] for batch in batches if i < len(batch)] for i in range(longest)]
