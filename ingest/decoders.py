"""Pure decoders: (topic, payload bytes, context) -> readings and rejections. No I/O, no clock.

Four wire formats arrive over MQTT (the README's "The sensor protocol"; SenML is RFC 8428, the
LoRaWAN events are those of ChirpStack's and The Things Stack's MQTT integrations, as their
documentation at chirpstack.io/docs and thethingsindustries.com/docs defines them):

- native JSON on ``floorwatch/up/{sensor_id}``: one object ``{"ts", "kind", "value", "seq"?}``
  or a batch ``{"readings": [ {...}, ... ]}``. ``ts`` is an RFC 3339 string with an offset, or
  epoch seconds (a number).
- SenML (RFC 8428) on the same topic: a JSON array of records. Resolved name = ``bn`` + ``n``
  is the topic's sensor id (meaning its own kind), a bare kind (``"n": "moisture"``), or the
  sensor id, ``:`` or ``/``, and a kind (`_senml_kind`). Resolved time = ``bt`` + ``t`` in
  seconds; below 2**28 it is relative to now. Resolved value = ``bv`` + ``v``. Units are checked
  (``%`` or ``/`` for moisture and dirt, ``count`` for footfall, ``Cel``, ``%RH``, ``%EL``,
  ``dBm``, ``dB``).
- ChirpStack v4 uplink events on ``application/{app}/device/{devEui}/event/up``.
- The Things Stack v3 uplinks on ``v3/{app}@{tenant}/devices/{device_id}/up``.

LoRaWAN decoded fields become readings through the registry's field mappings (scale, offset,
summed fields, cumulative counters). A counter's previous totals are state: the collector passes
them in (`DecodeContext.counter_totals`) and keeps what comes out (`Decoded.counter_totals`), so
these functions stay pure and a crash can never make them disagree with what was committed.

Every rejection carries a stable reason code (`REASONS`) and a human detail. A message may yield
both readings and rejections (one bad reading in a batch does not spoil the others).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from floorwatch.readings import VALID_RANGE, Kind, Reading
from floorwatch.registry import Registry
from floorwatch.registry.schema import (
    KIND_UNITS,
    VOLTAGE_UNITS,
    FieldMapping,
    PathStep,
    parse_path,
    value_key,
)

REASONS = (
    "payload_too_large",
    "malformed_json",
    "not_an_object",
    "wrong_type",
    "missing_field",
    "not_finite",
    "out_of_range",
    "unknown_sensor",
    "unknown_device",
    "unknown_kind",
    "kind_not_installed",
    "time_in_future",
    "time_too_old",
    "bad_time",
    "bad_topic",
    "empty_payload",
    "bad_senml",
    "unsupported_format",
    "unmapped_value",
    "simulated",
    "no_battery_level",
    "duplicate_time",
    "duplicate_key",
)

NATIVE_PREFIX = "floorwatch/up/"
SENML_RELATIVE_LIMIT_S = 2**28  # RFC 8428 4.5.3: smaller resolved times are relative to now
SENML_VERSION = 10  # the version RFC 8428 defines; a pack needing a newer one is refused

_CHIRPSTACK_TOPIC = re.compile(r"^application/([^/]+)/device/([0-9a-fA-F]{16})/event/up$")
_CHIRPSTACK_STATUS = re.compile(r"^application/([^/]+)/device/([0-9a-fA-F]{16})/event/status$")
# `@tenant` is absent on The Things Stack open-source edition.
_TTS_TOPIC = re.compile(r"^v3/([^/@]+)(?:@([^/]+))?/devices/([^/]+)/up$")
_KIND_VALUES = frozenset(k.value for k in Kind)

# SenML units accepted per kind, with the factor to the kind's unit (floorwatch.readings).
SENML_UNITS = KIND_UNITS
# The kind a SenML record named after the sensor itself has, by its unit (`%`, `/`: its own).
SENML_UNIT_KINDS: dict[str, str] = {
    unit: str(kind)
    for unit, kind in (
        ("Cel", Kind.TEMPERATURE),
        ("%RH", Kind.HUMIDITY),
        ("%EL", Kind.BATTERY),
        ("count", Kind.FOOTFALL),
        ("dBm", Kind.RSSI),
        ("dB", Kind.SNR),
    )
}


# --- what goes in ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MappingPlan:
    """A field mapping with more than top-level numbers (paths, value map, unit, records),
    its paths parsed and its unit conversion worked out once, at registry load.
    factor: field unit -> kind unit (for a battery in volts: -> V); curve: (empty, full) in V."""

    mapping: FieldMapping
    kind: str
    paths: tuple[tuple[PathStep, ...], ...]
    records: tuple[PathStep, ...] | None
    time_path: tuple[PathStep, ...] | None
    factor: float
    curve: tuple[float, float] | None

    @classmethod
    def of(cls, mapping: FieldMapping) -> MappingPlan:
        kind = str(mapping.kind)
        unit = mapping.unit
        curve = None
        if unit in VOLTAGE_UNITS:
            factor = VOLTAGE_UNITS[unit]
            assert mapping.empty is not None and mapping.full is not None  # the schema's check
            curve = (mapping.empty * factor, mapping.full * factor)
        else:
            factor = KIND_UNITS.get(kind, {}).get(unit, 1.0) if unit is not None else 1.0
        records = parse_path(mapping.records) if mapping.records is not None else None
        if records is not None and records[-1] == -1:
            records = records[:-1]  # `history[*]`: the list at `history`
        return cls(
            mapping,
            kind,
            tuple(parse_path(name) for name in mapping.fields),
            records,
            parse_path(mapping.time_field) if mapping.time_field is not None else None,
            factor,
            curve,
        )


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A LoRaWAN device: the sensor it is and how its decoded fields map to readings.
    `mappings` are plain (top-level numeric fields); `plans` the others."""

    sensor_id: str
    mappings: tuple[FieldMapping, ...]
    plans: tuple[MappingPlan, ...] = ()


