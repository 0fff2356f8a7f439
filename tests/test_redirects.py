"""Which redirect targets stay on the site: host against allowed domains, ports ignored."""

from __future__ import annotations

import pytest

from crawler.redirects import _on_domains


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.xtranews.de/2024/artikel/", True),
        ("https://www.xtranews.de:8443/2024/artikel/", True),  # a port is the same site
        ("http://127.0.0.1:43893/lokales/", True),
        ("https://xtranews.de.evil.example/", False),
        ("https://notxtranews.de/", False),
        ("http://[::1/", False),
    ],
)
def test_redirect_targets_on_the_allowed_domains(url: str, expected: bool) -> None:
    assert _on_domains(url, ["xtranews.de", "127.0.0.1"]) is expected
