"""`floorwatch demo`: a thin command over `showcase.demo` (heavy imports happen when it runs)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from floorwatch.options import OldMqttUrl, OldStoreUrl, renamed

if TYPE_CHECKING:  # the root CLI imports this module on every call: keep it light
    from rich.console import Console

    from showcase.demo import Demo


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Demo folder: store, reports, keys, log.")
    ] = Path("demo"),
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            "--mqtt-url",
            help="A real broker instead of the embedded one, e.g. mqtt://host:1883 (MQTT 5).",
        ),
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store-url",
            help="Another store instead of demo/floorwatch.db, e.g. "
            "influxdb://localhost:8086/floorwatch.",
        ),
    ] = None,
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First simulated day.")
    ] = datetime(2026, 9, 1),
    days: Annotated[int, typer.Option(min=1, max=400, help="Simulated days.")] = 61,
    port: Annotated[int, typer.Option(min=1, max=65_535, help="API port.")] = 8000,
    host: Annotated[str, typer.Option(help="API listen address.")] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="Simulator seed (default: the scenario)")] = None,
    old_mqtt_url: OldMqttUrl = None,
    old_store_url: OldStoreUrl = None,
) -> None:
    """Run the whole pipeline on embedded defaults (MQTT broker, collector, SQLite store,
    simulator, analytics, API), print where to look, and serve until Ctrl-C.

    The default season is 2026-09-01 .. 2026-10-31: a month of baseline before the
    installations of 2026-10-01, and October scored against the contract.

    Example: floorwatch demo --days 61 --port 8000
    """
    import time

    from rich.console import Console

    from showcase.demo import Demo, DemoOptions, Interrupted, quiet_logging, watch_signals

    options = DemoOptions(
        folder=folder,
        broker_url=renamed(mqtt_url, old_mqtt_url, "--mqtt-url", "--broker"),
        store_url=renamed(store_url, old_store_url, "--store-url", "--store"),
        start=start.date(),
        days=days,
        host=host,
        port=port,
        seed=seed,
    )
    quiet_logging(folder / "demo.log")
    console = Console(highlight=False, soft_wrap=True)
    runner = Demo(options, console)
    with watch_signals(runner.stopping.set):
        try:
            result = runner.prepare()
        except Interrupted:
            console.print("interrupted: stopping")
            runner.stop()
            console.print("stopped")
            return
        except BaseException:
            runner.stop()
            raise
        _summary(runner, console)
        console.print(
            f"Floorwatch demo ready after {result.prepared_s:.0f} s: press Ctrl-C to stop.",
            soft_wrap=True,
        )
        try:
            runner.serve_until_stopped()
        finally:
            console.print("stopping: API, collector, broker")
            began = time.monotonic()
            runner.stop()
            console.print(f"stopped cleanly in {time.monotonic() - began:.1f} s")


def _summary(runner: Demo, console: Console) -> None:
    result = runner.result
    url = runner.api_url
    scored = sorted(m for m, n in result.scorecards.items() if n)
    month = scored[-1] if scored else max(result.reports, default=None)
    faults = ", ".join(f"{k} {v:,}" for k, v in sorted(result.faults.items())) or "none"
    print_ = console.print
    print_("")
    print_(
        f"  simulated  {result.readings:,} readings in {result.messages:,} MQTT messages "
        f"(faults injected: {faults})"
    )
    print_(
        f"  stored     {result.stored:,} readings; {result.quarantined:,} rejects quarantined "
        f"with their reason; {result.weather_readings:,} weather readings"
    )
    for name, count in sorted(result.scorecards.items()):
        print_(f"  scored     {name}: {count} scorecards, report {result.reports[name]}")
    print_("")
    print_("Where to look:")
    print_(f"  API docs     {url}/docs")
    if month is not None:
        print_(f"  report       {result.reports[month].resolve()}")
        print_(f"  report (API) {url}/api/v1/reports/{month}")
        print_(f"  scorecards   {url}/api/v1/scorecards?period={month}")
    print_(f"  live state   {url}/api/v1/state")
    print_(f"  admin key    {result.token}")
    print_(f"  MQTT         {runner.settings.mqtt_url}")
    print_(f"  log          {(runner.folder / 'demo.log').resolve()}")
    print_(
        f'  try: curl -H "Authorization: Bearer {result.token}" {url}/api/v1/scorecards'
        + (f"?period={month}" if month else ""),
        soft_wrap=True,
    )
