"""Ingest throughput: MQTT (QoS 1, real Mosquitto) into SQLite and InfluxDB, and the ceiling.

Every case runs on a fresh broker (bench.common.bench_broker: the shipped config with snapshot
persistence, so that the consumer is measured, not the broker's disk) with the same load:
`bench.load` publishes native messages in its own process and waits for every PUBACK.
The consumer is either the ceiling (`bench.bare_subscriber`: paho, parse the JSON, nothing else)
or `python -m floorwatch ingest` as a subprocess (one, or two sharing a subscription). The time is
from the publisher's first publish until the consumer has everything: the bare subscriber's last
message, or the store's count_readings() reaching the expected number (polled from here; SQLite
readers in another process are fine with WAL).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import Row, bench_broker, child_env, python_module
from floorwatch.store import open_store
from tests.services import (
    COLLECTOR_USER,
    SIMULATOR_USER,
    TEST_PASSWORD,
    InfluxDB,
    Mosquitto,
    start_influxdb,
)

SECTION = "ingest"
CASE_TIMEOUT_S = 300.0


@dataclass
class Case:
    """One measured run: `readings` in `messages` took `seconds` end to end."""

    consumer: str
    store: str
    per_message: int
    messages: int
    readings: int
    seconds: float
    publish_seconds: float

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.seconds

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds


def _wait_for_line(process: subprocess.Popen[str], prefix: str, timeout_s: float) -> str:
    """The first stdout line of `process` starting with `prefix`."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{process.args!r} exited ({process.poll()}) before {prefix!r}")
        if line.startswith(prefix):
            return line.strip()
    raise TimeoutError(f"no {prefix!r} from {process.args!r} within {timeout_s} s")


