"""A store filled by the simulator: the pilot's messages (native, SenML, ChirpStack, The Things
Stack, with the scenario's faults) decoded by the collector's decoders and stored as the collector
stores them; rejects go to the quarantine with their reasons. Two local days across the
1 October installation start (30 September is baseline, 1 October installed). Analytics then
scores 1 October as `floorwatch score` would."""

from __future__ import annotations

from datetime import UTC, date, datetime

from analytics.scorecard import Scorer, write_results
from floorwatch.readings import QuarantineRecord, Reading
from floorwatch.registry import Registry
from floorwatch.store import Store
from ingest.decoders import DecodeContext, Limits, SensorCatalog, decode
from simulators import load_scenario, simulate

START = date(2026, 9, 30)
DAYS = 2
SEED = 7
INSTALLED_FROM = datetime(2026, 9, 30, 22, tzinfo=UTC)  # 1 October 00:00 Europe/Stockholm
END = datetime(2026, 10, 1, 22, tzinfo=UTC)


def fill_from_simulator(store: Store, registry: Registry) -> tuple[int, int]:
    """Simulate, decode and store; return (readings stored, messages quarantined)."""
    sim = simulate(registry, load_scenario(), START, days=DAYS, seed=SEED)
    catalog = SensorCatalog(registry)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    totals: dict[str, tuple[int, float]] = {}
    readings: list[Reading] = []
    rejects: list[QuarantineRecord] = []
    for topic, payload in sim.messages():
        raw = payload if isinstance(payload, bytes) else str(payload).encode()
        out = decode(topic, raw, DecodeContext(catalog, now_ms, Limits(), totals))
        totals.update(out.counter_totals)
        readings.extend(out.readings)
        rejects.extend(
            QuarantineRecord(now_ms, topic, r.reason, r.detail, raw[:200].decode(errors="replace"))
            for r in out.rejections
        )
    store.write_readings(readings)
    store.write_quarantine(rejects)
    return len(readings), len(rejects)


def score_simulated(store: Store, registry: Registry) -> int:
    """Run analytics on the installed day (1 October) as `floorwatch score` would and write the
    kpi, scorecard, comparison, sensor_health and trend points; return how many. (The HTML
    report is not written: serving a report file is tested with the pilot data.)"""
    result = Scorer(store, registry, resamples=20).score("2026-10", INSTALLED_FROM, END)
    return write_results(store, result, registry)
