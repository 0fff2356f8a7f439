"""Extraction-quality benchmark: the project's clean() beside bare trafilatura on the eval set."""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from benchmarks.evalset import (
    DatasetScores,
    EvalPage,
    Prediction,
    default_eval_dir,
    load_eval,
    score,
    score_language,
)

if TYPE_CHECKING:
    from crawler.items import FetchedPage
    from pipelines.records import Article

logger = logging.getLogger(__name__)

SIDES = ("ours", "bare")
FETCHED_AT = datetime(2026, 11, 25, tzinfo=UTC)
"""Fixed fetch time so the cleaner sees identical inputs on every run; later than every page
in the set, since clean() bounds publication dates by the fetch day."""
_WARM_UP_PAGE = (
    "<html><head><title>Radwege</title></head><body><article><h1>Radwege</h1>"
    "<p>Veröffentlicht am 3. Mai 2024, 14:32 Uhr</p><p>Der Rat der Stadt hat am Dienstag "
    "beschlossen, die Radwege im Süden auszubauen; die Arbeiten beginnen im Frühjahr.</p>"
    "</article></body></html>"
)


@dataclass(frozen=True, slots=True)
class Target:
    """One target of the extraction-quality issue: ``metric`` of ``group`` against ``goal``."""

    group: str
    """A dataset ("fundus") or its German pages ("fundus (de)")."""
    metric: str
    """A ``DatasetScores`` attribute."""
    goal: float
    at_most: bool = False
    """True for counts that must stay at or below ``goal`` (boilerplate pages)."""

    def met(self, value: float | None) -> bool:
        """Whether ``value`` reaches the goal."""
        if value is None:
            return False
        return value <= self.goal if self.at_most else value >= self.goal


# The table, side by side with bare trafilatura 2.3.1 on ../shared/eval.
TARGETS: tuple[Target, ...] = (
    Target("fundus (de)", "body_f1", 0.950),
    Target("fundus", "body_f1", 0.950),
    Target("trafilatura (de)", "snippet_f1", 0.950),
    Target("scrapinghub", "body_f1", 0.970),
    Target("fundus (de)", "title_accuracy", 0.90),
    Target("trafilatura (de)", "title_accuracy", 0.70),
    Target("fundus (de)", "date_accuracy", 0.98),
    Target("trafilatura (de)", "date_accuracy", 0.92),
    Target("fundus (de)", "author_f1", 0.93),
    Target("trafilatura (de)", "author_f1", 0.70),
    Target("German pages", "boilerplate_pages", 5, at_most=True),
    Target("German pages", "amp_wordpress_pages", 0, at_most=True),
)
MAX_COST_RATIO = 1.2
"""clean()'s time per page over bare trafilatura's, measured in the same run."""


def group_scores(
    pages: Sequence[EvalPage], predictions: Mapping[str, Prediction]
) -> dict[str, DatasetScores]:
    """Scores per dataset, per dataset's German pages, and over all German pages."""
    german = [page for page in pages if page.lang == "de"]
    groups = {**score(pages, predictions), **score_language(pages, predictions, "de")}
    if german:
        pooled = score([replace(page, dataset="German pages") for page in german], predictions)
        groups.update(pooled)
    return groups


@dataclass(frozen=True, slots=True)
class SideRun:
    """Predictions of one extractor over a list of pages, with timings and failures."""

    side: str
    predictions: dict[str, Prediction]
    wall_seconds: float
    """Elapsed time for all pages and all sides of the run, including worker start-up."""
    page_seconds: dict[str, float]
    """Page id to extraction time measured inside the worker (imports excluded)."""
    errors: dict[str, str]
    """Page id to exception text for pages whose extraction raised (scored as empty)."""

    def pages_per_cpu_second(self, page_ids: Sequence[str]) -> float:
        """Single-worker throughput on ``page_ids``, from the in-worker timings."""
        seconds = sum(self.page_seconds[page_id] for page_id in page_ids)
        return len(page_ids) / seconds if seconds else 0.0


def ours_unavailable() -> str | None:
    """Why the project's cleaner cannot be imported, or None when it can."""
    try:
        import pipelines.clean  # noqa: F401
    except ImportError as exc:
        return f"pipelines.clean is not importable ({type(exc).__name__}: {exc})"
    return None