class SensorCatalog:
    """The registry reduced to what decoding needs, built once per registry (and on SIGHUP).

    `ranges[sensor_id][kind]` = (low, high) for each kind the sensor may publish, so checking
    "known sensor, installed kind, in range" is two dict lookups per reading.
    """

    def __init__(self, registry: Registry):
        self.content_hash = registry.content_hash
        self.own_kind: dict[str, str] = {
            sensor_id: str(place.sensor.kind) for sensor_id, place in registry.sensors.items()
        }
        self.ranges: dict[str, dict[str, tuple[float, float]]] = {}
        for sensor_id, place in registry.sensors.items():
            self.ranges[sensor_id] = {
                str(kind): VALID_RANGE.get(Kind(kind), (-sys.float_info.max, sys.float_info.max))
                for kind in place.sensor.kinds
            }
        self.devices: dict[str, DeviceInfo] = {
            eui: DeviceInfo(
                place.sensor.id,
                tuple(m for m in place.sensor.lorawan.mappings if m.plain),
                tuple(MappingPlan.of(m) for m in place.sensor.lorawan.mappings if not m.plain),
            )
            for eui, place in registry.sensors_by_dev_eui.items()
            if place.sensor.lorawan is not None
        }


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits: payload size in bytes, tolerated clock skew and backfill age in ms."""

    max_payload_bytes: int = 64 * 1024
    max_future_ms: int = 300_000
    max_past_ms: int = 400 * 86_400_000


# counter key "sensor_id/kind/field" -> (time of the uplink in ms, running total)
CounterTotals = Mapping[str, tuple[int, float]]


@dataclass(frozen=True, slots=True)
class DecodeContext:
    """Everything a decoder may look at besides the message. now_ms: receive time, ms UTC."""

    catalog: SensorCatalog
    now_ms: int
    limits: Limits = Limits()
    counter_totals: CounterTotals = field(default_factory=dict)
    # The accepted time window, derived from now_ms and limits.
    earliest_ms: int = field(init=False)
    latest_ms: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "earliest_ms", self.now_ms - self.limits.max_past_ms)
        object.__setattr__(self, "latest_ms", self.now_ms + self.limits.max_future_ms)


# --- what comes out ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rejection:
    """Why (part of) a message was refused: a stable code from REASONS and a human detail."""

    reason: str
    detail: str


@dataclass(slots=True)
class Decoded:
    """Readings to store, rejections to quarantine, and updated counter totals to keep.
    `counted_already`: readings left out as duplicates, not losses: a people counter's uplink
    not newer than the last one counted (a redelivery), a SenML record repeating an earlier
    one of the pack (same kind and time)."""

    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    counter_totals: dict[str, tuple[int, float]] = field(default_factory=dict)
    counted_already: int = 0

    def reject(self, reason: str, detail: str) -> Decoded:
        self.rejections.append(Rejection(reason, detail))
        return self


class _Refused(Exception):
    """Internal: one reading (or the whole message) is refused with a reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# --- entry point -------------------------------------------------------------------------------
def decode(topic: str, payload: bytes, context: DecodeContext) -> Decoded:
    """Decode one MQTT message of any supported format, chosen by its topic."""
    if len(payload) > context.limits.max_payload_bytes:
        return Decoded().reject(
            "payload_too_large",
            f"{len(payload)} bytes, limit {context.limits.max_payload_bytes}",
        )
    if not payload.strip():
        return Decoded().reject("empty_payload", "the message has no payload")
    if topic.startswith(NATIVE_PREFIX):
        return decode_native_topic(topic, payload, context)
    if topic.startswith("application/"):
        return decode_chirpstack(topic, payload, context)
    if topic.startswith("v3/"):
        return decode_things_stack(topic, payload, context)
    return Decoded().reject("bad_topic", f"no decoder for topic {topic!r}")


