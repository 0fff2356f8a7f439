"""Post-process extracted body lines: repeated paragraphs, headline lines, the page's own URL."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

MIN_REPEAT_WORDS = 8  # a paragraph this long is not repeated on purpose; "Anzeige" may be
STRUCTURAL_REPEATS = 3
"""A paragraph found this often is the page's structure (interview questions, FAQ rows)."""
_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?", re.IGNORECASE)
HEADLINE_WINDOW = 3  # only the first lines can be a headline that trafilatura kept
KICKER_WORDS = 8  # a kicker (Dachzeile) run together with the headline is at most this long

# Words without a regex over the text (Python's \W scan costs ~60 ns a character, a byte
# translation ~1 ns): ASCII punctuation and the typographic marks of German text split words.
_ASCII_PUNCT = bytes(c for c in range(128) if not chr(c).isalnum())
_TO_SPACE = bytes.maketrans(_ASCII_PUNCT, b" " * len(_ASCII_PUNCT))
_TO_SPACE_KEEP_LINES = bytes.maketrans(
    _ASCII_PUNCT.replace(b"\n", b""), b" " * (len(_ASCII_PUNCT) - 1)
)
# Quotes, dashes, ellipsis, thin and no-break spaces in UTF-8; a literal prefix scans fast.
_TYPOGRAPHIC = (
    re.compile(b"\xe2\x80[\x89\x93\x94\x98-\x9e\xa6\xaf\xb9\xba]"),
    re.compile(b"\xc2[\xa0\xab\xbb]"),
)


def _folded(text: str, table: bytes) -> bytes:
    """Case-folded UTF-8 ("ß" and "SS" agree) with punctuation turned to spaces."""
    data = text.casefold().encode()
    for marks in _TYPOGRAPHIC:
        data = marks.sub(b" ", data)
    return data.translate(table)


def words_key(text: str) -> str:
    """The words of ``text`` without case and punctuation, joined by single spaces."""
    return b" ".join(_folded(text, _TO_SPACE).split()).decode()


def dedupe_paragraphs(lines: Sequence[str]) -> list[str]:
    """Drop a paragraph of ``MIN_REPEAT_WORDS`` or more words that the page already had.

    trafilatura runs with ``deduplicate=False`` (its cache is per process, so results would
    depend on page order); this per-page rule is deterministic. Repeats are compared by
    their words, so case, spacing and punctuation (which markup boundaries change, as in
    "Name ,") do not hide one. A paragraph found ``STRUCTURAL_REPEATS`` times or more with
    the page's own text between its occurrences is kept: that is the page's structure (the
    question an interview puts to each guest, an FAQ answer), not a block rendered twice;
    a repeat that continues a copied block goes however often it recurs.
    """
    # one pass over all lines rather than one a line
    folded = _folded("\n".join(lines), _TO_SPACE_KEEP_LINES).split(b"\n")
    if len(folded) != len(lines):  # a line held a line break of its own
        folded = [_folded(line, _TO_SPACE) for line in lines]
    keys: list[bytes | None] = []
    for words in folded:
        # split at most that often: only whether the line is long enough matters
        long_enough = len(words.split(None, MIN_REPEAT_WORDS - 1)) >= MIN_REPEAT_WORDS
        keys.append(words.replace(b" ", b"") if long_enough else None)
    # Judged over the long paragraphs only: a copy often drops the short separators ("-",
    # "Anzeige") that sat between the paragraphs of the first one.
    long_keys = [key for key in keys if key is not None]
    counts = Counter(long_keys)
    unique_before = [0]  # unique paragraphs among long_keys[:i]
    for long_key in long_keys:
        unique_before.append(unique_before[-1] + (counts[long_key] == 1))
    first: dict[bytes, int] = {}
    last: dict[bytes, int] = {}
    kept: list[str] = []
    position = -1
    for line, key in zip(lines, keys, strict=True):
        if key is None:
            kept.append(line)
            continue
        position += 1
        if key not in first:
            first[key] = position
            kept.append(line)
        elif (
            counts[key] >= STRUCTURAL_REPEATS
            # the page's own text lies between this occurrence and the last one …
            and unique_before[position] > unique_before[last[key] + 1]
            # … and it is not part of a copied block
            and not _continues_copy(long_keys, first, position)
        ):
            kept.append(line)
        last[key] = position
    return kept


def _continues_copy(keys: Sequence[bytes], first: dict[bytes, int], position: int) -> bool:
    """Whether a neighbour of the repeat at ``position`` repeats the neighbour of its original."""
    origin = first[keys[position]]
    for step in (-1, 1):
        here, there = position + step, origin + step
        inside = 0 <= here < len(keys) and 0 <= there < position and there != here
        if inside and keys[here] == keys[there]:
            return True
    return False


def strip_headline_lines(lines: Sequence[str], title: str | None, h1s: Sequence[str]) -> list[str]:
    """Drop headline lines among the first ``HEADLINE_WINDOW`` lines: the title is its own field.

    A line goes when its words equal an ``<h1>`` text or the title, or when it holds a
    title of three or more words plus at most ``KICKER_WORDS`` words (kicker and headline
    run together).
    """
    title_key = words_key(title) if title else ""
    title_words = title_key.count(" ") + 1
    headings = {key for key in map(words_key, h1s) if key}
    kept: list[str] = []
    for index, line in enumerate(lines):
        if index < HEADLINE_WINDOW:
            key = words_key(line)
            if key and (key in headings or key == title_key):
                continue
            # a one- or two-word title is too common a phrase to prove a kicker line
            if (
                title_words >= 3
                and f" {title_key} " in f" {key} "
                and key.count(" ") + 1 <= title_words + KICKER_WORDS
            ):
                continue
        kept.append(line)
    return kept


def strip_own_url(lines: Sequence[str], urls: Sequence[str | None]) -> list[str]:
    """Drop lines that are only the page's own address (print and share chrome).

    Scheme, "www." and a trailing slash do not count; another address on a line of its own
    ("www.stadt-duisburg.de") is the article's reference and stays.
    """
    own = {_address(url) for url in urls if url}
    return [line for line in lines if _address(line) not in own]


def _address(text: str) -> str:
    return _SCHEME.sub("", text.strip()).rstrip("/").casefold()
