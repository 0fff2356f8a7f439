"""A self-contained HTML report of the corpus with plotly charts (``localnews report``)."""

from __future__ import annotations

import argparse
import html
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.stats import (
    EXIT_EMPTY,
    EXIT_OK,
    LOCAL_TIMEZONE,
    NO_REASON,
    CorpusStats,
    EmptyCorpusError,
    empty_message,
    format_stats,
    read_corpus_columns,
    stats_from_tables,
)

OTHER = "other"
PLOT_IDS = ("articles-per-day", "fill-rates", "word-counts", "agencies", "rejections")
"""The ``id`` of each plot's div, in page order."""
DEFAULT_TOP_SITES = 8
_HEIGHT = 460


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Knobs of the report; the defaults suit a few dozen sites."""

    top_sites: int = DEFAULT_TOP_SITES
    """Sites drawn on their own in the articles-per-day chart; the rest are summed as 'other'."""
    top_agencies: int = 15
    recent_days: int = 180
    """Days the articles-per-day chart first shows (zoom out for all); a stray old date would
    otherwise squeeze every bar into a line."""
    bin_words: int = 50
    max_words: int = 3000
    """Longer articles count in the last bar of the length histogram."""


def write_report(data_dir: Path, out: Path, options: ReportOptions | None = None) -> Path:
    """Write the report of the corpus in ``data_dir`` to ``out``; raise EmptyCorpusError."""
    options = options or ReportOptions()
    current, history, pages = read_corpus_columns(data_dir)
    stats = stats_from_tables(current, history, pages)
    if stats.empty:
        raise EmptyCorpusError(empty_message(data_dir))
    figures = (
        ("Articles per day (published, Europe/Berlin)", _articles_per_day(current, options)),
        ("Fill rates per site", _fill_rates(stats)),
        ("Length of articles", _word_counts(current, options)),
        ("Top agencies", _agencies(current, options)),
        ("Rejected and failed fetches per week", _rejections_per_week(pages)),
    )
    sections = [
        f"<section><h2>{html.escape(title)}</h2>\n"
        + figure.to_html(
            full_html=False,
            # plotly.js once, inline, so the file works offline and from a mail attachment
            include_plotlyjs=index == 0,
            div_id=plot_id,
            default_height=f"{_HEIGHT}px",
            config={"displaylogo": False},
        )
        + "</section>"
        for index, (plot_id, (title, figure)) in enumerate(zip(PLOT_IDS, figures, strict=True))
    ]
    page = _page(data_dir, stats, sections)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    staging.write_text(page, encoding="utf-8")
    os.replace(staging, out)  # a browser reloading meanwhile sees the old report or the new one
    return out


def _page(data_dir: Path, stats: CorpusStats, sections: list[str]) -> str:
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>localnews corpus report</title>\n<style>"
        "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em}"
        "pre{font-size:12px;overflow-x:auto;background:#f6f6f6;padding:1em}"
        "</style>\n</head>\n<body>\n<h1>localnews corpus report</h1>\n"
        f"<p>{html.escape(str(data_dir))}, generated {generated}</p>\n"
        f"<h2>Per-site statistics</h2>\n<pre>{html.escape(format_stats(stats))}</pre>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _figure(xaxis: str, yaxis: str, **layout: object) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        template="plotly_white",
        height=_HEIGHT,
        margin={"t": 30},
        xaxis_title=xaxis,
        yaxis_title=yaxis,
        **layout,
    )
    return figure


def _no_data(figure: go.Figure, text: str) -> go.Figure:
    # An empty chart still renders, so the page keeps its shape and says why it is blank.
    figure.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return figure


def _count_by(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.group_by(keys).aggregate([(keys[0], "count")]).rename_columns([*keys, "n"])


def _articles_per_day(current: pa.Table, options: ReportOptions) -> go.Figure:
    figure = _figure("day", "articles", barmode="stack")
    dated = current.filter(pc.is_valid(current["published"]))
    if not dated.num_rows:
        return _no_data(figure, "no article has a publication date")
    local = dated["published"].cast(pa.timestamp("us", tz=LOCAL_TIMEZONE))
    days = pc.local_timestamp(local).cast(pa.date32())
    ranked = _count_by(dated, ["site"]).sort_by([("n", "descending"), ("site", "ascending")])
    names = ranked["site"].to_pylist()
    top = names if len(names) <= options.top_sites else names[: options.top_sites]
    site = dated["site"]
    if len(top) < len(names):
        site = pc.if_else(pc.is_in(site, value_set=pa.array(top)), site, OTHER)
        top = [*top, OTHER]
    counts = _count_by(pa.table({"site": site, "day": days}), ["site", "day"]).sort_by("day")
    for name in top:
        rows = counts.filter(pc.equal(counts["site"], name))
        x = [day.isoformat() for day in rows["day"].to_pylist()]
        figure.add_trace(go.Bar(x=x, y=rows["n"].to_pylist(), name=name))
    first, last = pc.min(days).as_py(), pc.max(days).as_py()
    if (last - first).days > options.recent_days:
        start = last - timedelta(days=options.recent_days)
        figure.update_xaxes(range=[start.isoformat(), (last + timedelta(days=1)).isoformat()])
    return figure


def _fill_rates(stats: CorpusStats) -> go.Figure:
    figure = _figure("site", "share of articles (%)", barmode="group", yaxis_range=[0, 100])
    sites = [site for site in stats.sites if site.articles]
    columns = {
        "title": "titled",
        "published": "dated",
        "authors": "authored",
        "description": "described",
    }
    for label, attribute in columns.items():
        shares = [100 * (site.share(getattr(site, attribute)) or 0) for site in sites]
        figure.add_trace(go.Bar(x=[site.site for site in sites], y=shares, name=label))
    return figure


def _word_counts(current: pa.Table, options: ReportOptions) -> go.Figure:
    figure = _figure(
        f"words per article (bars of {options.bin_words}; the last holds "
        f"{options.max_words} and more)",
        "articles",
        bargap=0.05,
    )
    if not current.num_rows:
        return _no_data(figure, "no articles")
    capped = pc.min_element_wise(current["word_count"].cast(pa.int64()), options.max_words)
    starts = pc.multiply(pc.divide(capped, options.bin_words), options.bin_words)
    counts = _count_by(pa.table({"start": starts}), ["start"]).sort_by("start")
    middles = [start + options.bin_words / 2 for start in counts["start"].to_pylist()]
    figure.add_trace(go.Bar(x=middles, y=counts["n"].to_pylist(), width=options.bin_words))
    return figure


def _agencies(current: pa.Table, options: ReportOptions) -> go.Figure:
    figure = _figure("articles crediting the agency", "", yaxis_autorange="reversed")
    credited = pc.fill_null(pc.greater(pc.utf8_length(current["agency"]), 0), False)
    agency = current["agency"].filter(credited)
    # 'dpa/AFP' credits both agencies: count it for each.
    names = pc.utf8_trim_whitespace(pc.list_flatten(pc.split_pattern(agency, "/")))
    names = names.filter(pc.greater(pc.utf8_length(names), 0))
    if not len(names):
        return _no_data(figure, "no article credits an agency")
    counts = _count_by(pa.table({"agency": names}), ["agency"])
    counts = counts.sort_by([("n", "descending"), ("agency", "ascending")])
    counts = counts.slice(0, options.top_agencies)
    figure.add_trace(
        go.Bar(x=counts["n"].to_pylist(), y=counts["agency"].to_pylist(), orientation="h")
    )
    return figure


def _rejections_per_week(pages: pa.Table) -> go.Figure:
    figure = _figure("week (Monday, UTC)", "fetches", barmode="stack")
    lost = pages.filter(pc.not_equal(pages["outcome"], "article"))
    if not lost.num_rows:
        return _no_data(figure, "no rejected or failed fetches")
    weeks = pc.floor_temporal(lost["fetched_at"], unit="week", week_starts_monday=True)
    table = pa.table(
        {"reason": pc.fill_null(lost["reason"], NO_REASON), "week": weeks.cast(pa.date32())}
    )
    counts = _count_by(table, ["reason", "week"]).sort_by("week")
    totals = _count_by(table, ["reason"]).sort_by([("n", "descending"), ("reason", "ascending")])
    for reason in totals["reason"].to_pylist():
        rows = counts.filter(pc.equal(counts["reason"], reason))
        x = [week.isoformat() for week in rows["week"].to_pylist()]
        figure.add_trace(go.Bar(x=x, y=rows["n"].to_pylist(), name=reason))
    return figure


def add_report_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``localnews report``; its parsed arguments carry ``run``, returning the status."""
    parser = subparsers.add_parser(
        "report",
        help="write an offline HTML report with charts of the compacted corpus",
        description="Write one self-contained HTML file (plotly.js inlined, works offline) "
        "with the per-site statistics and charts: articles per day per site, fill rates, "
        "article length, top agencies and rejected fetches per week. Exit status: 0 ok; "
        "1 when the corpus is missing or empty.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default: data")
    parser.add_argument(
        "--out", type=Path, help="HTML file to write (default: DIR/reports/corpus.html)"
    )
    parser.add_argument(
        "--top-sites",
        type=_positive,
        default=DEFAULT_TOP_SITES,
        help=f"sites charted on their own, the rest as other (default: {DEFAULT_TOP_SITES})",
    )
    parser.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Write the report of ``args.data_dir``; 1 with a message when there is no corpus."""
    out = args.out or args.data_dir / "reports" / "corpus.html"
    try:
        write_report(args.data_dir, out, ReportOptions(top_sites=args.top_sites))
    except EmptyCorpusError as exc:
        print(f"localnews report: {exc}", file=sys.stderr)
        return EXIT_EMPTY
    print(f"wrote {out}")
    return EXIT_OK


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {number}")
    return number
