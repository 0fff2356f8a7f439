"""Charset policy: German text survives every mislabelled encoding (reliability P1–P4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.decode import DecodeError, decode_html

GERMAN = "Straßenbau in Duisburg: Bürger ärgern sich über Lärm, Öffnungszeiten geändert – 5 €."


def page(text: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>T</title></head><body><p>{text}</p></body></html>"


def test_p1_utf8_body_with_latin1_header_is_utf8() -> None:
    decoded = decode_html(page(GERMAN).encode("utf-8"), "text/html; charset=iso-8859-1")
    assert GERMAN in decoded.text
    assert decoded.charset_used == "utf-8"
    assert decoded.charset_declared == "cp1252"  # WHATWG: the latin-1 label means windows-1252


def test_p2_cp1252_body_with_utf8_header_falls_back() -> None:
    decoded = decode_html(page(GERMAN).encode("cp1252"), "text/html; charset=utf-8")
    assert GERMAN in decoded.text
    assert decoded.charset_used == "cp1252"
    assert decoded.charset_declared == "utf-8"


def test_p3_utf8_body_with_latin1_meta_is_utf8() -> None:
    html = page(GERMAN, '<meta charset="iso-8859-1">').encode("utf-8")
    decoded = decode_html(html, "text/html")
    assert GERMAN in decoded.text
    assert decoded.charset_used == "utf-8"


def test_p4_cp1252_without_declaration() -> None:
    decoded = decode_html(page(GERMAN).encode("cp1252"), None)
    assert GERMAN in decoded.text
    assert decoded.charset_declared is None


def test_declared_legacy_charset_is_used_when_it_decodes() -> None:
    html = page(
        GERMAN, '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    )
    decoded = decode_html(html.encode("cp1252"), None)
    assert GERMAN in decoded.text
    assert decoded.charset_used == "cp1252"


@pytest.mark.parametrize("bom,codec", [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le")])
def test_bom_wins(bom: bytes, codec: str) -> None:
    decoded = decode_html(bom + page(GERMAN).encode(codec), "text/html; charset=iso-8859-1")
    assert GERMAN in decoded.text


def test_binary_payload_is_bad_encoding() -> None:
    with pytest.raises(DecodeError):
        decode_html(bytes(range(256)) * 40, None)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüßÄÖÜ .,-€„“", min_size=1, max_size=300))
def test_cp1252_round_trip_of_german_text(text: str) -> None:
    body = page(f"{GERMAN} {text} Grüße aus Duisburg").encode("cp1252")
    assert text in decode_html(body, None).text or text in decode_html(body, "text/html").text


def test_mostly_utf8_with_a_stray_latin1_word_stays_utf8() -> None:
    """A UTF-8 page with one cp1252 snippet: the umlauts of both parts come out right.

    Seen on tierschutzpartei.de (eval set): decoding the whole page as cp1252 turned every
    UTF-8 umlaut into mojibake ("WÃ¤hler").
    """
    body = (
        "<p>Die Wähler in Düsseldorf und Köln stimmten für größere Grünflächen.</p>" * 3
    ).encode()
    body += "<p>6. September: Mitgefühl wählen</p>".encode("cp1252")
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert decoded.charset_used == "utf-8"
    assert "Mitgefühl wählen" in decoded.text and "Düsseldorf" in decoded.text
    assert "Ã" not in decoded.text


def test_a_cp1252_page_is_not_mistaken_for_mostly_utf8() -> None:
    body = "<p>Die Wähler in Düsseldorf und Köln stimmten für größere Grünflächen.</p>".encode(
        "cp1252"
    )
    assert decode_html(body, None).charset_used == "cp1252"
