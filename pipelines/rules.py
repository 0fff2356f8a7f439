"""CleaningRules: the frozen options object that, with a page, fully determines clean()'s output."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources

from lxml import etree

from pipelines.learned import LearnedBoilerplate


class RuleError(ValueError):
    """A cleaning rule is malformed (bad XPath or regular expression)."""


def _check_xpaths(xpaths: tuple[str, ...], what: str) -> None:
    for xpath in xpaths:
        try:
            etree.XPath(xpath)
        except etree.XPathSyntaxError as exc:
            raise RuleError(f"invalid {what} XPath {xpath!r}: {exc}") from exc


def _check_patterns(patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RuleError(f"invalid drop-line pattern {pattern!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class RulePack:
    """Prune and line rules for one CMS or plugin, applied when one ``detect`` XPath matches."""

    name: str
    detect: tuple[str, ...]
    """XPath expressions; the pack applies when any matches. Empty: applies to every page."""
    prune: tuple[str, ...]
    drop_lines: tuple[str, ...]
    description: str = ""
    content: tuple[str, ...] = ()
    """XPath expressions of the CMS's article-body container, read when trafilatura falls
    back on a very short article (see ``pipelines.container``)."""

    def __post_init__(self) -> None:
        _check_xpaths(self.detect, f"{self.name} detect")
        _check_xpaths(self.prune, f"{self.name} prune")
        _check_xpaths(self.content, f"{self.name} content")
        _check_patterns(self.drop_lines)


def parse_rule_pack(text: str, source: str) -> RulePack:
    """Build a RulePack from the TOML text of a pack file; RuleError names ``source``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: {exc}") from exc
    unknown = set(data) - {"name", "description", "detect", "prune", "drop_lines", "content"}
    if unknown or "name" not in data:
        raise RuleError(f"{source}: needs 'name'; unknown keys {sorted(unknown)}")
    return RulePack(
        name=str(data["name"]),
        description=str(data.get("description", "")),
        detect=tuple(data.get("detect", ())),
        prune=tuple(data.get("prune", ())),
        drop_lines=tuple(data.get("drop_lines", ())),
        content=tuple(data.get("content", ())),
    )


def builtin_rule_packs() -> tuple[RulePack, ...]:
    """The rule packs shipped in ``pipelines/rulepacks/``, in file-name order."""
    folder = resources.files("pipelines") / "rulepacks"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return tuple(parse_rule_pack(f.read_text(encoding="utf-8"), f.name) for f in files)


@dataclass(frozen=True, slots=True)
class CleaningRules:
    """Site-level cleaning rules plus the limits clean() enforces.

    Rule packs (``pipelines/rulepacks/*.toml``) add CMS/plugin rules on top of these when
    their detector matches the page; pass ``packs=()`` to turn them off.
    """

    prune_xpaths: tuple[str, ...] = ()
    """XPath expressions whose nodes are removed before body extraction."""
    drop_line_patterns: tuple[str, ...] = ()
    """Regular expressions; a text line that fully matches one is removed from the body."""
    packs: tuple[RulePack, ...] = field(default_factory=builtin_rule_packs)
    """CMS/plugin rule packs; each applies only to pages its detector matches."""
    max_bytes: int = 5 * 1024 * 1024
    """Pages larger than this are rejected as ``too_large`` before parsing."""
    min_words: int = 10
    """Bodies with fewer words are rejected as ``not_article``."""
    learned: LearnedBoilerplate = field(default_factory=LearnedBoilerplate)
    """Lines learned from the site's own archived pages (``localnews learn-boilerplate``)."""

    def __post_init__(self) -> None:
        _check_xpaths(self.prune_xpaths, "prune")
        _check_patterns(self.drop_line_patterns)

    def fingerprint(self) -> str:
        """A short, stable hash of these rules (``version.config_hash`` adds the code version)."""
        data = asdict(self)
        # what decides removal, not the page counts: relearning the same lines keeps the hash
        data["learned"] = self.learned.fingerprint
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:16]
