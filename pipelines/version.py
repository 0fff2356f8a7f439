"""The cleaner's version and configuration hash, stamped on every row it produces."""

from __future__ import annotations

import hashlib
from importlib.metadata import version

from pipelines.rules import CleaningRules

CLEANING_CODE_VERSION = "1.0.0"
"""Bump whenever a change alters cleaned output for the same input and rules."""


def cleaner_version() -> str:
    """Our cleaning code version plus the trafilatura version it runs on."""
    return f"{CLEANING_CODE_VERSION}+trafilatura-{version('trafilatura')}"


def config_hash(rules: CleaningRules) -> str:
    """Hash of everything besides the input that decides the output: rules and code version."""
    return hashlib.sha256(f"{cleaner_version()}|{rules.config_hash()}".encode()).hexdigest()[:16]
