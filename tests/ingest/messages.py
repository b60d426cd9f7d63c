"""Messages of every wire format, good and bad, shared by the decoder and the collector tests.

Sensors and devices are from the shipped pilot registry.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from floorwatch.registry import Registry

MOISTURE = "yst-ostra-main-inner-moisture"  # native / SenML, kind moisture
DIRT = "yst-ostra-main-inner-dirt"
FOOTFALL_NATIVE = "trb-vastervang-main-entry-footfall"
ELSYS_EUI = "a840410000000001"  # Skurup, The Things Stack: waterleak (0..255) + temperature
ELSYS_SENSOR = "sku-rydsgard-main-inner-moisture"
VS350_EUI = "a840410000000005"  # Ystad, ChirpStack: total_in + total_out cumulative + battery
VS350_SENSOR = "yst-ostra-main-entry-footfall"
EM300_SLD_EUI = "a840410000000002"  # Skurup: Milesight leak sensor, "normal"/"leak" + history


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def native_topic(sensor_id: str) -> str:
    return f"floorwatch/up/{sensor_id}"


def chirpstack_topic(dev_eui: str, app: str = "ystad-footfall") -> str:
    return f"application/{app}/device/{dev_eui}/event/up"


def tts_topic(device_id: str = "elsys-ers-1", app: str = "skurup-floors") -> str:
    return f"v3/{app}@skurup/devices/{device_id}/up"


def chirpstack_event(
    dev_eui: str, ts_ms: int, decoded: dict[str, Any], rssi: float = -97, snr: float = 7.5
) -> dict[str, Any]:
    """A ChirpStack v4 uplink event in its documented JSON shape."""
    return {
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": rfc3339(ts_ms),
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "Ystad",
            "applicationId": "ystad-footfall",
            "applicationName": "Footfall",
            "deviceProfileId": "b1f3c2a1-0f5e-4b36-a9e3-6e6d2d1c0a01",
            "deviceProfileName": "Milesight VS350",
            "deviceName": "vs350-ostra-main",
            "devEui": dev_eui,
            "tags": {},
        },
        "devAddr": "00189440",
        "adr": True,
        "dr": 5,
        "fCnt": 42,
        "fPort": 85,
        "data": "AXVkA9IEAQ==",
        "object": decoded,
        "rxInfo": [
            {"gatewayId": "0016c001ff10a235", "uplinkId": 4217, "rssi": rssi - 10, "snr": 1.0},
            {"gatewayId": "0016c001ff10a236", "uplinkId": 4218, "rssi": rssi, "snr": snr},
        ],
        "txInfo": {"frequency": 868100000, "modulation": {"lora": {"bandwidth": 125000}}},
    }


def chirpstack_status_topic(dev_eui: str, app: str = "ystad-footfall") -> str:
    return f"application/{app}/device/{dev_eui}/event/status"


def chirpstack_status(dev_eui: str, ts_ms: int, **fields: Any) -> dict[str, Any]:
    """A ChirpStack v4 status event (the device's DevStatusAns) in its documented JSON shape:
    `margin`, `batteryLevel` (%), and the flags `externalPowerSource` and
    `batteryLevelUnavailable`, each left out when zero or false (Protobuf JSON mapping)."""
    event = chirpstack_event(dev_eui, ts_ms, {})
    return {
        "deduplicationId": event["deduplicationId"],
        "time": event["time"],
        "deviceInfo": event["deviceInfo"],
        **fields,
    }


def tts_uplink(
    dev_eui: str, ts_ms: int, decoded: dict[str, Any], rssi: float = -88, snr: float = 9.25
) -> dict[str, Any]:
    """A The Things Stack v3 uplink message in its documented JSON shape."""
    return {
        "end_device_ids": {
            "device_id": "elsys-ers-1",
            "application_ids": {"application_id": "skurup-floors"},
            "dev_eui": dev_eui.upper(),
            "join_eui": "0000000000000000",
            "dev_addr": "260B1234",
        },
        "correlation_ids": ["as:up:01H0000000000000000000000"],
        "received_at": _nanoseconds(ts_ms),
        "uplink_message": {
            "session_key_id": "AYa6gfgKg7Kz3ey9RUpHAw==",
            "f_port": 5,
            "f_cnt": 1234,
            "frm_payload": "AQDiAjIHAAo=",
            "decoded_payload": decoded,
            "rx_metadata": [
                {
                    "gateway_ids": {"gateway_id": "skurup-gw-1", "eui": "B827EBFFFE000001"},
                    "time": rfc3339(ts_ms),
                    "timestamp": 2217143683,
                    "rssi": rssi,
                    "channel_rssi": rssi,
                    "snr": snr,
                }
            ],
            "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}}},
            "received_at": rfc3339(ts_ms),
            "consumed_airtime": "0.061696s",
        },
    }


def _nanoseconds(ts_ms: int) -> str:
    """RFC 3339 with nanoseconds, as The Things Stack writes its times."""
    text = datetime.fromtimestamp(ts_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ts_ms % 1000:03d}000000Z"


def dumps(document: Any) -> bytes:
    return json.dumps(document).encode()


@dataclass(frozen=True)
class BadInput:
    """One kind of bad input, the quarantine reason it must get, and how many good readings the
    same message still carries (a LoRaWAN uplink with one bad field keeps its other fields)."""

    name: str
    topic: str
    payload: bytes
    reason: str
    also_stored: int = 0


def bad_inputs(now_ms: int) -> list[BadInput]:
    """At least 30 kinds of bad input, each yielding exactly one rejection."""
    t = now_ms - 60_000
    ok = {"ts": t / 1000, "kind": "moisture", "value": 12.5}
    moisture = native_topic(MOISTURE)

    def native(**changes: Any) -> bytes:
        doc = {**ok, **changes}
        return dumps({k: v for k, v in doc.items() if v is not ...})

    elsys = {"waterleak": 100, "temperature": 4.5}
    cs_topic = chirpstack_topic(VS350_EUI)
    return [
        BadInput("oversize", moisture, b'{"pad": "' + b"x" * 70_000 + b'"}', "payload_too_large"),
        BadInput("empty", moisture, b"", "empty_payload"),
        BadInput("whitespace only", moisture, b"  \n ", "empty_payload"),
        BadInput("truncated json", moisture, b'{"ts": 1, "kind": "moist', "malformed_json"),
        BadInput("not utf-8", moisture, b'{"kind": "\xff\xfe"}', "malformed_json"),
        BadInput(
            "a key twice",
            moisture,
            b'{"ts": %d, "kind": "moisture", "value": 12.5, "value": 99}' % (t // 1000),
            "duplicate_key",
        ),
        BadInput(
            "a key twice in a batch",
            moisture,
            b'{"readings": [{"ts": %d, "kind": "moisture", "kind": "dirt", "value": 1}]}'
            % (t // 1000),
            "duplicate_key",
        ),
        BadInput(
            "fractional footfall",
            native_topic(FOOTFALL_NATIVE),
            dumps({"ts": t / 1000, "kind": "footfall", "value": 2.5}),
            "wrong_type",
        ),
        BadInput(
            "negative zero footfall",
            native_topic(FOOTFALL_NATIVE),
            b'{"ts": %d, "kind": "footfall", "value": -0.0}' % (t // 1000),
            "wrong_type",
        ),
        BadInput("json string", moisture, b'"moisture 12"', "not_an_object"),
        BadInput("json number", moisture, b"12.5", "not_an_object"),
        BadInput("value is a string", moisture, native(value="12.5"), "wrong_type"),
        BadInput("value is a bool", moisture, native(value=True), "wrong_type"),
        BadInput("value is null", moisture, native(value=None), "wrong_type"),
        BadInput("kind is a number", moisture, native(kind=3), "wrong_type"),
        BadInput("ts is a list", moisture, native(ts=[2026]), "wrong_type"),
        BadInput("seq is a string", moisture, native(seq="7"), "wrong_type"),
        BadInput("readings not a list", moisture, dumps({"readings": ok}), "wrong_type"),
        BadInput("no value", moisture, native(value=...), "missing_field"),
        BadInput("no ts", moisture, native(ts=...), "missing_field"),
        BadInput("no kind", moisture, native(kind=...), "missing_field"),
        BadInput("NaN", moisture, native(value=float("nan")), "not_finite"),
        BadInput("Infinity", moisture, native(value=float("inf")), "not_finite"),
        BadInput("huge number", moisture, native().replace(b"12.5", b"1e999"), "not_finite"),
        BadInput("moisture above 100", moisture, native(value=140), "out_of_range"),
        BadInput(
            "negative dirt", native_topic(DIRT), native(kind="dirt", value=-3), "out_of_range"
        ),
        BadInput("unknown sensor", native_topic("no-such-sensor"), native(), "unknown_sensor"),
        BadInput("unknown kind", moisture, native(kind="radiation"), "unknown_kind"),
        BadInput(
            "kind not installed", moisture, native(kind="footfall", value=3), "kind_not_installed"
        ),
        BadInput("far future", moisture, native(ts=(now_ms + 3_600_000) / 1000), "time_in_future"),
        BadInput(
            "too old", moisture, native(ts=(now_ms - 500 * 86_400_000) / 1000), "time_too_old"
        ),
        BadInput("ts not a time", moisture, native(ts="yesterday"), "bad_time"),
        BadInput("ts without offset", moisture, native(ts="2026-11-20T08:00:00"), "bad_time"),
        # finite seconds whose milliseconds overflow (found by the fuzzer)
        BadInput("ts of 1e308 seconds", moisture, native(ts=1e308), "bad_time"),
        BadInput(
            "senml bt of 1e308 seconds",
            moisture,
            dumps([{"bt": 1e308, "n": "moisture", "v": 12}]),
            "bad_time",
        ),
        BadInput("topic too deep", "floorwatch/up/a/b", native(), "bad_topic"),
        BadInput("senml empty pack", moisture, b"[]", "bad_senml"),
        BadInput(
            "senml wrong unit",
            moisture,
            dumps([{"n": "moisture", "u": "Cel", "v": 12, "t": -60}]),
            "bad_senml",
        ),
        BadInput(
            "senml other sensor's name",
            moisture,
            dumps([{"bn": f"{DIRT}:", "n": "dirt", "v": 12, "t": -60}]),
            "bad_senml",
        ),
        BadInput(
            "senml string value", moisture, dumps([{"n": "moisture", "vs": "wet"}]), "wrong_type"
        ),
        BadInput(
            "senml sum only", moisture, dumps([{"n": "moisture", "s": 12}]), "unsupported_format"
        ),
        BadInput(
            "chirpstack v3 event",
            cs_topic,
            dumps({"devEUI": VS350_EUI, "objectJSON": "{}"}),
            "unsupported_format",
        ),
        BadInput(
            "chirpstack unknown device",
            chirpstack_topic("ffffffffffffffff"),
            dumps(chirpstack_event("ffffffffffffffff", t, {"battery": 90})),
            "unknown_device",
        ),
        BadInput(
            "chirpstack without codec",
            cs_topic,
            dumps({k: v for k, v in chirpstack_event(VS350_EUI, t, {}).items() if k != "object"}),
            "missing_field",
        ),
        BadInput(
            "chirpstack devEui differs from topic",
            chirpstack_topic("a840410000000006"),
            dumps(chirpstack_event(VS350_EUI, t, {"battery": 90})),
            "bad_topic",
        ),
        BadInput(
            "tts field is a string",
            tts_topic(),
            dumps(tts_uplink(ELSYS_EUI, t, {**elsys, "waterleak": "100"})),
            "wrong_type",
            also_stored=3,  # temperature, rssi, snr
        ),
        BadInput(
            "tts scaled value out of range",
            tts_topic(),
            dumps(tts_uplink(ELSYS_EUI, t - 1000, {**elsys, "waterleak": 300})),
            "out_of_range",
            also_stored=3,
        ),
        BadInput(
            "tts without dev_eui",
            tts_topic(),
            dumps({**tts_uplink(ELSYS_EUI, t, elsys), "end_device_ids": {"device_id": "x"}}),
            "missing_field",
        ),
        BadInput("tts array payload", tts_topic(), b"[1, 2]", "not_an_object"),
        # no application id (v3/{app}/devices/{id}/up without @tenant is valid: open source)
        BadInput("tts bad topic", "v3/@skurup/devices/x/up", dumps({}), "bad_topic"),
        BadInput(
            "tts value not in the value map",
            tts_topic("em300-sld-1"),
            dumps(tts_uplink(EM300_SLD_EUI, t - 2000, {"leakage_status": "flooded"})),
            "unmapped_value",
            also_stored=2,  # rssi, snr
        ),
        BadInput(
            "tts simulated uplink",
            tts_topic(),
            dumps({**tts_uplink(ELSYS_EUI, t - 3000, elsys), "simulated": True}),
            "simulated",
        ),
        BadInput(
            "chirpstack status of a mains-powered device",
            chirpstack_status_topic(VS350_EUI),
            dumps(chirpstack_status(VS350_EUI, t, externalPowerSource=True)),
            "no_battery_level",
        ),
        BadInput(
            "senml two values for one time",
            moisture,
            dumps(
                [{"bt": (t - 4000) / 1000, "n": "moisture", "v": 12}, {"n": "moisture", "v": 14}]
            ),
            "duplicate_time",
            also_stored=1,
        ),
    ]


def native_batches(
    registry: Registry, readings: int, per_message: int, sensors: int = 10
) -> list[tuple[str, bytes]]:
    """`readings` distinct readings of `sensors` native sensors, `per_message` to a message, at
    10 s steps going back from now (so all are inside the 400-day window)."""
    chosen = [place.sensor for place in registry.sensors.values() if place.sensor.lorawan is None][
        :sensors
    ]
    now = int(time.time())
    messages: list[tuple[str, bytes]] = []
    per_sensor = readings // len(chosen)
    for sensor in chosen:
        for start in range(0, per_sensor, per_message):
            batch = [
                {"ts": now - 10 * (i + 1), "kind": str(sensor.kind), "value": float(i % 90)}
                for i in range(start, min(start + per_message, per_sensor))
            ]
            messages.append((native_topic(sensor.id), dumps({"readings": batch})))
    # Interleave the sensors, as a real stream would.
    return [messages[i] for k in range(len(chosen)) for i in range(k, len(messages), len(chosen))]
