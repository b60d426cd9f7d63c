"""`python -m bench`: run the benchmark sections, print a table, write the JSON.

Example: python -m bench --quick --only ingest,simulate --out bench/results/quick.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import REPO, Row, machine

SECTIONS = ("ingest", "influx", "simulate", "score", "api")
Section = Callable[[bool, Callable[[str], None]], list[Row]]


def _section(name: str) -> Section:
    # Imported on demand: each section pulls in its own heavy dependencies.
    if name == "ingest":
        from bench import ingest

        return ingest.run
    if name == "influx":
        from bench import influx

        return influx.run
    if name == "simulate":
        from bench import simulate

        return simulate.run
    if name == "score":
        from bench import score

        return score.run
    from bench import api

    return api.run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure Floorwatch on this machine against its speed targets.",
        epilog="Example: python -m bench --quick --only ingest,simulate",
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run (not the figures)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results" / "latest.json",
        help="where to write the JSON results",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    args.sections = chosen
    return args


def _verdict(row: Row) -> str:
    if row.met is None:
        return "-" if not row.target else "[yellow]n/a[/]"
    return "[green]met[/]" if row.met else "[red]missed[/]"


def render(rows: list[Row], console: Console) -> None:
    table = Table(title="Floorwatch benchmarks", show_lines=False)
    for column in ("section", "case", "value", "unit", "target", "result", "note"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in rows:
        value = "" if row.value is None else f"{row.value:,.{0 if row.value >= 100 else 2}f}"
        table.add_row(row.section, row.name, value, row.unit, row.target, _verdict(row), row.note)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if Console().is_terminal else 200)
    info = machine()
    info["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    console.print(
        f"[bold]{info['cpu_model']}[/], {info['usable_cores']} cores, {info['memory_gb']} GB, "
        f"Python {info['python']}{' (quick run)' if args.quick else ''}"
    )
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for name in args.sections:
        started = time.monotonic()
        with console.status(f"{name} ...") as status:

            def progress(text: str, status: Any = status) -> None:
                status.update(text)
                console.log(text)

            try:
                rows.extend(_section(name)(args.quick, progress))
            except Exception as exc:  # one broken section must not hide the others' figures
                console.print(traceback.format_exc())
                rows.append(Row(name, "(section failed)", None, "", note=f"error: {exc}"))
        timings[name] = round(time.monotonic() - started, 1)
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    render(rows, console)
    document = {
        "machine": info,
        "quick": args.quick,
        "section_seconds": timings,
        "results": [row.as_dict() for row in rows],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"wrote {args.out}")
    missed = [row for row in rows if row.met is False]
    if missed:
        console.print(f"{len(missed)} target(s) missed: " + "; ".join(r.name for r in missed))
    return 0
