"""The cleaning rules of each site: its [site.cleaning] table plus its learned boilerplate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from crawler.sites import Site
from pipelines.learned import LearnedBoilerplate
from pipelines.learned_store import load, storable_site_id
from pipelines.rules import CleaningRules


def site_rules(site: Site) -> CleaningRules:
    """The cleaning rules a site's table asks for, on top of the shipped rule packs."""
    return CleaningRules(prune_xpaths=site.prune_xpaths, drop_line_patterns=site.drop_lines)


class SiteRules:
    """Rules per site id, built once: the crawl and re-clean clean a site's pages alike.

    Sites missing from the sites file (pages of foreign WARCs) get the default rules. The
    learned state is read from ``data_dir/state/boilerplate/``; ``learned=False`` leaves it
    out (learning itself must see the lines the state would remove).
    """

    def __init__(
        self, sites: Iterable[Site], data_dir: Path | None, *, learned: bool = True
    ) -> None:
        self._sites = {site.id: site for site in sites}
        self._data_dir = data_dir
        self._learned = learned
        self._rules: dict[str, CleaningRules] = {}

    def load_all(self) -> None:
        """Build the rules of every configured site now: a damaged state fails at start."""
        for site_id in self._sites:
            self(site_id)

    def __call__(self, site_id: str) -> CleaningRules:
        """The rules for pages of ``site_id``; raises ``LearnedStateError`` for a damaged state."""
        rules = self._rules.get(site_id)
        if rules is None:
            site = self._sites.get(site_id)
            rules = site_rules(site) if site is not None else CleaningRules()
            state = self._state(site_id)
            if state.lines:
                rules = replace(rules, learned=state)
            self._rules[site_id] = rules
        return rules

    def _state(self, site_id: str) -> LearnedBoilerplate:
        # foreign WARCs name sites by host, which may not make a file name (ports, case)
        if not self._learned or self._data_dir is None or not storable_site_id(site_id):
            return LearnedBoilerplate()
        return load(self._data_dir, site_id)
