"""The one-command demo: the whole pipeline on embedded defaults, nothing installed but Python.

`floorwatch demo` starts, in one process: the embedded MQTT broker (amqtt; or `--mqtt-url URL`),
the collector (a thread), the store (a SQLite file in the demo folder; or `--store-url URL`) and the
API (uvicorn, a thread). A child process runs the simulator and publishes a compressed season of
the example pilot through the broker; the collector stores it; the simulator's weather is
imported; analytics scores every month the season covers and writes the HTML reports. Then it
creates an admin key, prints where to look and a line with "ready", and serves until Ctrl-C.

It is its own package (`showcase`) because it orchestrates every component (simulators, ingest,
analytics, api): the one place allowed to import them all, and imported by nothing.

Why the season is published in batches: the embedded broker (amqtt, pure Python) passes a few
hundred messages per second. LoRaWAN sensors send one uplink per report, so the demo has every
sensor, LoRaWAN ones included, send its readings as native `{"readings": [...]}` batches on its
own topic (scenario `formats.lorawan_network: native`, as a gateway bridge would). The
LoRaWAN decoders are exercised by the ingest tests and by `floorwatch simulate`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from floorwatch.errors import BrokerError, ComponentFailed, FloorwatchError, InvalidRequest
from floorwatch.localtime import periods_between
from floorwatch.registry import Registry, load_registry
from floorwatch.settings import Settings, load_settings

if TYPE_CHECKING:  # the components load when the demo starts them
    from multiprocessing.context import SpawnProcess
    from multiprocessing.queues import Queue

    import uvicorn

    from floorwatch.broker import EmbeddedBroker
    from ingest.collector import Collector

    Events = Queue[tuple[Any, ...]]  # what the simulator's process reports (`publish_season`)

log = logging.getLogger(__name__)

DEFAULT_START = date(2026, 9, 1)  # a month of baseline before the installations of 2026-10-01
DEFAULT_DAYS = 61  # ... and October, the first fully scored month
BATCH = 288  # readings per message and kind: a day of 5-minute reports
PUBLISH_WINDOW = 50  # messages awaiting their PUBACK at most
COLLECTOR_ID = "floorwatch-demo-collector"
SIMULATOR_ID = "floorwatch-demo-simulator"
START_TIMEOUT_S = 30.0
INGEST_IDLE_TIMEOUT_S = 120.0  # no progress for this long while ingesting: give up


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) while the demo was still preparing."""


@dataclass(frozen=True)
class DemoOptions:
    """What `floorwatch demo` was asked for. None broker/store = the embedded defaults."""

    folder: Path = Path("demo")
    broker_url: str | None = None
    store_url: str | None = None
    start: date = DEFAULT_START
    days: int = DEFAULT_DAYS
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int | None = None

    def months(self) -> list[str]:
        """Every month (YYYY-MM) the simulated days touch, in order."""
        return periods_between(self.start, self.start + timedelta(days=self.days - 1))


@dataclass
class DemoResult:
    """What the demo prepared, for the summary."""

    messages: int = 0
    readings: int = 0
    stored: int = 0
    quarantined: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    weather_readings: int = 0
    scorecards: dict[str, int] = field(default_factory=dict)  # month -> scorecards
    reports: dict[str, Path] = field(default_factory=dict)  # month -> report file
    token: str = ""
    prepared_s: float = 0.0


# --- the simulator's child process ---------------------------------------------------------------
def publish_season(
    mqtt_url: str,
    registry: Registry,
    start: date,
    days: int,
    seed: int | None,
    weather_dir: Path,
    events: Events,
) -> None:
    """Child process: simulate the season of `registry` (the demo's own, so the simulator and the
    collector agree on every sensor), write its weather, publish it; report on `events`:
    ("planned", readings), ("chunk", readings), ("done", messages, readings, faults) or
    ("error", text)."""
    from floorwatch.settings import parse_mqtt_url
    from simulators import load_scenario, simulate
    from simulators.publish import Publisher

    try:
        scenario = load_scenario()
        native = dict.fromkeys(
            {school.municipality for school in registry.schools.values()}, "native"
        )
        formats = scenario.formats.model_copy(update={"batch": BATCH, "lorawan_network": native})
        scenario = scenario.model_copy(update={"formats": formats})
        sim = simulate(registry, scenario, start, days, seed)
        events.put(("planned", sim.readings_planned))
        sim.write_weather(weather_dir)
        messages = readings = 0
        target = parse_mqtt_url(mqtt_url)
        with Publisher(target, SIMULATOR_ID, window=PUBLISH_WINDOW) as publisher:
            for chunk in sim.chunks():
                for _, topic, payload in chunk.timed:
                    publisher.publish(topic, payload.encode())
                messages += len(chunk.timed)
                readings += chunk.readings
                events.put(("chunk", chunk.readings))
        events.put(("done", messages, readings, dict(sim.fault_log.counts)))
    except Exception as exc:  # reported to the parent, which stops the demo with one line
        events.put(("error", f"{type(exc).__name__}: {exc}"))


