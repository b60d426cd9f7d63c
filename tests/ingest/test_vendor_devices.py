"""The LoRaWAN sensors Swedish schools buy, mapped in the registry without code: each vendor's
documented decoder output, in full The Things Stack v3 and ChirpStack v4 envelopes, published
by the network servers' own broker accounts through real Mosquitto with the shipped ACL, into
the collector and the store (both backends).

Where the decoded payloads come from (each family's entry below names its file):
- TTN device repository, github.com/TheThingsNetwork/lorawan-devices: the `uplinkDecoder.
  examples[].output.data` of `vendor/<vendor>/<model>-codec.yaml`, or the decoder `.js`;
- Milesight's own decoder READMEs, github.com/Milesight-IoT/SensorDecoders (the "Example"
  section of each device).
Device timestamps in logged records (`history[].timestamp`) are moved to the test's hour: the
documented ones are from 2022/2023, older than the collector accepts. Payloads marked
"constructed" follow the decoder's field list where the documentation gives no example.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from floorwatch.registry import PILOT, load_registry
from floorwatch.store import Store
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.ingest.messages import (
    chirpstack_event,
    chirpstack_status,
    chirpstack_status_topic,
    chirpstack_topic,
    dumps,
    tts_uplink,
)
from tests.ingest.test_roundtrip import stored
from tests.services import TEST_PASSWORD, Mosquitto, start_mosquitto

VENDOR_DEVICES = Path(__file__).with_name("vendor_devices.yaml")
TTS_LINK = {"rssi": -88.0, "snr": 9.25}  # tts_uplink's gateway
CS_LINK = {"rssi": -97.0, "snr": 7.5}  # chirpstack_event's best gateway


@pytest.fixture
def vendor_registry(tmp_path: Path) -> Path:
    """The example pilot plus tests/ingest/vendor_devices.yaml (one sensor per family)."""
    folder = tmp_path / "registry"
    folder.mkdir()
    for file in PILOT.glob("*.yaml"):
        shutil.copy(file, folder / file.name)
    shutil.copy(VENDOR_DEVICES, folder / "zz-vendor-devices.yaml")
    return folder


@pytest.fixture
def network_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """Mosquitto with the shipped config and the network servers' accounts of its ACL."""
    broker = start_mosquitto(
        tmp_path / "mosquitto", {"chirpstack": TEST_PASSWORD, "thethingsstack": TEST_PASSWORD}
    )
    yield broker
    broker.stop()


class Traffic:
    """Messages to publish per broker account, and the readings the store must then hold."""

    def __init__(self, now_ms: int):
        self.t = now_ms - 3_600_000
        self.messages: dict[str, list[tuple[str, bytes]]] = {"thethingsstack": [], "chirpstack": []}
        self.expected: set[tuple[str, str, int, float]] = set()
        self.quarantined: Counter[str] = Counter()

    def tick(self) -> int:
        self.t += 60_000
        return self.t

    def tts(
        self,
        sensor: str,
        eui: str,
        decoded: dict[str, Any],
        readings: dict[str, float],
        open_source: bool = False,
        **extra: Any,
    ) -> int:
        """A TTS v3 uplink (topic with @tenant, or without: the open-source edition)."""
        ts = self.tick()
        app = "skurup-floors" if open_source else "skurup-floors@skurup"
        topic = f"v3/{app}/devices/eui-{eui}/up"
        self.messages["thethingsstack"].append(
            (topic, dumps({**tts_uplink(eui, ts, decoded), **extra}))
        )
        self._expect(sensor, ts, readings, TTS_LINK)
        return ts

    def chirpstack(
        self, sensor: str, eui: str, decoded: dict[str, Any], readings: dict[str, float]
    ) -> int:
        ts = self.tick()
        self.messages["chirpstack"].append(
            (chirpstack_topic(eui), dumps(chirpstack_event(eui, ts, decoded)))
        )
        self._expect(sensor, ts, readings, CS_LINK)
        return ts

    def both(self, sensor: str, eui: str, decoded: dict[str, Any], readings: dict[str, float]):
        self.tts(sensor, eui, decoded, readings)
        self.chirpstack(sensor, eui, decoded, readings)

    def _expect(self, sensor: str, ts: int, readings: dict[str, float], link: dict[str, float]):
        for kind, value in {**readings, **link}.items():
            self.expected.add((sensor, kind, ts, value))


