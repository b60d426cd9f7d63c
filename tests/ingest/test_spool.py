"""The spool on a real folder: durable batches replayed in order, a crash's leftovers, the bound;
the counter totals file; the counters' points."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from floorwatch.errors import StoreUnavailable
from floorwatch.readings import QuarantineRecord, Reading
from ingest.counters import IngestCounters
from ingest.spool import CounterTotalsFile, Spool, SpooledBatch


def batch(n: int) -> SpooledBatch:
    return SpooledBatch(
        readings=[Reading("s", "moisture", n * 1000 + i, float(i)) for i in range(3)],
        quarantine=[QuarantineRecord(n, "floorwatch/up/x", "unknown_sensor", "d", "{}")],
    )


def test_replays_in_order_and_survives_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000_000)
    for n in range(5):
        spool.append(batch(n))
    (tmp_path / "batch-000000000099.json.tmp").write_bytes(b'{"readings": [')  # torn write
    reopened = Spool(tmp_path, max_bytes=10_000_000)
    assert reopened.pending == 5
    assert not list(tmp_path.glob("*.tmp"))
    assert reopened.size_bytes == spool.size_bytes

    seen: list[SpooledBatch] = []

    def commit(item: SpooledBatch) -> None:
        if len(seen) == 2:
            raise StoreUnavailable("store went away again")
        seen.append(item)

    with pytest.raises(StoreUnavailable):
        reopened.replay(commit)
    assert reopened.pending == 3  # the rest stays, in order
    assert reopened.replay(seen.append) == (3, 9)  # the store is back
    assert [b.readings[0].ts_ms for b in seen] == [0, 1000, 2000, 3000, 4000]
    assert seen[0] == batch(0)
    assert reopened.pending == 0 and reopened.size_bytes == 0
    reopened.append(batch(7))  # numbering continues after the files replayed
    assert sorted(p.name for p in tmp_path.glob("batch-*.json")) == ["batch-000000000006.json"]


def test_full_at_its_bound(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1024)
    assert not spool.full
    while not spool.full:
        spool.append(batch(1))
    assert spool.size_bytes >= 1024


def test_counter_totals_file(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "counter-totals.json"
    totals = CounterTotalsFile(path)
    assert totals.load() == {}
    totals.save({"s/footfall/total_in": (1_000, 65_530.0)})
    assert CounterTotalsFile(path).load() == {"s/footfall/total_in": (1_000, 65_530.0)}
    path.write_text("{not json")
    assert CounterTotalsFile(path).load() == {}


def test_counter_points_follow_the_contract() -> None:
    counters = IngestCounters()
    counters.count_received(10)
    counters.count_stored(7, duplicates=1)
    counters.count_quarantined(Counter({"out_of_range": 2}))
    counters.count_acknowledged(10, lag_s=0.25)
    points = counters.snapshot().points("c1", 1_000)
    assert points[0].measurement == "ingest"
    assert points[0].tags == {"collector": "c1"}
    assert points[0].fields == {
        "received": 10.0,
        "stored": 7.0,
        "quarantined": 2.0,
        "duplicates": 1.0,
        "spooled": 0.0,
        "replayed": 0.0,
        "acknowledged": 10.0,
        "lag_s": 0.25,
        "quarantine_dropped": 0.0,
        "quarantine_unrecorded": 0.0,
        "errors": 0.0,
        "state_unsaved": 0.0,
        "retained_ignored": 0.0,
    }
    assert [(p.measurement, p.tags, p.fields) for p in points[1:]] == [
        ("ingest_quarantine", {"collector": "c1", "reason": "out_of_range"}, {"count": 2.0})
    ]
    assert all(type(v) is float for p in points for v in p.fields.values())
