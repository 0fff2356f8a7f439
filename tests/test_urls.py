"""URL canonicalisation: tracking stripped, distinct articles never merged (T2, T7, T10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.urls import article_id, canonicalize, is_path_trap, trusted_canonical

BASE = "https://www.xtranews.de/2024/05/03/gruene-fordern/"


def test_tracking_session_fragment_and_case_are_dropped() -> None:
    variants = [
        BASE,
        BASE + "?utm_source=facebook&utm_medium=social",
        BASE + "?fbclid=abc123",
        BASE + "#comments",
        "HTTPS://WWW.XTRANEWS.DE:443/2024/05/03/gruene-fordern/?PHPSESSID=77",
        BASE.rstrip("/") + "/;jsessionid=ABC",
    ]
    assert {canonicalize(v) for v in variants} == {BASE}
    assert len({article_id(v) for v in variants}) == 1


def test_article_parameters_are_kept() -> None:
    a = "https://lokal.de/index.php?option=com_content&view=article&id=77"
    b = "https://lokal.de/index.php?option=com_content&view=article&id=78"
    assert "option=com_content" in canonicalize(a) and "id=77" in canonicalize(a)
    assert article_id(a) != article_id(b)


def test_http_and_https_are_one_article() -> None:
    assert article_id(BASE) == article_id(BASE.replace("https://", "http://"))


def test_canonical_link_is_trusted_only_on_the_same_site() -> None:
    amp = BASE + "amp/"
    assert trusted_canonical("/2024/05/03/gruene-fordern/", amp) == BASE
    assert trusted_canonical("https://spam.example/x", amp) == amp
    assert trusted_canonical("https://www.xtranews.de/", amp) == amp  # lazy home-page canonical
    assert trusted_canonical("javascript:void(0)", amp) == amp
    assert trusted_canonical(None, amp) == amp


@given(
    st.lists(st.sampled_from(["utm_source", "id", "seite", "sid", "fbclid", "q"]), max_size=4),
    st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=8),
)
def test_canonicalize_is_idempotent_and_strips_tracking(keys: list[str], value: str) -> None:
    url = BASE + ("?" + "&".join(f"{k}={value}" for k in keys) if keys else "")
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert "utm_" not in once and "fbclid" not in once and "sid=" not in once
    if "id" in keys:
        assert f"id={value}" in once


@pytest.mark.parametrize(
    ("url", "trap"),
    [
        ("https://example.de/grow/rubrik/rubrik/", False),
        ("https://example.de/grow/rubrik/rubrik/rubrik/", True),
        ("https://example.de/a/b/a/c/a/", True),
        ("https://example.de/2024/12/12/ratssitzung/", False),
        ("https://example.de/", False),
    ],
)
def test_a_segment_repeated_three_times_is_a_path_trap(url: str, trap: bool) -> None:
    """Reliability T3: growing relative paths are refused once one segment comes a third time."""
    assert is_path_trap(url) is trap
