"""Analysts' queries over a million articles: the uncompacted log against the compacted corpus.

Run: python -m benchmarks.dataset [--rows 1000000] [--sites 300] [--days 90] [--work DIR] [--keep]

Builds a synthetic log the way crawls write it: four runs a day over ``--days`` days, each
run one Parquet file per partition (``articles/site=/year=``, ``pages/year=/month=``) with
the schemas and file layout of ``DatasetWriter``. Texts are 3-8 paragraphs drawn from the
German ground-truth bodies in ../shared/eval, so every text differs; 2 % of the articles are
agency copy reprinted word for word on 3-8 sites, 3 % of the rows are re-fetches of recent
articles with a changed text (new versions), and re-checks that found a text unchanged and
listing pages add page rows. It then times three DuckDB queries (best of 3) over the log,
where the analyst must keep the latest row per article, runs ``compact`` in a child process
(wall time and peak RSS), and times the same queries over ``corpus/current``. Targets: each
query after compaction ≤ 1/5 of its time before and ≤ 2 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.procmem import run_measured
from pipelines.layout import article_partition, page_partition, partition_dir, read_dataset
from pipelines.parquet import DatasetWriter, dictionary_columns
from pipelines.records import ARTICLE_SCHEMA, PAGE_SCHEMA

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
START = datetime(2025, 11, 1, tzinfo=UTC)
RUN_HOURS = (0, 6, 12, 18)
CHANGED = 0.03
"""Share of article rows that are a new version of a recent article."""
REPRINTED = 0.02
"""Share of new articles that are agency copy reprinted on several sites."""
UNCHANGED = 0.10
"""Re-checks that found the text unchanged, as a share of each run's new articles."""
RECHECK_RUNS = 8
"""How many earlier runs' articles a run re-checks (two days)."""
TERM = "Feuerwehr"
TARGET_RATIO = 0.2
TARGET_SECONDS = 2.0
ArticleRow = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Pools:
    """Material drawn from the eval pages: body paragraphs, titles and author names."""

    paragraphs: list[str]
    titles: list[str]
    authors: list[str]


def load_pools(eval_dir: Path) -> Pools:
    """German ground-truth paragraphs (fundus bodies, trafilatura snippets), titles, authors."""
    manifest = eval_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise SystemExit(f"benchmarks.dataset needs the eval pages: {manifest} not found")
    paragraphs: list[str] = []
    titles: list[str] = []
    authors: set[str] = set()
    for line in manifest.read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        if page["lang"] != "de":
            continue
        if page["body"]:
            paragraphs += [p.strip() for p in page["body"].split("\n\n") if len(p.strip()) >= 40]
        paragraphs += [s for s in page["with"] if len(s) >= 80]
        if page["title"]:
            titles.append(page["title"])
        authors.update(a for a in page["authors"] if a)
    if len(paragraphs) < 100:
        raise SystemExit(
            f"benchmarks.dataset: only {len(paragraphs)} German paragraphs in {manifest}"
        )
    return Pools(sorted(set(paragraphs)), sorted(set(titles)), sorted(authors) or ["Redaktion"])


# --------------------------------------------------------------------------- the log


@dataclass(slots=True)
class Generator:
    """Builds the rows of one crawl run after another; all randomness from one seed."""

    pools: Pools
    sites: list[str]
    rng: random.Random
    warc: str = ""
    """WARC file of the current run."""
    serial: int = 0

    def article(self, site: str, when: datetime, text: str | None = None) -> ArticleRow:
        """A new article of ``site`` fetched at ``when`` (``text``: a given reprint)."""
        rng = self.rng
        self.serial += 1
        published = None if rng.random() < 0.02 else when - timedelta(minutes=rng.randint(5, 480))
        day = published or when
        url = f"https://www.{site}.de/lokales/{day:%Y/%m/%d}/artikel-{self.serial}.html"
        if text is None:
            text = "\n\n".join(rng.sample(self.pools.paragraphs, rng.randint(3, 8)))
        row: ArticleRow = {
            "article_id": _sha(url)[:32],
            "url": url,
            "canonical_url": url,
            "site": site,
            "title": rng.choice(self.pools.titles),
            "title_source": rng.choice(("h1", "h1", "jsonld", "og")),
            "description": text.split("\n\n", 1)[0][:200] if rng.random() < 0.7 else None,
            "authors": [rng.choice(self.pools.authors)] if rng.random() < 0.8 else [],
            "authors_source": "jsonld",
            "agency": None,
            "organization": None,
            "published": published,
            "published_raw": published.isoformat() if published else None,
            "published_source": "jsonld" if published else None,
            "modified": None,
            "modified_raw": None,
            "modified_source": None,
            "language": "de",
            "categories": [rng.choice(("Lokales", "Polizei", "Sport", "Kultur", "Wirtschaft"))],
            "tags": [],
            "image_url": f"https://www.{site}.de/img/{self.serial}.jpg",
            "paywalled": rng.random() < 0.05,
            "quality_flags": [],
            "charset_declared": "utf-8",
            "charset_used": "utf-8",
            "cleaner_version": "benchmark",
            "config_hash": "0" * 16,
        }
        return self.fetched(row, text, when)

    def changed(self, old: ArticleRow, when: datetime) -> ArticleRow:
        """A re-fetch of ``old`` at ``when`` whose text gained an update paragraph."""
        update = self.rng.choice(self.pools.paragraphs)
        row = {**old, "modified": when, "modified_raw": when.isoformat(), "modified_source": "meta"}
        return self.fetched(row, f"{old['text']}\n\nAktualisierung: {update}", when)

    def fetched(self, row: ArticleRow, text: str, when: datetime) -> ArticleRow:
        """``row`` with ``text`` and the fetch columns of a fetch at ``when``."""
        return {
            **row,
            "text": text,
            "text_markdown": text,
            "word_count": len(text.split()),
            "content_sha256": _sha(text),
            "raw_sha256": _sha(f"{row['url']} {when.isoformat()}"),
            "warc_file": self.warc,
            "warc_offset": self.serial * 65_536,
            "fetched_at": when,
        }


