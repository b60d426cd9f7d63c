"""The reject path: quarantine records made safe, given an identity, kept within a budget, and
written so that a record the store cannot take never stops ingest.

Nothing here runs for a valid message; the collector calls it only for messages with
rejections, so the cost of the safety work is paid by bad input.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from floorwatch.device_text import payload_text, storable
from floorwatch.errors import StoreUnavailable
from floorwatch.readings import QuarantineRecord
from floorwatch.store import Store
from ingest.decoders import Rejection

log = logging.getLogger("ingest.collector")

QUARANTINE_PAYLOAD_CHARS = 2_000  # quarantined payloads are cut to this many bytes
TOPIC_CHARS = 300  # a topic may be 64 KiB long: the record keeps its start
DETAIL_CHARS = 1_000
# A batch of bad readings gives this many quarantine records at most (all are counted), so one
# broken device cannot flood the quarantine with copies of its payload.
QUARANTINE_RECORDS_PER_MESSAGE = 20

# Reasons the collector itself gives (the decoders' reasons are ingest.decoders.REASONS).
COLLECTOR_ERROR = "collector_error"  # the collector failed on this message (a bug): set aside
UNRECORDABLE = "unrecordable"  # the store refused the record as it was: kept in a minimal form


def message_digest(topic: str, payload: bytes) -> str:
    """The identity of a message's content: where it came from (topic) and what it said."""
    hasher = hashlib.sha256(topic.encode("utf-8", errors="backslashreplace"))
    hasher.update(b"\0")
    hasher.update(payload)
    return hasher.hexdigest()[:32]


def device_of(topic: str) -> str:
    """The budget's unit: the topic names the device (sensor id, DevEUI, TTS device id)."""
    return topic[:TOPIC_CHARS]


def records_for(
    topic: str, payload: bytes, received_ms: int, rejections: Sequence[Rejection]
) -> list[QuarantineRecord]:
    """Quarantine records for one message's rejections (at most QUARANTINE_RECORDS_PER_MESSAGE,
    the last one saying how many more there were). Every text is storable whatever the device
    sent, and each record's key is the message's digest and the record's place in it."""
    digest = message_digest(topic, payload)
    safe_topic = storable(topic, TOPIC_CHARS)
    text = payload_text(payload, QUARANTINE_PAYLOAD_CHARS)
    kept = rejections[:QUARANTINE_RECORDS_PER_MESSAGE]
    more = len(rejections) - len(kept)
    records = []
    for index, rejection in enumerate(kept):
        detail = storable(rejection.detail, DETAIL_CHARS)
        if more and index == len(kept) - 1:
            detail = f"{detail} (and {more} more rejections in this message)"
        records.append(
            QuarantineRecord(
                received_ms,
                safe_topic,
                storable(rejection.reason, 40),
                detail,
                text,
                f"{digest}:{index}",
            )
        )
    return records


@dataclass
class QuarantineBudget:
    """At most `per_device` records per device and `total` records in all per window of
    `window_ms` (fixed windows: counting starts again at each whole window). What is over the
    budget is dropped and counted in `dropped`, by reason; the rejections are still counted by
    the collector and their messages acknowledged. 0 means no limit."""

    per_device: int
    total: int
    window_ms: int = 3_600_000
    dropped: Counter[str] = field(default_factory=Counter)
    _window: int = -1
    _used: int = 0
    _by_device: Counter[str] = field(default_factory=Counter)

    def admit(
        self, device: str, records: list[QuarantineRecord], now_ms: int
    ) -> list[QuarantineRecord]:
        """The records that fit the budget; the rest are counted as dropped."""
        window = now_ms // self.window_ms
        if window != self._window:
            self._window = window
            self._used = 0
            self._by_device.clear()
        room = len(records)
        if self.total:
            room = min(room, self.total - self._used)
        if self.per_device:
            room = min(room, self.per_device - self._by_device[device])
        room = max(room, 0)
        for record in records[room:]:
            self.dropped[record.reason] += 1
        self._used += room
        self._by_device[device] += room
        return records[:room]


def minimal_record(record: QuarantineRecord, error: BaseException) -> QuarantineRecord:
    """What is left of a record the store refused: its reason, an ASCII topic and the error."""
    topic = record.topic.encode("ascii", errors="backslashreplace").decode("ascii")
    return QuarantineRecord(
        record.received_ms,
        topic[:TOPIC_CHARS],
        UNRECORDABLE,
        f"the store refused the {record.reason!r} record ({type(error).__name__}); "
        "the payload is not kept",
        "",
        record.key,
    )


def write_quarantine_carefully(store: Store, records: Sequence[QuarantineRecord]) -> int:
    """Write the records; when the store refuses them (anything but being away), write them
    one by one, and each refused one in its minimal form. Returns how many could not be
    recorded at all (logged): their messages are acknowledged anyway, so that one record never
    stops ingest. StoreUnavailable propagates: the batch then goes to the spool."""
    try:
        store.write_quarantine(records)
        return 0
    except StoreUnavailable:
        raise
    except Exception as exc:
        log.warning(
            "event=quarantine_refused records=%d error=%s note=writing them one by one",
            len(records),
            storable(repr(exc), 300),
        )
    unrecorded = 0
    for record in records:
        try:
            store.write_quarantine([record])
            continue
        except StoreUnavailable:
            raise
        except Exception as exc:
            error = exc
        try:
            store.write_quarantine([minimal_record(record, error)])
        except StoreUnavailable:
            raise
        except Exception as exc:
            unrecorded += 1
            log.error(
                "event=quarantine_unrecorded reason=%s key=%s error=%s",
                record.reason,
                record.key,
                storable(repr(exc), 300),
            )
    return unrecorded
