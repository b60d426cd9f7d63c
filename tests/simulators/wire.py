"""A reference reader of the four wire formats, written from the specification (the README's "The
sensor protocol", RFC 8428 for SenML, ChirpStack v4's and The Things Stack v3's MQTT integration
documentation), not from the simulator's code, so the tests check the simulator against it."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from floorwatch.registry import Registry

Row = tuple[str, str, int, float]  # sensor id, kind or decoded field, time ms, value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return float(value)


def _rfc3339_ms(text: str) -> int:
    # Python parses at most microseconds: cut nanoseconds.
    if "." in text:
        head, frac = text.rstrip("Z").split(".")
        text = f"{head}.{frac[:6]}+00:00"
    else:
        text = text.replace("Z", "+00:00")
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def decode(topic: str, payload: str, registry: Registry) -> list[Row]:
    """Readings of one message; ValueError for anything the spec does not allow."""
    document = json.loads(payload)
    parts = topic.split("/")
    if parts[:2] == ["floorwatch", "up"] and len(parts) == 3:
        sensor = parts[2]
        if isinstance(document, list):  # SenML
            rows, base_time = [], 0.0
            for record in document:
                base_time = _number(record.get("bt", base_time)) if "bt" in record else base_time
                t = base_time + _number(record.get("t", 0))
                rows.append((sensor, str(record["n"]), round(t * 1000), _number(record["v"])))
            return rows
        if not isinstance(document, dict):
            raise ValueError("not an object")
        items = document.get("readings", [document])
        return [
            (sensor, str(item["kind"]), round(_number(item["ts"]) * 1000), _number(item["value"]))
            for item in items
        ]
    if parts[0] == "application" and parts[-2:] == ["event", "up"]:
        eui = document["deviceInfo"]["devEui"].lower()
        assert eui == parts[3]
        sensor = registry.sensors_by_dev_eui[eui].sensor.id
        at = _rfc3339_ms(document["time"])
        return [(sensor, k, at, _number(v)) for k, v in document["object"].items()]
    if parts[0] == "v3" and parts[-1] == "up":
        eui = document["end_device_ids"]["dev_eui"].lower()
        sensor = registry.sensors_by_dev_eui[eui].sensor.id
        at = _rfc3339_ms(document["received_at"])
        decoded = document["uplink_message"]["decoded_payload"]
        return [(sensor, k, at, _number(v)) for k, v in decoded.items()]
    raise ValueError(f"unknown topic {topic}")