def page_row(
    url: str, site: str, when: datetime, article_id: str | None, reason: str | None, warc: str
) -> dict[str, Any]:
    """The pages row of one fetch (``reason``: None for an article row, else a rejection)."""
    return {
        "url": url,
        "final_url": url,
        "site": site,
        "status": 200,
        "outcome": "article" if reason in (None, "paywall_stub") else "rejected",
        "reason": reason,
        "detail": None,
        "article_id": article_id,
        "content_type": "text/html; charset=utf-8",
        "content_length": 60_000 + len(url) * 731,
        "raw_sha256": _sha(f"{url} {when.isoformat()}"),
        "warc_file": warc,
        "warc_offset": None,
        "fetched_at": when,
        "charset_declared": "utf-8",
        "charset_used": "utf-8",
        "cleaner_version": "benchmark",
        "config_hash": "0" * 16,
    }


def build_log(data: Path, rows: int, n_sites: int, days: int, pools: Pools) -> tuple[int, int]:
    """Write the log under ``data``, run after run; return (article rows, page rows)."""
    rng = random.Random(6)
    sites = [f"lokal{i:03d}" for i in range(n_sites)]
    gen = Generator(pools, sites, rng)
    runs = days * len(RUN_HOURS)
    weights = [1 / (i + 10) ** 0.8 for i in range(n_sites)]  # a few big papers, many small
    changed_total = int(rows * CHANGED)
    new_per_run = _spread(rows - changed_total, runs)
    changed_per_run = [0, *_spread(changed_total, runs - 1)]
    recent: deque[list[ArticleRow]] = deque(maxlen=RECHECK_RUNS)
    totals = [0, 0]
    for run in range(runs):
        start = START + timedelta(days=run // len(RUN_HOURS), hours=RUN_HOURS[run % len(RUN_HOURS)])
        run_id = f"{start:%Y%m%dT%H%M%SZ}-{run:06x}"
        warc = gen.warc = f"crawl-{run_id}-00000.warc.gz"
        when = {s: start + timedelta(seconds=5 * i) for i, s in enumerate(sites)}
        articles: list[ArticleRow] = []
        for site in rng.choices(sites, weights, k=new_per_run[run]):
            when[site] += timedelta(seconds=1)
            articles.append(gen.article(site, when[site]))
        _reprint(gen, articles, when)
        pool = [row for batch in recent for row in batch]
        pages = [
            page_row(a["url"], a["site"], a["fetched_at"], a["article_id"],
                     "paywall_stub" if a["paywalled"] else None, warc)
            for a in articles
        ]  # fmt: skip
        for old in rng.sample(pool, min(changed_per_run[run], len(pool))):
            when[old["site"]] += timedelta(seconds=1)
            row = gen.changed(old, when[old["site"]])
            articles.append(row)
            pages.append(
                page_row(row["url"], row["site"], row["fetched_at"], row["article_id"], None, warc)
            )
        for old in rng.sample(pool, min(int(new_per_run[run] * UNCHANGED), len(pool))):
            when[old["site"]] += timedelta(seconds=1)
            pages.append(
                page_row(
                    old["url"], old["site"], when[old["site"]], old["article_id"], "unchanged", warc
                )
            )
        for site in sites:
            if rng.random() < 0.5:
                url = f"https://www.{site}.de/lokales/"
                pages.append(page_row(url, site, when[site], None, "listing", warc))
        key = f"crawl-{run_id}-00000"
        write_run(data / "articles", ARTICLE_SCHEMA, article_partition, articles, key)
        write_run(data / "pages", PAGE_SCHEMA, page_partition, pages, key)
        if run == 0:
            check_layout(data.parent / "layout-check", articles, pages, key, data)
        recent.append(articles)
        totals[0] += len(articles)
        totals[1] += len(pages)
    return totals[0], totals[1]


def _reprint(gen: Generator, articles: list[ArticleRow], when: dict[str, datetime]) -> None:
    """Replace some new articles of a run with one agency text on 3-8 sites each."""
    stories = round(len(articles) * REPRINTED / 5)
    for _ in range(stories):
        copies = gen.rng.sample(range(len(articles)), min(gen.rng.randint(3, 8), len(articles)))
        text = articles[copies[0]]["text"]
        for i in copies:
            row = gen.fetched(articles[i], text, articles[i]["fetched_at"])
            articles[i] = {**row, "agency": "dpa", "authors": []}


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (i < extra) for i in range(parts)]


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def write_run(
    root: Path,
    schema: pa.Schema,
    partition: Callable[[ArticleRow], Sequence[tuple[str, str]]],
    rows: list[ArticleRow],
    key: str,
) -> None:
    """One run's rows laid out as ``DatasetWriter`` does: a file per partition, keys in the path."""
    groups: dict[tuple[tuple[str, str], ...], list[ArticleRow]] = defaultdict(list)
    for row in rows:
        groups[tuple(partition(row))].append(row)
    for pairs, members in groups.items():
        keys = [k for k, _ in pairs]
        metadata = {**(schema.metadata or {}), b"localnews.partitioning": ",".join(keys).encode()}
        file_schema = pa.schema([f for f in schema if f.name not in keys], metadata=metadata)
        table = pa.Table.from_pylist(members, schema=file_schema)
        target = root.joinpath(*(partition_dir(k, v) for k, v in pairs))
        target.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            table,
            target / f"part-{key}-00000.parquet",
            row_group_size=20_000,
            compression="zstd",
            compression_level=3,
            write_statistics=True,
            use_dictionary=dictionary_columns(file_schema),
        )


