"""`floorwatch simulate`: generate readings for a registry's sensors, to a file or over MQTT;
`floorwatch simulate verify`: the commissioning check through the real broker and store."""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from floorwatch.errors import InvalidRequest
from floorwatch.localtime import LOCAL_TZ, local_midnight_s
from floorwatch.options import MqttUrl, RegistryPath, StoreUrl
from floorwatch.registry import load_registry
from floorwatch.settings import load_settings
from simulators.publish import Pace, Pacer, Publisher
from simulators.scenario import load_scenario
from simulators.simulation import Chunk, simulate

app = typer.Typer(
    name="simulate",
    help=(
        "Simulate school entrances: weather, footfall, floors, sensors, faults.\n\n"
        "Example: floorwatch simulate --start 2026-09-01 --days 30 --out readings.jsonl "
        "--truth truth.csv.gz --weather-out weather/"
    ),
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)

err = Console(stderr=True)


def _parse_date(text: str | None, default: date) -> date:
    if text is None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"--start: expected a date like 2026-09-01, got {text!r}") from None


@app.callback()
def run(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option(help="First local day (YYYY-MM-DD); default today.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=800, help="How many days.")] = 1,
    scenario_file: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario YAML; default simulators/scenarios/pilot.yaml."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; default the scenario's.")] = None,
    registry_path: RegistryPath = None,
    out: Annotated[
        Path | None, typer.Option(help="Write JSON lines {topic, payload} here instead of MQTT.")
    ] = None,
    mqtt_url: MqttUrl = None,
    speed: Annotated[str, typer.Option(help="realtime, max, or a factor like 60x.")] = "max",
    truth: Annotated[
        Path | None, typer.Option(help="Write the ground truth CSV (.csv or .csv.gz) + JSON.")
    ] = None,
    weather_out: Annotated[
        Path | None, typer.Option(help="Write the weather used as SMHI JSON files here.")
    ] = None,
    weather_in: Annotated[
        Path | None, typer.Option(help="Read SMHI JSON weather files from here instead.")
    ] = None,
    no_faults: Annotated[bool, typer.Option("--no-faults", help="Switch every fault off.")] = False,
    batch: Annotated[
        int | None, typer.Option(min=1, max=1000, help="Readings per native/SenML message.")
    ] = None,
    window: Annotated[int, typer.Option(min=1, help="MQTT messages in flight at most.")] = 100,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes encoding days for --out.")
    ] = min(2, os.cpu_count() or 1),
    client_id: Annotated[str, typer.Option(help="MQTT client id.")] = "floorwatch-simulator",
) -> None:
    """Generate readings for every sensor of the registry, to a file or over MQTT.

    Example: floorwatch simulate --start 2026-10-01 --days 7 --out week.jsonl --truth truth.csv.gz
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings(mqtt_url=mqtt_url, registry=registry_path)
    pace = Pace.parse(speed)
    registry = load_registry(settings.registry)
    scenario = load_scenario(scenario_file)
    if no_faults:
        scenario = scenario.without_faults()
    if weather_in is not None:
        scenario = scenario.model_copy(update={"weather_dir": weather_in})
    if batch is not None:
        scenario = scenario.model_copy(
            update={"formats": scenario.formats.model_copy(update={"batch": batch})}
        )
    first_day = _parse_date(start, datetime.now(LOCAL_TZ).date())

    if out is None and not pace.realtime:
        end_s = local_midnight_s(first_day) + 86400 * days
        if end_s > time.time() + 300:
            err.print(
                "[yellow]warning:[/yellow] the span reaches into the future; a collector "
                "rejects readings more than a few minutes ahead (time_in_future). "
                "Use --speed realtime for live data."
            )
    began = time.monotonic()
    with err.status("simulating weather, entrances and sensors..."):
        sim = simulate(registry, scenario, first_day, days, seed)
    planned = sim.readings_planned
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} readings"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    messages = readings = 0
    published = 0
    try:
        with progress:
            task = progress.add_task(
                "writing" if out else "publishing", total=max(planned, 1), rate=""
            )

            def advance(chunk: Chunk) -> None:
                add(chunk.readings)

            def add(count: float) -> None:
                elapsed = max(time.monotonic() - began, 1e-9)
                done = progress.tasks[0].completed + count
                progress.update(task, completed=done, rate=f"{done / elapsed:,.0f} readings/s")

            if out is not None:
                with open(out, "w", encoding="utf-8", newline="\n") as handle:
                    messages, readings = sim.write_jsonl(handle, on_chunk=advance, workers=workers)
            else:
                pacer = Pacer(pace)
                with Publisher(settings.mqtt, client_id, window=window) as publisher:
                    for chunk in sim.chunks():
                        # Progress within the day too (a realtime run spends a day on it).
                        per_message = chunk.readings / max(len(chunk.timed), 1)
                        step = 500
                        for n, (sent_s, topic, payload) in enumerate(chunk.timed, 1):
                            pacer.wait(sent_s)
                            publisher.publish(topic, payload.encode())
                            published += 1
                            if n % step == 0:
                                add(step * per_message)
                        messages += len(chunk.timed)
                        readings += chunk.readings
                        add(chunk.readings - (len(chunk.timed) // step) * step * per_message)
    except KeyboardInterrupt:
        typer.echo(f"interrupted after {published or messages:,} messages", err=True)
        # SystemExit, not typer.Exit: the root CLI runs click with standalone_mode=False, where
        # an Exit's code is returned and dropped.
        raise SystemExit(130) from None
    elapsed = time.monotonic() - began
    written = []
    if truth is not None:
        with err.status("writing the ground truth..."):
            written.append(str(truth))
            written.append(str(sim.write_truth(truth)))
    if weather_out is not None:
        written.extend(str(p) for p in sim.write_weather(weather_out))

    rate = readings / max(elapsed, 1e-9)
    where = str(out) if out else f"mqtt {settings.mqtt.host}:{settings.mqtt.port}"
    typer.echo(
        f"simulated {days} day(s) from {first_day} (seed {sim.seed}): {messages:,} messages, "
        f"{readings:,} readings in {elapsed:.1f} s ({rate:,.0f} readings/s) -> {where}"
    )
    counts = sim.fault_log.counts
    typer.echo("faults: " + (", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "none"))
    for path in written:
        typer.echo(f"wrote {path}")


@app.command()
def verify(
    sensor: Annotated[
        list[str] | None, typer.Option("--sensor", help="Sensor id (repeatable).")
    ] = None,
    school: Annotated[
        list[str] | None, typer.Option("--school", help="Every sensor of a school (repeatable).")
    ] = None,
    count: Annotated[int, typer.Option(min=1, max=1000, help="Reports per sensor.")] = 5,
    max_latency: Annotated[
        float, typer.Option(help="Fail when the p95 latency exceeds this (seconds).")
    ] = 5.0,
    timeout: Annotated[float, typer.Option(help="Wait at most this long (seconds).")] = 30.0,
    mqtt_url: MqttUrl = None,
    store_url: StoreUrl = None,
    registry_path: RegistryPath = None,
    client_id: Annotated[str, typer.Option(help="MQTT client id.")] = "floorwatch-verify",
) -> None:
    """Commissioning check: a tagged burst through the broker, watched into the store.

    Exits non-zero when anything is lost or quarantined, or the p95 latency is over the limit.

    Example: floorwatch simulate verify --school yst-ostra --max-latency 2
    """
    from floorwatch.store import open_store
    from simulators.verify import choose_sensors, run_verify

    settings = load_settings(mqtt_url=mqtt_url, store_url=store_url, registry=registry_path)
    registry = load_registry(settings.registry)
    sensor_ids = choose_sensors(registry, sensor or [], school or [])
    store = open_store(settings.store, sensor_tags=registry.sensor_tags)
    try:
        with err.status(f"publishing {count} reports for {len(sensor_ids)} sensors...") as status:

            def progress(stored: int, expected: int) -> None:
                status.update(f"waiting for the store: {stored}/{expected} readings")

            result = run_verify(
                registry,
                settings.mqtt,
                store,
                sensor_ids,
                count=count,
                timeout_s=timeout,
                client_id=client_id,
                on_progress=progress,
            )
    finally:
        store.close()
    p50, p95 = result.percentile(50), result.percentile(95)
    latency = (
        f"latency p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        if p50 is not None and p95 is not None
        else "latency n/a"
    )
    typer.echo(
        f"sensors {len(sensor_ids)}: sent {result.sent}, stored {result.stored}, "
        f"quarantined {result.quarantined}, lost {result.lost}; {latency}"
    )
    for sensor_id, kind, ms in result.missing[:20]:
        typer.echo(f"missing: {sensor_id} {kind} at {ms}")
    if not result.ok(max_latency):
        verdict = "FAILED" if result.lost or result.quarantined else "TOO SLOW"
        typer.echo(f"{verdict}: limit p95 <= {max_latency} s, nothing lost or quarantined")
        # SystemExit, not typer.Exit: the root CLI runs click with standalone_mode=False, where
        # an Exit's code is returned and dropped.
        raise SystemExit(1)
    typer.echo("OK")
