"""Real faults around the collector, through Mosquitto (shipped config) and real stores: a full
disk under the people counters' totals, rejects redelivered or replayed, a flood of rejects,
old rejects, and a message the collector itself fails on. Counts are exact."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from floorwatch.readings import Point, QuarantineRecord, Reading
from floorwatch.registry import Registry
from floorwatch.store import open_store
from ingest import collector as collector_module
from ingest.spool import Spool, SpooledBatch
from tests.ingest.helpers import collector_settings, publisher, running_collector, wait_until
from tests.ingest.messages import (
    DIRT,
    VS350_EUI,
    VS350_SENSOR,
    chirpstack_event,
    chirpstack_topic,
    dumps,
    native_batches,
    native_topic,
)
from tests.services import REPO, SIMULATOR_USER, InfluxDB, Mosquitto


def _footfall(store_url: str) -> list[float]:
    store = open_store(store_url)
    try:
        now = time.time()
        frame = store.read_readings(
            datetime.fromtimestamp(now, UTC) - timedelta(days=1),
            datetime.fromtimestamp(now, UTC) + timedelta(days=1),
            sensor_ids=[VS350_SENSOR],
            kinds=["footfall"],
        )
        return [float(v) for v in frame["value"]]
    finally:
        store.close()


def test_a_full_disk_under_the_counter_totals_is_reported_and_ingest_goes_on(
    mosquitto: Mosquitto,
    sqlite_url: str,
    registry: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.collector")
    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    t0 = int(time.time() * 1000) - 3_600_000
    uplinks = [
        (
            chirpstack_topic(VS350_EUI),
            dumps(
                chirpstack_event(
                    VS350_EUI, t0 + i * 60_000, {"total_in": 10 * i, "total_out": i, "battery": 80}
                )
            ),
        )
        for i in range(40)
    ]
    readings = native_batches(registry, 980, per_message=10)
    store = open_store(sqlite_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            # Every save of the totals now writes into /dev/full: the kernel answers ENOSPC.
            temporary = collector.spool_dir / "counter-totals.json.tmp"
            temporary.symlink_to("/dev/full")
            pub.publish_all(uplinks[:20])
            pub.publish_all(readings)
            wait_until(lambda: store.count_readings() >= 980 + 19 + 20 * 3, 20, "all readings")
            snapshot = collector.counters.snapshot()
            assert snapshot.state_unsaved > 0
            assert snapshot.acknowledged == 20 + len(readings)
            unsaved = [r for r in caplog.records if "event=counter_totals_unsaved" in r.message]
            assert len(unsaved) == 1  # said once per episode
            assert "No space left on device" in unsaved[0].message
            os.unlink(temporary)  # space again
            pub.publish_all(uplinks[20:])
            wait_until(lambda: "event=counter_totals_saved" in caplog.text, 10, "a save")
            wait_until(lambda: len(_footfall(sqlite_url)) == 39, 10, "every footfall reading")
        saved = json.loads((collector.spool_dir / "counter-totals.json").read_text())
        assert saved[f"{VS350_SENSOR}/footfall/total_in"][1] == 390.0
        assert "event=writer_failed" not in caplog.text
        assert sum(_footfall(sqlite_url)) == 390 + 39  # every passage, once
        assert store.count_readings() == 980 + 39 + 40 * 3  # + battery, rssi, snr per uplink
    finally:
        store.close()


def test_a_redelivered_or_replayed_reject_is_stored_once(
    mosquitto: Mosquitto, store_url: str, tmp_path: Path
) -> None:
    """The same rejected message three times (a device resending, a redelivery after a lost
    acknowledgement) and a spooled batch replayed twice (a kill between its commit and the
    deletion of its file): one record each, all rejections counted."""
    settings = collector_settings(mosquitto, store_url, tmp_path)
    bad = (native_topic(DIRT), b'{"kind": "dirt", "value": "wet"}')
    now_ms = int(time.time() * 1000)
    record = QuarantineRecord(now_ms, "floorwatch/up/x", "unknown_sensor", "d", "p", "k1")
    for _ in range(2):  # the same batch file twice: replayed, then replayed again
        spool = Spool(settings.spool_dir / settings.client_id, settings.spool_max_bytes)
        spool.append(SpooledBatch([Reading(DIRT, "dirt", now_ms, 5.0)], [record]))
    store = open_store(store_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            for _ in range(3):
                pub.publish_all([bad])
            wait_until(lambda: collector.counters.snapshot().quarantined == 3, 10, "3 rejects")
            wait_until(lambda: collector.counters.snapshot().replayed == 2, 10, "the replay")
        records = store.read_quarantine(100)
        assert sorted(r.reason for r in records) == ["missing_field", "unknown_sensor"]
        assert store.count_readings() == 1
    finally:
        store.close()


def test_the_quarantine_budget_bounds_a_flood_and_counts_what_it_dropped(
    mosquitto: Mosquitto, store_url: str, tmp_path: Path
) -> None:
    settings = collector_settings(
        mosquitto,
        store_url,
        tmp_path,
        quarantine_per_device_per_hour=5,
        quarantine_per_hour=50,
    )
    unknown = [(native_topic(f"no-such-sensor-{i}"), b'{"kind": "dirt"}') for i in range(300)]
    one_device = [(native_topic(DIRT), b'{"kind": "dirt", "n": %d}' % i) for i in range(20)]
    store = open_store(store_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all(one_device)
            pub.publish_all(unknown)
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == 320, 20, "every message"
            )
            snapshot = collector.counters.snapshot()
        assert snapshot.quarantined == 320  # every rejection counted
        assert snapshot.quarantine_dropped == 320 - 50
        records = store.read_quarantine(1000)
        assert len(records) == 50
        assert sum(r.topic == native_topic(DIRT) for r in records) == 5  # per device
    finally:
        store.close()


def test_retention_prunes_old_rejects_and_the_newest_first_read_uses_an_index(
    mosquitto: Mosquitto, store_url: str, tmp_path: Path
) -> None:
    now_ms = int(time.time() * 1000)
    old = [
        QuarantineRecord(now_ms - 40 * 86_400_000 + i, "t", "unknown_sensor", "d", "p", f"o{i}")
        for i in range(10)
    ]
    recent = QuarantineRecord(now_ms - 86_400_000, "t", "unknown_sensor", "d", "p", "recent")
    store = open_store(store_url)
    try:
        store.write_quarantine([*old, recent])
        settings = collector_settings(mosquitto, store_url, tmp_path, quarantine_retention_days=30)
        with running_collector(settings):
            wait_until(lambda: len(store.read_quarantine(100)) == 1, 10, "the pruning")
        assert [r.key for r in store.read_quarantine(100)] == ["recent"]
    finally:
        store.close()
    if store_url.startswith("sqlite"):
        path = store_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    "EXPLAIN QUERY PLAN SELECT received_ms, topic, reason, detail, payload, "
                    "coalesce(key, '') FROM quarantine ORDER BY received_ms DESC, id DESC LIMIT 100"
                )
            )
        assert "quarantine_by_time" in plan and "TEMP B-TREE" not in plan, plan


def test_a_message_the_writer_fails_on_is_set_aside_and_the_rest_flows(
    mosquitto: Mosquitto,
    sqlite_url: str,
    registry: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault of the collector's own (here: the quarantine write raising for one sensor's
    records, as the lone surrogate once did) is caught per message, logged with its message
    id, counted, and that message set aside; every other reading is stored."""
    caplog.set_level(logging.INFO, logger="ingest.collector")
    poison_topic = native_topic("the-poison-sensor")
    original = collector_module.write_quarantine_carefully

    def failing(store: object, records: list[QuarantineRecord]) -> int:
        if any(r.topic == poison_topic and r.reason != "collector_error" for r in records):
            raise RuntimeError("a bug in the writer")
        return original(store, records)  # type: ignore[arg-type]

    monkeypatch.setattr(collector_module, "write_quarantine_carefully", failing)
    settings = collector_settings(mosquitto, sqlite_url, tmp_path)
    good = native_batches(registry, 500, per_message=10)
    store = open_store(sqlite_url)
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all([*good[:25], (poison_topic, b"{}"), *good[25:]])
            wait_until(lambda: store.count_readings() == 500, 20, "every good reading")
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(good) + 1, 10, "acks"
            )
            assert collector.counters.snapshot().errors >= 1
        [aside] = store.read_quarantine(100)
        assert aside.reason == "collector_error" and aside.topic == poison_topic
        assert "failed 3 times" in aside.detail
        assert "event=message_set_aside mid=" in caplog.text
        assert "event=writer_failed " not in caplog.text
    finally:
        store.close()


