"""Two batches in flight into InfluxDB: a slow answer while the next batch is written, a failed
write with the next one in flight. Real Mosquitto and InfluxDB; the store's `write_readings` is
wrapped (the real one still writes) to slow one answer down or fail it, and the collector's
`_acknowledge` to see when each batch is acknowledged."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from floorwatch.errors import StoreUnavailable
from floorwatch.readings import Reading
from floorwatch.registry import Registry
from floorwatch.store import open_store
from floorwatch.store.influx import InfluxStore
from ingest.collector import Batch, Collector
from ingest.counters import CountersSnapshot
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.ingest.messages import native_batches
from tests.services import SIMULATOR_USER, Mosquitto

READINGS = 600
PER_MESSAGE = 10
BATCH = 100  # readings per batch: six batches


@dataclass
class Events:
    """What happened when (monotonic s): each write (its readings' times, start, end, whether
    it failed) and each acknowledgement (its batch's readings' times)."""

    writes: list[tuple[frozenset[int], float, float, bool]]
    acks: list[tuple[frozenset[int], float]]
    lock: threading.Lock
    busy: int = 0
    most_at_once: int = 0


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Events:
    seen = Events([], [], threading.Lock())
    acknowledge = Collector._acknowledge

    def recording_ack(self: Collector, batch: Batch) -> None:
        with seen.lock:
            seen.acks.append((frozenset(r.ts_ms for r in batch.readings), time.monotonic()))
        acknowledge(self, batch)

    monkeypatch.setattr(Collector, "_acknowledge", recording_ack)
    return seen


def _wrap_writes(
    monkeypatch: pytest.MonkeyPatch, seen: Events, slow_first_s: float, fail_first: bool
) -> None:
    """The first write of readings waits `slow_first_s` (then fails without writing, if
    `fail_first`); every write is recorded with how many ran at once."""
    write = InfluxStore.write_readings
    first = threading.Event()

    def wrapped(self: InfluxStore, readings: Sequence[Reading]) -> None:
        with seen.lock:
            seen.busy += 1
            seen.most_at_once = max(seen.most_at_once, seen.busy)
            is_first = not first.is_set()
            first.set()
        started = time.monotonic()
        failed = False
        try:
            if is_first:
                time.sleep(slow_first_s)
                if fail_first:
                    failed = True
                    raise StoreUnavailable("InfluxDB at test: timed out (injected)")
            write(self, readings)
        finally:
            with seen.lock:
                seen.busy -= 1
                times = frozenset(r.ts_ms for r in readings)
                seen.writes.append((times, started, time.monotonic(), failed))

    monkeypatch.setattr(InfluxStore, "write_readings", wrapped)


def _assert_acks_in_order(seen: Events) -> None:
    # native_batches of one sensor go back in time message by message: in the order received,
    # each batch's readings are older than the one before's
    times = [batch for batch, _ in seen.acks if batch]
    assert all(min(a) > max(b) for a, b in itertools.pairwise(times)), "acks out of order"
    assert sum(len(t) for t in times) == READINGS  # every reading acknowledged once


def _assert_acks_in_order_after_their_writes(seen: Events) -> None:
    _assert_acks_in_order(seen)
    for batch, acked_at in seen.acks:
        written = [end for t, _, end, failed in seen.writes if batch <= t and not failed]
        assert written and min(written) <= acked_at, "acknowledged before its write returned"


def _ingest_all(
    mosquitto: Mosquitto, influx_url: str, registry: Registry, tmp_path: Path, **settings: Any
) -> CountersSnapshot:
    """Publish READINGS readings of one sensor through a collector into InfluxDB; return its
    counters once every reading is stored, every message acknowledged and the spool replayed.
    The store's count is checked again after the collector stopped."""
    config = collector_settings(mosquitto, influx_url, tmp_path, batch_size=BATCH, **settings)
    messages = native_batches(registry, READINGS, PER_MESSAGE, sensors=1)
    store = open_store(influx_url)
    try:
        with (
            running_collector(config) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all(messages)
            wait_until(lambda: store.count_readings() == READINGS, 20, "every reading")

            def settled() -> bool:
                counts = collector.counters.snapshot()
                return counts.acknowledged == len(messages) and counts.spooled == counts.replayed

            wait_until(settled, 10, "every ack and the spool's replay")
        assert store.count_readings() == READINGS  # a batch written twice is stored once
        return collector.counters.snapshot()
    finally:
        store.close()


def test_a_slow_answer_lets_the_next_batch_be_written_and_acks_stay_in_order(
    mosquitto: Mosquitto,
    influx_url: str,
    registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    events: Events,
) -> None:
    _wrap_writes(monkeypatch, events, slow_first_s=0.6, fail_first=False)
    counts = _ingest_all(mosquitto, influx_url, registry, tmp_path)
    [(first, _, ended, _), *rest] = sorted(events.writes, key=lambda w: w[1])
    # the second batch was written while InfluxDB was still answering the first
    assert rest and rest[0][1] < ended and rest[0][2] < ended
    assert events.most_at_once == 2  # two at once, never more
    # ... and yet the first batch was acknowledged before it
    assert max(events.acks[0][0]) == max(first)
    _assert_acks_in_order_after_their_writes(events)
    assert counts.spooled == 0


def test_a_failed_write_with_the_next_in_flight_spools_both_in_order_and_doubles_nothing(
    mosquitto: Mosquitto,
    influx_url: str,
    registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    events: Events,
) -> None:
    """The first write fails after the second has been written: neither is acknowledged before
    the first is durable (here: in the spool), the second is committed again after it, and the
    spool's replay leaves every reading stored once."""
    _wrap_writes(monkeypatch, events, slow_first_s=0.6, fail_first=True)
    counts = _ingest_all(mosquitto, influx_url, registry, tmp_path)
    failed = [w for w in events.writes if w[3]]
    assert len(failed) == 1
    second = min((w for w in events.writes if not w[3]), key=lambda w: w[1])
    assert second[2] < failed[0][2]  # written while the first was failing
    assert counts.spooled >= len(failed[0][0]) + len(second[0])  # both went to the spool
    assert counts.replayed == counts.spooled
    first_ack = events.acks[0][1]
    assert first_ack >= failed[0][2]  # nothing acknowledged before the failure was resolved
    _assert_acks_in_order(events)


def test_one_write_at_a_time_when_set_so(
    mosquitto: Mosquitto,
    influx_url: str,
    registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    events: Events,
) -> None:
    _wrap_writes(monkeypatch, events, slow_first_s=0.3, fail_first=False)
    _ingest_all(mosquitto, influx_url, registry, tmp_path, influx_writes_in_flight=1)
    assert events.most_at_once == 1
    _assert_acks_in_order_after_their_writes(events)
