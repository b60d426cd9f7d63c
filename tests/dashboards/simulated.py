"""Fill a real InfluxDB from the simulator, through the collector's decoders, for the dashboards.

The simulator (simulators.simulate) produces the pilot's MQTT messages in their wire formats
(native, SenML, ChirpStack v4, The Things Stack v3, with injected faults); the collector's pure
decoders (ingest.decoders.decode) turn them into readings or rejections, exactly as `floorwatch
ingest` does before it commits a batch. Readings up to now are written with the store the
collector uses; the simulated SMHI weather becomes `smhi-<station>` readings; the rejections
become the collector's `ingest_quarantine` counters.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from floorwatch.readings import Point, Reading
from floorwatch.registry import Registry
from floorwatch.store import open_store
from ingest.decoders import DecodeContext, SensorCatalog, decode
from simulators import Simulation, load_scenario, simulate

COLLECTOR = "floorwatch-collector-1"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
WEATHER_KINDS = ("precipitation", "air_temperature", "snow_depth")


@dataclass(frozen=True)
class Simulated:
    now_ms: int
    readings: int
    rejected: dict[str, int]


_SIMULATIONS: dict[date, Simulation] = {}


def pilot_simulation(registry: Registry, now: datetime) -> Simulation:
    """The example pilot from yesterday (local) to the end of today, simulated once per run."""
    yesterday = (now.astimezone(STOCKHOLM) - timedelta(days=1)).date()
    if yesterday not in _SIMULATIONS:
        _SIMULATIONS[yesterday] = simulate(registry, load_scenario(), yesterday, days=2, seed=7)
    return _SIMULATIONS[yesterday]


def fill_simulated(url: str, registry: Registry, now: datetime | None = None) -> Simulated:
    now = now or datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    simulation = pilot_simulation(registry, now)
    context = DecodeContext(SensorCatalog(registry), now_ms=now_ms)
    readings: list[Reading] = []
    rejected: Counter[str] = Counter()
    totals: dict[str, tuple[int, float]] = {}
    for chunk in simulation.chunks():
        for sent_s, topic, payload in chunk.timed:
            if sent_s * 1000 > now_ms:
                break  # the simulated day goes on past now: those messages are not sent yet
            decoded = decode(
                topic,
                payload.encode(),
                DecodeContext(context.catalog, now_ms, counter_totals=totals),
            )
            totals.update(decoded.counter_totals)
            readings.extend(decoded.readings)
            rejected.update(r.reason for r in decoded.rejections)
    for station, hourly in simulation.weather.items():
        times = [int(t.timestamp() * 1000) for t in pd.DatetimeIndex(hourly["time"])]
        for kind in WEATHER_KINDS:
            values = hourly[kind].astype(float).tolist()
            readings.extend(
                Reading(f"smhi-{station}", kind, ts_ms, value)
                for ts_ms, value in zip(times, values, strict=True)
                if ts_ms <= now_ms
            )
    points = [
        Point(
            "ingest_quarantine",
            {"collector": COLLECTOR, "reason": reason},
            now_ms - minutes * 60_000,
            {"count": float(count * (60 - minutes) // 60)},
        )
        for reason, count in rejected.items()
        for minutes in range(0, 60, 5)
    ]
    store = open_store(url, sensor_tags=registry.sensor_tags)
    try:
        store.write_readings(readings)
        store.write_points(points)
    finally:
        store.close()
    return Simulated(now_ms=now_ms, readings=len(readings), rejected=dict(rejected))
