"""The durable spool: where batches go while the store does not answer.

Each spooled batch is one file ``batch-<sequence>.json`` in the spool folder, written to a
temporary name, fsynced, renamed into place and the folder fsynced: after `append` returns the
batch survives a crash or power loss, so its MQTT messages may be acknowledged. Replay goes in
sequence order (the order the batches were received) and deletes a file only after the store has
committed it. A crash between those two steps replays the batch once more, which is harmless:
a reading is stored once however often it is written.

Also here: the LoRaWAN counter totals, saved next to the spool after every durable commit.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from floorwatch.readings import QuarantineRecord, Reading

log = logging.getLogger(__name__)

_PREFIX = "batch-"
_SUFFIX = ".json"


@dataclass(slots=True)
class SpooledBatch:
    """What one collector batch commits: readings and quarantine records."""

    readings: list[Reading] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "readings": [[r.sensor_id, r.kind, r.ts_ms, r.value] for r in self.readings],
                "quarantine": [
                    [q.received_ms, q.topic, q.reason, q.detail, q.payload, q.key]
                    for q in self.quarantine
                ],
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> SpooledBatch:
        document = json.loads(data)
        return cls(
            readings=[Reading(s, k, int(t), float(v)) for s, k, t, v in document["readings"]],
            quarantine=[QuarantineRecord(*q) for q in document["quarantine"]],
        )


def _write_durably(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically and durably (temp file, fsync, rename, fsync folder)."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class Spool:
    """Batches waiting for the store, in a folder. `max_bytes` bounds it (see `full`)."""

    def __init__(self, directory: Path, max_bytes: int):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        for leftover in self.directory.glob(f"{_PREFIX}*{_SUFFIX}.tmp"):
            leftover.unlink()  # a crash during append: that batch was never acknowledged
        self._files = sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"))
        self.size_bytes = sum(path.stat().st_size for path in self._files)
        self._next = (
            int(self._files[-1].name[len(_PREFIX) : -len(_SUFFIX)]) + 1 if self._files else 1
        )

    @property
    def pending(self) -> int:
        """How many batches wait for replay."""
        return len(self._files)

    @property
    def full(self) -> bool:
        """At the bound the collector stops acknowledging instead of spooling more."""
        return self.size_bytes >= self.max_bytes

    def append(self, batch: SpooledBatch) -> None:
        """Keep a batch durably; returns once it would survive a crash."""
        path = self.directory / f"{_PREFIX}{self._next:012d}{_SUFFIX}"
        data = batch.to_json()
        _write_durably(path, data)
        self._next += 1
        self._files.append(path)
        self.size_bytes += len(data)

    def replay(self, commit: Callable[[SpooledBatch], None]) -> tuple[int, int]:
        """Commit spooled batches oldest first, deleting each once committed.

        `commit` raising (the store is still away) stops the replay, keeping the rest in order;
        the error propagates. Returns (batches, readings) replayed.
        """
        batches = readings = 0
        while self._files:
            path = self._files[0]
            data = path.read_bytes()
            batch = SpooledBatch.from_json(data)
            commit(batch)
            path.unlink()
            self._files.pop(0)
            self.size_bytes -= len(data)
            batches += 1
            readings += len(batch.readings)
        return batches, readings


# counter key -> (time of the uplink in ms, running total); see ingest.decoders
CounterTotals = Mapping[str, tuple[int, float]]


class CounterTotalsFile:
    """The LoRaWAN counters' previous totals, kept across restarts.

    Saved after each durable commit and before the acknowledgements, so after a crash it holds
    exactly the totals of the committed messages and redelivered ones compute the same passages.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> dict[str, tuple[int, float]]:
        try:
            document = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError:
            log.error("event=counter_totals_unreadable path=%s: starting without them", self.path)
            return {}
        return {key: (int(ts), float(total)) for key, (ts, total) in document.items()}

    def save(self, totals: CounterTotals) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({key: list(value) for key, value in totals.items()}).encode()
        _write_durably(self.path, data)