def article_day(published_raw: str | None, published: datetime | None) -> str | None:
    """The page's publication day by the dataset's own rule (``pipelines.dates.stated_day``)."""
    from pipelines.dates import stated_day

    return None if published is None else stated_day(published_raw, published)


def predict_bare(page: EvalPage) -> Prediction:
    """Bare ``trafilatura.bare_extraction`` with metadata and default options."""
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(page.read_html(), url=page.url, with_metadata=True)
    if not isinstance(document, Document):
        return Prediction()
    author = document.author or ""
    return Prediction(
        text=document.text or "",
        title=document.title,
        authors=[name.strip() for name in author.split(";") if name.strip()],
        date=document.date,
    )


def fetched_page(page: EvalPage) -> FetchedPage:
    """The ``FetchedPage`` the project's cleaner receives for an eval page."""
    # imported here so that the bare side keeps working while project code is in flux
    from crawler.items import FetchedPage

    url = (page.url or "").strip() or f"https://eval.invalid/{page.id}"
    host = urlsplit(page.url).hostname if page.url else None
    return FetchedPage(
        site=host.removeprefix("www.") if host else "eval",
        url=url,
        final_url=url,
        status=200,
        headers=(("Content-Type", "text/html"),),
        fetched_at=FETCHED_AT,
        body=page.read_html(),
    )


def predict_ours(page: EvalPage) -> Prediction:
    """The project's ``clean()`` with default rules; a Rejection is the empty prediction."""
    from pipelines.clean import clean
    from pipelines.records import Article
    from pipelines.rules import CleaningRules

    result = clean(fetched_page(page), CleaningRules())
    if not isinstance(result, Article):
        return Prediction()
    return Prediction(
        text=result.text,
        title=result.title,
        authors=credits(result),
        date=article_day(result.published_raw, result.published),
    )


def credits(article: Article) -> list[str]:
    """Who the article credits, as the eval's gold lists it: persons and agencies, else a desk.

    The gold of both datasets names an agency or a desk as the author when no person is
    credited ("dpa", "DER SPIEGEL"); the dataset keeps those in ``agency`` and
    ``organization`` so that ``authors`` holds people only.
    """
    agencies = article.agency.split("/") if article.agency else []
    desk = [article.organization] if article.organization and not agencies else []
    return [*article.authors, *agencies, *desk]


def _warm_up(side: str) -> None:
    # Import and run each extractor once before timing starts, so the first page pays
    # neither for imports nor for lazily loaded models (py3langid, dateparser): the cost
    # ratio compares steady-state work per page.
    import trafilatura

    trafilatura.bare_extraction(_WARM_UP_PAGE, with_metadata=True)
    if side == "ours":
        import pipelines.worker_warmup  # noqa: F401  (cleans PAGE on import)


_Timed = tuple[Prediction, float, str | None]


def _predict_timed(job: tuple[tuple[str, ...], int, EvalPage]) -> dict[str, _Timed]:
    """Each side's prediction for one page, timed back to back in this worker.

    The order alternates from page to page, so neither side always meets warm caches: the
    cost ratio compares the sides under the same load, in the same process.
    """
    sides, index, page = job
    results: dict[str, _Timed] = {}
    for side in sides if index % 2 == 0 else tuple(reversed(sides)):
        predict = predict_ours if side == "ours" else predict_bare
        started = time.perf_counter()
        try:
            prediction, error = predict(page), None
        except Exception as exc:  # one broken page must not sink the whole benchmark
            prediction, error = Prediction(), f"{type(exc).__name__}: {exc}"
        results[side] = (prediction, time.perf_counter() - started, error)
    return results


def _warm_up_all(sides: tuple[str, ...]) -> None:
    for side in sides:
        _warm_up(side)


