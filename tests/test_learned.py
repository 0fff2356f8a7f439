"""Learned boilerplate: what a synthetic site teaches, what it must keep, storage round trips."""

from __future__ import annotations

import json
import pickle
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from pipelines.learned import LearnedBoilerplate, LearnParams, learn, normalise, remove
from pipelines.learned_store import LearnedStateError, load, save, state_path

WORDS = (  # noqa: SIM905 (a word list reads best as text)
    "Stadtrat Bürgermeister Feuerwehr Schule Verkehr Baustelle Haushalt Verein Polizei Kita "
    "Innenstadt Radweg Bahnhof Sportplatz Kirche Markt Bürger Ausschuss Sitzung Antrag "
    "beschlossen erklärte kritisierte forderte plant wegen trotz nach seit gegen für mit "
    "neue alte große kleine schnelle lange wichtige zusätzliche städtische öffentliche"
).split()
FOOTER = ["© 2025 Musterstädter Anzeiger", "Impressum", "Datenschutz", "Kontakt"]
NEWSLETTER = ["Newsletter", "Jetzt kostenlos anmelden und nichts mehr aus Musterstadt verpassen!"]
AGENCY_LONG = (
    "Nach Angaben der Polizei war der Lastwagen am frühen Morgen aus bisher ungeklärter "
    "Ursache von der Fahrbahn abgekommen und in eine Leitplanke geprallt, die Autobahn "
    "blieb in Richtung Norden für mehrere Stunden voll gesperrt."
)
AGENCY_SHORT = "Die Ermittlungen dauern an, teilte ein Sprecher der Polizei mit."


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def title(number: int) -> str:
    return f"Neue Pläne für das Quartier Nummer {number} vorgestellt"


def site_pages(count: int = 40, agency: int = 3) -> list[tuple[str, list[str]]]:
    """A site: unique prose, a newsletter box, related teasers at the end, a footer.

    The first ``agency`` pages are agency copy: their own paragraphs plus two shared ones.
    """
    rng = random.Random(7)
    pages = []
    for number in range(count):
        body = [sentence(rng, 40), f"Zwischenzeile {number}", sentence(rng, 35)]
        if number < agency:
            body += [AGENCY_LONG, AGENCY_SHORT, "(dpa)"]
        body += [*NEWSLETTER, sentence(rng, 30)]
        teasers = [title((number + step) % count) for step in (1, 2, 3)]
        pages.append(
            (f"https://example.de/{number}", [*body, "Mehr zum Thema:", *teasers, *FOOTER])
        )
    return pages


@pytest.fixture(scope="module")
def state() -> LearnedBoilerplate:
    return learn(site_pages())


def test_the_site_chrome_is_learned(state: LearnedBoilerplate) -> None:
    learned = dict(state.lines)
    for line in [*FOOTER, *NEWSLETTER, "Mehr zum Thema"]:
        assert learned[normalise(line)] == 40, line
    assert state.pages == 40
    assert state.blocks == (("mehr zum thema", 3),)


def test_agency_paragraphs_shared_by_three_pages_are_kept(state: LearnedBoilerplate) -> None:
    learned = dict(state.lines)
    assert normalise(AGENCY_LONG) not in learned
    assert normalise(AGENCY_SHORT) not in learned
    assert normalise("(dpa)") not in learned
    _, lines = site_pages()[1]
    kept = remove(lines, state)
    assert AGENCY_LONG in kept and AGENCY_SHORT in kept and "(dpa)" in kept


def test_the_share_threshold_keeps_short_agency_paragraphs_on_many_pages() -> None:
    pages = site_pages(60, agency=6)  # on 6 pages: above the 5-page floor, below 20 % of 60
    assert normalise(AGENCY_SHORT) not in dict(learn(pages).lines)
    without_share = dict(learn(pages, LearnParams(min_share=0.0)).lines)
    assert without_share[normalise(AGENCY_SHORT)] == 6  # short: only the share protects it
    assert normalise(AGENCY_LONG) not in without_share  # long prose: never learned at all


