"""Wire formats as the README's "The sensor protocol" defines them (SenML: RFC 8428; LoRaWAN:
ChirpStack v4 and The Things Stack v3 MQTT integrations), and the LoRaWAN mappings inverted."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter, defaultdict
from datetime import date

import numpy as np
import pytest

from floorwatch.registry import Registry
from simulators import Scenario, Simulation, simulate
from tests.simulators.conftest import WEEK
from tests.simulators.wire import decode


@pytest.fixture(scope="module")
def day(registry: Registry, scenario: Scenario) -> Simulation:
    return simulate(registry, scenario, WEEK, 1, seed=3)


def test_every_format_with_its_topic(day: Simulation, registry: Registry) -> None:
    seen: Counter[str] = Counter()
    for topic, payload in day.messages():
        document = json.loads(payload)
        if topic.startswith("floorwatch/up/"):
            sensor = topic.removeprefix("floorwatch/up/")
            assert sensor in registry.sensors
            if isinstance(document, list):
                seen["senml"] += 1
                assert {"bt", "n", "v"} <= set(document[0])
                assert registry.sensors[sensor].school.id in ("sku-rydsgard", "sku-prastamosse")
            else:
                seen["native"] += 1
                assert set(document) == {"ts", "kind", "value", "seq"}
                # LoRaWAN sensors with mappings the simulator cannot invert send native too
                assert document["kind"] in registry.sensors[sensor].sensor.kinds
                assert isinstance(document["ts"], int) and isinstance(document["seq"], int)
        elif re.fullmatch(r"application/[^/]+/device/[0-9a-f]{16}/event/up", topic):
            seen["chirpstack"] += 1
            info = document["deviceInfo"]
            assert info["devEui"] == topic.split("/")[3]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["time"])
            assert {"total_in", "total_out", "period_in", "period_out", "battery"} == set(
                document["object"]
            )
            assert document.get("fCnt", 0) >= 0 and document["fPort"] == 85
            assert document["rxInfo"][0]["rssi"] < 0
            base64.b64decode(document["data"], validate=True)
            assert "applicationID" not in document and "devEUI" not in document  # v3 names
        elif re.fullmatch(r"v3/[^/@]+@[^/]+/devices/[^/]+/up", topic):
            seen["tts"] += 1
            ids = document["end_device_ids"]
            assert ids["application_ids"]["application_id"] == topic.split("/")[1].split("@")[0]
            assert ids["device_id"] == topic.split("/")[3]
            assert re.fullmatch(r"[0-9A-F]{16}", ids["dev_eui"])
            uplink = document["uplink_message"]
            assert set(uplink["decoded_payload"]) == {"waterleak", "temperature"}
            assert 0 <= uplink["decoded_payload"]["waterleak"] <= 255
            assert isinstance(uplink["decoded_payload"]["waterleak"], int)
            assert re.fullmatch(r".+T.+\.\d{9}Z", document["received_at"])
            base64.b64decode(uplink["frm_payload"], validate=True)
        else:
            pytest.fail(f"unexpected topic {topic}")
    assert set(seen) == {"native", "senml", "chirpstack", "tts"}
    # The pilot's LoRaWAN devices: VS350 people counters in Ystad, Elsys leak sensors in Skurup,
    # each reporting every 5 minutes through its municipality's network server.
    counters = sum(
        1
        for p in registry.sensors.values()
        if p.school.municipality == "ystad"
        and p.sensor.lorawan
        and all(m.plain for m in p.sensor.lorawan.mappings)
    )
    assert seen["chirpstack"] == counters * 288 and counters > 0
    assert seen["tts"] == 2 * 288  # the Elsys ones; the pilot's other Skurup sensors send SenML


def test_lorawan_fields_invert_the_registry_mapping(day: Simulation, registry: Registry) -> None:
    decoded: dict[str, list[tuple[int, dict[str, float]]]] = defaultdict(list)
    for topic, payload in day.messages():
        if topic.startswith("floorwatch/up/"):
            continue
        rows = decode(topic, payload.decode(), registry)
        decoded[rows[0][0]].append((rows[0][2], {field: v for _, field, _, v in rows}))
    series = {s.sensor_id: s for s in day.series}
    assert decoded
    for sensor_id, uplinks in decoded.items():
        place = registry.sensors[sensor_id]
        assert place.sensor.lorawan is not None
        truth = series[sensor_id].values
        for mapping in place.sensor.lorawan.mappings:
            raw = np.array([sum(f[name] for name in mapping.fields) for _, f in uplinks])
            if mapping.cumulative:
                assert mapping.counter_max is not None
                assert raw.max() < 2 * mapping.counter_max
                per_field = [np.array([f[n] for _, f in uplinks]) for n in mapping.fields]
                increase = sum(np.diff(v) % mapping.counter_max for v in per_field)
                assert np.array_equal(increase, truth[mapping.kind][1:])
            else:
                value = raw * mapping.scale + mapping.offset
                assert np.allclose(value, truth[mapping.kind], atol=0.2 + mapping.scale / 2)


def test_batches_carry_the_same_readings(registry: Registry, scenario: Scenario) -> None:
    start = date(2026, 10, 6)
    single = simulate(registry, scenario, start, 1, seed=2)
    packed_scenario = scenario.model_copy(
        update={"formats": scenario.formats.model_copy(update={"batch": 12})}
    )
    packed = simulate(registry, packed_scenario, start, 1, seed=2)

    def readings(sim: Simulation) -> tuple[int, set[tuple[str, str, int, float]]]:
        rows, messages = set(), 0
        for topic, payload in sim.messages():
            messages += 1
            rows.update(decode(topic, payload.decode(), registry))
        return messages, rows

    single_messages, single_rows = readings(single)
    packed_messages, packed_rows = readings(packed)
    assert packed_rows == single_rows
    assert packed_messages < single_messages / 5
    kinds: Counter[str] = Counter()
    for topic, payload in packed.messages():
        if not topic.startswith("floorwatch/up/"):
            continue
        document = json.loads(payload)
        # 12 reports per message, each with a reading of every kind the sensor reports
        per_report = 1 + len(registry.sensors[topic.removeprefix("floorwatch/up/")].sensor.also)
        if isinstance(document, dict) and "readings" in document:
            kinds["native"] += 1
            assert len(document["readings"]) <= 12 * per_report
        elif isinstance(document, list) and len(document) > 1:
            kinds["senml"] += 1
            assert "bt" in document[0] and all("bt" not in r for r in document[1:])
            assert all("t" in r for r in document[per_report:])
    assert kinds["native"] and kinds["senml"]


def test_people_counter_totals_wrap_at_counter_max(registry: Registry, scenario: Scenario) -> None:
    from simulators.formats import Encoder
    from simulators.sensors import SensorSeries

    place = registry.sensors["yst-ostra-main-entry-footfall"]
    counts = np.array([5.0, 40.0, 30.0, 7.0])
    series = SensorSeries(
        place=place,
        sent_s=np.arange(4, dtype=np.int64) * 300 + 1_790_000_000,
        ts_s=np.arange(4, dtype=np.int64) * 300 + 1_790_000_000,
        seq=np.arange(4, dtype=np.int64),
        values={"footfall": counts, "battery": np.full(4, 80.0)},
    )
    series.totals = {
        "in": 65_500 + np.cumsum([3, 20, 15, 4]),
        "out": 100 + np.cumsum([2, 20, 15, 3]),
    }
    _, payloads = Encoder(place, scenario).encode(series, 0, 4)
    objects = [json.loads(p)["object"] for p in payloads]
    assert [o["total_in"] for o in objects] == [65_503, 65_523, 2, 6]
    assert [o["period_in"] + o["period_out"] for o in objects[1:]] == [40, 30, 7]
    assert all(o["battery"] == 80 for o in objects)