def check_layout(
    scratch: Path, articles: list[ArticleRow], pages: list[dict[str, Any]], key: str, data: Path
) -> None:
    """Write the first run through ``DatasetWriter`` too; its files must equal ours."""
    for name, schema, partition, rows in (
        ("articles", ARTICLE_SCHEMA, article_partition, articles),
        ("pages", PAGE_SCHEMA, page_partition, pages),
    ):
        with DatasetWriter(scratch / name, schema, partition, file_key=key) as writer:
            for row in rows:
                writer.write(row)
        theirs = sorted(p.relative_to(scratch / name) for p in (scratch / name).rglob("*.parquet"))
        ours = sorted(p.relative_to(data / name) for p in (data / name).rglob("*.parquet"))
        if theirs != ours:
            raise SystemExit(f"layout differs from DatasetWriter's in {name}/")
        for rel in ours:
            a, b = pq.read_table(data / name / rel), pq.read_table(scratch / name / rel)
            if not a.equals(b, check_metadata=True):
                raise SystemExit(f"{name}/{rel} differs from DatasetWriter's file")
        if read_dataset(data / name, schema).num_rows != len(rows):
            raise SystemExit(f"read_dataset does not read back {name}/")
    shutil.rmtree(scratch)


# --------------------------------------------------------------------------- queries

_LATEST = "QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY fetched_at DESC) = 1"


def queries(site: str, year: int) -> list[tuple[str, str, str]]:
    """(name, SQL over the log, SQL over corpus/current); ``{src}`` is the read_parquet call."""
    term = f"%{TERM.lower()}%"
    return [
        (
            "a) count per site and month",
            f"SELECT site, month, count(*) AS n FROM (SELECT site, date_trunc('month', published)"
            f" AS month FROM {{src}} {_LATEST}) GROUP BY ALL ORDER BY ALL",
            "SELECT site, date_trunc('month', published) AS month, count(*) AS n FROM {src}"
            " GROUP BY ALL ORDER BY ALL",
        ),
        (
            f"b) '{TERM}' in {site} {year}",
            f"SELECT article_id FROM (SELECT article_id, text FROM {{src}} WHERE site = '{site}'"
            f" AND year = {year} {_LATEST}) WHERE text ILIKE '{term}' ORDER BY article_id",
            f"SELECT article_id FROM {{src}} WHERE site = '{site}' AND year = {year}"
            f" AND text ILIKE '{term}' ORDER BY article_id",
        ),
        (
            f"c) latest 100 of {site}",
            f"SELECT article_id, title, published FROM (SELECT article_id, title, published"
            f" FROM {{src}} WHERE site = '{site}' {_LATEST})"
            " ORDER BY published DESC NULLS LAST, article_id LIMIT 100",
            f"SELECT article_id, title, published FROM {{src}} WHERE site = '{site}'"
            " ORDER BY published DESC NULLS LAST, article_id LIMIT 100",
        ),
    ]


