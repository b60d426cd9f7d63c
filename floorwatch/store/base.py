"""The store interface. Two backends implement it: SQLite (embedded default) and InfluxDB (v1 API).

DataFrames returned by reads have a `time` column of tz-aware UTC timestamps, sorted by time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import pandas as pd

from floorwatch.readings import Point, QuarantineRecord, Reading

READING_COLUMNS = ["time", "sensor_id", "kind", "value"]


@runtime_checkable
class Store(Protocol):
    """Where readings, quarantined input and derived results (KPIs, trends, counters) live."""

    def write_readings(self, readings: Sequence[Reading]) -> int | None:
        """Store readings durably; a reading already stored (same sensor, kind, time) is kept
        once. Returns how many were new where the backend can tell (SQLite), else None."""
        ...

    def read_readings(
        self,
        start: datetime,
        end: datetime,
        sensor_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Readings with start <= time < end, columns READING_COLUMNS, sorted by time (the order
        within one timestamp is the backend's, the same on every read)."""
        ...

    def latest_readings(self, sensor_ids: Sequence[str]) -> pd.DataFrame:
        """The newest reading per (sensor, kind) of the given sensors, columns READING_COLUMNS,
        however old (a battery level reported weeks ago is still the latest known)."""
        ...

    def count_readings(self) -> int:
        """How many readings are stored in all (for commissioning checks and tests)."""
        ...

    def write_quarantine(self, records: Sequence[QuarantineRecord]) -> None:
        """Store rejects; a record whose key is already stored is kept once."""
        ...

    def read_quarantine(self, limit: int = 100) -> list[QuarantineRecord]:
        """The newest quarantined inputs first."""
        ...

    def prune_quarantine(self, before_ms: int) -> None:
        """Delete quarantine records received before `before_ms` (the retention)."""
        ...

    def write_points(self, points: Sequence[Point]) -> None:
        """Write derived results; (measurement, tags, time) identifies a point."""
        ...

    def read_points(
        self,
        measurement: str,
        start: datetime | None = None,
        end: datetime | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Points of a measurement: a `time` column, one column per tag and per field."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable if the store does not answer."""
        ...

    def close(self) -> None: ...
