"""The collector's own decoders (ingest.decoders, pure functions) accept every simulated message
of a clean stream, in every format, and reject exactly the malformed ones of a faulty stream."""

from __future__ import annotations

from collections import Counter
from datetime import date

from floorwatch.registry import Registry
from ingest.decoders import DecodeContext, SensorCatalog, decode
from simulators import Scenario, load_scenario, simulate
from simulators.formats import format_of


def _decode_all(registry: Registry, scenario: Scenario) -> tuple[Counter[str], Counter[str], int]:
    sim = simulate(registry, scenario, date(2026, 10, 13), 1, seed=12)
    catalog = SensorCatalog(registry)
    totals: dict[str, tuple[int, float]] = {}
    kinds: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for topic, payload in sim.messages():
        out = decode(
            topic, payload, DecodeContext(catalog, sim.span.end_s * 1000, counter_totals=totals)
        )
        totals.update(out.counter_totals)
        kinds.update(r.kind for r in out.readings)
        reasons.update(r.reason for r in out.rejections)
    return kinds, reasons, sim.fault_log.counts["malformed"]


def test_clean_stream_is_accepted_whole(registry: Registry, scenario: Scenario) -> None:
    kinds, reasons, _ = _decode_all(registry, scenario)
    assert reasons == Counter()
    per_day = 288
    expected = Counter(str(p.sensor.kind) for p in registry.sensors.values())
    counters = sum(
        1
        for p in registry.sensors.values()
        if p.sensor.kind == "footfall" and format_of(p, scenario) in ("chirpstack", "tts")
    )
    for kind in ("moisture", "dirt"):
        assert kinds[kind] == expected[kind] * per_day
    # A people counter's first uplink only sets its running total (sent over LoRaWAN).
    assert kinds["footfall"] == expected["footfall"] * per_day - counters
    batteries = [p.sensor for p in registry.sensors.values() if "battery" in p.sensor.also]
    assert kinds["battery"] == sum(86_400 // s.report_interval for s in batteries)
    assert kinds["rssi"] == kinds["snr"] > 0


def test_malformed_messages_are_the_only_rejections(registry: Registry) -> None:
    scenario = load_scenario()
    scenario = scenario.model_copy(
        update={
            "faults": scenario.faults.only("malformed").model_copy(
                update={
                    "malformed": scenario.faults.malformed.model_copy(
                        update={"enabled": True, "rate": 0.005}
                    )
                }
            )
        }
    )
    _, reasons, malformed = _decode_all(registry, scenario)
    assert malformed > 0
    assert set(reasons) <= {"malformed_json", "empty_payload", "wrong_type", "not_an_object"}
    assert sum(reasons.values()) >= malformed


def test_readings_frame_is_what_the_collector_stores(
    registry: Registry, scenario: Scenario
) -> None:
    # Reading faults on (they are in the frame too); delivery faults off.
    faults = scenario.faults.only("dropouts", "stuck", "spikes", "drift", "clock_skew")
    sim = simulate(
        registry, scenario.model_copy(update={"faults": faults}), date(2026, 10, 14), 1, 2
    )
    catalog = SensorCatalog(registry)
    totals: dict[str, tuple[int, float]] = {}
    decoded = {}
    for topic, payload in sim.messages():
        out = decode(
            topic, payload, DecodeContext(catalog, sim.span.end_s * 1000, counter_totals=totals)
        )
        totals.update(out.counter_totals)
        assert not out.rejections
        decoded.update({(r.sensor_id, r.kind, r.ts_ms): r.value for r in out.readings})
    ours = {(r.sensor_id, r.kind, r.ts_ms): r.value for r in sim.readings()}
    assert set(ours) == set(decoded)
    assert all(abs(ours[key] - decoded[key]) < 1e-6 for key in ours)
    frame = sim.readings_frame()
    assert list(frame.columns) == ["time", "sensor_id", "kind", "value"]
    assert frame["time"].is_monotonic_increasing and len(frame) == len(ours)
