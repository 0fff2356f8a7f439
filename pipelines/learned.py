"""Site-level learned boilerplate: learn lines recurring across a site's pages, remove them."""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # str.translate is 10x slower
# Bullets, arrows, separators and the colon of "Mehr zum Thema:" vary between templates of one
# site without changing what a line says; a single final "." is kept (it marks a sentence).
_LEAD_DECOR = " |•·›»>→▶►*#-–—"
_TRAIL_DECOR = " :|•·›»>→▶►*-–—"
_CLOSING_QUOTES = "\"'“”‘’«»"

Cells = tuple[str | None, ...]  # a page's lines as keys; None for long lines (never learned)


@dataclass(frozen=True, slots=True)
class LearnParams:
    """Thresholds for learning; stored with the state so removal uses the same "short"."""

    min_pages_learned: int = 20
    """Learn nothing from fewer distinct pages: too few to tell chrome from coincidence."""
    min_pages: int = 5
    """A line must recur on at least this many distinct pages …"""
    min_share: float = 0.2
    """… and on at least this share of them (template chrome sits on most pages)."""
    max_words: int = 25
    """Longer lines are prose and never learned (syndicated paragraphs are long)."""
    max_chars: int = 200
    head_words: int = 8
    """A block heading ("Mehr zum Thema") has at most this many words."""
    head_share: float = 0.5
    """Share of a heading's pages on which teaser lines follow it at the end of the text."""
    max_block_lines: int = 10
    """At most this many teaser lines after one heading."""

    def __post_init__(self) -> None:
        limits = (self.min_pages_learned, self.min_pages, self.max_words, self.max_chars)
        shares = (self.min_share, self.head_share)
        if min(*limits, self.head_words, self.max_block_lines + 1) < 1 or not (
            0 <= min(shares) <= max(shares) <= 1
        ):
            raise ValueError(f"limits must be positive and shares in [0, 1]: {self}")

    def threshold(self, pages: int) -> int:
        """How many distinct pages a line must recur on when learning from ``pages`` pages."""
        return max(self.min_pages, math.ceil(self.min_share * pages))


@dataclass(frozen=True, slots=True)
class LearnedBoilerplate:
    """What was learned for one site; the empty default removes nothing.

    Frozen, hashable and made of JSON-ready values only, so it can be a field of the frozen
    ``CleaningRules`` (whose fingerprint serialises it) and be pickled to worker processes.
    """

    lines: tuple[tuple[str, int], ...] = ()
    """(normalised line, distinct pages it was found on), sorted by line."""
    blocks: tuple[tuple[str, int], ...] = ()
    """(learned heading line, most teaser lines seen after it), sorted by heading."""
    pages: int = 0
    """Distinct pages learned from (after de-duplication)."""
    params: LearnParams = field(default_factory=LearnParams)

    def __post_init__(self) -> None:
        keys, heads = [k for k, _ in self.lines], [h for h, _ in self.blocks]
        if keys != sorted(set(keys)) or heads != sorted(set(heads)) or not set(heads) <= set(keys):
            raise ValueError("lines must be sorted and unique; block heads, learned lines")
        if min((n for _, n in (*self.lines, *self.blocks)), default=1) < 1 or self.pages < 0:
            raise ValueError("page counts and block sizes must be positive")

    @property
    def fingerprint(self) -> str:
        """A short hash of everything that decides ``remove()``'s output (not the counts)."""
        # the limits matter only when something was learned: every empty state is the same
        short = [self.params.max_words, self.params.max_chars] if self.lines else []
        content = json.dumps([[k for k, _ in self.lines], self.blocks, short], ensure_ascii=True)
        return hashlib.sha256(content.encode("ascii")).hexdigest()[:16]