def run_sides(
    sides: Sequence[str], pages: Sequence[EvalPage], workers: int = 2
) -> dict[str, SideRun]:
    """Predict every page with each side ("ours", "bare") using ``workers`` processes."""
    unknown = [side for side in sides if side not in SIDES]
    if unknown:
        raise ValueError(f"unknown sides {unknown}; expected some of {SIDES}")
    chosen = tuple(sides)
    jobs = [(chosen, index, page) for index, page in enumerate(pages)]
    started = time.perf_counter()
    if workers <= 1:
        _warm_up_all(chosen)
        results = [_predict_timed(job) for job in jobs]
    else:
        # spawn: workers start clean, with no threads or state inherited from the caller
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_warm_up_all, initargs=(chosen,)
        ) as pool:
            results = list(pool.map(_predict_timed, jobs, chunksize=4))
    wall = time.perf_counter() - started
    runs = {}
    for side in chosen:
        timed = [result[side] for result in results]
        errors = {page.id: err for page, (_, _, err) in zip(pages, timed, strict=True) if err}
        for page_id, error in errors.items():
            logger.warning("%s extraction failed on %s: %s", side, page_id, error)
        runs[side] = SideRun(
            side=side,
            predictions={page.id: pred for page, (pred, _, _) in zip(pages, timed, strict=True)},
            wall_seconds=wall,
            page_seconds={page.id: secs for page, (_, secs, _) in zip(pages, timed, strict=True)},
            errors=errors,
        )
    return runs


def run_side(side: str, pages: Sequence[EvalPage], workers: int = 2) -> SideRun:
    """Predict every page with one side; see ``run_sides``."""
    return run_sides((side,), pages, workers)[side]


_ROWS: tuple[tuple[str, str, str], ...] = (
    ("body P", "body_precision", "body_pages"),
    ("body R", "body_recall", "body_pages"),
    ("body F1", "body_f1", "body_pages"),
    ("snippet P", "snippet_precision", ""),
    ("snippet R", "snippet_recall", ""),
    ("snippet F1", "snippet_f1", ""),
    ("title acc", "title_accuracy", "title_pages"),
    ("date acc", "date_accuracy", "date_pages"),
    ("author F1", "author_f1", "author_pages"),
    ("boilerplate pages", "boilerplate_pages", ""),
    ("AMP/WordPress pages", "amp_wordpress_pages", ""),
)


def _cell(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def _delta(ours: float | int | None, bare: float | int | None, digits: int = 3) -> str:
    if ours is None or bare is None:
        return "-"
    return f"{ours - bare:+d}" if isinstance(ours, int) else f"{ours - bare:+.{digits}f}"


def format_table(
    name: str,
    scores: Mapping[str, DatasetScores],
    speeds: Mapping[str, float] | None = None,
) -> str:
    """One dataset's scores per side ("ours", "bare"), with ours minus bare.

    ``speeds`` maps a side to its single-worker pages per second on this dataset.
    """
    reference = scores.get("ours") or scores["bare"]
    ours, bare = scores.get("ours"), scores.get("bare")
    lines = [
        f"== {name} ({reference.pages} pages) ==",
        f"{'metric':<24}{'ours':>8}{'bare':>8}{'delta':>8}",
    ]
    for label, attribute, count_attribute in _ROWS:
        if getattr(reference, attribute) is None:
            continue
        ours_value = getattr(ours, attribute) if ours else None
        bare_value = getattr(bare, attribute) if bare else None
        counted = f" (n={getattr(reference, count_attribute)})" if count_attribute else ""
        lines.append(
            f"{label + counted:<24}{_cell(ours_value):>8}{_cell(bare_value):>8}"
            f"{_delta(ours_value, bare_value):>8}"
        )
    if speeds:
        ours_speed, bare_speed = speeds.get("ours"), speeds.get("bare")
        lines.append(
            f"{'pages/s per worker':<24}{_cell(ours_speed, 1):>8}{_cell(bare_speed, 1):>8}"
            f"{_delta(ours_speed, bare_speed, 1):>8}"
        )
    return "\n".join(lines)


def _in_group(page: EvalPage, group: str) -> bool:
    if group == "German pages":
        return page.lang == "de"
    dataset, _, lang = group.partition(" (")
    return page.dataset == dataset and (not lang or page.lang == lang.rstrip(")"))


def format_targets(
    scores: Mapping[str, Mapping[str, DatasetScores]],
    runs: Mapping[str, SideRun],
    page_ids: Sequence[str],
) -> str:
    """The issue's targets: ours, bare, the goal and whether it is met; then the cost ratio."""
    lines = ["== targets ==", f"{'group':<18}{'metric':<22}{'ours':>8}{'bare':>8}{'goal':>9}"]
    for target in TARGETS:
        ours_scores, bare_scores = scores["ours"].get(target.group), scores.get("bare", {})
        if ours_scores is None:
            continue
        ours = getattr(ours_scores, target.metric)
        bare_group = bare_scores.get(target.group)
        bare = getattr(bare_group, target.metric) if bare_group else None
        goal = f"{'≤' if target.at_most else '≥'} {_cell(target.goal)}"
        verdict = "OK" if target.met(ours) else "MISSED"
        lines.append(
            f"{target.group:<18}{target.metric:<22}{_cell(ours):>8}{_cell(bare):>8}"
            f"{goal:>9}  {verdict}"
        )
    if "bare" in runs:
        ours_seconds = sum(runs["ours"].page_seconds[i] for i in page_ids)
        bare_seconds = sum(runs["bare"].page_seconds[i] for i in page_ids)
        ratio = ours_seconds / bare_seconds if bare_seconds else float("inf")
        verdict = "OK" if ratio <= MAX_COST_RATIO else "MISSED"
        lines.append(
            f"cost per page: ours {1000 * ours_seconds / len(page_ids):.1f} ms, bare "
            f"{1000 * bare_seconds / len(page_ids):.1f} ms, ratio {ratio:.2f} "
            f"(goal ≤ {MAX_COST_RATIO}): {verdict}"
        )
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__)
    parser.add_argument("--datasets", nargs="+", help="datasets to score (default: all)")
    parser.add_argument("--limit", type=int, help="score only the first N pages of each dataset")
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("--eval-dir", type=Path, help="evaluation folder (default: ../shared/eval)")
    parser.add_argument("--json", type=Path, help="also write all scores to this JSON file")
    return parser.parse_args(argv)


