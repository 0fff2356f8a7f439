"""Short articles read from the CMS content container when trafilatura falls back."""

from __future__ import annotations

from pipelines.boilerplate import Haystack
from pipelines.container import container_text
from pipelines.htmltree import parse_html
from pipelines.rules import RulePack

PACK = RulePack(
    name="test",
    detect=(),
    prune=(),
    drop_lines=(),
    content=("//div[contains(@class, 'entry-content')]",),
)
PRUNE = ("//*[contains(@class, 'sharedaddy')]",)


def _text(body: str) -> str | None:
    source = (
        f"<html><body><h1>Schlagzeile</h1><p class='byline'>Von Redaktion</p>{body}</body></html>"
    )
    return container_text(Haystack(parse_html(source), source), [PACK], PRUNE)


def test_blocks_of_the_container_without_pruned_nodes() -> None:
    text = _text(
        "<div class='entry-content'><p>Erster Satz.</p><ul><li>Punkt <p>innen</p></li></ul>"
        "<div class='sharedaddy'><p>Teilen mit:</p></div><h2>Mehr</h2></div>"
    )
    assert text == "Erster Satz.\nPunkt innen\nMehr"


def test_bare_text_in_the_container_is_one_line() -> None:
    assert _text("<div class='entry-content'> Nur  Text </div>") == "Nur Text"


def test_no_container_or_an_ambiguous_one_gives_none() -> None:
    assert _text("<div class='content'><p>x</p></div>") is None
    two = "<div class='entry-content'><p>a</p></div><div class='entry-content'><p>b</p></div>"
    assert _text(two) is None
    assert _text("<div class='entry-content'> </div>") is None