def normalise(line: str) -> str:
    """The key a line is counted and looked up by: NFKC, no invisibles, one space, casefolded,
    without leading/trailing bullets, arrows, separators, colons and ellipses.

    Digits and inner punctuation are kept: masking them would merge real short lines
    ("Zuschauer: 350") into one recurring key.
    """
    text = " ".join(_INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", line)).split()).casefold()
    text = text.lstrip(_LEAD_DECOR).rstrip(_TRAIL_DECOR)
    while text.endswith(("…", "..")):
        text = text.rstrip(".…").rstrip(_TRAIL_DECOR)
    return text


def remove(lines: Sequence[str], state: LearnedBoilerplate) -> list[str]:
    """``lines`` without the learned lines and the teasers of learned blocks at the text's end.

    Pure and deterministic; linear in the number of lines (plus building the lookup set).
    """
    if not state.lines:
        return list(lines)
    learned = frozenset(key for key, _ in state.lines)
    heads = dict(state.blocks)
    cells = _cells(lines, state.params)
    drop = [cell is not None and cell in learned for cell in cells]
    if heads:
        for _, teasers in _tail_blocks(cells, learned, lambda key: heads.get(key, 0)):
            for index in teasers:
                drop[index] = True
    return [line for line, dropped in zip(lines, drop, strict=True) if not dropped]


def learn(
    pages: Iterable[tuple[str, Sequence[str]]], params: LearnParams | None = None
) -> LearnedBoilerplate:
    """Learn one site's boilerplate from ``(page key, body lines)`` pairs.

    Feed it the lines clean() produces *without* a learned state (else a relearn would no
    longer see what it removed). Pages are de-duplicated by key and by their prose, so the
    result does not depend on input order, re-fetches or AMP/desktop copies.
    """
    params = params or LearnParams()
    stories = _distinct_stories(pages, params)
    if len(stories) < params.min_pages_learned:
        return LearnedBoilerplate(pages=len(stories), params=params)
    counts = Counter(key for cells in stories for key in {cell for cell in cells if cell})
    threshold = params.threshold(len(stories))
    learned = {key: count for key, count in counts.items() if count >= threshold}
    return LearnedBoilerplate(
        lines=tuple(sorted(learned.items())),
        blocks=_learn_blocks(stories, learned, params),
        pages=len(stories),
        params=params,
    )


def _cells(lines: Iterable[str], params: LearnParams) -> list[str | None]:
    # "Short" is judged on the line as clean() emits it (one space between words), so a long
    # paragraph costs two O(1) tests and is never normalised: removal stays at microseconds.
    return [
        normalise(line)
        if len(line) <= params.max_chars and line.count(" ") < params.max_words
        else None
        for line in lines
    ]


def _digest(keys: Iterable[str]) -> str:
    return hashlib.blake2b("\n".join(keys).encode("utf-8"), digest_size=16).hexdigest()


def _distinct_stories(
    pages: Iterable[tuple[str, Sequence[str]]], params: LearnParams
) -> list[Cells]:
    """One cell tuple per distinct page: pages sharing a key or their prose are one page.

    Copies that differ only in chrome (AMP and desktop, local editions) share their prose;
    re-fetches share their key. Of each group the copy with the smallest content hash is
    kept, so the result does not depend on input order.
    """
    interned: dict[str, str] = {}  # the same footer line on 10,000 pages is stored once
    parent: dict[str, str] = {}  # union-find over "k"+page key and "s"+prose hash
    best: dict[str, tuple[str, Cells]] = {}  # group root -> (content hash, cells)

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = node = parent[parent[node]]
        return node

    for page_key, lines in pages:
        cells = tuple(
            None if c is None else interned.setdefault(c, c) for c in _cells(lines, params)
        )
        if not any(cell is None or cell for cell in cells):
            continue
        content = _digest(lines)
        prose = [line for line, cell in zip(lines, cells, strict=True) if cell is None]
        first, second = root("k" + page_key), root("s" + (_digest(prose) if prose else content))
        found = [(content, cells), *(best.pop(r) for r in {first, second} if r in best)]
        parent[second] = first
        best[first] = min(found, key=lambda item: item[0])
    return [cells for _, cells in sorted(best.values(), key=lambda item: item[0])]


def _headline(key: str) -> bool:
    """A teaser is headline-shaped: newsroom headlines end without a full stop."""
    return not key.rstrip(_CLOSING_QUOTES).endswith(".")


def _tail_blocks(
    cells: Sequence[str | None], learned: frozenset[str] | set[str], limit: Callable[[str], int]
) -> list[tuple[str, list[int]]]:
    """(heading, teaser indices) of the blocks at the end of a text, read backwards.

    The tail is learned lines and headings each followed by 1..``limit(heading)`` short,
    headline-shaped unlearned lines; it ends at the first line that fits neither (prose, a
    sentence, too many teasers). Blocks inside the text are never touched.
    """
    blocks: list[tuple[str, list[int]]] = []
    pending: list[int] = []
    for index in range(len(cells) - 1, -1, -1):
        cell = cells[index]
        if cell is not None and cell in learned:
            if pending:
                if len(pending) > limit(cell):
                    break
                blocks.append((cell, pending))
                pending = []
            continue
        if cell is None or not _headline(cell):
            break
        pending.append(index)
    return blocks


def _learn_blocks(
    stories: Sequence[Cells], learned: dict[str, int], params: LearnParams
) -> tuple[tuple[str, int], ...]:
    """Headings that on most of their pages end the text with a few varying teaser lines."""
    keys = frozenset(learned)

    def limit(key: str) -> int:
        return params.max_block_lines if key.count(" ") < params.head_words else 0

    seen: Counter[str] = Counter()
    most: dict[str, int] = {}
    for cells in stories:
        found: dict[str, int] = {}
        for head, teasers in _tail_blocks(cells, keys, limit):
            found[head] = max(found.get(head, 0), len(teasers))
        seen.update(found)
        for head, size in found.items():
            most[head] = max(most.get(head, 0), size)
    return tuple(
        sorted(
            (head, most[head])
            for head, count in seen.items()
            if count >= max(params.min_pages, math.ceil(params.head_share * learned[head]))
        )
    )
