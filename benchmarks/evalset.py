"""Load the shared evaluation pages and score extraction predictions with the acceptance metrics."""

from __future__ import annotations

import gzip
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

EVAL_DIR_ENV = "LOCALNEWS_EVAL_DIR"
SHINGLE_SIZE = 4

_WORD_RE = re.compile(r"\w+")
# Soft hyphens and zero-width characters are invisible but break exact string comparison.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACE_RE = re.compile(r"\s+")
# Typographic double quotes (curly, low-9, guillemets, double prime, CJK, full-width) and
# single ones (curly, low-9, single guillemets, prime, grave, acute, full-width); escapes
# because several of them are indistinguishable from ASCII in most fonts.
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\u301f\uff02"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2039\u203a\u2032\u0060\u00b4\uff07"
_QUOTES = str.maketrans(
    {**dict.fromkeys(_DOUBLE_QUOTES, '"'), **dict.fromkeys(_SINGLE_QUOTES, "'")}
)
_AUTHOR_PREFIX_RE = re.compile(r"^(?:by|von|from|autor|autorin|author|written by)\s+(?=\S)")
_AUTHOR_PUNCT_RE = re.compile(r"[^\w\s'-]")

# Residual boilerplate: a page counts when one line of its text fully matches one of these
# (case-insensitive, whitespace-normalised, trailing ":" / "…" / "." ignored). Whole-line
# matching keeps article sentences that merely mention cookies or newsletters out.
AMP_WORDPRESS_LINE_PATTERNS: tuple[str, ...] = (
    r"(?:die )?mobile version verlassen",
    r"website-icon\b.*",
)
"""The WordPress AMP plugin's lines ("Die mobile Version verlassen", "Website-Icon …"): the
issue asks for none at all."""
BOILERPLATE_LINE_PATTERNS: tuple[str, ...] = (
    # theme and AMP chrome that leaks into the main text
    *AMP_WORDPRESS_LINE_PATTERNS,
    r"(?:direkt )?zum (?:haupt)?inhalt(?: springen| wechseln)?",
    r"skip to (?:the )?(?:main )?(?:content|navigation)",
    r"(?:zurück )?nach oben(?: scrollen)?|back to top|scroll to top",
    r"(?:menü|navigation) (?:öffnen|schließen|umschalten)|toggle (?:navigation|menu)",
    # share and like widgets (WordPress/Jetpack and similar)
    r"(?:teilen mit|diesen (?:beitrag|artikel) teilen|share this(?: article| post)?)",
    r"(?:gefällt mir|like this)(?: wird geladen| loading)?",
    r"wird geladen|loading\.\.\.",
    # comment forms
    r"(?:ihre )?e-mail-adresse wird nicht veröffentlicht\b.*",
    r"your email address will not be published\b.*",
    r"(?:schreibe|hinterlasse) einen kommentar|kommentar (?:verfassen|abschicken)",
    r"leave a (?:reply|comment)|antworten abbrechen|cancel reply",
    # cookie prompts: a short line asking for consent, or a site announcing that it sets cookies
    # (no "allow"/"agree": recipe blogs write about the other kind of cookie)
    r"(?=.{0,300}$).*\bcookies?\b.*\b(?:akzeptieren|zustimmen|zulassen|ablehnen|einverstanden"
    r"|einwilligung|einwilligen|accept|consent)\b.*",
    r"(?=.{0,300}$).*\b(?:(?:diese|unsere) (?:website|webseite|seite) (?:verwendet|nutzt|benutzt"
    r"|setzt)|wir (?:verwenden|nutzen|setzen)|(?:this|our) (?:web)?site uses|we use) cookies\b.*",
    r"cookie(?:-| )?(?:einstellungen|richtlinie|hinweis|banner|settings|policy|consent)",
    # newsletter prompts
    r"(?=.{0,300}$).*\bnewsletter\b.*\b(?:abonnieren|anmelden|bestellen|registrieren"
    r"|subscribe|sign up|signup)\b.*",
    r"(?=.{0,300}$).*\b(?:abonnieren|bestellen|subscribe to|sign up for)\b.*\bnewsletter\b.*",
)
_AMP_WORDPRESS_RE = re.compile(
    "|".join(f"(?:{pattern})" for pattern in AMP_WORDPRESS_LINE_PATTERNS), re.IGNORECASE
)
_BOILERPLATE_RE = re.compile(
    "|".join(f"(?:{pattern})" for pattern in BOILERPLATE_LINE_PATTERNS), re.IGNORECASE
)
_LINE_TRAILER_RE = re.compile(r"[\s:.…]+$")


