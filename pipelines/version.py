"""The cleaner's version and configuration hash, stamped on every row it produces."""

from __future__ import annotations

import hashlib
from functools import cache, lru_cache
from importlib.metadata import version

from pipelines.rules import CleaningRules

CLEANING_CODE_VERSION = "2.0.0"
"""Bump whenever a change alters cleaned output for the same input and rules."""


@cache  # reading package metadata costs ~1 ms; the answer never changes within a process
def cleaner_version() -> str:
    """Our cleaning code version plus the trafilatura version it runs on."""
    return f"{CLEANING_CODE_VERSION}+trafilatura-{version('trafilatura')}"


@lru_cache(maxsize=1024)  # rules are frozen and hashable (one per site); hashing costs ~1 ms
def config_hash(rules: CleaningRules) -> str:
    """Hash of everything besides the input that decides the output: rules and code version."""
    return hashlib.sha256(f"{cleaner_version()}|{rules.fingerprint()}".encode()).hexdigest()[:16]