def vendor_traffic(now_ms: int) -> Traffic:
    traffic = Traffic(now_ms)
    hour_ago_s = now_ms // 1000 - 3600

    # Milesight EM300-SLD (and ZLD: the same decoder), Milesight-IoT/SensorDecoders
    # EM_Series/EM300_Series/EM300-SLD/README.md, "Example".
    sld, sld_eui = "test-em300-sld", "24e124000000a001"
    traffic.both(
        sld,
        sld_eui,
        {"battery": 92, "temperature": 30.8, "humidity": 50.5, "leakage_status": "normal"},
        {"moisture": 0.0, "temperature": 30.8, "humidity": 50.5, "battery": 92.0},
    )
    # its logged record (sent after the link was down): stored at the device's own time
    for offset_s in (0, 60):
        record_s = hour_ago_s - 1200 + offset_s
        history = {
            "history": [
                {
                    "temperature": 27.2,
                    "humidity": 46.5,
                    "leakage_status": "leak",
                    "timestamp": record_s,
                }
            ]
        }
        if offset_s == 0:
            traffic.tts(sld, sld_eui, history, {}, open_source=True)
        else:
            traffic.chirpstack(sld, sld_eui, history, {})
        traffic.expected |= {
            (sld, "moisture", record_s * 1000, 100.0),
            (sld, "temperature", record_s * 1000, 27.2),
        }
    # a value its value map does not know (constructed): quarantined, naming the allowed ones
    traffic.tts(sld, sld_eui, {"leakage_status": "unknown"}, {})
    traffic.quarantined["unmapped_value"] += 1

    # Milesight WS303, Milesight-IoT/SensorDecoders ws-series/ws303/README.md, "Example".
    ws, ws_eui = "test-ws303", "24e124000000a002"
    traffic.both(
        ws,
        ws_eui,
        {"battery": 100, "leakage_status": "normal"},
        {"moisture": 0.0, "battery": 100.0},
    )
    traffic.both(
        ws,
        ws_eui,
        {"battery": 100, "leakage_status": "leak"},
        {"moisture": 100.0, "battery": 100.0},
    )
    # the console's "Simulate uplink" of the same payload: never a measurement
    ts = traffic.tick()
    traffic.messages["thethingsstack"].append(
        (
            f"v3/skurup-floors@skurup/devices/eui-{ws_eui}/up",
            dumps(
                {
                    **tts_uplink(ws_eui, ts, {"battery": 100, "leakage_status": "leak"}),
                    "simulated": True,
                }
            ),
        )
    )
    traffic.quarantined["simulated"] += 1

    # Dragino LWL02: lorawan-devices vendor/dragino/lwl02-codec.yaml (its example is the
    # door-sensor mode, MOD 1: only the battery maps), and the water-leak mode (MOD 2) as
    # vendor/dragino/lwl02.js decodes it (constructed). BAT_V in volts, 2.5 V empty, 3.0 V full.
    lwl02, lwl02_eui = "test-lwl02", "a84041000000a003"
    traffic.both(
        lwl02,
        lwl02_eui,
        {
            "ALARM": 0,
            "BAT_V": 2.952,
            "DOOR_OPEN_STATUS": 0,
            "DOOR_OPEN_TIMES": 9472,
            "LAST_DOOR_OPEN_DURATION": 65536,
            "MOD": 1,
        },
        {"battery": 90.4},
    )
    traffic.both(
        lwl02,
        lwl02_eui,
        {
            "BAT_V": 3.012,
            "MOD": 2,
            "WATER_LEAK_STATUS": 1,
            "WATER_LEAK_TIMES": 3,
            "LAST_WATER_LEAK_DURATION": 12,
        },
        {"moisture": 100.0, "battery": 100.0},  # above `full`: clamped to 100 %
    )

    # Dragino LWL03A: lorawan-devices vendor/dragino/lwl03a-codec.yaml.
    traffic.both(
        "test-lwl03a",
        "a84041000000a004",
        {
            "TDC": "NO",
            "ALARM": "FALSE",
            "WATER_LEAK_STATUS": "LEAK",
            "WATER_LEAK_TIMES": 10,
            "LAST_WATER_LEAK_DURATION": 10,
            "TIME": "2022-10-29 07:14:58",
        },
        {"moisture": 100.0},
    )

    # Elsys EMS: lorawan-devices vendor/elsys/ems-codec.yaml (waterleak 0..255 -> %).
    traffic.both(
        "test-elsys-ems",
        "a81758fffe00a005",
        {
            "temperature": 22.6,
            "humidity": 41,
            "x": 1,
            "y": 39,
            "z": 5,
            "pulse1": 8465,
            "waterleak": 17,
        },
        {"moisture": 6.667, "temperature": 22.6, "humidity": 41.0},
    )

    # Browan TBWL100: lorawan-devices vendor/browan/tbwl100-codec.yaml ("Water leakage
    # detected"; battery in volts: 3.6 V is full).
    traffic.both(
        "test-tbwl100",
        "e8e1e1000000a006",
        {
            "battery": 3.6,
            "humidity": 40,
            "humidityChanged": 0,
            "status": 1,
            "temperature": 22,
            "temperatureBoard": 22,
            "temperatureChanged": 0,
        },
        {"moisture": 100.0, "temperature": 22.0, "humidity": 40.0, "battery": 100.0},
    )

    # Milesight VS133: lorawan-devices vendor/milesight-iot/vs133-codec.yaml (counts nested
    # per line). The first uplink sets the running totals; the second (constructed) adds 13.
    vs133, vs133_eui = "test-vs133", "24e124000000a007"
    line = {"total_in": 72, "total_out": 200, "period_in": 0, "period_out": 0}
    empty = {"total_in": 0, "total_out": 0, "period_in": 0, "period_out": 0}
    traffic.tts(vs133, vs133_eui, {"line_1": line, "line_2": empty}, {})
    line = {"total_in": 80, "total_out": 205, "period_in": 8, "period_out": 5}
    traffic.chirpstack(vs133, vs133_eui, {"line_1": line, "line_2": empty}, {"footfall": 13.0})
    # it is mains powered: its status event has no battery level
    ts = traffic.tick()
    traffic.messages["chirpstack"].append(
        (
            chirpstack_status_topic(vs133_eui),
            dumps(chirpstack_status(vs133_eui, ts, margin=9, externalPowerSource=True)),
        )
    )
    traffic.quarantined["no_battery_level"] += 1

    # Milesight VS350: Milesight-IoT/SensorDecoders VS_Series/VS350/README.md, "Example".
    vs350, vs350_eui = "test-vs350", "24e124000000a008"
    traffic.tts(
        vs350,
        vs350_eui,
        {"battery": 100, "temperature": 26.8},
        {"battery": 100.0, "temperature": 26.8},
    )
    traffic.chirpstack(
        vs350,
        vs350_eui,
        {"total_in": 18, "total_out": 22, "period_in": 19, "period_out": 20},
        {},  # the first running totals: nothing to subtract from yet
    )
    for offset_s, record in (
        (0, {"period_in": 11, "period_out": 4}),
        (900, {"period_in": 7, "period_out": 2, "total_in": 29, "total_out": 8}),
    ):
        record_s = hour_ago_s - 1800 + offset_s
        traffic.chirpstack(vs350, vs350_eui, {"history": [{**record, "timestamp": record_s}]}, {})
        traffic.expected.add(
            (vs350, "footfall", record_s * 1000, float(record["period_in"] + record["period_out"]))
        )
    # a ChirpStack status event (DevStatusAns): the battery level in %
    ts = traffic.tick()
    traffic.messages["chirpstack"].append(
        (
            chirpstack_status_topic(vs350_eui),
            dumps(chirpstack_status(vs350_eui, ts, margin=7, batteryLevel=87.5)),
        )
    )
    traffic.expected.add((vs350, "battery", ts, 87.5))

    # IMBuildings people counter: lorawan-devices vendor/imbuildings/imbuildings-codec.yaml
    # (counts since the last uplink; battery in volts, 2.2 V empty, 3.2 V full).
    traffic.both(
        "test-imbuildings",
        "70b3d5000000a009",
        {
            "device_type_identifier": 2,
            "device_type": "People Counter",
            "device_type_variant": 6,
            "device_id": "0004a30b00f0d40e",
            "device_status": 0,
            "battery_voltage": 2.56,
            "counter_a": 0,
            "counter_b": 0,
            "sensor_status": 32,
            "total_counter_a": 13,
            "total_counter_b": 10,
            "payload_counter": 106,
        },
        {"footfall": 0.0, "battery": 36.0},
    )

    # Milesight EM300-TH climate sensor: Milesight-IoT/SensorDecoders
    # EM_Series/EM300_Series/EM300-TH/README.md, "Example" (a sensor of kind temperature).
    traffic.both(
        "test-em300-th",
        "24e124000000a010",
        {"battery": 92, "temperature": 30.8, "humidity": 50.5},
        {"temperature": 30.8, "humidity": 50.5, "battery": 92.0},
    )
    return traffic


