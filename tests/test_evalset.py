"""Unit tests for the evaluation-set loader and metrics on tiny hand-made examples."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.evalset import (
    EVAL_DIR_ENV,
    EvalPage,
    Prediction,
    SnippetCounts,
    author_f1,
    body_prf,
    boilerplate_lines,
    default_eval_dir,
    load_eval,
    normalize_title,
    same_day,
    score,
    shingles,
    snippet_counts,
    title_matches,
    tokens,
)
from benchmarks.quality import article_day


def _page(page_id: str, **fields: object) -> EvalPage:
    values: dict[str, object] = {
        "id": page_id,
        "dataset": "toy",
        "lang": "de",
        "url": None,
        "html_path": Path("/nonexistent.html.gz"),
        "body": None,
        "title": None,
        "authors": (),
        "date": None,
        "with_snippets": (),
        "without_snippets": (),
    }
    values.update(fields)
    return EvalPage(**values)  # type: ignore[arg-type]


# --- body shingles ---


def test_tokens_are_lowercase_unicode_words() -> None:
    assert tokens("Über die STRASSE, 3-mal: Straße!") == [
        "über",
        "die",
        "strasse",
        "3",
        "mal",
        "straße",
    ]


def test_shingles_count_repeats() -> None:
    counted = shingles("a b c d a b c d")
    assert counted[("a", "b", "c", "d")] == 2
    assert sum(counted.values()) == 5


def test_short_text_is_one_shingle() -> None:
    assert shingles("zwei Wörter") == {("zwei", "wörter"): 1}
    assert shingles(" ... ") == {}


def test_body_prf_with_repeated_shingles_in_gold() -> None:
    # gold has abcd twice among 5 shingles; the prediction has abcd once
    precision, recall, f1 = body_prf("a b c d a b c d", "A B C D")
    assert (precision, recall) == (1.0, 0.2)
    assert f1 == pytest.approx(2 * 0.2 / 1.2)


def test_body_prf_with_repeated_shingles_in_prediction() -> None:
    # repeating the gold text does not earn extra true positives
    precision, recall, _ = body_prf("a b c d", "a b c d a b c d a b c d")
    assert precision == pytest.approx(1 / 9)
    assert recall == 1.0


def test_body_prf_perfect_and_disjoint() -> None:
    assert body_prf("Der Rat tagt am Montag.", "der rat tagt am montag") == (1.0, 1.0, 1.0)
    assert body_prf("Der Rat tagt am Montag.", "ganz andere worte hier stehen") == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("empty", ["", "   \n\n", "— …"])
def test_empty_prediction_scores_zero(empty: str) -> None:
    assert body_prf("Der Rat tagt am Montag im Rathaus.", empty) == (0.0, 0.0, 0.0)


def test_score_body_is_mean_over_pages_with_gold_body() -> None:
    pages = [
        _page("perfect", body="eins zwei drei vier fünf"),
        _page("missing", body="sechs sieben acht neun zehn"),
        _page("no-gold", body=None),
    ]
    predictions = {
        "perfect": Prediction(text="eins zwei drei vier fünf"),
        "no-gold": Prediction(text="irgendwas"),
    }
    result = score(pages, predictions)["toy"]
    assert (result.pages, result.body_pages) == (3, 2)
    assert result.body_f1 == result.body_precision == result.body_recall == 0.5


# --- snippets ---


def test_snippet_counts_normalise_whitespace_and_respect_case() -> None:
    text = "Die Feuerwehr  rückte\naus.\n\nTeilen mit:"
    counts = snippet_counts(
        text,
        with_=["Feuerwehr rückte aus.", "die feuerwehr", "Polizei"],
        without=["Teilen mit", "Kommentar verfassen", "   "],
    )
    assert counts == SnippetCounts(tp=1, fn=2, fp=1, tn=1)


def test_snippet_scores_are_corpus_level() -> None:
    pages = [
        _page("a", with_snippets=("eins", "zwei", "drei"), without_snippets=("Menü",)),
        _page("b", with_snippets=("vier",), without_snippets=("Impressum", "Kontakt")),
    ]
    predictions = {
        "a": Prediction(text="eins zwei Menü"),
        "b": Prediction(text="vier Impressum"),
    }
    result = score(pages, predictions)["toy"]
    assert result.snippets == SnippetCounts(tp=3, fn=1, fp=2, tn=1)
    assert result.snippet_precision == pytest.approx(3 / 5)
    assert result.snippet_recall == pytest.approx(3 / 4)
    assert result.snippet_f1 == pytest.approx(2 * 0.6 * 0.75 / 1.35)


# --- title, date, authors ---


def test_title_quote_and_whitespace_normalisation() -> None:
    assert (
        normalize_title("  Neue Traumfrau bei „Sturm der Liebe“ ")
        == 'Neue Traumfrau bei "Sturm der Liebe"'
    )
    assert title_matches("Phil Foden\u2019s girlfriend", "Phil Foden's girlfriend")
    assert title_matches("«Die Zurückhaltung»", '"Die Zurückhaltung"')
    assert title_matches("Helikopter\u00adlandeplatz  geplant", "Helikopterlandeplatz\ngeplant")


def test_title_mismatch() -> None:
    assert not title_matches("Brand in Lichterfelde", "brand in lichterfelde")
    assert not title_matches("Brand in Lichterfelde", "Brand in Lichterfelde - WELT")
    assert not title_matches("Brand in Lichterfelde", None)


def test_same_day() -> None:
    assert same_day("2024-05-03", "2024-05-03")
    assert same_day("2024-05-03", "2024-05-03T23:30:00+02:00")
    assert not same_day("2024-05-03", "2024-05-04")
    assert not same_day("2024-05-03", None)


def test_author_f1_on_normalised_names() -> None:
    gold = ["Birgit Baumann", "Anna Giulia Fink"]
    assert author_f1(gold, ["birgit  BAUMANN", "Anna Giulia Fink."]) == 1.0
    assert author_f1(gold, ["Von Birgit Baumann", "Jan Marchart"]) == 0.5
    assert author_f1(["Daniel Lemire"], ["Daniel Lemire", "Daniel Lemire"]) == 1.0
    assert author_f1(gold, []) == 0.0


def test_score_metadata_means() -> None:
    pages = [
        _page("a", title="Titel", date="2024-01-02", authors=("Max Muster",)),
        _page("b", title="Anderer Titel", date="2024-01-03"),
        _page("c"),
    ]
    predictions = {
        "a": Prediction(title="Titel", date="2024-01-01", authors=["Max Muster", "dpa"]),
        "b": Prediction(title="Anderer Titel", date="2024-01-03"),
    }
    result = score(pages, predictions)["toy"]
    assert (result.title_pages, result.title_accuracy) == (2, 1.0)
    assert (result.date_pages, result.date_accuracy) == (2, 0.5)
    assert result.author_pages == 1
    assert result.author_f1 == pytest.approx(2 / 3)
    assert result.snippet_f1 is None and result.body_f1 is None


# --- residual boilerplate ---


@pytest.mark.parametrize(
    "line",
    [
        "Die mobile Version verlassen",
        "Website-Icon Lokalblatt Musterstadt",
        "Zum Inhalt springen",
        "Skip to content",
        "Teilen mit:",
        "Gefällt mir Wird geladen …",
        "Ihre E-Mail-Adresse wird nicht veröffentlicht. Erforderliche Felder sind mit * markiert",
        "Diese Website verwendet Cookies, um Ihnen das beste Erlebnis zu bieten.",
        "Alle Cookies akzeptieren",
        "Cookie-Einstellungen",
        "We use cookies to improve your experience.",
        "Jetzt kostenlos zum Newsletter anmelden!",
        "Sign up for our daily newsletter",
    ],
)
def test_boilerplate_lines_detected(line: str) -> None:
    text = f"Der Stadtrat hat am Montag den Haushalt beschlossen.\n\n{line}\n\nMehr dazu morgen."
    assert boilerplate_lines(text) == [line]


@pytest.mark.parametrize(
    "line",
    [
        "Zum Inhalt des Vertrags äußerte sich der Bürgermeister nicht.",
        "Die Bäckerei am Markt verkauft Cookies und Kuchen.",
        "These cookies allow you to use up leftover buttercream.",
        "Der Newsletter der Stadt erscheint künftig monatlich, sagte die Sprecherin. " * 5,
        "Die Teilnehmer wollten nach oben, auf den Gipfel.",
    ],
)
def test_article_lines_are_not_boilerplate(line: str) -> None:
    assert boilerplate_lines(line) == []


def test_score_counts_boilerplate_pages() -> None:
    pages = [_page("clean"), _page("dirty"), _page("dirty-twice")]
    predictions = {
        "clean": Prediction(text="Ein sauberer Artikel."),
        "dirty": Prediction(text="Text\nZum Inhalt springen"),
        "dirty-twice": Prediction(text="Skip to content\nText\nShare this:"),
    }
    result = score(pages, predictions)["toy"]
    assert result.boilerplate_pages == 2
    assert result.boilerplate_ids == ("dirty", "dirty-twice")


# --- loading ---


def test_load_eval_reads_manifest(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "p1.html.gz").write_bytes(gzip.compress(b"<html>hallo</html>"))
    rows = [
        {
            "id": "p1",
            "dataset": "fundus",
            "lang": "de",
            "url": "https://example.org/a",
            "html": "pages/p1.html.gz",
            "body": "Hallo Welt",
            "title": "T",
            "authors": ["A"],
            "date": "2024-01-01",
            "with": [],
            "without": [],
        },
        {
            "id": "p2",
            "dataset": "trafilatura",
            "lang": "en",
            "url": None,
            "html": "pages/p2.html.gz",
            "body": None,
            "title": None,
            "authors": [],
            "date": None,
            "with": ["x"],
            "without": ["y"],
        },
    ]
    (tmp_path / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pages = load_eval(tmp_path)
    assert [p.id for p in pages] == ["p1", "p2"]
    assert pages[0].read_html() == b"<html>hallo</html>"
    assert pages[0].authors == ("A",)
    assert pages[1].with_snippets == ("x",)
    assert [p.id for p in load_eval(tmp_path, ["trafilatura"])] == ["p2"]


def test_load_eval_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="evaluation set not found"):
        load_eval(tmp_path / "absent")


def test_default_eval_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(EVAL_DIR_ENV, str(tmp_path))
    assert default_eval_dir() == tmp_path
    monkeypatch.delenv(EVAL_DIR_ENV)
    assert default_eval_dir().parts[-2:] == ("shared", "eval")


# --- the project side's date rule (benchmarks.quality) ---


def test_article_day_prefers_iso_raw_then_berlin_day() -> None:
    late_evening_utc = datetime(2024, 5, 2, 22, 30, tzinfo=UTC)
    assert article_day("2024-05-02T22:30:00Z", late_evening_utc) == "2024-05-02"
    assert article_day("03.05.2024", late_evening_utc) == "2024-05-03"
    assert article_day(None, late_evening_utc) == "2024-05-03"
    assert article_day(None, None) is None
    # a date-only value stored as Berlin midnight in UTC is that Berlin day
    berlin_midnight = datetime(2021, 11, 4, 23, 0, tzinfo=UTC)
    assert article_day("2021-11-04T23:00Z", berlin_midnight) == "2021-11-05"
