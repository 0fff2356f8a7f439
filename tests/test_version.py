"""The stamps on every row: which code and which rules produced it (reliability S14)."""

from __future__ import annotations

from importlib.metadata import version

from pipelines.rules import CleaningRules
from pipelines.version import CLEANING_CODE_VERSION, cleaner_version, config_hash


def test_cleaner_version_names_our_code_and_the_trafilatura_it_ran_on() -> None:
    assert cleaner_version() == f"{CLEANING_CODE_VERSION}+trafilatura-{version('trafilatura')}"


def test_config_hash_changes_with_the_rules_and_only_with_them() -> None:
    base = CleaningRules()
    assert config_hash(base) == config_hash(CleaningRules())  # equal rules, equal hash
    assert config_hash(base) != config_hash(CleaningRules(drop_line_patterns=("^Werbung$",)))
    assert config_hash(base) != config_hash(CleaningRules(min_words=20))
    assert len(config_hash(base)) == 16