def default_eval_dir() -> Path:
    """The eval folder: ``$LOCALNEWS_EVAL_DIR`` if set, else ``<repo root>/../shared/eval``."""
    configured = os.environ.get(EVAL_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


@dataclass(frozen=True, slots=True)
class EvalPage:
    """One evaluation page with its ground truth; fields mirror ``manifest.jsonl``."""

    id: str
    dataset: str
    lang: str
    url: str | None
    html_path: Path
    """Absolute path of the gzipped raw HTML."""
    body: str | None
    """Expected article text; None where the dataset has none."""
    title: str | None
    authors: tuple[str, ...]
    date: str | None
    """Expected publication day, YYYY-MM-DD."""
    with_snippets: tuple[str, ...]
    without_snippets: tuple[str, ...]

    def read_html(self) -> bytes:
        """The raw HTML bytes exactly as published upstream."""
        return gzip.decompress(self.html_path.read_bytes())


@dataclass(frozen=True, slots=True)
class Prediction:
    """What an extractor produced for one page; the default instance is the empty prediction."""

    text: str = ""
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    """Publication day, YYYY-MM-DD."""


@dataclass(frozen=True, slots=True)
class SnippetCounts:
    """Snippet outcomes: ``with`` found / missing, ``without`` found / absent."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def __add__(self, other: SnippetCounts) -> SnippetCounts:
        return SnippetCounts(
            self.tp + other.tp, self.fn + other.fn, self.fp + other.fp, self.tn + other.tn
        )


@dataclass(frozen=True, slots=True)
class DatasetScores:
    """Scores for one dataset; a metric is None when no page has that ground truth."""

    pages: int
    body_pages: int
    body_precision: float | None
    body_recall: float | None
    body_f1: float | None
    snippets: SnippetCounts
    snippet_precision: float | None
    snippet_recall: float | None
    snippet_f1: float | None
    title_pages: int
    title_accuracy: float | None
    date_pages: int
    date_accuracy: float | None
    author_pages: int
    author_f1: float | None
    boilerplate_pages: int
    boilerplate_ids: tuple[str, ...]
    """Ids of the pages whose predicted text has residual boilerplate, in page order."""
    amp_wordpress_pages: int = 0
    """Pages whose text still has a WordPress AMP plugin line (a subset of the above)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of all fields."""
        return asdict(self)


def load_eval(
    eval_dir: Path | None = None, datasets: Sequence[str] | None = None
) -> list[EvalPage]:
    """Read ``manifest.jsonl`` from ``eval_dir`` (default: ``default_eval_dir()``), in file order.

    Raises FileNotFoundError when the folder or its manifest is absent, so callers can skip.
    """
    folder = (eval_dir or default_eval_dir()).resolve()
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        raise FileNotFoundError(
            f"evaluation set not found: {manifest} is missing (set {EVAL_DIR_ENV} to its folder)"
        )
    pages: list[EvalPage] = []
    seen: set[str] = set()
    with manifest.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            if datasets is not None and row["dataset"] not in datasets:
                continue
            # predictions are keyed by page id alone, so ids must not collide across datasets
            if row["id"] in seen:
                raise ValueError(f"duplicate page id {row['id']!r} in {manifest}")
            seen.add(row["id"])
            pages.append(
                EvalPage(
                    id=row["id"],
                    dataset=row["dataset"],
                    lang=row["lang"],
                    url=row.get("url"),
                    html_path=folder / row["html"],
                    body=row.get("body"),
                    title=row.get("title"),
                    authors=tuple(row.get("authors") or ()),
                    date=row.get("date"),
                    with_snippets=tuple(row.get("with") or ()),
                    without_snippets=tuple(row.get("without") or ()),
                )
            )
    return pages


def tokens(text: str) -> list[str]:
    """Lowercase Unicode word tokens (``\\w+``)."""
    return _WORD_RE.findall(text.lower())


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Word ``size``-shingles with multiplicity; a shorter non-empty text is one shingle.

    The short-text rule follows the ScrapingHub benchmark, so a 3-word body is still scorable.
    """
    words = tokens(text)
    if not words:
        return Counter()
    return Counter(tuple(words[i : i + size]) for i in range(max(1, len(words) - size + 1)))


def body_prf(gold: str, predicted: str) -> tuple[float, float, float]:
    """Shingle precision, recall and F1 of one page; an empty prediction scores (0, 0, 0)."""
    gold_shingles, predicted_shingles = shingles(gold), shingles(predicted)
    true_positives = sum((gold_shingles & predicted_shingles).values())
    if true_positives == 0:
        return 0.0, 0.0, 0.0
    precision = true_positives / sum(predicted_shingles.values())
    recall = true_positives / sum(gold_shingles.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def normalize_space(text: str) -> str:
    """NFC, invisible characters removed, whitespace runs collapsed to one space, stripped."""
    text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))
    return _SPACE_RE.sub(" ", text).strip()


def snippet_counts(text: str, with_: Sequence[str], without: Sequence[str]) -> SnippetCounts:
    """Count snippet outcomes on whitespace-normalised text (case-sensitive substring match).

    Snippets that are empty after normalisation are ignored: they would always be "found".
    """
    haystack = normalize_space(text)
    wanted = [s for s in map(normalize_space, with_) if s]
    unwanted = [s for s in map(normalize_space, without) if s]
    found = sum(1 for s in wanted if s in haystack)
    leaked = sum(1 for s in unwanted if s in haystack)
    return SnippetCounts(tp=found, fn=len(wanted) - found, fp=leaked, tn=len(unwanted) - leaked)


