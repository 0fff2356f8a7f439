"""Markdown rendering: subheading levels from trafilatura's tree, lists and tables kept whole."""

from __future__ import annotations

from lxml import etree

from pipelines.markdown import heading_levels, render_markdown


def test_heading_levels_come_from_the_extracted_tree() -> None:
    body = etree.fromstring(
        '<body><p>Text</p><head rend="h2">Ein  Zentrum</head><head rend="h3">Unter</head>'
        "<head>Ohne Stufe</head><head rend='h2'></head></body>"
    )
    assert heading_levels(body) == {"Ein Zentrum": 2, "Unter": 3, "Ohne Stufe": 2}
    assert heading_levels(None) == {}


def test_render_keeps_lists_and_tables_together() -> None:
    lines = [
        "Erster Absatz.",
        "Ein Zentrum",
        "- eins",
        "- zwei",
        "| A | B |",
        "|---|---|",
        "| 1 | 2 |",
        "Letzter Absatz.",
    ]
    assert render_markdown(lines, {"Ein Zentrum": 2}) == (
        "Erster Absatz.\n\n## Ein Zentrum\n\n- eins\n- zwei\n\n"
        "| A | B |\n|---|---|\n| 1 | 2 |\n\nLetzter Absatz."
    )
    assert render_markdown([], {}) == ""