def _parse_json(payload: bytes) -> Any:
    # orjson parses a 50-reading batch in a quarter of json's time. What it refuses, json is
    # asked too: it takes NaN, Infinity and 1e999 (refused later as not_finite, a clearer
    # reason than malformed_json) and lone surrogates, and words the error.
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    else:
        if payload.count(b":") != _flat_key_count(document):
            _refuse_duplicate_keys(payload)  # colons in strings, nesting, or a key twice
        return document
    try:
        return json.loads(payload, object_pairs_hook=_object_without_duplicates)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _Refused("malformed_json", f"not JSON: {exc}"[:200]) from None


def _flat_key_count(document: Any) -> int:
    """The keys of a native or SenML document: its own and those of the objects in it (or in
    its `readings`), -1 for other shapes. Every key is followed by a colon, so when the payload
    has exactly as many colons, no key can be there twice: the common message costs a byte
    count and a `len` per reading; any other one gets the full check."""
    items: Any
    if type(document) is list:
        keys, items = 0, document
    elif type(document) is dict:
        keys, items = len(document), document.get("readings")
        if type(items) is not list:
            return keys
    else:
        return 0
    try:
        return keys + sum(map(len, items))
    except TypeError:  # an item without a length (a number): not this shape
        return -1


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        twice = ""
        for key, _ in pairs:
            if key in seen:
                twice = key
                break
            seen.add(key)
        # RFC 8259 4: names SHOULD be unique; a parser keeping the last would hide the first.
        raise _Refused("duplicate_key", f"key {twice[:40]!r} appears more than once in an object")
    return document


def _refuse_duplicate_keys(payload: bytes) -> None:
    # orjson took it; should json read it otherwise (a number), that is not a duplicate key
    with contextlib.suppress(ValueError, RecursionError):
        json.loads(payload, object_pairs_hook=_object_without_duplicates)


# --- native JSON and SenML ---------------------------------------------------------------------
def decode_native_topic(topic: str, payload: bytes, context: DecodeContext) -> Decoded:
    """``floorwatch/up/{sensor_id}``: a JSON object is native, a JSON array is SenML."""
    sensor_id = topic[len(NATIVE_PREFIX) :]
    if not sensor_id or "/" in sensor_id:
        return Decoded().reject("bad_topic", f"expected floorwatch/up/<sensor_id>, got {topic!r}")
    ranges = context.catalog.ranges.get(sensor_id)
    if ranges is None:
        return Decoded().reject("unknown_sensor", f"sensor {sensor_id!r} is not in the registry")
    try:
        document = _parse_json(payload)
    except _Refused as refused:
        return Decoded().reject(refused.reason, refused.detail)
    if isinstance(document, list):
        return decode_senml(sensor_id, ranges, document, context)
    if isinstance(document, dict):
        return decode_native(sensor_id, ranges, document, context)
    return Decoded().reject(
        "not_an_object", f"expected a JSON object or SenML array, got {type(document).__name__}"
    )


def decode_native(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    document: dict[str, Any],
    context: DecodeContext,
) -> Decoded:
    """A native message: one reading object, or ``{"readings": [...]}``."""
    out = Decoded()
    if "readings" in document:
        items = document["readings"]
        if not isinstance(items, list):
            return out.reject("wrong_type", f"readings must be a list, got {type(items).__name__}")
        if not items:
            return out.reject("missing_field", "readings is empty")
        _native_items(sensor_id, ranges, items, context, out)
        return out
    try:
        out.readings.append(_native_reading(sensor_id, ranges, document, context))
    except _Refused as refused:
        out.reject(refused.reason, refused.detail)
    return out


_new_reading = tuple.__new__  # what Reading(...) calls, without its Python-level __new__


def _native_items(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    items: list[Any],
    context: DecodeContext,
    out: Decoded,
) -> None:
    """Each item's reading, or its refusal, into `out`.

    A valid reading of the common shape (whole epoch seconds, a known kind, a number in range,
    an integer seq or none) is taken here in one pass of inline checks: two calls and the
    `Reading` constructor per reading were a third of the decoding thread's time at 50 readings
    per message. Any other item goes through `_native_reading`, which checks it in its own
    order and words why. Both give the same result for every item (tests/ingest/
    test_decoders.py compares them on generated items)."""
    readings = out.readings
    earliest_ms, latest_ms = context.earliest_ms, context.latest_ms
    for index, item in enumerate(items):
        if type(item) is dict and "kind" in item and "value" in item and "ts" in item:
            kind = item["kind"]
            value: Any = item["value"]
            ts = item["ts"]
            value_type = type(value)
            if (
                type(ts) is int
                and type(kind) is str
                and (value_type is float or value_type is int)
                and earliest_ms <= (ts_ms := ts * 1000) <= latest_ms
                and (bounds := ranges.get(kind)) is not None
                and bounds[0] <= value <= bounds[1]
                and ("seq" not in item or type(item["seq"]) is int or item["seq"] is None)
                and (kind != "footfall" or not (value % 1 or math.copysign(1.0, value) < 0))
            ):
                readings.append(
                    _new_reading(
                        Reading,
                        (sensor_id, kind, ts_ms, value if value_type is float else float(value)),
                    )
                )
                continue
        try:
            if not isinstance(item, dict):
                raise _Refused("not_an_object", f"got {type(item).__name__}")
            readings.append(_native_reading(sensor_id, ranges, item, context))
        except _Refused as refused:
            out.reject(refused.reason, f"readings[{index}]: {refused.detail}")


