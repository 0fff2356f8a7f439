"""Near-duplicate grouping of article texts: a 64-bit SimHash and a banded index over it.

Threshold and shingle size were chosen on /work/shared/eval (372 German pages, 52 with a
ground-truth body). Positives: 312 edited copies of a ground-truth body (teaser paragraph
dropped, title added as teaser, last paragraph dropped, byline appended, boilerplate tail
appended, quotes/whitespace changed), plus 52 ground-truth vs trafilatura-extraction pairs.
Negatives: all 68,635 pairs of distinct German pages (ground-truth body, else the trafilatura
extraction), 56 of them from the same site. Hamming distances with word 3-shingles:

    edits:       96.5 % <= 8, 97.4 % <= 9, 98.4 % <= 10, max 12; per kind (median/max):
                 teaser dropped 4/12 (90 % <= 8), title as teaser 2/8, last paragraph
                 dropped 6/12 (88 % <= 8), byline 2/6, boilerplate tail 3/8, quotes 0/0
    extractions: median 5, 81 % <= 8; the misses are partial extractions (Jaccard < 0.7)
    negatives:   mean 32.0, sd 4.0 (as Binomial(64, 1/2)); min 17, same-site min 20

Shingle sizes 2, 4 and 5 separated no better; single words pulled negatives down to 13.
The threshold is set by the index size, not by the gap in the eval set: a query against
1,000,000 unrelated entries expects N * P(Binomial(64, 1/2) <= t) false matches, which is
3e-4 at t = 8, 2e-3 at t = 9, 1e-2 at t = 10 and 0.2 at t = 12. Hence MAX_DISTANCE = 8;
edits that change more than roughly a tenth of a text's shingles may stay apart.

Short texts: below MIN_TOKENS word tokens only an equal SimHash matches (in practice the
same token sequence). Police notices share templates ("Die Polizei bittet um Hinweise …",
press-office footers of ~50 tokens); with 10 own words beside such a footer, 2 % of
different notices fell within distance 8, with 20-120 own words none did. Texts without any
word token never match.
"""

from __future__ import annotations

import re
import zlib
from array import array
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

SHINGLE_SIZE = 3
MAX_DISTANCE = 8
MIN_TOKENS = 80

_MASK64 = (1 << 64) - 1
_WORD = re.compile(r"\w+")
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

_UInt64s = npt.NDArray[np.uint64]


class Fingerprint(NamedTuple):
    """A text's SimHash and the largest distance at which it may match another text."""

    simhash: int
    max_distance: int


def _mix(x: _UInt64s) -> _UInt64s:
    """The splitmix64 finaliser, element-wise (uint64 arrays wrap without warnings)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def _shingle_hashes(tokens: list[str]) -> _UInt64s:
    """Distinct 64-bit hashes of the word shingles of ``tokens``."""
    # crc32 is stable across processes and platforms and 3x faster than blake2b here; its
    # 32 bits only name a token, the 64-bit spread comes from the mixing below.
    per_token = {word: zlib.crc32(word.encode("utf-8")) for word in set(tokens)}
    hashes = np.fromiter(map(per_token.__getitem__, tokens), np.uint64, len(tokens))
    width = min(SHINGLE_SIZE, len(tokens))
    count = len(tokens) - width + 1
    shingles = _mix(hashes[:count].copy())
    for offset in range(1, width):
        shingles = _mix(shingles ^ hashes[offset : offset + count])
    # A set, not a multiset: repeated phrases must not outvote the rest of the text.
    return np.unique(shingles)


def fingerprint(text: str) -> Fingerprint:
    """SimHash of casefolded word 3-shingles as a signed int64, with the text's match limit."""
    tokens = _WORD.findall(text.casefold())
    if not tokens:
        return Fingerprint(0, -1)
    shingles = _shingle_hashes(tokens)
    bits = np.unpackbits(shingles.astype("<u8").view(np.uint8), bitorder="little")
    ones = bits.reshape(-1, 64).sum(axis=0, dtype=np.int64)
    majority = (ones * 2 > len(shingles)).astype(np.uint8)
    value = int(np.packbits(majority, bitorder="little").view("<i8")[0])
    return Fingerprint(value, MAX_DISTANCE if len(tokens) >= MIN_TOKENS else 0)


