"""Build WARC files from the evaluation pages: the shipped sample and benchmark inputs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.evalset import EvalPage, load_eval
from benchmarks.quality import fetched_page
from crawler.archive import WarcArchive
from crawler.items import FetchedPage

REPO = Path(__file__).resolve().parents[1]
SAMPLE_PATH = REPO / "data" / "samples" / "sample-local-news.warc.gz"
# Regional and local German pages of the evaluation set, with their original URLs.
SAMPLE_IDS = (
    "de_WAZ_2024_03_08",  # WAZ Duisburg
    "de_WDR_2024_04_22",
    "de_RheinischePost_2024_04_21",
    "de_MDR_2023_04_28",
    "de_BSZ_2025_09_09",
    "ahlen.de.reparaturcafe",
    "sonntag-sachsen.de.emanuel",
    "0af99c85f22b451a93a75bbf99ac412e",  # Mitteldeutsche Zeitung, Dessau-Roßlau
    "mdr.de.autohaeuser",
)
AMP_FIXTURE = REPO / "tests" / "fixtures" / "amp_reader_xtranews.html"
AMP_URL = (
    "https://www.xtranews.de/2014/09/02/"
    "gruene-fordern-ausbau-des-integrationsbereiches-der-stadt-duisburg/amp/"
)


def amp_fixture_page() -> FetchedPage:
    """The xtranews AMP reader-mode page built from the owner's example."""
    return FetchedPage(
        site="xtranews",
        url=AMP_URL,
        final_url=AMP_URL,
        status=200,
        headers=(("Content-Type", "text/html; charset=UTF-8"),),
        fetched_at=datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
        body=AMP_FIXTURE.read_bytes(),
    )


def write_pages_warc(pages: Sequence[FetchedPage], path: Path, *, repeat: int = 1) -> Path:
    """Write ``pages`` (``repeat`` times over) as one WARC file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with WarcArchive(path.parent, prefix="build", max_file_bytes=1 << 40) as archive:
        written = None
        for round_ in range(repeat):
            for page in pages:
                # distinct fetch times keep repeated records distinguishable
                moment = page.fetched_at.replace(microsecond=round_ % 1_000_000)
                written = archive.write(dataclasses.replace(page, fetched_at=moment))
    if written is None or written.warc_file is None:
        raise ValueError("no pages to write")
    (path.parent / written.warc_file).replace(path)
    return path


def eval_pages(
    datasets: Sequence[str] | None = None, ids: Sequence[str] | None = None
) -> list[EvalPage]:
    """Evaluation pages, optionally restricted to some datasets or ids (in the given order)."""
    pages = load_eval(datasets=datasets)
    if ids is None:
        return pages
    by_id = {page.id: page for page in pages}
    return [by_id[i] for i in ids]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.evalwarc [--sample | --out F.warc.gz --repeat N]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", action="store_true", help=f"(re)build {SAMPLE_PATH}")
    parser.add_argument("--out", type=Path, help="write all evaluation pages to this WARC")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if args.sample:
        pages = [amp_fixture_page(), *(fetched_page(p) for p in eval_pages(ids=SAMPLE_IDS))]
        print(write_pages_warc(pages, SAMPLE_PATH))
    elif args.out:
        pages = [fetched_page(p) for p in eval_pages()]
        print(write_pages_warc(pages, args.out, repeat=args.repeat))
    else:
        parser.error("give --sample or --out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
