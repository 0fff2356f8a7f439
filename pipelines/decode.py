"""Turn raw response bytes and headers into text with our own charset policy."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Bytes of binary junk tolerated in a decoded page before it counts as bad_encoding.
_MAX_CONTROL_RATIO = 0.01
# C0 controls other than tab, newline, form feed and carriage return, plus U+FFFD.
_JUNK = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")
# Legacy encodings browsers support (WHATWG Encoding Standard), in Python's names; DOS and
# Mac code pages are left out because they never label web pages but win short-text guesses.
_WEB_LEGACY_ENCODINGS = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "iso8859_2",
    "iso8859_4",
    "iso8859_5",
    "iso8859_7",
    "iso8859_8",
    "iso8859_13",
    "iso8859_15",
    "koi8_r",
    "koi8_u",
    "shift_jis",
    "euc_jp",
    "iso2022_jp",
    "gb18030",
    "big5",
    "euc_kr",
    "utf_16",
    "utf_8",
)
_CHAOS_TOLERANCE = 0.05
# Below this many non-ASCII bytes statistical detection is a coin toss (reliability P4).
_MIN_EVIDENCE_BYTES = 16
# C1 control characters never appear in real text: a guess that produces them is wrong.
_C1_CONTROLS = re.compile("[\x80-\x9f]")
# Python's own text codecs that are not charsets (docs: "Python Specific Encodings"): a page
# declaring one must not get backslash escapes or punycode interpreted, nor crash the decoder
# ("undefined" raises UnicodeError on every byte).
_NOT_CHARSETS = frozenset(
    {"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape", "mbcs", "oem"}
)


# A body with at least this many valid multi-byte UTF-8 characters per undecodable byte is
# UTF-8 with a few stray bytes (a Latin-1 snippet pasted into a template, a sequence cut by
# a CMS): decoding all of it as cp1252 would turn every correct umlaut into mojibake.
_MOSTLY_UTF8_RATIO = 8
_CP1252_FALLBACK = "localnews-cp1252-fallback"


class DecodeError(ValueError):
    """The body could not be turned into plausible text."""


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Decoded text plus the evidence of how it was decoded."""

    text: str
    charset_used: str
    charset_declared: str | None
    """What the HTTP header declared, else what the page's meta tag declared, else None."""


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The charset declared by the Content-Type header, else by the page; normalised name."""
    declared = http_content_type_encoding(content_type) if content_type else None
    if declared is None:
        declared = html_body_declared_encoding(body[:4096])
    return declared


def decode_html(body: bytes, content_type: str | None) -> DecodedText:
    """Decode with BOM → strict UTF-8 → declared charset → charset-normalizer → cp1252.

    Strict UTF-8 comes before the declaration because a body that decodes as UTF-8 is
    UTF-8 whatever the header says (reliability P1/P3), while a cp1252 body mislabelled
    as UTF-8 fails the strict decode and falls through (P2).
    """
    declared = declared_charset(body, content_type)
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _checked(body[len(bom) :].decode(name, errors="replace"), name, declared)
    try:
        return _checked(body.decode("utf-8"), "utf-8", declared)
    except UnicodeDecodeError:
        pass
    mixed = _mostly_utf8(body)
    if mixed is not None:
        return _checked(mixed, "utf-8", declared)
    if declared is not None and declared != "utf-8" and declared not in _NOT_CHARSETS:
        try:
            return _checked(body.decode(declared), declared, declared)
        except (UnicodeError, LookupError):
            pass
    guess = _guess_charset(body)
    if guess is not None:
        name = resolve_encoding(guess) or guess
        try:
            return _checked(body.decode(name), name, declared)
        except (UnicodeError, LookupError):
            pass
    return _checked(body.decode("cp1252", errors="replace"), "cp1252", declared)


def _mostly_utf8(body: bytes) -> str | None:
    """The body as UTF-8 with its few invalid bytes read as cp1252, if it is mostly UTF-8."""
    replaced = body.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    multibyte = sum(1 for char in replaced if char > "\x7f") - bad
    if multibyte < _MOSTLY_UTF8_RATIO * max(bad, 1):
        return None
    _register_fallback()
    return body.decode("utf-8", errors=_CP1252_FALLBACK)


def _register_fallback() -> None:
    """Register the decode error handler that reads undecodable bytes as cp1252 (idempotent)."""
    try:
        codecs.lookup_error(_CP1252_FALLBACK)
    except LookupError:
        codecs.register_error(_CP1252_FALLBACK, _as_cp1252)


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    stray = error.object[error.start : error.end]
    return bytes(stray).decode("cp1252", errors="replace"), error.end


def _guess_charset(body: bytes) -> str | None:
    """charset-normalizer's best guess among web encodings, preferring cp1252 when as good.

    On short German text cp1250, cp1252 and cp1257 score alike and language coherence is
    noise; cp1252 is by far the most common legacy charset on German sites and the web's
    default for them, so it wins unless another candidate is clearly less chaotic.
    """
    sample = body[:65536]
    if sum(1 for byte in sample if byte >= 0x80) < _MIN_EVIDENCE_BYTES:
        return "cp1252"  # too little evidence to guess; the web's default for Western pages
    best = from_bytes(sample, cp_isolation=list(_WEB_LEGACY_ENCODINGS)).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    if best.encoding != "cp1252":
        if _C1_CONTROLS.search(str(best)):
            return "cp1252"  # the guess produced control characters: it is wrong
        # charset-normalizer stops at the first good candidate, so score cp1252 explicitly.
        western = from_bytes(sample, cp_isolation=["cp1252"]).best()
        if western is not None and western.chaos <= best.chaos + _CHAOS_TOLERANCE:
            return "cp1252"
    return str(best.encoding)


def _checked(text: str, used: str, declared: str | None) -> DecodedText:
    """Reject binary payloads that decoded 'successfully' into control characters."""
    if "\x00" in text:
        nul_ratio = text.count("\x00") / len(text)
        if nul_ratio > _MAX_CONTROL_RATIO:
            raise DecodeError(f"{nul_ratio:.1%} NUL characters after decoding as {used}")
        text = text.replace("\x00", "")
    sample = text[:65536]
    if sample:
        junk = len(_JUNK.findall(sample))
        if junk / len(sample) > _MAX_CONTROL_RATIO:
            raise DecodeError(f"{junk / len(sample):.1%} control/replacement characters as {used}")
    return DecodedText(text=text, charset_used=used, charset_declared=declared)
