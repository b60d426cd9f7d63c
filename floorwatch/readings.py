"""The domain model shared by every component: readings, kinds and quarantined input.

Units per kind (the sensor protocol, README):
- moisture: surface wetness in % (0 to 100)
- dirt: soiling index, 0 (clean) to 100
- footfall: passages counted since the previous report (integer >= 0, stored as float)
- temperature: degC; humidity: %RH; battery: % (0 to 100); rssi: dBm; snr: dB
Weather observations imported from SMHI use the kinds precipitation (mm per hour),
precipitation_day (mm per day, where a station has no hourly data), air_temperature (degC) and
snow_depth (m), with sensor id ``smhi-<station>`` (``smhi-<station>-suspect`` for values SMHI
has not approved).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Kind(StrEnum):
    MOISTURE = "moisture"
    DIRT = "dirt"
    FOOTFALL = "footfall"
    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    BATTERY = "battery"
    RSSI = "rssi"
    SNR = "snr"
    PRECIPITATION = "precipitation"
    PRECIPITATION_DAY = "precipitation_day"
    AIR_TEMPERATURE = "air_temperature"
    SNOW_DEPTH = "snow_depth"


# Kinds a sensor is installed for (the registry's `kind`), as opposed to link quality and weather.
MEASURED_KINDS = (Kind.MOISTURE, Kind.DIRT, Kind.FOOTFALL)
LINK_KINDS = (Kind.RSSI, Kind.SNR)
WEATHER_KINDS = (
    Kind.PRECIPITATION,
    Kind.PRECIPITATION_DAY,
    Kind.AIR_TEMPERATURE,
    Kind.SNOW_DEPTH,
)

# Physically possible range per kind; values outside are rejected at ingest.
VALID_RANGE: dict[Kind, tuple[float, float]] = {
    Kind.MOISTURE: (0.0, 100.0),
    Kind.DIRT: (0.0, 100.0),
    Kind.FOOTFALL: (0.0, 100_000.0),
    Kind.TEMPERATURE: (-60.0, 80.0),
    Kind.HUMIDITY: (0.0, 100.0),
    Kind.BATTERY: (0.0, 100.0),
    Kind.RSSI: (-200.0, 20.0),
    Kind.SNR: (-40.0, 40.0),
    Kind.PRECIPITATION: (0.0, 500.0),
    Kind.PRECIPITATION_DAY: (0.0, 500.0),
    Kind.AIR_TEMPERATURE: (-60.0, 60.0),
    Kind.SNOW_DEPTH: (0.0, 10.0),
}


class Reading(NamedTuple):
    """One measured value. Its identity is (sensor_id, kind, ts_ms): stored once, however often
    it is written.

    ts_ms: milliseconds since the Unix epoch, UTC. value: in the kind's unit (module docstring).
    A named tuple, not a dataclass: the collector makes 50,000 a second, and a tuple in the
    store's column order goes to SQLite as it is.
    """

    sensor_id: str
    kind: str
    ts_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """Input that was rejected, kept with its reason so nothing disappears silently.

    received_ms: when the collector received it (ms since epoch, UTC); payload is truncated.
    key: the record's identity (a hash of the message's topic and payload, and the record's
    place among the message's rejections): a redelivered or replayed reject has the same key and
    is stored once. Empty for records made before keys existed.
    """

    received_ms: int
    topic: str
    reason: str
    detail: str
    payload: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class Point:
    """A derived result (KPI value, trend, counter) in the store.

    Like an InfluxDB point: (measurement, tags, ts_ms) is its identity, so writing it again
    replaces its fields. Numbers in `fields` are floats (InfluxDB type-conflict trap); strings
    are allowed for labels such as a KPI's status.
    """

    measurement: str
    tags: dict[str, str]
    ts_ms: int
    fields: dict[str, float | str]