def _limit(pages: list[EvalPage], limit: int | None) -> list[EvalPage]:
    if limit is None:
        return pages
    taken: dict[str, int] = {}
    kept = []
    for page in pages:
        taken[page.dataset] = taken.get(page.dataset, 0) + 1
        if taken[page.dataset] <= limit:
            kept.append(page)
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns 1 when the eval set or a requested side is unavailable."""
    args = _parse_args(argv)
    try:
        pages = _limit(load_eval(args.eval_dir or default_eval_dir(), args.datasets), args.limit)
    except FileNotFoundError as exc:
        print(f"skipping quality benchmark: {exc}", file=sys.stderr)
        return 1
    if not pages:
        print(f"no pages selected (datasets: {args.datasets})", file=sys.stderr)
        return 1
    status = 0
    sides = list(args.sides)
    problem = ours_unavailable() if "ours" in sides else None
    if problem:
        print(f"ours: skipped, {problem}", file=sys.stderr)
        status = 1
        sides.remove("ours")
    if not sides:
        return status
    runs = run_sides(sides, pages, args.workers)
    scores = {side: group_scores(pages, run.predictions) for side, run in runs.items()}
    report: dict[str, Any] = {"pages": len(pages), "sides": {}, "datasets": {}}
    wall = next(iter(runs.values())).wall_seconds
    print(f"{len(pages)} pages, sides {'+'.join(runs)}, {wall:.1f} s with {args.workers} worker(s)")
    for side, run in runs.items():
        print(f"{side}: {len(run.errors)} errors")
        report["sides"][side] = {
            "workers": args.workers,
            "wall_seconds": wall,
            "errors": run.errors,
        }
    groups = next(iter(scores.values()))
    for name in groups:
        ids = [page.id for page in pages if _in_group(page, name)]
        speeds = {side: run.pages_per_cpu_second(ids) for side, run in runs.items()}
        by_side = {side: side_scores[name] for side, side_scores in scores.items()}
        print()
        print(format_table(name, by_side, speeds))
        report["datasets"][name] = {
            side: {**by_side[side].as_dict(), "pages_per_worker_second": speeds[side]}
            for side in by_side
        }
    if "ours" in runs:
        print()
        print(format_targets(scores, runs, [page.id for page in pages]))
    if args.json:
        args.json.write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