def _native_reading(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    item: dict[str, Any],
    context: DecodeContext,
) -> Reading:
    try:
        kind = item["kind"]
        value = item["value"]
        ts = item["ts"]
    except KeyError as exc:
        raise _Refused("missing_field", f"no {exc.args[0]!r}") from None
    seq = item.get("seq")
    if seq is not None and type(seq) is not int:
        raise _Refused("wrong_type", f"seq must be an integer, got {type(seq).__name__}")
    ts_ms = ts * 1000 if type(ts) is int else _native_time_ms(ts)  # whole seconds: the common case
    return _checked(sensor_id, ranges, kind, value, ts_ms, context)


def _native_time_ms(ts: Any) -> int:
    """RFC 3339 string with an offset, or epoch seconds -> ms since the epoch."""
    kind = type(ts)
    if kind is str:
        return _rfc3339_ms(ts)
    if kind is int or kind is float:
        return _epoch_ms(ts)
    raise _Refused(
        "wrong_type", f"ts must be an RFC 3339 string or epoch seconds, got {kind.__name__}"
    )


def _epoch_ms(seconds: float) -> int:
    """Epoch seconds -> ms; 1e308 s is finite but its milliseconds are not."""
    ms = seconds * 1000
    if not math.isfinite(ms):
        raise _Refused("bad_time", f"time {seconds!r} s is not a finite number of ms")
    return round(ms)