def normalize_title(title: str) -> str:
    """Whitespace-normalised title with typographic quotes mapped to ``"`` and ``'``."""
    return normalize_space(title).translate(_QUOTES)


def title_matches(gold: str, predicted: str | None) -> bool:
    """Exact title match after whitespace and quote normalisation."""
    return predicted is not None and normalize_title(gold) == normalize_title(predicted)


def same_day(gold: str, predicted: str | None) -> bool:
    """Whether a predicted YYYY-MM-DD (longer ISO strings allowed) names the gold day."""
    return predicted is not None and predicted.strip()[:10] == gold.strip()[:10]


def normalize_author(name: str) -> str:
    """Casefolded name without punctuation or a leading by/von/Autor; spaces collapsed."""
    name = unicodedata.normalize("NFKC", name).casefold()
    name = normalize_space(_AUTHOR_PUNCT_RE.sub(" ", name)).strip("'- ")
    return _AUTHOR_PREFIX_RE.sub("", name)


def author_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Set F1 between normalised gold and predicted names; 0 when either set is empty."""
    gold_set = {n for n in map(normalize_author, gold) if n}
    predicted_set = {n for n in map(normalize_author, predicted) if n}
    common = len(gold_set & predicted_set)
    if common == 0:
        return 0.0
    return 2 * common / (len(gold_set) + len(predicted_set))


def boilerplate_lines(text: str, *, amp_wordpress_only: bool = False) -> list[str]:
    """The lines of ``text`` that match ``BOILERPLATE_LINE_PATTERNS`` (or only the AMP ones)."""
    pattern = _AMP_WORDPRESS_RE if amp_wordpress_only else _BOILERPLATE_RE
    hits = []
    for line in text.splitlines():
        candidate = _LINE_TRAILER_RE.sub("", normalize_space(line))
        if candidate and pattern.fullmatch(candidate):
            hits.append(line)
    return hits


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _score_dataset(
    pages: Sequence[EvalPage], predictions: Mapping[str, Prediction]
) -> DatasetScores:
    bodies: list[tuple[float, float, float]] = []
    snippets = SnippetCounts()
    titles: list[float] = []
    dates: list[float] = []
    authors: list[float] = []
    boilerplate: list[str] = []
    amp_wordpress = 0
    for page in pages:
        # a page without a prediction is scored as empty: missing output never helps
        predicted = predictions.get(page.id, Prediction())
        if page.body and page.body.strip():
            bodies.append(body_prf(page.body, predicted.text))
        snippets += snippet_counts(predicted.text, page.with_snippets, page.without_snippets)
        if page.title:
            titles.append(float(title_matches(page.title, predicted.title)))
        if page.date:
            dates.append(float(same_day(page.date, predicted.date)))
        if page.authors:
            authors.append(author_f1(page.authors, predicted.authors))
        if boilerplate_lines(predicted.text):
            boilerplate.append(page.id)
            amp_wordpress += bool(boilerplate_lines(predicted.text, amp_wordpress_only=True))
    has_snippets = snippets.tp + snippets.fn + snippets.fp + snippets.tn > 0
    precision = _ratio(snippets.tp, snippets.tp + snippets.fp)
    recall = _ratio(snippets.tp, snippets.tp + snippets.fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return DatasetScores(
        pages=len(pages),
        body_pages=len(bodies),
        body_precision=_mean([p for p, _, _ in bodies]),
        body_recall=_mean([r for _, r, _ in bodies]),
        body_f1=_mean([f for _, _, f in bodies]),
        snippets=snippets,
        snippet_precision=precision if has_snippets else None,
        snippet_recall=recall if has_snippets else None,
        snippet_f1=f1 if has_snippets else None,
        title_pages=len(titles),
        title_accuracy=_mean(titles),
        date_pages=len(dates),
        date_accuracy=_mean(dates),
        author_pages=len(authors),
        author_f1=_mean(authors),
        boilerplate_pages=len(boilerplate),
        boilerplate_ids=tuple(boilerplate),
        amp_wordpress_pages=amp_wordpress,
    )


def score_language(
    pages: Sequence[EvalPage], predictions: Mapping[str, Prediction], lang: str
) -> dict[str, DatasetScores]:
    """``score`` over the pages in language ``lang``, keyed ``"<dataset> (<lang>)"``."""
    chosen = [page for page in pages if page.lang == lang]
    return {f"{name} ({lang})": s for name, s in score(chosen, predictions).items()}


def score(
    pages: Sequence[EvalPage], predictions: Mapping[str, Prediction]
) -> dict[str, DatasetScores]:
    """Score predictions (keyed by page id) per dataset, datasets in first-seen order.

    Body metrics are means of per-page precision, recall and F1; snippet metrics are
    corpus-level; title, date and author scores are means over pages with that ground truth.
    """
    by_dataset: dict[str, list[EvalPage]] = {}
    for page in pages:
        by_dataset.setdefault(page.dataset, []).append(page)
    return {name: _score_dataset(group, predictions) for name, group in by_dataset.items()}
