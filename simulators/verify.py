"""Commissioning check: a tagged burst through the real broker, watched arriving in the store.

For each chosen sensor, `count` reports with current timestamps (one second apart, ending now,
each with the same random millisecond part: the burst's tag)
are encoded in the sensor's own wire format (native, SenML, ChirpStack or TTS, as the simulator
sends them) and published with QoS 1. The store is then polled until every expected reading is
there or the time is up. A people counter's first uplink only sets its running total (the
collector has nothing to subtract it from), so its footfall reading is not expected; the totals
start from zero, so a collector that knows the device's real totals sees a counter reset.

Result: sent (readings expected), stored, quarantined (messages of the burst's topics the
collector rejected since the burst began), lost, and end-to-end latency (publish to visible in the
store; resolution is the poll interval).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from floorwatch.errors import InvalidRequest, NotFound
from floorwatch.readings import Kind
from floorwatch.registry import Registry
from floorwatch.settings import MqttTarget
from floorwatch.store import Store
from simulators.formats import Encoder
from simulators.publish import Publisher
from simulators.scenario import Scenario, load_scenario
from simulators.sensors import SensorSeries

PLAUSIBLE = {
    Kind.MOISTURE: 12.5,
    Kind.DIRT: 8.0,
    Kind.FOOTFALL: 3.0,
    Kind.TEMPERATURE: 19.5,
    Kind.HUMIDITY: 45.0,
    Kind.BATTERY: 88.0,
}


@dataclass
class VerifyResult:
    """What the burst showed. Latencies in seconds, one per stored reading."""

    sent: int
    stored: int
    quarantined: int
    latencies: list[float] = field(default_factory=list)
    missing: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.sent - self.stored

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies, q)) if self.latencies else None

    def ok(self, max_latency_s: float) -> bool:
        p95 = self.percentile(95)
        return self.lost == 0 and self.quarantined == 0 and p95 is not None and p95 <= max_latency_s


def choose_sensors(registry: Registry, sensor_ids: list[str], schools: list[str]) -> list[str]:
    """The sensors named and all sensors of the schools named; at least one."""
    chosen = list(sensor_ids)
    for sensor_id in chosen:
        if sensor_id not in registry.sensors:
            raise NotFound(f"no sensor {sensor_id!r} in the registry")
    for school in schools:
        if school not in registry.schools:
            raise NotFound(f"no school {school!r} in the registry")
        chosen += [s for s, p in registry.sensors.items() if p.school.id == school]
    if not chosen:
        raise InvalidRequest("choose sensors with --sensor ID or --school ID")
    return list(dict.fromkeys(chosen))


@dataclass(frozen=True)
class BurstMessage:
    topic: str
    payload: bytes
    sensor_id: str
    report: int  # index of the report in the sensor's burst


def burst(
    registry: Registry,
    sensor_ids: list[str],
    count: int,
    now_s: int,
    scenario: Scenario,
    tag_ms: int = 0,
) -> tuple[list[BurstMessage], dict[tuple[str, str, int], tuple[str, int]], set[str]]:
    """A burst ending at now_s: its messages, the readings expected ((sensor, kind, ms) ->
    (sensor, report index)) and the topics used. Every timestamp carries `tag_ms`
    milliseconds, so two bursts never share a reading's identity."""
    messages: list[BurstMessage] = []
    expected: dict[tuple[str, str, int], tuple[str, int]] = {}
    topics: set[str] = set()
    times = np.arange(now_s - count + 1, now_s + 1, dtype=np.int64)
    single = scenario.model_copy(
        update={"formats": scenario.formats.model_copy(update={"batch": 1})}
    )
    for sensor_id in sensor_ids:
        place = registry.sensors[sensor_id]
        kinds = [str(place.sensor.kind), *(str(k) for k in place.sensor.also)]
        values = {
            kind: np.full(count, PLAUSIBLE.get(Kind(kind), 1.0)) + np.arange(count) % 3
            for kind in kinds
        }
        series = SensorSeries(
            place=place,
            sent_s=times,
            ts_s=times,
            seq=np.arange(count, dtype=np.int64) + 1,
            values=values,
            tag_ms=tag_ms,
        )
        if Kind.FOOTFALL in series.values:
            # Running totals from zero: to a collector that knows the real counter this reads as
            # a counter reset (a few passages), never as a huge jump in a live school's data.
            counts = series.values[Kind.FOOTFALL].astype(np.int64)
            inward = counts // 2
            series.totals = {"in": np.cumsum(inward), "out": np.cumsum(counts - inward)}
        encoder = Encoder(place, single)
        _, payloads = encoder.encode(series, 0, count)
        messages.extend(
            BurstMessage(encoder.topic, p.encode(), sensor_id, j * count // len(payloads))
            for j, p in enumerate(payloads)
        )
        topics.add(encoder.topic)
        cumulative = {
            str(m.kind)
            for m in (place.sensor.lorawan.mappings if place.sensor.lorawan else [])
            if m.cumulative and encoder.format in ("chirpstack", "tts")
        }
        for i in range(count):
            for kind in kinds:
                if kind in cumulative and i == 0:
                    continue
                expected[(sensor_id, kind, encoder.received_ms(series, i))] = (sensor_id, i)
    return messages, expected, topics


def run_verify(
    registry: Registry,
    mqtt: MqttTarget,
    store: Store,
    sensor_ids: list[str],
    count: int = 5,
    timeout_s: float = 30.0,
    poll_s: float = 0.05,
    client_id: str = "floorwatch-verify",
    scenario: Scenario | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> VerifyResult:
    """Publish a burst and watch the store (module docstring)."""
    scenario = scenario or load_scenario()
    began_ms = int(time.time() * 1000)
    tag_ms = 1 + int(time.time_ns() // 1000) % 999
    messages, expected, topics = burst(
        registry, sensor_ids, count, int(time.time()) - 1, scenario, tag_ms
    )
    published_at: dict[tuple[str, int], float] = {}
    with Publisher(mqtt, client_id, window=100) as publisher:
        for message in messages:
            published_at.setdefault((message.sensor_id, message.report), time.monotonic())
            publisher.publish(message.topic, message.payload)
    times_ms = [t for _, _, t in expected]
    start = datetime.fromtimestamp(min(times_ms) / 1000 - 1, UTC)
    end = datetime.fromtimestamp(max(times_ms) / 1000 + 1, UTC)
    seen: dict[tuple[str, str, int], float] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        frame = store.read_readings(start, end, sensor_ids=sensor_ids)
        now = time.monotonic()
        if len(frame):
            # Whatever the datetime resolution the store returns (pandas 3 may use us).
            epoch = pd.Timestamp(0, tz="UTC")
            stamps = ((frame["time"] - epoch) // pd.Timedelta(milliseconds=1)).tolist()
            for sensor, kind, ms in zip(frame["sensor_id"], frame["kind"], stamps, strict=True):
                key = (str(sensor), str(kind), int(ms))
                if key in expected and key not in seen:
                    seen[key] = now - published_at[expected[key]]
        if on_progress is not None:
            on_progress(len(seen), len(expected))
        if len(seen) == len(expected) or now > deadline:
            break
        time.sleep(poll_s)
    quarantined = sum(
        1
        for record in store.read_quarantine(limit=10_000)
        if record.received_ms >= began_ms and record.topic in topics
    )
    return VerifyResult(
        sent=len(expected),
        stored=len(seen),
        quarantined=quarantined,
        latencies=sorted(seen.values()),
        missing=sorted(set(expected) - set(seen)),
    )