def simhash(text: str) -> int:
    """64-bit SimHash of ``text`` as a signed int64 (0 for a text without word tokens)."""
    return fingerprint(text).simhash


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes, signed or unsigned."""
    return ((a ^ b) & _MASK64).bit_count()


def _bands(max_distance: int) -> list[tuple[int, int]]:
    """(shift, mask) of ``max_distance + 1`` contiguous bands covering all 64 bits."""
    count = max_distance + 1
    width, wider = divmod(64, count)
    bands: list[tuple[int, int]] = []
    shift = 0
    for index in range(count):
        bits = width + (index < wider)
        bands.append((shift, (1 << bits) - 1))
        shift += bits
    return bands


class NearDuplicateIndex:
    """SimHashes of indexed articles, queried for the cluster of a near-duplicate.

    Two hashes within distance d <= max_distance agree on at least one of the
    max_distance + 1 bands (pigeonhole), so a query checks only entries sharing a band.
    """

    def __init__(self, max_distance: int = MAX_DISTANCE) -> None:
        if not 0 <= max_distance < 64:
            raise ValueError(f"max_distance must be in 0..63, got {max_distance}")
        self.max_distance = max_distance
        self._bands = _bands(max_distance)
        # band value -> positions of entries; array("i") costs 4 bytes per entry and band.
        self._tables: list[dict[int, array[int]]] = [{} for _ in self._bands]
        self._simhashes = np.zeros(1024, dtype=np.int64)
        self._limits = np.zeros(1024, dtype=np.int8)
        self._article_ids: list[str] = []
        self._cluster_ids: list[str] = []

    def __len__(self) -> int:
        return len(self._article_ids)

    def article_id(self, position: int) -> str:
        """Article id of the entry added ``position``-th (from 0)."""
        return self._article_ids[position]

    def add(
        self, article_id: str, simhash: int, cluster_id: str, max_distance: int | None = None
    ) -> None:
        """Index a signed-int64 SimHash; ``max_distance`` (from its Fingerprint) caps matches."""
        position = len(self._article_ids)
        if position == len(self._simhashes):
            self._simhashes = np.concatenate([self._simhashes, np.zeros_like(self._simhashes)])
            self._limits = np.concatenate([self._limits, np.zeros_like(self._limits)])
        limit = self.max_distance if max_distance is None else min(max_distance, self.max_distance)
        self._simhashes[position] = simhash
        self._limits[position] = limit
        self._article_ids.append(article_id)
        self._cluster_ids.append(cluster_id)
        unsigned = simhash & _MASK64
        for table, (shift, mask) in zip(self._tables, self._bands, strict=True):
            key = (unsigned >> shift) & mask
            positions = table.get(key)
            if positions is None:
                positions = table[key] = array("i")
            positions.append(position)

    def match(self, simhash: int, max_distance: int | None = None) -> str | None:
        """Cluster id of the nearest entry within the threshold; ties go to the earliest added."""
        limit = self.max_distance if max_distance is None else min(max_distance, self.max_distance)
        if limit < 0:
            return None
        candidates = self._candidates(simhash, limit)
        if candidates is None:
            return None
        # As unsigned: numpy counts the bits of a negative int64's absolute value.
        xor = (self._simhashes[candidates] ^ np.int64(simhash)).view(np.uint64)
        distances = np.bitwise_count(xor)
        close = np.flatnonzero(distances <= limit)
        # Entry limits are read for the few close candidates only: gathering them for all
        # candidates cost a third of the query time.
        candidates, distances = candidates[close], distances[close]
        within = distances <= self._limits[candidates]
        if not within.any():
            return None
        candidates, distances = candidates[within], distances[within]
        best = np.lexsort((candidates, distances))[0]
        return self._cluster_ids[int(candidates[best])]

    def _candidates(self, simhash: int, limit: int) -> npt.NDArray[np.int32] | None:
        """Positions of entries sharing a band with ``simhash`` (with repeats)."""
        unsigned = simhash & _MASK64
        # A match within `limit` must agree on one of any limit + 1 bands, so fewer suffice.
        probes = zip(self._tables[: limit + 1], self._bands[: limit + 1], strict=True)
        found = [table.get((unsigned >> shift) & mask) for table, (shift, mask) in probes]
        # Copies, not buffer views: a live view would stop add() from growing the arrays.
        parts = [np.array(positions, dtype=np.int32) for positions in found if positions]
        return np.concatenate(parts) if parts else None