def test_removal_leaves_exactly_the_article(state: LearnedBoilerplate) -> None:
    _, lines = site_pages()[10]
    assert remove(lines, state) == [lines[0], lines[1], lines[2], lines[5]]


def test_removal_is_deterministic_and_keeps_the_input(state: LearnedBoilerplate) -> None:
    _, lines = site_pages()[5]
    before = list(lines)
    assert remove(lines, state) == remove(lines, state)
    assert lines == before


def test_learning_does_not_depend_on_input_order(state: LearnedBoilerplate) -> None:
    shuffled = site_pages()
    random.Random(3).shuffle(shuffled)
    again = learn(shuffled)
    assert again == state and again.fingerprint == state.fingerprint


def test_copies_count_once() -> None:
    pages = site_pages(24)
    # the AMP copy of each page: other key, other chrome, same prose
    amp = [(f"{key}/amp", [*lines, "Zur Desktop-Version"]) for key, lines in pages]
    # a re-fetch under the same key with an edited paragraph
    refetched = [(pages[0][0], ["Ein ganz anderer Text. " * 10, *FOOTER])]
    state = learn([*pages, *amp, *refetched])
    assert state.pages == 24
    assert dict(state.lines)[normalise("Impressum")] == 24


def test_too_few_pages_learn_nothing() -> None:
    state = learn(site_pages(19))
    assert state.lines == () and state.blocks == () and state.pages == 19
    _, lines = site_pages(19)[4]
    assert remove(lines, state) == lines


def test_blocks_inside_the_text_keep_their_teasers(state: LearnedBoilerplate) -> None:
    inline = [
        "Erster Absatz.",
        "Mehr zum Thema:",
        "Ein Teaser im Text",
        "Weiter im Text.",
        "Impressum",
    ]
    assert remove(inline, state) == ["Erster Absatz.", "Ein Teaser im Text", "Weiter im Text."]
    # a sentence after the heading is text, not a teaser
    sentence_end = ["Text.", "Mehr zum Thema", "Der Rat tagt am Montag.", "Impressum"]
    assert remove(sentence_end, state) == ["Text.", "Der Rat tagt am Montag."]
    # more teasers than ever seen after the heading: not the learned block
    many = ["Text.", "Mehr zum Thema", "Eins", "Zwei", "Drei", "Vier", "Impressum"]
    assert remove(many, state) == ["Text.", "Eins", "Zwei", "Drei", "Vier"]


def test_normalise_only_drops_what_varies_between_templates() -> None:
    assert normalise("  Mehr  zum\u00a0Thema: ") == "mehr zum thema"
    assert normalise("» Lesen Sie auch …") == normalise("Lesen Sie auch...") == "lesen sie auch"
    assert normalise("Daten\u00adschutz | ") == "datenschutz"
    assert normalise("Alle Rechte vorbehalten.") == "alle rechte vorbehalten."
    assert normalise("Zuschauer: 350") != normalise("Zuschauer: 420")
    assert normalise("STRASSE") == normalise("Straße")


def test_state_is_hashable_picklable_and_json_ready(state: LearnedBoilerplate) -> None:
    @dataclass(frozen=True)
    class Rules:  # stands in for CleaningRules, which fingerprints itself with asdict + json
        learned: LearnedBoilerplate = field(default_factory=LearnedBoilerplate)

    assert hash(Rules(state)) == hash(Rules(learn(site_pages())))
    assert json.dumps(asdict(Rules(state)))
    assert pickle.loads(pickle.dumps(state)) == state
    assert LearnedBoilerplate().fingerprint == LearnedBoilerplate(pages=9).fingerprint
    assert state.fingerprint != LearnedBoilerplate().fingerprint


def test_fingerprint_ignores_counts(state: LearnedBoilerplate) -> None:
    recounted = LearnedBoilerplate(
        lines=tuple((key, count + 1) for key, count in state.lines),
        blocks=state.blocks,
        pages=state.pages + 1,
        params=state.params,
    )
    assert recounted.fingerprint == state.fingerprint