def best_of(con: duckdb.DuckDBPyConnection, sql: str, repeat: int = 3) -> tuple[float, list[Any]]:
    """Best wall time of ``repeat`` runs of ``sql``, and its result."""
    best, result = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - started)
    return best, result


def _source(root: Path) -> str:
    glob = str(root / "*" / "*" / "*.parquet")
    return f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"


def _disk(root: Path) -> tuple[int, int]:
    files = list(root.rglob("*.parquet")) if root.is_dir() else []
    return len(files), sum(f.stat().st_size for f in files)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the log, query it, compact it, query the corpus, print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="article rows in the log")
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--days", type=int, default=90, help="four crawl runs a day")
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    pools = load_pools(EVAL_DIR)
    work = args.work or Path(tempfile.mkdtemp(prefix="localnews-dataset-bench-"))
    data = work / "data"
    if data.exists():
        raise SystemExit(f"{data} exists; give an empty --work directory")
    try:
        return _run(args, pools, data)
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {data}")


def _run(args: argparse.Namespace, pools: Pools, data: Path) -> int:
    started = time.perf_counter()
    article_rows, page_rows = build_log(data, args.rows, args.sites, args.days, pools)
    print(
        f"log: {article_rows} article rows, {page_rows} page rows over {args.sites} sites, "
        f"{args.days * len(RUN_HOURS)} runs ({time.perf_counter() - started:.0f} s to build)"
    )
    disk = {name: _disk(data / name) for name in ("articles", "pages")}
    con = duckdb.connect()
    plan = queries("lokal000", START.year)
    # Printed as measured: a compaction that never ends still leaves the "before" numbers.
    print(f"  {'query (best of 3)':34s} {'seconds':>9s}  rows", flush=True)
    before = []
    for name, sql, _ in plan:
        before.append(best_of(con, sql.format(src=_source(data / "articles"))))
        print(f"  {name + ' (log)':34s} {before[-1][0]:9.3f}  {len(before[-1][1])}", flush=True)
    command = [
        sys.executable, "-c",
        "import sys; from pathlib import Path; from pipelines.compact import compact; "
        "compact(Path(sys.argv[1]))",
        str(data),
    ]  # fmt: skip
    run = run_measured(command)
    if run.returncode != 0:
        raise SystemExit(f"compact failed with status {run.returncode}")
    print(f"compaction: {run.seconds:.1f} s, peak RSS {run.peak_main_mb:.0f} MB")
    for name in ("current", "history", "pages"):
        disk[f"corpus/{name}"] = _disk(data / "corpus" / name)
    after = [best_of(con, q.format(src=_source(data / "corpus" / "current"))) for _, _, q in plan]
    print(f"  {'dataset':18s} {'files':>8s} {'MB':>9s}")
    for name, (files, size) in disk.items():
        print(f"  {name:18s} {files:8d} {size / 1e6:9.1f}")
    log_bytes = sum(size for name, (_, size) in disk.items() if not name.startswith("corpus"))
    corpus_bytes = sum(size for name, (_, size) in disk.items() if name.startswith("corpus"))
    print(f"  bytes corpus/log: {corpus_bytes / log_bytes:.2f}")
    ok = True
    print(f"  {'query':34s} {'before s':>9s} {'after s':>9s} {'after/before':>13s}  same result")
    for (name, _, _), (t0, r0), (t1, r1) in zip(plan, before, after, strict=True):
        good = t1 <= TARGET_RATIO * t0 and t1 <= TARGET_SECONDS and r0 == r1
        ok &= good
        print(
            f"  {name:34s} {t0:9.3f} {t1:9.3f} {t1 / t0:13.3f}  {'yes' if r0 == r1 else 'NO'}"
            f" ({len(r1)} rows) {'OK' if good else 'MISSED'}"
        )
    print(f"  targets: after ≤ {TARGET_RATIO} × before and ≤ {TARGET_SECONDS} s, same result")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
