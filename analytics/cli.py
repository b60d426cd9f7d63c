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

from floorwatch.errors import InvalidRequest
from floorwatch.i18n import check_language, languages
from floorwatch.localtime import day_bounds, period_bounds
from floorwatch.options import OldStoreUrl, RegistryPath, StoreUrl, renamed
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
    from analytics.document import canonical_json

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
    store_url: StoreUrl = None,
    registry_path: RegistryPath = None,
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
    old_store_url: OldStoreUrl = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=f"Language of the report ({', '.join(languages())}); default: the one the "
            "registry's contracts name.",
        ),
    ] = None,
) -> None:
    """Score every contract's suppliers for a period: KPIs measured, expected without the
    solution and as improvement, scorecards, bonus/malus, comparison; writes
    kpi/scorecard/comparison/sensor_health/trend points to the store and
    <reports_dir>/report-<period>.html (and report-<period>.<lang>.html in every language, for
    the API).

    Example: floorwatch score --period 2026-10 --format html --lang en --out report-2026-10.html
    """
    from analytics.pipeline import score_and_publish
    from analytics.scorecard import Scorer

    store_url = renamed(store_url, old_store_url, "--store-url", "--store")
    settings = load_settings(store_url=store_url, registry=registry_path, score_workers=workers)
    label, start, end = resolve_period(
        period, first.date() if first else None, last.date() if last else None
    )
    registry = load_registry(settings.registry)
    report_language = check_language(lang) if lang else registry.language
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
            reports_dir = settings.reports_dir if write else None
            published = score_and_publish(
                scorer, label, start, end, reports_dir=reports_dir, lang=report_language
            )
        result = published.result
        if published.report is not None:
            console.print(
                f"wrote {published.points} points to the store, report {published.report}"
            )
    finally:
        store.close()

    if output_format is OutputFormat.HTML:
        from analytics.report import build_report

        text = build_report(result, registry, report_language)
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


weather_app = typer.Typer(
    help="Weather observations (SMHI open data).\n\nExample: floorwatch weather import data/smhi/",
    no_args_is_help=True,
)


@weather_app.command("import")
def weather_import(
    directory: Annotated[Path, typer.Argument(help="Folder of SMHI JSON and CSV files.")],
    store_url: StoreUrl = None,
    old_store_url: OldStoreUrl = None,
) -> None:
    """Import SMHI observation files, data.json or the corrected archive's data.csv
    (parameters 7 precipitation, 5 daily precipitation, 1 air temperature, 8 snow depth), as
    readings of sensor smhi-<station>; values of quality other than G (Y: suspect) go to
    smhi-<station>-suspect. Station and parameter from the file (JSON station.key and
    parameter.key, the CSV's header blocks) or its name smhi-<station>-<parameter>.json. A
    file that cannot be used is named, the others imported, and the exit code is 2.

    Example: floorwatch weather import data/smhi/
    """
    from analytics.weather import import_weather

    settings = load_settings(store_url=renamed(store_url, old_store_url, "--store-url", "--store"))
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
    unusable = [item for item in files if item.error is not None]
    for item in files:
        if item.error is not None:
            console.print(f"not imported: {item.error}", markup=False, soft_wrap=True)
            continue
        console.print(
            f"{Path(item.path).name}: station {item.station} {item.kind}: "
            f"{len(item.readings)} readings ({item.suspect} of quality other than G, kept "
            f"apart), {item.skipped} skipped",
            markup=False,
            soft_wrap=True,
        )
    console.print(
        f"imported {sum(len(f.readings) for f in files)} readings from "
        f"{len(files) - len(unusable)} files"
    )
    if unusable:
        reasons = "; ".join(str(item.error) for item in unusable)
        raise InvalidRequest(f"{len(unusable)} of {len(files)} files could not be used: {reasons}")
