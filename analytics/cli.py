"""`floorwatch score` and `floorwatch weather import`: thin commands over the analytics library."""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analytics.occupancy import day_bounds, period_bounds
from floorwatch.errors import InvalidRequest
from floorwatch.registry import load_registry
from floorwatch.settings import load_settings
from floorwatch.store import open_store

if TYPE_CHECKING:  # scikit-learn and matplotlib load only when a command needs them: the
    # `floorwatch` CLI imports every component's commands at start-up
    from analytics.scorecard import PeriodResult


class OutputFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        # redrawn by each update, not by a thread: `score` forks its worker processes, and
        # forking while another thread runs can deadlock the child
        auto_refresh=False,
    )


def resolve_period(
    period: str | None, first: date | None, last: date | None
) -> tuple[str, datetime, datetime]:
    """(label, start, end) from --period YYYY-MM or --from/--to (inclusive local days)."""
    if period and (first or last):
        raise InvalidRequest("give either --period or --from/--to, not both")
    if period:
        start, end = period_bounds(period)
        return period, start, end
    if first and last:
        start, end = day_bounds(first, last)
        return f"{first.isoformat()}..{last.isoformat()}", start, end
    raise InvalidRequest("give --period YYYY-MM, or both --from and --to (YYYY-MM-DD)")


def results_json(result: PeriodResult) -> str:
    """Scorecards and comparisons of a period as one canonical JSON document."""
    from analytics.scorecard import canonical_json

    documents = sorted(
        (c.document for c in result.scorecards), key=lambda d: (d["contract"], d["installation"])
    )
    return canonical_json(
        {"period": result.period, "scorecards": documents, "comparisons": result.comparisons}
    )


def results_csv(result: PeriodResult) -> str:
    """One row per installation and KPI."""
    buffer = io.StringIO()
    columns = [
        "period", "contract", "supplier", "installation", "entrance", "school", "municipality",
        "kpi", "raw", "raw_low", "raw_high", "expected_untreated", "improvement",
        "improvement_low", "improvement_high", "basis", "judged_on", "judged", "target", "weight",
        "availability", "status", "reason", "score", "bonus_malus_sek", "payment_sek",
    ]  # fmt: skip
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for card in sorted(result.scorecards, key=lambda c: c.document["installation"]):
        doc: dict[str, Any] = json.loads(card.json)
        for name, kpi in sorted(doc["kpis"].items()):
            writer.writerow(
                {
                    **{k: doc[k] for k in columns[:7]},
                    "kpi": name,
                    **{k: kpi.get(k) for k in columns[8:-3]},
                    "score": doc["score"],
                    "bonus_malus_sek": doc["payment"]["bonus_malus_sek"],
                    "payment_sek": doc["payment"]["payment_sek"],
                }
            )
    return buffer.getvalue()


def score(
    period: Annotated[
        str | None, typer.Option("--period", help="A month, YYYY-MM (local time).")
    ] = None,
    first: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (with --to)."),
    ] = None,
    last: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, inclusive.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output: json, csv or html.")
    ] = OutputFormat.JSON,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the output here instead of stdout.")
    ] = None,
    store_url: Annotated[
        str | None, typer.Option("--store", help="Store URL (default FLOORWATCH_STORE_URL).")
    ] = None,
    registry_path: Annotated[
        Path | None, typer.Option("--registry", help="Registry file or folder (default: pilot).")
    ] = None,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="Write results and report to the store.")
    ] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Processes preparing entrance months (default FLOORWATCH_SCORE_WORKERS, 2).",
        ),
    ] = None,
) -> None:
    """Score every contract's suppliers for a period: KPIs measured, expected without the
    solution and as improvement, scorecards, bonus/malus, comparison; writes
    kpi/scorecard/comparison/sensor_health/trend points to the store and
    <reports_dir>/report-<period>.html.

    Example: floorwatch score --period 2026-10 --format html --out report-2026-10.html
    """
    from analytics.scorecard import Scorer, write_results

    settings = load_settings(store_url=store_url, registry=registry_path, score_workers=workers)
    label, start, end = resolve_period(
        period, first.date() if first else None, last.date() if last else None
    )
    registry = load_registry(settings.registry)
    console = Console(stderr=True)
    store = open_store(settings.store, sensor_tags=registry.sensor_tags)
    try:
        with _progress(console) as progress:
            task = progress.add_task(f"scoring {label}", total=None)

            def advance(what: str, done: int, total: int) -> None:
                progress.update(
                    task, total=total, completed=done, description=f"reading {what}", refresh=True
                )

            scorer = Scorer(
                store,
                registry,
                progress=advance,
                workers=settings.score_workers,
                worker_store=functools.partial(
                    open_store, settings.store, sensor_tags=registry.sensor_tags
                ),
            )
            result = scorer.score(label, start, end)
        report_path = None
        if write:
            from analytics.report import write_report  # matplotlib: only when a report is made

            points = write_results(store, result, registry)
            report_path = write_report(result, registry, settings.reports_dir)
            console.print(f"wrote {points} points to the store, report {report_path}")
    finally:
        store.close()

    if output_format is OutputFormat.HTML:
        from analytics.report import build_report

        text = build_report(result, registry)
    else:
        text = results_json(result) if output_format is OutputFormat.JSON else results_csv(result)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        typer.echo(text)
    scored = [c.document for c in result.scorecards]
    statuses = [k["status"] for d in scored for k in d["kpis"].values()]
    console.print(
        f"{label}: {len(scored)} scorecards, "
        + ", ".join(f"{statuses.count(s)} {s}" for s in ("pass", "fail", "insufficient"))
        + (f"; output in {out}" if out else "")
    )


weather_app = typer.Typer(help="Weather observations (SMHI open data).", no_args_is_help=True)


@weather_app.command("import")
def weather_import(
    directory: Annotated[Path, typer.Argument(help="Folder of SMHI JSON files.")],
    store_url: Annotated[
        str | None, typer.Option("--store", help="Store URL (default FLOORWATCH_STORE_URL).")
    ] = None,
) -> None:
    """Import SMHI observation files (parameters 7 precipitation, 1 air temperature, 8 snow
    depth) as readings of sensor smhi-<station>. Station and parameter from the JSON's
    station.key/parameter.key or the name smhi-<station>-<parameter>.json.

    Example: floorwatch weather import data/smhi/
    """
    from analytics.weather import import_weather

    settings = load_settings(store_url=store_url)
    console = Console(stderr=True)
    store = open_store(settings.store)
    try:
        with _progress(console) as progress:
            task = progress.add_task("importing", total=None)

            def advance(name: str, done: int, total: int) -> None:
                progress.update(task, total=total, completed=done, description=name, refresh=True)

            files = import_weather(store, directory, advance)
    finally:
        store.close()
    for item in files:
        console.print(
            f"{Path(item.path).name}: station {item.station} {item.kind}: "
            f"{len(item.readings)} readings, {item.skipped} skipped"
        )
    console.print(
        f"imported {sum(len(f.readings) for f in files)} readings from {len(files)} files"
    )
