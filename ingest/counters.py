"""The collector's counters: what it received, stored, rejected, spooled and acknowledged.

Counts are totals since the collector started (like Prometheus counters). The collector writes
them to the store every `counters_interval_s` as the `ingest` and `ingest_quarantine` points
(the API's metrics endpoint and Grafana read those); in the same process `snapshot()` gives them
directly. Thread-safe: the MQTT thread counts receipts, the batch thread the rest.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from floorwatch.readings import Point


@dataclass(frozen=True)
class CountersSnapshot:
    """Counters at one moment.

    received: MQTT messages received; acknowledged: messages acknowledged (PUBACK sent);
    stored: readings committed to the store (SQLite: new ones only); duplicates: readings
    already in the store (SQLite only; InfluxDB cannot tell); quarantined: rejections, by reason
    in `quarantined_by_reason`; spooled / replayed: readings written to / replayed from the
    spool; lag_s: seconds from receiving the oldest message of the last batch to acknowledging it.
    The reject path's own counts: quarantine_dropped (records over the quarantine budget: their
    rejections are in `quarantined`, the records were not kept), quarantine_unrecorded (records
    the store refused even in their minimal form), errors (messages the collector itself failed
    on: set aside as collector_error), state_unsaved (failed saves of the people counters'
    totals, e.g. a full disk), retained_ignored (retained copies of sensor messages, not read).
    """

    received: int
    stored: int
    quarantined: int
    duplicates: int
    spooled: int
    replayed: int
    acknowledged: int
    lag_s: float
    quarantined_by_reason: dict[str, int]
    quarantine_dropped: int = 0
    quarantine_unrecorded: int = 0
    errors: int = 0
    state_unsaved: int = 0
    retained_ignored: int = 0

    def points(self, collector: str, ts_ms: int) -> list[Point]:
        """The `ingest` point and one `ingest_quarantine` point per reason (numbers as floats)."""
        fields: dict[str, float | str] = {
            "received": float(self.received),
            "stored": float(self.stored),
            "quarantined": float(self.quarantined),
            "duplicates": float(self.duplicates),
            "spooled": float(self.spooled),
            "replayed": float(self.replayed),
            "acknowledged": float(self.acknowledged),
            "lag_s": float(self.lag_s),
            "quarantine_dropped": float(self.quarantine_dropped),
            "quarantine_unrecorded": float(self.quarantine_unrecorded),
            "errors": float(self.errors),
            "state_unsaved": float(self.state_unsaved),
            "retained_ignored": float(self.retained_ignored),
        }
        points = [Point("ingest", {"collector": collector}, ts_ms, fields)]
        points.extend(
            Point(
                "ingest_quarantine",
                {"collector": collector, "reason": reason},
                ts_ms,
                {"count": float(count)},
            )
            for reason, count in sorted(self.quarantined_by_reason.items())
        )
        return points


class IngestCounters:
    """Live counters; every method is safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received = 0
        self._stored = 0
        self._duplicates = 0
        self._spooled = 0
        self._replayed = 0
        self._acknowledged = 0
        self._lag_s = 0.0
        self._quarantined: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()  # the reject path's counts, by snapshot field

    def count_received(self, messages: int = 1) -> None:
        with self._lock:
            self._received += messages

    def count_stored(self, readings: int, duplicates: int = 0) -> None:
        with self._lock:
            self._stored += readings
            self._duplicates += duplicates

    def count_quarantined(self, reasons: Counter[str]) -> None:
        with self._lock:
            self._quarantined.update(reasons)

    def count_spooled(self, readings: int) -> None:
        with self._lock:
            self._spooled += readings

    def count_replayed(self, readings: int) -> None:
        with self._lock:
            self._replayed += readings

    def count_acknowledged(self, messages: int, lag_s: float) -> None:
        with self._lock:
            self._acknowledged += messages
            self._lag_s = lag_s

    def _count_fault(self, name: str, count: int) -> None:
        with self._lock:
            self._faults[name] += count

    def count_quarantine_dropped(self, records: int) -> None:
        self._count_fault("quarantine_dropped", records)

    def count_quarantine_unrecorded(self, records: int) -> None:
        self._count_fault("quarantine_unrecorded", records)

    def count_error(self, messages: int = 1) -> None:
        self._count_fault("errors", messages)

    def count_state_unsaved(self) -> None:
        self._count_fault("state_unsaved", 1)

    def count_retained_ignored(self) -> None:
        self._count_fault("retained_ignored", 1)

    def snapshot(self) -> CountersSnapshot:
        with self._lock:
            return CountersSnapshot(
                received=self._received,
                stored=self._stored,
                quarantined=sum(self._quarantined.values()),
                duplicates=self._duplicates,
                spooled=self._spooled,
                replayed=self._replayed,
                acknowledged=self._acknowledged,
                lag_s=self._lag_s,
                quarantined_by_reason=dict(self._quarantined),
                quarantine_dropped=self._faults["quarantine_dropped"],
                quarantine_unrecorded=self._faults["quarantine_unrecorded"],
                errors=self._faults["errors"],
                state_unsaved=self._faults["state_unsaved"],
                retained_ignored=self._faults["retained_ignored"],
            )
