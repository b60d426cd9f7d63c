"""The production path into and out of InfluxDB, beside its peer and its limit, in one run.

- limit: InfluxDB's own write rate, a plain client (httpx, one connection) posting the collector's
  line protocol in 5,000-line requests, bodies built beforehand, uncompressed and gzip level 1.
- peer: Node-RED's MQTT -> join (500 messages or 1 s) -> InfluxDB batch flow (bench.nodered).
- the collector (`python -m floorwatch ingest`, defaults) against the peer, 1 and 50 readings per
  message, two ways: the live stream (from the publisher's first publish until the store holds
  everything, the PUBACK-waiting publisher of bench.load sharing the cores) and the backlog drain
  (the consumer subscribes once, is stopped, the messages are published into its persistent
  session, and the time runs from its reconnection, seen in its log, until the store holds
  everything: looked at every 20 ms, by InfluxDB's write statistics first and then a count of
  the readings). Readings/s, and the consumer process's CPU seconds (user + system, /proc) per
  10,000 readings over the same span. The two consumers take turns, each run on a fresh broker
  and database; the rows are medians.
- scoring October 2026 of the simulated pilot (`floorwatch score --period 2026-10 --no-write`)
  from InfluxDB and from SQLite holding the same readings, alternated, medians; the scorecard
  JSON of both must be byte-identical.
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pandas as pd

from bench.common import Row, bench_broker, child_env, not_available, python_module, run_measured
from bench.ingest import Publisher, _poll_count, _stop
from floorwatch.registry import load_registry
from floorwatch.store import open_store
from tests.services import COLLECTOR_USER, TEST_PASSWORD, InfluxDB, start_influxdb

SECTION = "influx"
LINES_PER_REQUEST = 5_000
# How often a case looks whether the store has everything. It asks InfluxDB's write statistics,
# and counts the readings (a full count: 54 ms of influxd's time at 500,000 points, taken from
# the consumer being measured when it was asked every 0.1 s) only once those say all are in.
POLL_S = 0.02
MONTH = date(2026, 10, 1)


@dataclass
class Run:
    seconds: float
    cpu_s: float
    readings: int

    @property
    def per_s(self) -> float:
        return self.readings / self.seconds

    @property
    def cpu_per_10k(self) -> float:
        return self.cpu_s * 10_000 / self.readings


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the limit ------------------------------------------------------------------------------------
def raw_write(influx: InfluxDB, lines: list[bytes], compress: bool) -> float:
    """Lines/s of posting `lines` in LINES_PER_REQUEST-line requests to a fresh database."""
    database = f"raw_{uuid.uuid4().hex[:6]}"
    bodies = [
        b"\n".join(lines[i : i + LINES_PER_REQUEST]) + b"\n"
        for i in range(0, len(lines), LINES_PER_REQUEST)
    ]
    headers = {"Content-Type": "text/plain"}
    if compress:
        bodies = [gzip.compress(b, compresslevel=1) for b in bodies]
        headers["Content-Encoding"] = "gzip"
    with httpx.Client(base_url=influx.base_url, timeout=60) as http:
        http.post("/query", params={"q": f'CREATE DATABASE "{database}"'}).raise_for_status()
        started = time.monotonic()
        for body in bodies:
            http.post(
                "/write", params={"db": database, "precision": "ms"}, content=body, headers=headers
            ).raise_for_status()
        return len(lines) / (time.monotonic() - started)


def _lines(readings: int) -> list[bytes]:
    from floorwatch.readings import Reading
    from floorwatch.store.lineprotocol import ReadingLines

    registry = load_registry(None)
    sensors = sorted((p.sensor.id, str(p.sensor.kind)) for p in registry.sensors.values())
    encoder = ReadingLines(registry.sensor_tags)
    end_ms = int(time.time()) * 1000
    batch = [
        Reading(*sensors[i % len(sensors)], end_ms - 60_000 * (i // len(sensors)), float(i % 50))
        for i in range(readings)
    ]
    return [line.encode() for line in encoder.lines(batch)]


def _points_written(http: httpx.Client, database: str) -> int:
    """Points InfluxDB has taken into `database` so far (its shards' writePointsOk in
    /debug/vars, under a millisecond): readings, counters and rewrites alike, so it only says
    when counting the readings is worth it."""
    stats = http.get("/debug/vars").raise_for_status().json()
    return sum(
        int(one["values"].get("writePointsOk", 0))
        for one in stats.values()
        if isinstance(one, dict)
        and one.get("name") == "shard"
        and (one.get("tags") or {}).get("database") == database
    )


# --- the consumers --------------------------------------------------------------------------------
class Consumer:
    """Starts the consumer of one case; `connections()` counts its connections to the broker."""

    name = ""

    def start(self) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def connections(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class CollectorConsumer(Consumer):
    name = "collector"

    def __init__(self, workdir: Path, broker_url: str, store_url: str, client_id: str):
        self.log = workdir / f"{client_id}.log"
        self.env = child_env(
            FLOORWATCH_MQTT_URL=broker_url,
            FLOORWATCH_STORE_URL=store_url,
            FLOORWATCH_SPOOL_DIR=str(workdir / "spool"),
            FLOORWATCH_CLIENT_ID=client_id,
        )
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(
            python_module("floorwatch", "ingest"),
            env=self.env,
            cwd=self.workdir,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        return self.process

    def connections(self) -> int:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count("event=broker_connected")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


class NodeRedConsumer(Consumer):
    name = "Node-RED"

    def __init__(self, workdir: Path, broker_port: int, influx: InfluxDB, db: str, client_id: str):
        from bench.nodered import NodeRed

        registry = load_registry(None)
        tags = {sensor_id: registry.sensor_tags(sensor_id) for sensor_id in registry.sensors}
        self.red = NodeRed(
            workdir, broker_port, COLLECTOR_USER, TEST_PASSWORD, influx.port, db, client_id, tags
        )

    def start(self) -> subprocess.Popen[bytes]:
        return self.red.start()

    def connections(self) -> int:
        return self.red.connections()

    def stop(self) -> None:
        self.red.stop()


def _wait_connections(consumer: Consumer, count: int, process: subprocess.Popen[bytes]) -> float:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if consumer.connections() >= count:
            return time.monotonic()
        if process.poll() is not None:
            raise RuntimeError(f"{consumer.name} exited ({process.returncode})")
        time.sleep(0.005)
    raise TimeoutError(f"{consumer.name} did not connect within 90 s")


def run_case(
    workdir: Path, influx: InfluxDB, peer: bool, readings: int, per_message: int, backlog: bool
) -> Run:
    broker = bench_broker(workdir / f"broker-{uuid.uuid4().hex[:6]}")
    database = f"bench_{uuid.uuid4().hex[:6]}"
    client_id = f"bench-{'nodered' if peer else 'collector'}-{uuid.uuid4().hex[:6]}"
    store = open_store(influx.url(database))
    consumer: Consumer
    if peer:
        consumer = NodeRedConsumer(workdir, broker.port, influx, database, client_id)
    else:
        consumer = CollectorConsumer(
            workdir, broker.url_for(COLLECTOR_USER), influx.url(database), client_id
        )
    publisher: Publisher | None = None
    try:
        process = consumer.start()
        _wait_connections(consumer, 1, process)
        time.sleep(1.0)  # subscribed (the collector logs it; Node-RED subscribes on connect)
        publisher = Publisher(broker, readings, per_message)
        if backlog:
            consumer.stop()
            publisher.go()
            publisher.acked_at()  # all of them queued in the consumer's session
            process = consumer.start()
            started = _wait_connections(consumer, 2, process)
        else:
            started = publisher.go()
        cpu_before = _cpu_s(process.pid)
        with httpx.Client(base_url=influx.base_url, timeout=10) as http:

            def stored() -> int:
                if _points_written(http, database) < readings:
                    return 0  # not all there yet: no need to ask InfluxDB to count
                return store.count_readings()

            done = _poll_count(stored, readings, POLL_S, [process])
        cpu = _cpu_s(process.pid) - cpu_before
        if not backlog:
            publisher.acked_at()
        return Run(done - started, cpu, readings)
    finally:
        if publisher is not None:
            publisher.close()
        consumer.stop()
        store.close()
        broker.stop()


# --- scoring --------------------------------------------------------------------------------------
def _copy_to_influx(db: Path, influx_url: str, progress: Callable[[str], None]) -> int:
    """Every reading of the SQLite store written to InfluxDB (with the location tags)."""
    from datetime import UTC, datetime

    from floorwatch.readings import Reading

    registry = load_registry(None)
    source = open_store(f"sqlite:///{db}")
    target = open_store(influx_url, sensor_tags=registry.sensor_tags)
    copied = 0
    try:
        frame = source.read_readings(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
        ms = (pd.DatetimeIndex(frame["time"]).as_unit("ns").asi8 // 1_000_000).tolist()
        rows = list(
            map(
                Reading,
                frame["sensor_id"].tolist(),
                frame["kind"].tolist(),
                ms,
                frame["value"].tolist(),
            )
        )
        for start in range(0, len(rows), 100_000):
            target.write_readings(rows[start : start + 100_000])
            copied += len(rows[start : start + 100_000])
        progress(f"influx: copied {copied:,} readings to InfluxDB")
    finally:
        source.close()
        target.close()
    return copied


def score_month(
    workdir: Path, influx: InfluxDB, repeats: int, quick: bool, progress: Callable[[str], None]
) -> list[Row]:
    from bench.pilot_store import prepared

    days = 7 if quick else 31
    db = prepared(MONTH, days, progress)
    influx_url = influx.url(f"score_{uuid.uuid4().hex[:6]}")
    readings = _copy_to_influx(db, influx_url, progress)
    times: dict[str, list[float]] = {"InfluxDB": [], "SQLite": []}
    outputs: dict[str, bytes] = {}
    for _ in range(repeats):
        for name, url in (("InfluxDB", influx_url), ("SQLite", f"sqlite:///{db}")):
            progress(f"influx: scoring {MONTH:%Y-%m} from {name}")
            out = workdir / f"score-{name}.json"
            result = run_measured(
                python_module(
                    "floorwatch",
                    "score",
                    "--period",
                    f"{MONTH:%Y-%m}",
                    "--store",
                    url,
                    "--format",
                    "json",
                    "--out",
                    str(out),
                    "--no-write",
                ),
                child_env(),
                workdir,
                timeout_s=1800,
            )
            if result.returncode != 0:
                raise RuntimeError(f"floorwatch score from {name} failed: {result.output[-1500:]}")
            times[name].append(result.seconds)
            outputs[name] = out.read_bytes()
    influx_s, sqlite_s = (statistics.median(times[n]) for n in ("InfluxDB", "SQLite"))
    identical = outputs["InfluxDB"] == outputs["SQLite"]
    ratio = influx_s / sqlite_s
    span = f"{MONTH:%Y-%m}" + ("" if not quick else f" ({days} days)")
    detail = {"readings": readings, "runs_s": times, "byte_identical": identical}
    return [
        Row(
            SECTION,
            f"score {span} from SQLite",
            round(sqlite_s, 1),
            "s",
            note=f"{readings:,} readings; median of {repeats}",
            detail=detail,
        ),
        Row(
            SECTION,
            f"score {span} from InfluxDB",
            round(influx_s, 1),
            "s",
            target="<= 1.5 x SQLite, byte-identical",
            met=ratio <= 1.5 and identical,
            note=(
                f"{ratio:.2f} x SQLite; scorecards "
                + ("byte-identical" if identical else "DIFFER")
                + f"; median of {repeats}"
            ),
            detail=detail,
        ),
    ]


# --- the section ----------------------------------------------------------------------------------
def _median_run(runs: list[Run]) -> tuple[float, float]:
    return statistics.median(r.per_s for r in runs), statistics.median(r.cpu_per_10k for r in runs)


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    from bench.nodered import prepare

    repeats = 1 if quick else 3
    single = 10_000 if quick else 50_000
    batched = 50_000 if quick else 500_000
    workdir = Path(tempfile.mkdtemp(prefix="floorwatch-bench-influx-"))
    rows: list[Row] = []
    influx: InfluxDB | None = None
    try:
        progress("influx: starting influxd")
        influx = start_influxdb(workdir / "influxdb")

        progress("influx: InfluxDB's raw write rate")
        lines = _lines(batched)
        raw: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeats):
            for compress in (False, True):
                raw[compress].append(raw_write(influx, lines, compress))
        limit = statistics.median(raw[False])
        for compress in (False, True):
            rows.append(
                Row(
                    SECTION,
                    f"limit: plain client, 5,000-line requests{', gzip 1' if compress else ''}",
                    round(statistics.median(raw[compress])),
                    "lines/s",
                    note=f"{len(lines):,} lines; median of {repeats}",
                    detail={"runs": [round(x) for x in raw[compress]]},
                )
            )

        why_not = prepare()
        if why_not is not None:
            progress(f"influx: Node-RED skipped: {why_not}")
        for per_message, count in ((1, single), (50, batched)):
            for backlog in (True, False):
                mode = "backlog drain" if backlog else "live stream"
                case = f"{per_message} reading{'s' if per_message > 1 else ''}/msg, {mode}"
                runs: dict[bool, list[Run]] = {True: [], False: []}
                for index in range(repeats):
                    for peer in (True, False) if index % 2 == 0 else (False, True):
                        if peer and why_not is not None:
                            continue
                        who = "Node-RED" if peer else "collector"
                        progress(f"influx: {who}, {case} ({index + 1}/{repeats})")
                        runs[peer].append(
                            run_case(workdir, influx, peer, count, per_message, backlog)
                        )
                rows.extend(_case_rows(case, per_message, backlog, runs, limit, why_not))
        rows.extend(score_month(workdir, influx, 1 if quick else 2, quick, progress))
    finally:
        if influx is not None:
            influx.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def detail_of(runs: list[Run]) -> dict[str, object]:
    return {
        "readings_per_s": [round(r.per_s) for r in runs],
        "cpu_s_per_10k": [round(r.cpu_per_10k, 3) for r in runs],
        "readings": runs[0].readings if runs else 0,
    }


def _case_rows(
    case: str,
    per_message: int,
    backlog: bool,
    runs: dict[bool, list[Run]],
    limit: float,
    why_not: str | None,
) -> list[Row]:
    mine_per_s, mine_cpu = _median_run(runs[False])
    if per_message == 1:
        target = ">= 1.2 x Node-RED" + (", CPU/reading <= Node-RED" if backlog else "")
    else:
        target = ">= 1.5 x Node-RED and >= 0.5 x limit"

    def collector(note: str, met: bool | None, detail: dict[str, object]) -> Row:
        return Row(
            SECTION,
            f"collector, {case}",
            round(mine_per_s),
            "readings/s",
            target=target,
            met=met,
            note=note,
            detail=detail,
        )

    if why_not is not None:
        return [
            not_available(SECTION, f"peer: Node-RED, {case}", "", why_not),
            collector(
                f"{mine_cpu:.2f} CPU s per 10,000 readings; no peer measured",
                None,
                detail_of(runs[False]),
            ),
        ]
    peer_per_s, peer_cpu = _median_run(runs[True])
    rows = [
        Row(
            SECTION,
            f"peer: Node-RED, {case}",
            round(peer_per_s),
            "readings/s",
            note=f"{peer_cpu:.2f} CPU s per 10,000 readings; median of {len(runs[True])}",
            detail=detail_of(runs[True]),
        )
    ]
    ratio = mine_per_s / peer_per_s
    note = (
        f"{ratio:.2f} x Node-RED; {mine_cpu:.2f} CPU s per 10,000 readings "
        f"({mine_cpu / peer_cpu:.2f} x Node-RED's); median of {len(runs[False])}"
    )
    if per_message == 1:
        met = ratio >= 1.2 and (not backlog or mine_cpu <= peer_cpu)
    else:
        met = ratio >= 1.5 and mine_per_s >= 0.5 * limit
        note += f"; {mine_per_s / limit:.2f} x InfluxDB's raw rate"
    rows.append(collector(note, met, {**detail_of(runs[False]), "ratio_to_peer": round(ratio, 3)}))
    return rows