def test_vendor_decoder_output_maps_without_code(
    network_broker: Mosquitto,
    vendor_registry: Path,
    store_url: str,
    store: Store,
    tmp_path: Path,
) -> None:
    # every mapped path is one its model's decoder outputs: no warning
    assert load_registry(vendor_registry).warnings == []
    now = int(time.time() * 1000) // 1000 * 1000
    traffic = vendor_traffic(now)
    total = sum(len(m) for m in traffic.messages.values())
    settings = collector_settings(network_broker, store_url, tmp_path, registry=vendor_registry)
    with running_collector(settings) as collector:
        for account, messages in traffic.messages.items():
            with publisher(network_broker.url_for(account)) as pub:
                codes = pub.publish_all(messages)
            assert all(not code.is_failure for code in codes), (account, codes)  # the ACL allows
        wait_until(lambda: collector.counters.snapshot().acknowledged == total, 20, "all acked")
    ours = {row for row in stored(store) if row[0].startswith("test-")}
    assert ours == traffic.expected
    records = [
        r
        for r in store.read_quarantine(limit=1000)
        if "/devices/" in r.topic or "event/" in r.topic
    ]
    assert Counter(r.reason for r in records) == traffic.quarantined
    unmapped = next(r for r in records if r.reason == "unmapped_value")
    assert "'unknown'" in unmapped.detail and "'normal', 'leak'" in unmapped.detail
    assert all(r.detail for r in records)