def test_invalid_states_and_params_are_refused() -> None:
    with pytest.raises(ValueError):
        LearnedBoilerplate(lines=(("b", 1), ("a", 1)))
    with pytest.raises(ValueError):
        LearnedBoilerplate(lines=(("a", 1),), blocks=(("b", 2),))
    with pytest.raises(ValueError):
        LearnParams(min_share=1.5)


def test_save_and_load_round_trip(tmp_path: Path, state: LearnedBoilerplate) -> None:
    path = save(tmp_path, "musterstadt", state)
    assert path == tmp_path / "state" / "boilerplate" / "musterstadt.json"
    assert load(tmp_path, "musterstadt") == state
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == 1 and document["fingerprint"] == state.fingerprint
    assert {"line": "impressum", "pages": 40} in document["lines"]
    assert [p.name for p in path.parent.iterdir()] == ["musterstadt.json"]  # no temp files


def test_saving_twice_gives_the_same_bytes(tmp_path: Path, state: LearnedBoilerplate) -> None:
    first = save(tmp_path, "a", state).read_bytes()
    assert save(tmp_path, "a", learn(reversed(site_pages()))).read_bytes() == first


def test_missing_state_is_empty(tmp_path: Path) -> None:
    assert load(tmp_path, "nowhere") == LearnedBoilerplate()


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text[: len(text) // 2],
        lambda text: text.replace('"version": 1', '"version": 99'),
        lambda text: text.replace('"site": "ort"', '"site": "other"'),
        lambda text: text.replace('"line": "impressum"', '"line": "kontaktformular"'),
        lambda text: text.replace('"pages": 40', '"pages": -1', 1),
        lambda text: "[]",
    ],
    ids=["truncated", "version", "site", "edited", "negative", "not-an-object"],
)
def test_damaged_state_is_a_clear_error(
    tmp_path: Path, state: LearnedBoilerplate, edit: Callable[[str], str]
) -> None:
    path = save(tmp_path, "ort", state)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(LearnedStateError, match=r"ort\.json"):
        load(tmp_path, "ort")


@pytest.mark.parametrize(
    "site", ["../etc", "a/b", ".", "..", "", ".hidden", "Site", "a\n", "a" * 201]
)
def test_site_ids_cannot_escape_the_state_folder(tmp_path: Path, site: str) -> None:
    with pytest.raises(ValueError, match="invalid site id"):
        state_path(tmp_path, site)


def test_host_name_site_ids_are_allowed(tmp_path: Path) -> None:
    assert state_path(tmp_path, "www1.wdr.de").name == "www1.wdr.de.json"


def test_learning_from_cleaned_pages_as_the_crawl_would() -> None:
    from pipelines.clean import clean
    from pipelines.records import Article
    from pipelines.rules import CleaningRules
    from tests.pages import article_html, make_page

    rng = random.Random(11)
    chrome = "Hinweise an die Lokalredaktion: redaktion@example-lokal.de"
    cleaned = []
    for number in range(24):
        paragraphs = [sentence(rng, 40), sentence(rng, 30), chrome, "Aus dem Quartier"]
        paragraphs += [title(number + 1), title(number + 2)]
        html = article_html(paragraphs, title=f"Artikel {number}").encode()
        page = make_page(html, url=f"https://www.example-lokal.de/{number}/")
        result = clean(page, CleaningRules())
        assert isinstance(result, Article), result
        cleaned.append((result.article_id, result.text.split("\n\n"), paragraphs))
    state = learn((key, lines) for key, lines, _ in cleaned)
    assert {normalise(chrome), "aus dem quartier"} <= dict(state.lines).keys()
    assert state.blocks == (("aus dem quartier", 2),)
    for _, lines, paragraphs in cleaned:
        assert remove(lines, state) == paragraphs[:2]
