"""Golden quality gate: clean() must hold pinned floors on the shared evaluation set.

The gate runs the pages the issue's targets are measured on (fundus, the trafilatura set's
German pages, scrapinghub), with floors pinned just under what clean() reaches, so a
real regression fails CI. The whole benchmark with bare trafilatura beside it is
``python -m benchmarks.quality``.
"""

from __future__ import annotations

import importlib.util

import pytest

from benchmarks.evalset import DatasetScores, EvalPage, load_eval
from benchmarks.quality import SideRun, group_scores, run_side

# Pinned from `python -m benchmarks.quality` on 2026-12-02 (clean() 2.0.0, trafilatura 2.3.1);
# reached (bare trafilatura in brackets):
#   fundus (de) body F1 0.973 (0.945)  title 0.902 (0.647)  date 1.000 (0.961)
#   authors 0.949 (0.855); fundus body F1 0.964 (0.941); scrapinghub body F1 0.974 (0.960)
#   trafilatura (de) snippet F1 0.955 (0.933)  title 0.826 (0.559)  date 0.931 (0.875)
#   authors 0.734 (0.540); German pages with boilerplate lines 0 (4)
FLOORS: dict[str, dict[str, float]] = {
    "fundus (de)": {
        "body_f1": 0.965,
        "title_accuracy": 0.88,
        "date_accuracy": 0.98,
        "author_f1": 0.93,
    },
    "fundus": {"body_f1": 0.955},
    "scrapinghub": {"body_f1": 0.97},
    "trafilatura (de)": {
        "snippet_f1": 0.95,
        "title_accuracy": 0.81,
        "date_accuracy": 0.92,
        "author_f1": 0.72,
    },
}
GERMAN_BOILERPLATE_MAX = 1
WORKERS = 2


@pytest.fixture(scope="module")
def eval_pages() -> list[EvalPage]:
    """The gate's pages; skips the module when the shared folder is absent."""
    try:
        pages = load_eval()
    except FileNotFoundError as exc:
        pytest.skip(f"golden quality tests need the evaluation set: {exc}")
    return [page for page in pages if page.dataset != "trafilatura" or page.lang == "de"]


@pytest.fixture(scope="module")
def ours_run(eval_pages: list[EvalPage]) -> SideRun:
    """clean() over the gate's pages, once per module, in a small process pool."""
    # skip only while pipelines/clean.py does not exist; a broken import must fail loudly
    if importlib.util.find_spec("pipelines.clean") is None:
        pytest.skip("pipelines.clean does not exist yet")
    return run_side("ours", eval_pages, WORKERS)


@pytest.fixture(scope="module")
def ours_scores(eval_pages: list[EvalPage], ours_run: SideRun) -> dict[str, DatasetScores]:
    """Scores of clean() per dataset and per dataset's German pages."""
    return group_scores(eval_pages, ours_run.predictions)


@pytest.mark.parametrize(
    ("group", "metric"),
    [(group, metric) for group, floors in FLOORS.items() for metric in floors],
)
def test_score_floor(ours_scores: dict[str, DatasetScores], group: str, metric: str) -> None:
    value = getattr(ours_scores[group], metric)
    floor = FLOORS[group][metric]
    assert value is not None and value >= floor, f"{group} {metric} = {value} < floor {floor}"


def test_german_boilerplate_ceiling(ours_scores: dict[str, DatasetScores]) -> None:
    german = ours_scores["German pages"]
    assert german.boilerplate_pages <= GERMAN_BOILERPLATE_MAX, german.boilerplate_ids
    assert german.amp_wordpress_pages == 0, german.boilerplate_ids


def test_clean_never_raises(ours_run: SideRun) -> None:
    # clean() reports failures as Rejection; an exception here is a bug in the cleaner
    assert ours_run.errors == {}
