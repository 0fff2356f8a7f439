"""Metadata normalisers: language from the page or its text, word counts, whitespace."""

from __future__ import annotations

from pipelines.htmltree import parse_html
from pipelines.metadata import clean_str, page_language, word_count


def test_declared_language_wins_and_is_shortened() -> None:
    tree = parse_html('<html lang="de-DE"><body><p>The text is English.</p></body></html>')
    assert page_language(tree, "The text is English, but the page says German.") == "de"


def test_language_is_detected_when_undeclared_or_malformed() -> None:
    tree = parse_html('<html lang="{{lang}}"><body><p>x</p></body></html>')
    text = "Der Rat der Stadt hat am Dienstag beschlossen, die Radwege im Süden auszubauen."
    assert page_language(tree, text) == "de"
    assert page_language(tree, "zu kurz") is None


def test_word_count_and_clean_str() -> None:
    assert word_count("Grüne fordern – 5 Stellen.") == 4
    assert clean_str("  Neue \n Radwege ") == "Neue Radwege"
    assert clean_str(" \n ") is None and clean_str(None) is None
