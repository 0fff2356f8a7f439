"""Rules per site: the sites file's cleaning table plus the stored learned boilerplate."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sites import Site
from pipelines.learned import LearnedBoilerplate, learn
from pipelines.learned_store import LearnedStateError, save, state_path
from pipelines.siterules import SiteRules

SITE = Site(
    id="lokal",
    name="Lokal",
    url="https://lokal.de/",
    allowed_domains=("lokal.de",),
    prune_xpaths=("//aside",),
    drop_lines=("Anzeige",),
)


def _state() -> LearnedBoilerplate:
    pages = [
        (f"p{i}", [f"Bericht Nummer {i} über die Stadt.", "Folgen Sie uns"]) for i in range(25)
    ]
    return learn(pages)


def test_site_table_and_learned_state_make_the_rules(tmp_path: Path) -> None:
    save(tmp_path, "lokal", _state())
    rules = SiteRules([SITE], tmp_path)("lokal")
    assert rules.prune_xpaths == ("//aside",) and rules.drop_line_patterns == ("Anzeige",)
    assert [line for line, _ in rules.learned.lines] == ["folgen sie uns"]
    without = SiteRules([SITE], tmp_path, learned=False)("lokal")
    assert without.learned == LearnedBoilerplate()
    assert rules.fingerprint() != without.fingerprint()


def test_unknown_and_foreign_sites_get_the_defaults(tmp_path: Path) -> None:
    rules_for = SiteRules([SITE], tmp_path)
    assert rules_for("other").prune_xpaths == ()
    assert rules_for("www.example.de:8080").learned == LearnedBoilerplate()


def test_a_damaged_state_fails_when_the_rules_are_loaded(tmp_path: Path) -> None:
    path = state_path(tmp_path, "lokal")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(LearnedStateError, match="learn-boilerplate --site lokal"):
        SiteRules([SITE], tmp_path).load_all()