def _rfc3339_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Refused("bad_time", f"{text[:40]!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise _Refused("bad_time", f"{text[:40]!r} has no UTC offset")
    return round(moment.timestamp() * 1000)


def _checked(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    kind: Any,
    value: Any,
    ts_ms: int,
    context: DecodeContext,
) -> Reading:
    """Validate one reading: kind known and installed, value a finite number in range, time sane."""
    if type(kind) is not str:
        raise _Refused("wrong_type", f"kind must be a string, got {type(kind).__name__}")
    bounds = ranges.get(kind)
    if bounds is None:
        if kind in _KIND_VALUES:
            raise _Refused("kind_not_installed", f"sensor {sensor_id!r} does not measure {kind}")
        raise _Refused("unknown_kind", f"unknown kind {kind[:40]!r}")
    value_type = type(value)
    if value_type is not float and value_type is not int:  # bool is an int subclass: excluded
        raise _Refused("wrong_type", f"{kind} value must be a number, got {value_type.__name__}")
    if not bounds[0] <= value <= bounds[1]:  # false for NaN and infinities too: bounds are finite
        if not math.isfinite(value):
            raise _Refused("not_finite", f"{kind} value is {value!r}")
        raise _Refused("out_of_range", f"{kind} {value!r} outside {bounds[0]:g}..{bounds[1]:g}")
    if kind == "footfall" and (value % 1 or math.copysign(1.0, value) < 0):
        # passages are counted: a whole number, and -0.0 is a sign of a broken counter
        raise _Refused("wrong_type", f"footfall must be an integer >= 0, got {value!r}")
    if not context.earliest_ms <= ts_ms <= context.latest_ms:
        if ts_ms > context.latest_ms:
            ahead = (ts_ms - context.now_ms) / 1000
            raise _Refused(
                "time_in_future", f"time is {ahead:.0f} s ahead of the collector's clock"
            )
        days = (context.now_ms - ts_ms) / 86_400_000
        raise _Refused("time_too_old", f"time is {days:.0f} days old")
    return Reading(sensor_id, kind, ts_ms, float(value))


def decode_senml(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    pack: list[Any],
    context: DecodeContext,
) -> Decoded:
    """A SenML pack (RFC 8428) published on a sensor's own topic. Times in seconds."""
    out = Decoded()
    if not pack:
        return out.reject("bad_senml", "empty SenML pack")
    base_name = ""
    base_time = 0.0
    base_unit: str | None = None
    base_value = 0.0
    now_s = context.now_ms / 1000
    seen: dict[tuple[str, int], float] = {}  # (kind, time) -> value: repeats are duplicates
    for index, record in enumerate(pack):
        try:
            if not isinstance(record, dict):
                raise _Refused("not_an_object", f"got {type(record).__name__}")
            # Base fields apply to this record and the ones after it (RFC 8428 4.1).
            if "bver" in record:
                bver = record["bver"]
                if type(bver) is not int or bver > SENML_VERSION:
                    raise _Refused("bad_senml", f"bver {bver!r} is not supported")
            if "bn" in record:
                base_name = _senml_str(record, "bn")
            if "bt" in record:
                base_time = _senml_number(record, "bt")
            if "bu" in record:
                base_unit = _senml_str(record, "bu")
            if "bv" in record:
                base_value = _senml_number(record, "bv")
            if "bs" in record:
                _senml_number(record, "bs")  # validated; sums are not readings (see below)
            name = base_name + (_senml_str(record, "n") if "n" in record else "")
            if not name:
                raise _Refused("bad_senml", "record has no name (bn + n)")
            kind = _senml_kind(
                name, sensor_id, context.catalog.own_kind[sensor_id], record.get("u", base_unit)
            )
            if "v" in record:
                value = record["v"]
                if type(value) is float or type(value) is int:
                    value = base_value + value
            elif "vs" in record or "vb" in record or "vd" in record:
                raise _Refused("wrong_type", f"{kind[:40]} needs a numeric value (v)")
            elif "s" in record:
                raise _Refused("unsupported_format", "SenML sums (s) are not readings; send v")
            else:
                raise _Refused("missing_field", "record has no value (v)")
            unit = record.get("u", base_unit)
            if unit is not None:
                factors = SENML_UNITS.get(kind)
                if type(unit) is not str:
                    raise _Refused("wrong_type", "u must be a string")
                if factors is not None and unit not in factors:
                    raise _Refused(
                        "bad_senml", f"unit {unit[:20]!r} for {kind}, expected {sorted(factors)}"
                    )
                if factors is not None and type(value) in (float, int):
                    value = value * factors[unit]
            t = _senml_number(record, "t") if "t" in record else 0.0
            when = base_time + t
            if when < SENML_RELATIVE_LIMIT_S:
                when = now_s + when
            ts_ms = _epoch_ms(when)
            reading = _checked(sensor_id, ranges, kind, value, ts_ms, context)
            earlier = seen.get((kind, ts_ms))
            if earlier is not None:  # a second record of this kind and time
                out.counted_already += 1
                if earlier != reading.value:
                    raise _Refused(
                        "duplicate_time",
                        f"{kind} at {ts_ms} ms is {reading.value!r} here and {earlier!r} in an "
                        "earlier record: the earlier one is kept",
                    )
                continue
            seen[(kind, ts_ms)] = reading.value
            out.readings.append(reading)
        except _Refused as refused:
            out.reject(refused.reason, f"record {index}: {refused.detail}")
    return out


def _senml_kind(name: str, sensor_id: str, own_kind: str, unit: Any = None) -> str:
    """The kind a resolved SenML name stands for, on the topic of `sensor_id`.

    Accepted names: the sensor id itself, or a URN ending in ``:`` and it
    (``"urn:dev:ow:<sensor_id>"``), whose kind the unit says (`SENML_UNIT_KINDS`; `%`, `/` or
    none: its own kind; ``"bn": "yst-ostra-main-inner-", "n": "moisture"``), a bare kind
    (``"n": "temperature"``), or a kind after the sensor id and ``:`` or ``/``
    (``"bn": "urn:dev:floorwatch:<sensor_id>:", "n": "temperature"``).
    """
    if name == sensor_id or (name.endswith(sensor_id) and name[: -len(sensor_id)].endswith(":")):
        return SENML_UNIT_KINDS.get(unit, own_kind) if type(unit) is str else own_kind
    cut = max(name.rfind(":"), name.rfind("/"))
    if cut < 0:
        return name  # a bare kind; unknown or not installed ones are refused by _checked
    prefix, kind = name[:cut], name[cut + 1 :]
    if prefix != sensor_id and not prefix.endswith((":" + sensor_id, "/" + sensor_id)):
        raise _Refused(
            "bad_senml", f"name {name[:80]!r} is not of sensor {sensor_id!r} (its topic)"
        )
    return kind


def _senml_str(record: dict[str, Any], key: str) -> str:
    value = record[key]
    if type(value) is not str:
        raise _Refused("bad_senml", f"{key} must be a string, got {type(value).__name__}")
    return value


def _senml_number(record: dict[str, Any], key: str) -> float:
    value = record[key]
    if type(value) is not float and type(value) is not int:
        raise _Refused("bad_senml", f"{key} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise _Refused("not_finite", f"{key} is {value!r}")
    return float(value)


# --- LoRaWAN network servers -------------------------------------------------------------------
def decode_chirpstack(topic: str, payload: bytes, context: DecodeContext) -> Decoded:
    """A ChirpStack v4 uplink event: ``deviceInfo.devEui``, ``time``, ``object``, ``rxInfo[]``."""
    match = _CHIRPSTACK_TOPIC.match(topic)
    if match is None:
        status = _CHIRPSTACK_STATUS.match(topic)
        if status is not None:
            return decode_chirpstack_status(status.group(2), payload, context)
        return Decoded().reject(
            "bad_topic", f"expected application/<app>/device/<devEui>/event/up, got {topic!r}"
        )
    try:
        event = _parse_json(payload)
        if not isinstance(event, dict):
            raise _Refused("not_an_object", f"expected an object, got {type(event).__name__}")
        if "devEUI" in event or "objectJSON" in event:
            raise _Refused("unsupported_format", "ChirpStack v3 event (devEUI/objectJSON)")
        info = _object(event, "deviceInfo")
        dev_eui = _string(info, "devEui", "deviceInfo.devEui").lower()
        if dev_eui != match.group(2).lower():
            raise _Refused("bad_topic", f"devEui {dev_eui} differs from the topic's")
        device = _device(dev_eui, context)
        decoded_fields = _object(event, "object", "object (no codec configured?)")
        ts_ms = _uplink_time(event.get("time"), context)
        links = event.get("rxInfo")
    except _Refused as refused:
        return Decoded().reject(refused.reason, refused.detail)
    return _lorawan_readings(device, decoded_fields, ts_ms, links, context)


def decode_things_stack(topic: str, payload: bytes, context: DecodeContext) -> Decoded:
    """A The Things Stack v3 uplink: ``end_device_ids.dev_eui``, ``received_at``,
    ``uplink_message.decoded_payload`` and ``uplink_message.rx_metadata[]``."""
    match = _TTS_TOPIC.match(topic)
    if match is None:
        return Decoded().reject(
            "bad_topic", f"expected v3/<app>[@<tenant>]/devices/<id>/up, got {topic!r}"
        )
    try:
        message = _parse_json(payload)
        if not isinstance(message, dict):
            raise _Refused("not_an_object", f"expected an object, got {type(message).__name__}")
        if message.get("simulated") is True:
            raise _Refused(
                "simulated", "a simulated uplink (the console's Simulate uplink), not a measurement"
            )
        ids = _object(message, "end_device_ids")
        dev_eui = _string(ids, "dev_eui", "end_device_ids.dev_eui").lower()
        device = _device(dev_eui, context)
        uplink = _object(message, "uplink_message")
        decoded_fields = _object(uplink, "decoded_payload", "uplink_message.decoded_payload")
        received = message.get("received_at", uplink.get("received_at"))
        ts_ms = _uplink_time(received, context)
        links = uplink.get("rx_metadata")
    except _Refused as refused:
        return Decoded().reject(refused.reason, refused.detail)
    return _lorawan_readings(device, decoded_fields, ts_ms, links, context)


def decode_chirpstack_status(topic_eui: str, payload: bytes, context: DecodeContext) -> Decoded:
    """A ChirpStack v4 status event (``.../event/status``): the device's answer to DevStatusReq.
    ``batteryLevel`` (%) becomes a battery reading; left out, it is 0 (the Protobuf JSON mapping
    omits zeros) unless ``externalPowerSource`` or ``batteryLevelUnavailable`` is set. ``margin``
    (the downlink's demodulation margin, dB) is not a reading."""
    try:
        event = _parse_json(payload)
        if not isinstance(event, dict):
            raise _Refused("not_an_object", f"expected an object, got {type(event).__name__}")
        info = _object(event, "deviceInfo")
        dev_eui = _string(info, "devEui", "deviceInfo.devEui").lower()
        if dev_eui != topic_eui.lower():
            raise _Refused("bad_topic", f"devEui {dev_eui} differs from the topic's")
        device = _device(dev_eui, context)
        ts_ms = _uplink_time(event.get("time"), context)
        if event.get("externalPowerSource") is True:
            raise _Refused("no_battery_level", "the device is mains powered (externalPowerSource)")
        if event.get("batteryLevelUnavailable") is True:
            raise _Refused("no_battery_level", "the device cannot measure its battery")
        level = event.get("batteryLevel", 0.0)
        ranges = context.catalog.ranges.get(device.sensor_id, {})
        reading = _checked(device.sensor_id, ranges, str(Kind.BATTERY), level, ts_ms, context)
    except _Refused as refused:
        return Decoded().reject(refused.reason, refused.detail)
    return Decoded(readings=[reading])


def _object(parent: dict[str, Any], key: str, label: str | None = None) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        raise _Refused("missing_field", f"no {label or key}")
    if not isinstance(value, dict):
        raise _Refused("wrong_type", f"{label or key} must be an object")
    return value


def _string(parent: dict[str, Any], key: str, label: str) -> str:
    value = parent.get(key)
    if value is None:
        raise _Refused("missing_field", f"no {label}")
    if type(value) is not str:
        raise _Refused("wrong_type", f"{label} must be a string")
    return value


def _device(dev_eui: str, context: DecodeContext) -> DeviceInfo:
    device = context.catalog.devices.get(dev_eui)
    if device is None:
        raise _Refused("unknown_device", f"device {dev_eui} is not in the registry")
    return device


def _uplink_time(value: Any, context: DecodeContext) -> int:
    """The network server's receive time; without one, the collector's receive time."""
    if value is None:
        return context.now_ms
    if type(value) is not str:
        raise _Refused("wrong_type", "time must be an RFC 3339 string")
    return _rfc3339_ms(value)


def _lorawan_readings(
    device: DeviceInfo,
    decoded_fields: dict[str, Any],
    ts_ms: int,
    links: Any,
    context: DecodeContext,
) -> Decoded:
    """Map decoded fields through the registry; add the best gateway's rssi and snr."""
    out = Decoded()
    sensor_id = device.sensor_id
    ranges = context.catalog.ranges.get(sensor_id, {})
    mapped = 0
    for mapping in device.mappings:
        present = [name for name in mapping.fields if name in decoded_fields]
        if not present:
            continue  # a device need not send every field in every uplink (battery, say)
        mapped += 1
        try:
            if len(present) < len(mapping.fields):
                missing = sorted(set(mapping.fields) - set(present))
                raise _Refused("missing_field", f"{mapping.kind}: no {', '.join(missing)}")
            numbers = [_field_number(decoded_fields, name) for name in mapping.fields]
            if mapping.cumulative:
                total = _passages(sensor_id, mapping, numbers, ts_ms, context, out)
                if total is None:
                    continue
                if math.isnan(total):  # a redelivered uplink: its passages are counted already
                    out.counted_already += 1
                    continue
            else:
                total = sum(numbers)
            # Rounded to 0.001: a scale such as 100/255 written as 0.392157 would otherwise put
            # full scale at 100.000035 %, out of range. Sensors resolve far coarser than this.
            value = round(total * mapping.scale + mapping.offset, 3)
            kind = str(mapping.kind)
            out.readings.append(_checked(sensor_id, ranges, kind, value, ts_ms, context))
        except _Refused as refused:
            out.reject(refused.reason, refused.detail)
    for plan in device.plans:
        mapped += _planned_readings(sensor_id, ranges, plan, decoded_fields, ts_ms, context, out)
    if mapped == 0:
        wanted = sorted(
            {name for m in device.mappings for name in m.fields}
            | {
                f"{p.mapping.records}: {n}" if p.records else n
                for p in device.plans
                for n in p.mapping.fields
            }
        )
        out.reject("missing_field", f"no mapped field ({', '.join(wanted)}) in the decoded payload")
    for kind, value in _link_quality(links).items():
        try:
            out.readings.append(_checked(sensor_id, ranges, kind, value, ts_ms, context))
        except _Refused as refused:
            out.reject(refused.reason, f"link quality: {refused.detail}")
    return out


_ABSENT = object()


def _at(document: Any, path: tuple[PathStep, ...]) -> Any:
    """The value at a path in decoded JSON, or _ABSENT."""
    for step in path:
        if type(step) is int:
            if not isinstance(document, list) or step >= len(document):
                return _ABSENT
        elif not isinstance(document, dict) or step not in document:
            return _ABSENT
        document = document[step]
    return document


def _planned_readings(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    plan: MappingPlan,
    decoded_fields: dict[str, Any],
    ts_ms: int,
    context: DecodeContext,
    out: Decoded,
) -> int:
    """Readings of one non-plain mapping: from the payload itself, or one per logged record at
    the record's own time. Returns 1 when the mapping's fields were in the payload, else 0."""
    if plan.records is None:
        if all(_at(decoded_fields, path) is _ABSENT for path in plan.paths):
            return 0
        try:
            reading = _planned_reading(sensor_id, ranges, plan, decoded_fields, ts_ms, context, out)
            if reading is not None:
                out.readings.append(reading)
        except _Refused as refused:
            out.reject(refused.reason, refused.detail)
        return 1
    records = _at(decoded_fields, plan.records)
    if records is _ABSENT:
        return 0
    label = plan.mapping.records
    if not isinstance(records, list):
        out.reject("wrong_type", f"{label} must be a list, got {type(records).__name__}")
        return 1
    assert plan.time_path is not None  # the schema requires time_field with records
    for index, record in enumerate(records):
        try:
            when = _at(record, plan.time_path)
            if when is _ABSENT:
                raise _Refused("missing_field", f"no {plan.mapping.time_field}")
            if type(when) is int or type(when) is float:
                record_ms = _epoch_ms(when)
            elif type(when) is str:
                record_ms = _rfc3339_ms(when)
            else:
                raise _Refused("wrong_type", f"{plan.mapping.time_field} must be a time")
            reading = _planned_reading(sensor_id, ranges, plan, record, record_ms, context, out)
            if reading is not None:
                out.readings.append(reading)
        except _Refused as refused:
            out.reject(refused.reason, f"{label}[{index}]: {refused.detail}")
    return 1


def _planned_reading(
    sensor_id: str,
    ranges: Mapping[str, tuple[float, float]],
    plan: MappingPlan,
    document: Any,
    ts_ms: int,
    context: DecodeContext,
    out: Decoded,
) -> Reading | None:
    """One reading of a mapping from `document` (the payload or one record); None when none of
    its fields is there, or a counter has nothing to subtract from yet."""
    mapping = plan.mapping
    raw = [_at(document, path) for path in plan.paths]
    if all(value is _ABSENT for value in raw):
        return None
    if any(value is _ABSENT for value in raw):
        missing = [
            name for name, value in zip(mapping.fields, raw, strict=True) if value is _ABSENT
        ]
        raise _Refused("missing_field", f"{plan.kind}: no {', '.join(missing)}")
    numbers = [
        _mapped_number(mapping, name, value)
        for name, value in zip(mapping.fields, raw, strict=True)
    ]
    if mapping.cumulative:
        total = _passages(sensor_id, mapping, numbers, ts_ms, context, out)
        if total is None:
            return None
        if math.isnan(total):
            out.counted_already += 1
            return None
    else:
        total = sum(numbers)
    value = total * mapping.scale + mapping.offset
    if plan.curve is not None:  # volts along the discharge curve -> %, clamped to 0..100
        empty, full = plan.curve
        value = min(100.0, max(0.0, (value * plan.factor - empty) / (full - empty) * 100.0))
    else:
        value *= plan.factor
    return _checked(sensor_id, ranges, plan.kind, round(value, 3), ts_ms, context)


def _mapped_number(mapping: FieldMapping, name: str, value: Any) -> float:
    """A decoded value as a number: through the value map if the mapping has one."""
    if mapping.values is None:
        return _field_number({name: value}, name)
    key = value_key(value)
    number = mapping.values.get(key) if key is not None else None
    if number is None:
        allowed = ", ".join(repr(k) for k in mapping.values)
        shown = repr(value)[:60]
        raise _Refused(
            "unmapped_value", f"{mapping.kind}: {name} = {shown} is not in its values ({allowed})"
        )
    return number


def _field_number(decoded_fields: dict[str, Any], name: str) -> float:
    value = decoded_fields[name]
    if type(value) is not float and type(value) is not int:
        raise _Refused("wrong_type", f"field {name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise _Refused("not_finite", f"field {name} is {value!r}")
    return float(value)


def _passages(
    sensor_id: str,
    mapping: FieldMapping,
    totals: list[float],
    ts_ms: int,
    context: DecodeContext,
    out: Decoded,
) -> float | None:
    """Running totals -> passages since the previous uplink, summed over the fields.

    None for the first uplink seen (no previous total to subtract); NaN for an uplink not newer
    than the last one (a redelivery: its passages are already counted).
    A total below the previous one is a wrap at `counter_max` when the wrapped increase is small
    (under half the counter range), otherwise a counter reset (the device restarted from 0).
    """
    passages = 0.0
    complete = True
    for name, total in zip(mapping.fields, totals, strict=True):
        if total < 0:
            raise _Refused("out_of_range", f"running total {name} is negative")
        key = f"{sensor_id}/{mapping.kind}/{name}"
        previous = out.counter_totals.get(key) or context.counter_totals.get(key)
        if previous is not None and ts_ms <= previous[0]:
            return math.nan
        out.counter_totals[key] = (ts_ms, total)
        if previous is None:
            complete = False
            continue
        increase = total - previous[1]
        if increase < 0:
            cap = mapping.counter_max
            if cap is not None and total + cap - previous[1] < cap / 2:
                increase = total + cap - previous[1]  # wrapped around at counter_max
            else:
                increase = total  # reset: counting restarted from 0
        passages += increase
    return passages if complete else None


def _link_quality(links: Any) -> dict[str, float]:
    """rssi (dBm) and snr (dB) of the gateway that heard the uplink best."""
    if not isinstance(links, list):
        return {}
    best: dict[str, Any] | None = None
    for link in links:
        if not isinstance(link, dict):
            continue
        rssi = link.get("rssi")
        if type(rssi) is not int and type(rssi) is not float:
            continue
        if best is None or rssi > best["rssi"]:
            best = link
    if best is None:
        return {}
    quality = {"rssi": float(best["rssi"])}
    snr = best.get("snr")
    if type(snr) is int or type(snr) is float:
        quality["snr"] = float(snr)
    return quality