def test_quarantine_records_the_store_refuses_never_stop_ingest(
    mosquitto: Mosquitto, influxdb: InfluxDB, registry: Registry, tmp_path: Path
) -> None:
    """InfluxDB refuses every quarantine record (a field type conflict: `topic` was once
    written as a number in this shard): the rejects are counted as unrecorded and logged, their
    messages acknowledged, and every valid reading is stored."""
    url = influxdb.url("refusing")
    store = open_store(url)
    store.write_points(
        [Point("quarantine", {"reason": "x"}, int(time.time() * 1000), {"topic": 1.0})]
    )
    settings = collector_settings(mosquitto, url, tmp_path)
    good = native_batches(registry, 300, per_message=10)
    bad = [(native_topic(DIRT), b'{"kind": "dirt", "n": %d}' % i) for i in range(5)]
    try:
        with (
            running_collector(settings) as collector,
            publisher(mosquitto.url_for(SIMULATOR_USER)) as pub,
        ):
            pub.publish_all([*good[:10], *bad, *good[10:]])
            wait_until(lambda: store.count_readings() == 300, 20, "every valid reading")
            wait_until(
                lambda: collector.counters.snapshot().acknowledged == len(good) + len(bad),
                10,
                "every message acknowledged",
            )
            snapshot = collector.counters.snapshot()
        assert snapshot.quarantined == 5 and snapshot.quarantine_unrecorded == 5
    finally:
        store.close()


