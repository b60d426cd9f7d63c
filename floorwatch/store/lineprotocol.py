"""InfluxDB line protocol (https://docs.influxdata.com/influxdb/v1.8/write_protocols/line_protocol_reference/).

`line()` writes any point. `ReadingLines` is the collector's hot path: a reading's measurement
and tags depend only on its (sensor, kind), so that part of the line (escaped, tags sorted as
InfluxDB stores them) is built once per (sensor, kind) and each reading adds only its value and
time. `body()` turns lines into a request body that never fails on text a device sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from floorwatch.readings import Reading

READING_MEASUREMENT = "reading"
_VALUE = " value="
SensorTags = Callable[[str], Mapping[str, str]]


def escape_key(text: str) -> str:
    """Escape a measurement, tag key or tag value: backslash, comma, equals sign, space."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def field_value(value: float | str) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(float(value))  # always a float: InfluxDB refuses a float field later sent as int


def line(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, float | str], ts: int
) -> str:
    """One point; empty tag values and non-finite float fields are left out."""
    tag_text = "".join(
        f",{escape_key(k)}={escape_key(v)}" for k, v in sorted(tags.items()) if v != ""
    )
    field_text = ",".join(
        f"{escape_key(k)}={field_value(v)}"
        for k, v in fields.items()
        if not (isinstance(v, float) and not math.isfinite(v))
    )
    return f"{escape_key(measurement)}{tag_text} {field_text} {ts}"


def body(lines: Iterable[str]) -> bytes:
    """Lines as a UTF-8 request body. A lone surrogate (json.loads lets "\\ud800" through from a
    device) cannot be UTF-8 encoded: it is written as the text \\ud800 instead of failing."""
    return ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")


class ReadingLines:
    """Encodes readings as `reading,<tags> value=<float> <ms>` lines, the same points `line()`
    gives, with each (sensor, kind)'s prefix cached. `forget()` drops the cache (the registry,
    and so the location tags, changed)."""

    def __init__(self, sensor_tags: SensorTags | None = None):
        self._sensor_tags = sensor_tags
        self._prefixes: dict[tuple[str, str], str] = {}

    def forget(self) -> None:
        self._prefixes = {}  # a new dict, not clear(): another thread may be encoding

    def _prefix(self, sensor_id: str, kind: str) -> str:
        tags = dict(self._sensor_tags(sensor_id)) if self._sensor_tags else {}
        tags["sensor_id"] = sensor_id
        tags["kind"] = kind
        text = line(READING_MEASUREMENT, tags, {}, 0)
        prefix = text[: -len("  0")] + _VALUE  # the tags part of a line without fields
        self._prefixes[(sensor_id, kind)] = prefix
        return prefix

    def lines(self, readings: Sequence[Reading]) -> list[str]:
        """One pass: a dict lookup, a float repr and a format per reading."""
        get = self._prefixes.get
        isfinite = math.isfinite
        out: list[str] = []
        append = out.append
        for sensor_id, kind, ts_ms, value in readings:
            prefix = get((sensor_id, kind)) or self._prefix(sensor_id, kind)
            if isfinite(value):
                append(f"{prefix}{float(value)!r} {ts_ms}")
            else:  # as line() writes it, without the field: InfluxDB refuses it either way
                append(f"{prefix[: -len(_VALUE)]}  {ts_ms}")
        return out