# --- the demo ------------------------------------------------------------------------------------
class Demo:
    """Runs the demo: `prepare()` brings everything up and fills it, `serve_until_stopped()`
    waits for Ctrl-C, `stop()` takes it all down. Signals only set a flag (see `watch_signals`)."""

    def __init__(self, options: DemoOptions, console: Console | None = None):
        self.options = options
        self.console = console or Console()
        self.stopping = threading.Event()
        self.result = DemoResult()
        self.folder = options.folder
        self._broker: EmbeddedBroker | None = None
        self._collector: Collector | None = None
        self._collector_thread: threading.Thread | None = None
        self._collector_error: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._server_thread: threading.Thread | None = None
        self._child: SpawnProcess | None = None
        self.settings: Settings = self._settings("mqtt://127.0.0.1:1883")
        # The registry the settings name (FLOORWATCH_REGISTRY, else the shipped pilot): the
        # collector, the simulator, analytics and the API all get this one.
        self.registry: Registry = load_registry(self.settings.registry)

    # --- settings and files ------------------------------------------------------------------
    def _settings(self, mqtt_url: str) -> Settings:
        store = self.options.store_url or f"sqlite:///{(self.folder / 'floorwatch.db').resolve()}"
        return load_settings(
            mqtt_url=mqtt_url,
            store_url=store,
            spool_dir=self.folder / "spool",
            reports_dir=self.folder / "reports",
            keys_file=self.folder / "api_keys.db",
            api_host=self.options.host,
            api_port=self.options.port,
            client_id=COLLECTOR_ID,
        )

    @property
    def api_url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"

    def _fresh_folder(self) -> None:
        """Each run starts from an empty demo folder: its own store (unless --store-url), spool,
        reports, weather and keys; the log file is kept beside them."""
        self.folder.mkdir(parents=True, exist_ok=True)
        names = ["spool", "reports", "weather", "api_keys.db"]
        if self.options.store_url is None:
            names += ["floorwatch.db", "floorwatch.db-wal", "floorwatch.db-shm"]
        for name in names:
            path = self.folder / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def _check(self) -> None:
        if self.stopping.is_set():
            raise Interrupted

    # --- bring up --------------------------------------------------------------------------------
    def _check_port(self) -> None:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.options.host, self.options.port))
            except OSError as exc:
                raise InvalidRequest(
                    f"--port {self.options.port}: cannot listen on "
                    f"{self.options.host}:{self.options.port} ({exc.strerror}); "
                    "choose another port"
                ) from exc

    def _start_broker(self) -> str:
        if self.options.broker_url is not None:
            return self.options.broker_url
        from floorwatch.broker import EmbeddedBroker

        self._broker = EmbeddedBroker().start()
        return str(self._broker.url)

    def _start_collector(self) -> None:
        from ingest.collector import Collector

        collector = Collector(self.settings, self.registry)
        self._collector = collector

        def run() -> None:
            try:
                collector.run()
            except BaseException as exc:  # reported by the demo's main thread
                self._collector_error = exc

        self._collector_thread = threading.Thread(target=run, name="collector", daemon=True)
        self._collector_thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not collector.subscribed:
            self._check()
            self._check_collector()
            if time.monotonic() > deadline:
                raise BrokerError(f"the collector could not subscribe at {self.settings.mqtt_url}")
            time.sleep(0.05)

    def _check_collector(self) -> None:
        thread = self._collector_thread
        if self._collector_error is not None:
            error = self._collector_error
            if isinstance(error, FloorwatchError):
                raise error
            raise ComponentFailed(f"the collector stopped: {error}") from error
        if thread is not None and not thread.is_alive() and not self.stopping.is_set():
            raise ComponentFailed("the collector stopped unexpectedly (see the demo log)")

    def _start_api(self) -> None:
        import uvicorn

        from api.app import create_app

        config = uvicorn.Config(
            create_app(self.settings, registry=self.registry),
            host=self.options.host,
            port=self.options.port,
            log_level="warning",
            access_log=False,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._server_thread = threading.Thread(target=server.run, name="api", daemon=True)
        self._server_thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._server_thread.is_alive() or time.monotonic() > deadline:
                raise ComponentFailed(f"the API could not start on {self.api_url} (see the log)")
            time.sleep(0.05)

    # --- fill ------------------------------------------------------------------------------------
    def _publish_and_ingest(self, progress: Progress) -> None:
        """The simulator publishes in a child process (the second core); the collector stores."""
        weather_dir = self.folder / "weather"
        context = multiprocessing.get_context("spawn")
        events: Events = context.Queue()
        child = context.Process(
            target=publish_season,
            args=(
                self.settings.mqtt_url,
                self.registry,
                self.options.start,
                self.options.days,
                self.options.seed,
                weather_dir,
                events,
            ),
            name="floorwatch-demo-simulator",
            daemon=True,
        )
        # The child inherits an ignored SIGINT (a fresh interpreter keeps SIG_IGN): Ctrl-C in
        # the terminal reaches the whole process group, and only this process handles it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            child.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        self._child = child
        publish = progress.add_task("publishing (simulator -> MQTT)", total=None)
        ingest = progress.add_task("ingesting (collector -> store)", total=None)
        done: tuple[int, int, dict[str, int]] | None = None
        published = 0
        last_change, last_seen = time.monotonic(), -1
        collector = self._collector
        if collector is None:  # prepare() starts it first
            raise ComponentFailed("the collector is not running")
        while True:
            self._check()
            self._check_collector()
            with contextlib.suppress(Empty):
                while True:
                    event = events.get(timeout=0.2)
                    if event[0] == "planned":
                        progress.update(publish, total=event[1])
                        progress.update(ingest, total=event[1])
                    elif event[0] == "chunk":
                        published += event[1]
                        progress.update(publish, completed=published)
                    elif event[0] == "done":
                        done = (event[1], event[2], event[3])
                        progress.update(publish, total=event[2], completed=event[2])
                        progress.update(ingest, total=event[2])
                    elif event[0] == "error":
                        raise ComponentFailed(f"the simulator failed: {event[1]}")
            counters = collector.counters.snapshot()
            progress.update(ingest, completed=counters.stored + counters.duplicates)
            if done is None and not child.is_alive() and events.empty():
                raise ComponentFailed("the simulator process ended without finishing")
            if done is not None and counters.acknowledged >= done[0]:
                break
            if counters.acknowledged != last_seen or child.is_alive():
                last_change, last_seen = time.monotonic(), counters.acknowledged
            elif time.monotonic() - last_change > INGEST_IDLE_TIMEOUT_S:
                sent = f"{done[0]:,}" if done is not None else "?"
                raise ComponentFailed(
                    f"the collector acknowledged {counters.acknowledged:,} of {sent} "
                    f"messages and made no progress for {INGEST_IDLE_TIMEOUT_S:.0f} s"
                )
        child.join(timeout=10)
        assert done is not None
        counters = collector.counters.snapshot()
        progress.update(ingest, total=done[1], completed=done[1])
        self.result.messages, self.result.readings, self.result.faults = done
        self.result.stored = counters.stored
        self.result.quarantined = counters.quarantined

    def _import_weather(self, progress: Progress) -> None:
        from analytics.weather import import_weather
        from floorwatch.store import open_store

        task = progress.add_task("importing weather (SMHI files)", total=None)

        def advance(name: str, done: int, total: int) -> None:
            progress.update(task, total=total, completed=done)

        store = open_store(self.settings.store)
        try:
            files = import_weather(store, self.folder / "weather", advance)
        finally:
            store.close()
        self.result.weather_readings = sum(len(f.readings) for f in files)

    def _score(self, progress: Progress) -> None:
        from analytics.pipeline import score_and_publish
        from analytics.scorecard import Scorer
        from floorwatch.store import open_store

        store = open_store(self.settings.store, sensor_tags=self.registry.sensor_tags)
        try:
            # The latest month first: it has the scorecards (earlier ones may be all baseline),
            # and the months before it are read as its training window, cached for their turn.
            tasks: dict[str, TaskID] = {
                month: progress.add_task(f"scoring {month}", total=None)
                for month in reversed(self.options.months())
            }
            scorer = Scorer(store, self.registry)  # one scorer: months share what it read
            for month, task in tasks.items():

                def advance(what: str, done: int, total: int, task: TaskID = task) -> None:
                    self._check()  # Ctrl-C while scoring: unwind at the next entrance-month
                    progress.update(task, total=total, completed=done)

                scorer.progress = advance
                began = time.monotonic()
                # what `floorwatch score --period <month>` does: score, write results and report
                published = score_and_publish(scorer, month, reports_dir=self.settings.reports_dir)
                cards = len(published.result.scorecards)
                if published.report is not None:
                    self.result.reports[month] = published.report
                self.result.scorecards[month] = cards
                log.info(
                    "demo: scored %s (%d scorecards) in %.1f s",
                    month,
                    cards,
                    time.monotonic() - began,
                )
                progress.update(task, description=f"scored {month}: {cards} cards")
        finally:
            store.close()

    def _admin_key(self) -> str:
        from api.keys import KeyStore, Role

        keys = KeyStore(self.settings.keys_file)
        try:
            token, _ = keys.create(Role.ADMIN, label="floorwatch demo")
        finally:
            keys.close()
        return token

    # --- the run ---------------------------------------------------------------------------------
    def prepare(self) -> DemoResult:
        """Bring everything up and fill it; returns when the reports are written."""
        began = time.monotonic()
        self._check_port()
        self._fresh_folder()
        broker_url = self._start_broker()
        self.settings = self._settings(broker_url)
        where = "embedded amqtt broker" if self._broker else "broker"
        self.console.print(f"[bold]Floorwatch demo[/] in {self.folder.resolve()}")
        self.console.print(f"  MQTT   {where} at {broker_url}")
        self.console.print(f"  store  {self._redacted_store()}")
        self._start_api()
        self.console.print(f"  API    {self.api_url} (docs at {self.api_url}/docs)")
        self._start_collector()
        last = self.options.start + timedelta(days=self.options.days - 1)
        named = self.settings.registry
        of = "the example pilot" if named is None else f"the registry {named}"
        self.console.print(
            f"  season {self.options.start} .. {last} ({self.options.days} days) of {of}: "
            f"{len(self.registry.sensors)} sensors, {len(self.registry.entrances)} entrances"
        )
        log.info("demo: broker, API and collector up after %.1f s", time.monotonic() - began)
        with self._progress() as progress:
            self._publish_and_ingest(progress)
            log.info("demo: season ingested after %.1f s", time.monotonic() - began)
            self._import_weather(progress)
            self._score(progress)
        self.result.token = self._admin_key()
        self.result.prepared_s = time.monotonic() - began
        return self.result

    def _redacted_store(self) -> str:
        target = self.settings.store
        if target.backend == "sqlite":
            return f"SQLite file {target.path}"
        return f"InfluxDB {target.base_url} database {target.database}"

    @contextlib.contextmanager
    def _progress(self) -> Iterator[Progress]:
        progress = Progress(
            TextColumn("  {task.description:<36}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        with progress:
            yield progress

    def serve_until_stopped(self, poll_s: float = 0.2) -> None:
        """Wait for Ctrl-C; a collector or API that dies ends the wait too (with an error)."""
        while not self.stopping.wait(poll_s):
            self._check_collector()
            if self._server_thread is not None and not self._server_thread.is_alive():
                raise ComponentFailed("the API stopped unexpectedly (see the demo log)")

    def stop(self) -> None:
        """Take everything down in order: simulator, API, collector (last batch committed and
        acknowledged), broker. Safe to call twice and after a partial start."""
        self.stopping.set()
        if self._child is not None and self._child.is_alive():
            self._child.terminate()
            self._child.join(timeout=10)
        if self._server is not None:
            self._server.should_exit = True
            if self._server_thread is not None:
                self._server_thread.join(timeout=10)
        if self._collector is not None:
            self._collector.request_stop()
            if self._collector_thread is not None:
                self._collector_thread.join(timeout=30)
        if self._broker is not None:
            self._broker.stop()
        self._child = self._server = self._collector = self._broker = None


@contextlib.contextmanager
def watch_signals(on_signal: Callable[[], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call `on_signal` (which only sets a flag) instead of raising
    KeyboardInterrupt somewhere in the middle of a commit; the old handlers come back after."""

    def handler(signum: int, frame: object) -> None:
        on_signal()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def quiet_logging(log_file: Path) -> None:
    """The components log to `log_file`, so that the terminal shows progress and the summary."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