def _wait_for_log(log: Path, text: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"collector exited {process.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"the collector did not log {text!r} within {timeout_s} s")


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Publisher:
    """`bench.load` in its own process: builds the messages, then publishes on `go()`."""

    def __init__(self, broker: Mosquitto, readings: int, per_message: int):
        self.process = subprocess.Popen(
            python_module(
                "bench.load",
                "127.0.0.1",
                str(broker.port),
                SIMULATOR_USER,
                TEST_PASSWORD,
                str(readings),
                str(per_message),
            ),
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        _wait_for_line(self.process, "ready", 120)

    def go(self) -> float:
        """Start publishing; returns the monotonic time of the first publish."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return float(_wait_for_line(self.process, "start", 30).split()[1])

    def acked_at(self) -> float:
        return float(_wait_for_line(self.process, "acked", CASE_TIMEOUT_S).split()[1])

    def close(self) -> None:
        _stop(self.process)


def _messages_for(readings: int, per_message: int) -> int:
    from bench.load import native_sensors

    sensors = len(native_sensors())
    per_sensor = -(-readings // sensors)
    left, messages = readings, 0
    for _ in range(sensors):
        n = min(per_sensor, left)
        left -= n
        messages += -(-n // per_message)
    return messages


def run_ceiling(workdir: Path, readings: int, per_message: int) -> Case:
    """The bare paho subscriber receiving the publisher's messages."""
    broker = bench_broker(workdir / f"broker-{uuid.uuid4().hex[:6]}")
    messages = _messages_for(readings, per_message)
    subscriber = subprocess.Popen(
        python_module(
            "bench.bare_subscriber",
            "127.0.0.1",
            str(broker.port),
            COLLECTOR_USER,
            TEST_PASSWORD,
            str(messages),
        ),
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    publisher: Publisher | None = None
    try:
        _wait_for_line(subscriber, "subscribed", 30)
        publisher = Publisher(broker, readings, per_message)
        start = publisher.go()
        acked = publisher.acked_at()
        done = float(_wait_for_line(subscriber, "done", CASE_TIMEOUT_S).split()[1])
        return Case("ceiling", "-", per_message, messages, readings, done - start, acked - start)
    finally:
        if publisher is not None:
            publisher.close()
        _stop(subscriber)
        broker.stop()


def run_collectors(
    workdir: Path,
    store_url: str,
    readings: int,
    per_message: int,
    collectors: int = 1,
    share_group: str | None = None,
    **settings: str,
) -> Case:
    """`collectors` x `floorwatch ingest` subprocesses storing the publisher's messages."""
    broker = bench_broker(workdir / f"broker-{uuid.uuid4().hex[:6]}")
    messages = _messages_for(readings, per_message)
    run = uuid.uuid4().hex[:6]
    started: list[subprocess.Popen[bytes]] = []
    store = open_store(store_url)  # creates the schema/database before the collectors start
    publisher: Publisher | None = None
    try:
        for index in range(collectors):
            log = workdir / f"collector-{run}-{index}.log"
            env = child_env(
                FLOORWATCH_MQTT_URL=broker.url_for(COLLECTOR_USER),
                FLOORWATCH_STORE_URL=store_url,
                FLOORWATCH_SPOOL_DIR=str(workdir / "spool"),
                FLOORWATCH_CLIENT_ID=f"bench-collector-{run}-{index}",
                **settings,
            )
            args = ["ingest"] + (["--share", share_group] if share_group else [])
            process = subprocess.Popen(
                python_module("floorwatch", *args),
                env=env,
                cwd=workdir,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
            started.append(process)
            _wait_for_log(log, "event=subscribed", process, 60)
        publisher = Publisher(broker, readings, per_message)
        start = publisher.go()
        done = _poll_count(store.count_readings, readings, 0.1, started)
        acked = publisher.acked_at()
        consumer = f"{collectors} collector{'s' if collectors > 1 else ''}"
        if share_group:
            consumer += " (shared)"
        backend = store_url.split(":", 1)[0]
        return Case(consumer, backend, per_message, messages, readings, done - start, acked - start)
    finally:
        if publisher is not None:
            publisher.close()
        for process in started:
            _stop(process)
        store.close()
        broker.stop()


def _poll_count(
    count: Callable[[], int],
    expected: int,
    interval_s: float,
    processes: list[subprocess.Popen[bytes]],
) -> float:
    """The monotonic time at which count() first reached `expected`."""
    deadline = time.monotonic() + CASE_TIMEOUT_S
    while time.monotonic() < deadline:
        if count() >= expected:
            return time.monotonic()
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a collector exited during the run")
        time.sleep(interval_s)
    raise TimeoutError(f"the store held {count()} of {expected} readings after {CASE_TIMEOUT_S} s")


def _case_row(case: Case, name: str, target: str = "", met: bool | None = None) -> Row:
    return Row(
        SECTION,
        name,
        round(case.readings_per_s),
        "readings/s",
        target=target,
        met=met,
        note=(
            f"{case.messages_per_s:,.0f} msg/s, {case.readings:,} readings in {case.seconds:.2f} s"
        ),
        detail={
            "consumer": case.consumer,
            "store": case.store,
            "readings_per_message": case.per_message,
            "messages": case.messages,
            "readings": case.readings,
            "seconds": round(case.seconds, 3),
            "publisher_seconds": round(case.publish_seconds, 3),
            "messages_per_s": round(case.messages_per_s),
        },
    )


def run(quick: bool, progress: Callable[[str], None]) -> list[Row]:
    """All ingest cases. Quick: small counts, a smoke run."""
    single = 10_000 if quick else 50_000
    batched = 50_000 if quick else 500_000
    workdir = Path(tempfile.mkdtemp(prefix="floorwatch-bench-ingest-"))
    rows: list[Row] = []
    influx: InfluxDB | None = None
    try:
        sqlite = lambda: f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"  # noqa: E731

        progress("ingest: ceiling, 1 reading/message")
        ceiling1 = run_ceiling(workdir, single, 1)
        rows.append(_case_row(ceiling1, "ceiling (bare paho), 1 reading/msg"))
        progress("ingest: collector into SQLite, 1 reading/message")
        sqlite1 = run_collectors(workdir, sqlite(), single, 1)
        ratio = sqlite1.readings_per_s / ceiling1.readings_per_s
        row = _case_row(sqlite1, "SQLite, 1 reading/msg", ">= 0.8 x ceiling", ratio >= 0.8)
        row.note += f"; {ratio:.2f} x ceiling"
        row.detail["ratio_to_ceiling"] = round(ratio, 3)
        rows.append(row)

        progress("ingest: ceiling, 50 readings/message")
        ceiling50 = run_ceiling(workdir, batched, 50)
        rows.append(_case_row(ceiling50, "ceiling (bare paho), 50 readings/msg"))
        progress("ingest: collector into SQLite, 50 readings/message")
        sqlite50 = run_collectors(workdir, sqlite(), batched, 50)
        row = _case_row(
            sqlite50,
            "SQLite, 50 readings/msg",
            ">= 50,000 readings/s",
            sqlite50.readings_per_s >= 50_000,
        )
        row.note += f"; {sqlite50.readings_per_s / ceiling50.readings_per_s:.2f} x ceiling"
        rows.append(row)

        progress("ingest: starting influxd")
        influx = start_influxdb(workdir / "influxdb")
        for per_message, count in ((1, single), (50, batched)):
            progress(f"ingest: collector into InfluxDB, {per_message} reading(s)/message")
            url = influx.url(f"bench_{uuid.uuid4().hex[:6]}")
            case = run_collectors(workdir, url, count, per_message)
            baseline = ceiling1 if per_message == 1 else ceiling50
            row = _case_row(
                case, f"InfluxDB, {per_message} reading{'s' if per_message > 1 else ''}/msg"
            )
            row.note += f"; {case.readings_per_s / baseline.readings_per_s:.2f} x ceiling"
            rows.append(row)

        progress("ingest: one collector in a shared subscription, 50 readings/message")
        one = run_collectors(workdir, sqlite(), batched, 50, collectors=1, share_group="bench")
        rows.append(_case_row(one, "SQLite, 50/msg, 1 collector ($share)"))
        progress("ingest: two collectors sharing the subscription, 50 readings/message")
        two = run_collectors(workdir, sqlite(), batched, 50, collectors=2, share_group="bench")
        scale = two.readings_per_s / one.readings_per_s
        row = _case_row(two, "SQLite, 50/msg, 2 collectors ($share)", ">= 1.3 x one", scale >= 1.3)
        row.note += f"; {scale:.2f} x one"
        row.detail["ratio_to_one"] = round(scale, 3)
        rows.append(row)
    finally:
        if influx is not None:
            influx.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return rows
