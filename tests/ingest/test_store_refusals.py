"""Readings the store refuses (an SQLite constraint, an InfluxDB field type conflict) are
quarantined with the store's reason; the rest of the batch is stored and ingest goes on."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import httpx

from floorwatch.readings import Reading
from floorwatch.store import open_store
from ingest.collector import STORE_REJECTED, refused_records
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.ingest.messages import DIRT, MOISTURE, dumps, native_topic
from tests.services import SIMULATOR_USER, InfluxDB, Mosquitto

MESSAGES = 60
PER_MESSAGE = 10


def _stream(now_s: int, refused_value: float, refused_every: int) -> list[tuple[str, bytes]]:
    """MESSAGES messages of PER_MESSAGE moisture readings; every `refused_every`-th message
    carries one reading of `refused_value` (valid for the collector)."""
    messages = []
    for m in range(MESSAGES):
        readings = [
            {"ts": now_s - 10 * (m * PER_MESSAGE + i), "kind": "moisture", "value": 10.0 + i}
            for i in range(PER_MESSAGE)
        ]
        if m % refused_every == 0:
            readings[3]["value"] = refused_value
        messages.append((native_topic(MOISTURE), dumps({"readings": readings})))
    return messages


def _refused_payload_readings(store_url: str) -> list[dict[str, float]]:
    store = open_store(store_url)
    try:
        records = [r for r in store.read_quarantine(1_000) if r.reason == STORE_REJECTED]
    finally:
        store.close()
    assert records, "no store_rejected quarantine records"
    for record in records:
        assert record.topic == native_topic(MOISTURE)  # publish the payload there again
    return [reading for r in records for reading in json.loads(r.payload)["readings"]]


def test_sqlite_constraint_quarantines_only_the_refused_readings(
    mosquitto: Mosquitto, sqlite_url: str, tmp_path: Path
) -> None:
    store = open_store(sqlite_url)
    path = store.path  # type: ignore[attr-defined]
    with sqlite3.connect(path) as db:  # a site rule in the store itself: nothing above 90
        db.execute(
            "CREATE TRIGGER no_high_readings BEFORE INSERT ON readings WHEN NEW.value > 90 "
            "BEGIN SELECT RAISE(ABORT, 'value over 90 refused by site rule'); END"
        )
    db.close()
    messages = _stream(int(time.time()), refused_value=95.0, refused_every=7)
    refused = sum(1 for m in range(MESSAGES) if m % 7 == 0)
    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    with (
        running_collector(settings) as collector,
        publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
    ):
        pub.publish_all(messages)
        wait_until(lambda: collector.counters.snapshot().acknowledged == MESSAGES, 30, "every ack")
        snapshot = collector.counters.snapshot()
    assert store.count_readings() == MESSAGES * PER_MESSAGE - refused
    assert snapshot.stored == MESSAGES * PER_MESSAGE - refused
    assert snapshot.quarantined == refused
    again = _refused_payload_readings(sqlite_url)
    assert sorted(r["value"] for r in again) == [95.0] * refused
    details = {r.detail for r in store.read_quarantine(1_000)}
    assert any("value over 90 refused by site rule" in d for d in details)
    store.close()


def test_influxdb_field_type_conflict_quarantines_that_shards_readings(
    mosquitto: Mosquitto, influxdb: InfluxDB, tmp_path: Path
) -> None:
    # Someone wrote `value` as a string into last week's shard: InfluxDB 1.x then refuses
    # every float `value` of the measurement there (400, field type conflict). The week
    # before is untouched.
    database = f"conflict_{uuid.uuid4().hex[:10]}"
    url = influxdb.url(database)
    open_store(url).close()  # creates the database
    now_s = int(time.time())
    week_s = 7 * 86_400
    monday_s = 4 * 86_400  # 1970-01-05: InfluxDB's 7-day shard groups start on Mondays
    last_monday = now_s - (now_s - monday_s) % week_s - week_s
    httpx.post(
        f"{influxdb.base_url}/write",
        params={"db": database, "precision": "s"},
        content=f'reading,sensor_id={DIRT},kind=dirt value="broken" {last_monday + 1}',
    ).raise_for_status()

    def minutes_from(start_s: int) -> list[tuple[str, bytes]]:
        return [
            (native_topic(MOISTURE), dumps({"ts": ts, "kind": "moisture", "value": 12.0}))
            for ts in range(start_s + 60, start_s + 21 * 60, 60)
        ]

    poisoned_week, week_before = minutes_from(last_monday), minutes_from(last_monday - week_s)
    settings = collector_settings(mosquitto, url, tmp_path)
    with (
        running_collector(settings) as collector,
        publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
    ):
        pub.publish_all(week_before + poisoned_week + week_before[:5])
        total = len(week_before) + len(poisoned_week) + 5
        wait_until(lambda: collector.counters.snapshot().acknowledged == total, 30, "every ack")
        snapshot = collector.counters.snapshot()
    assert snapshot.quarantined == len(poisoned_week) == 20
    assert len(_refused_payload_readings(url)) == len(poisoned_week)
    store = open_store(url)
    try:
        assert store.count_readings() == len(week_before)  # the 5 repeats stored once
    finally:
        store.close()


def test_refused_readings_make_small_replayable_records() -> None:
    refused = [
        ([Reading(MOISTURE, "moisture", 1_795_000_000_000 + i, 1.0) for i in range(450)], "no"),
        ([Reading(DIRT, "dirt", 1_795_000_000_000, 2.0)], "no either"),
    ]
    records = refused_records(refused, received_ms=1)
    assert [len(json.loads(r.payload)["readings"]) for r in records] == [200, 200, 50, 1]
    assert all(len(r.payload) < 64_000 for r in records)  # InfluxDB's string field limit
    assert [r.topic for r in records] == [native_topic(MOISTURE)] * 3 + [native_topic(DIRT)]
    first = json.loads(records[0].payload)["readings"][0]
    assert first == {"ts": 1_795_000_000.0, "kind": "moisture", "value": 1.0}
