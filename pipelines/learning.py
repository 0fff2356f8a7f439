"""Learn each site's recurring boilerplate from its newest archived pages; store it per site."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from crawler.items import FetchedPage
from pipelines.forkserver import DEFAULT_TIMEOUT_SECONDS, default_workers
from pipelines.learned import LearnedBoilerplate, learn
from pipelines.learned_store import save, storable_site_id
from pipelines.pool import KillingProcessPool, clean_in_order
from pipelines.records import Article
from pipelines.rules import CleaningRules
from pipelines.warc import WarcReadError, find_warc_files, iter_pages

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LearnOptions:
    """Which sites to learn, from which WARCs, and how much to read."""

    site_ids: tuple[str, ...]
    raw: tuple[Path, ...]
    """WARC files or folders; read newest file first (by modification time)."""
    data_dir: Path
    """The state is written to ``data_dir/state/boilerplate/<site>.json``."""
    max_pages: int = 500
    """Newest pages per site to learn from: enough for the thresholds, cheap after a crawl."""
    workers: int = field(default_factory=default_workers)
    timeout: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True, slots=True)
class SiteLearning:
    """What learning found for one site."""

    site: str
    pages: int
    """Pages of the site cleaned for learning."""
    state: LearnedBoilerplate
    path: Path | None
    """Where the state was written; None when the site had too few pages to learn from."""


def learn_sites(
    options: LearnOptions,
    rules_for: Callable[[str], CleaningRules],
    executor: Executor | None = None,
) -> list[SiteLearning]:
    """Clean each site's newest pages with ``rules_for`` (without learned state), learn, save.

    ``rules_for`` must leave the learned state out (``SiteRules(..., learned=False)``):
    learning from text the old state already thinned would forget those lines again. A
    site with too few distinct article pages keeps its previous state untouched.
    """
    bad = [site for site in options.site_ids if not storable_site_id(site)]
    if bad:
        raise ValueError(f"site ids that cannot name a state file: {bad}")
    pool = executor or KillingProcessPool(options.workers, options.timeout)
    window = max(1, options.workers * 32)
    texts: dict[str, list[tuple[str, Sequence[str]]]] = {s: [] for s in options.site_ids}
    counted = dict.fromkeys(options.site_ids, 0)
    try:
        pages = _newest_pages(options, counted)
        items = ((page.site, page, rules_for(page.site)) for page in pages)
        for site, _page, _rules, result in clean_in_order(pool, items, window):
            if isinstance(result, Article):
                texts[site].append((result.article_id, result.text.split("\n\n")))
    finally:
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)
    report = []
    for site in options.site_ids:
        state = learn(texts[site])
        enough = state.pages >= state.params.min_pages_learned
        path = save(options.data_dir, site, state) if enough else None
        report.append(SiteLearning(site, counted[site], state, path))
    return report


def _newest_pages(options: LearnOptions, counted: dict[str, int]) -> Iterator[FetchedPage]:
    """Fetched pages of the wanted sites, newest WARC first, up to ``max_pages`` per site."""
    files = sorted(find_warc_files(options.raw), key=lambda p: p.stat().st_mtime, reverse=True)
    for warc in files:
        if all(n >= options.max_pages for n in counted.values()):
            return
        try:
            for page in iter_pages(warc):
                if counted.get(page.site, options.max_pages) < options.max_pages:
                    counted[page.site] += 1
                    yield page
        except WarcReadError as exc:  # a damaged archive still gives its readable pages
            logger.warning("%s", exc)