# The collector's process dies (os._exit, as an out-of-memory kill or a crash in C would) on
# one message: a fault injected into the real `floorwatch ingest`, which is otherwise unchanged.
CRASHING_COLLECTOR = """
import os, sys
import ingest.collector
real = ingest.collector.decode
def decode(topic, payload, context):
    if b"crash-the-collector" in payload:
        os._exit(70)
    return real(topic, payload, context)
ingest.collector.decode = decode
from floorwatch.cli import main
main(["ingest"])
"""


def test_a_message_that_kills_the_collector_is_set_aside_after_three_deaths(
    mosquitto: Mosquitto,
    sqlite_url: str,
    registry: Registry,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    script = tmp_path / "crashing_collector.py"
    script.write_text(CRASHING_COLLECTOR)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")},
        "FLOORWATCH_MQTT_URL": mosquitto.url_for("floorwatch-collector"),
        "FLOORWATCH_STORE_URL": sqlite_url,
        "FLOORWATCH_SPOOL_DIR": str(tmp_path / "spool"),
        "FLOORWATCH_CLIENT_ID": "floorwatch-collector",
        "FLOORWATCH_BATCH_WAIT_MS": "50",
        "PYTHONPATH": str(REPO),
    }
    log = tmp_path / "collector.log"

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, str(script)], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )
        processes.append(process)
        return process

    process = start()
    wait_until(lambda: "event=subscribed" in log.read_text(errors="replace"), 15, "subscribed")
    good = native_batches(registry, 400, per_message=10)
    poison = (native_topic(DIRT), b'{"kind": "dirt", "note": "crash-the-collector"}')
    store = open_store(sqlite_url)
    deaths = 0
    try:
        with publisher(mosquitto.url_for(SIMULATOR_USER)) as pub:
            pub.publish_all([*good[:20], poison, *good[20:]])
        deadline = time.monotonic() + 60
        while store.count_readings() < 400 or not store.read_quarantine(10):
            assert time.monotonic() < deadline, f"not all stored after {deaths} deaths"
            if process.poll() is not None:  # as a supervisor (docker, systemd) would
                assert process.returncode == 70
                deaths += 1
                assert deaths <= 5, "the message keeps killing the collector"
                process = start()
            time.sleep(0.1)
        time.sleep(0.5)
        assert process.poll() is None  # alive
        assert store.count_readings() == 400
        [aside] = store.read_quarantine(10)
        assert aside.reason == "collector_error" and "stopped 3 times" in aside.detail
        assert deaths == 4  # the first delivery and three redeliveries, then set aside
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        store.close()
    assert "event=message_set_aside" in log.read_text(errors="replace")
