"""The store suite: every test runs against a real SQLite file and a real InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from floorwatch.errors import StoreRejected, StoreUnavailable
from floorwatch.readings import Point, QuarantineRecord, Reading
from floorwatch.store import Store, open_store

T0 = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)
MS0 = int(T0.timestamp() * 1000)
SENSOR = "yst-ostra-main-inner-moisture"
OTHER = "yst-ostra-main-inner-dirt"


def test_readings_round_trip_in_time_order(store: Store) -> None:
    store.write_readings(
        [
            Reading(SENSOR, "moisture", MS0 + 300_000, 12.5),
            Reading(SENSOR, "moisture", MS0, 3.0),
            Reading(OTHER, "dirt", MS0 + 60_000, 41.0),
        ]
    )
    frame = store.read_readings(T0, T0 + timedelta(hours=1))
    assert list(frame.columns) == ["time", "sensor_id", "kind", "value"]
    assert frame["value"].tolist() == [3.0, 41.0, 12.5]
    assert frame["time"].iloc[0] == T0
    assert str(frame["time"].dt.tz) == "UTC"


def test_same_reading_written_twice_is_stored_once(store: Store) -> None:
    batch = [Reading(SENSOR, "moisture", MS0 + i * 1000, float(i)) for i in range(100)]
    store.write_readings(batch)
    store.write_readings(batch[:50])
    store.write_readings(batch[25:75])
    assert store.count_readings() == 100
    assert len(store.read_readings(T0, T0 + timedelta(hours=1))) == 100


def test_read_filters_by_sensor_kind_and_half_open_range(store: Store) -> None:
    store.write_readings(
        [
            Reading(SENSOR, "moisture", MS0, 1.0),
            Reading(SENSOR, "temperature", MS0, 4.5),
            Reading(OTHER, "dirt", MS0, 20.0),
            Reading(SENSOR, "moisture", MS0 + 3_600_000, 2.0),  # == end: excluded
        ]
    )
    end = T0 + timedelta(hours=1)
    only = store.read_readings(T0, end, sensor_ids=[SENSOR])
    assert set(only["sensor_id"]) == {SENSOR} and len(only) == 2
    moist = store.read_readings(T0, end, sensor_ids=[SENSOR], kinds=["moisture"])
    assert moist["value"].tolist() == [1.0]
    assert store.read_readings(T0, end, sensor_ids=[]).empty


def test_latest_reading_per_sensor_and_kind(store: Store) -> None:
    store.write_readings(
        [Reading(SENSOR, "moisture", MS0 + i * 60_000, float(i)) for i in range(10)]
        + [Reading(OTHER, "dirt", MS0 + i * 60_000, 50.0 + i) for i in range(3)]
    )
    latest = store.latest_readings([SENSOR, OTHER]).set_index("sensor_id")
    assert latest.loc[SENSOR, "value"] == 9.0
    assert latest.loc[OTHER, "value"] == 52.0
    assert latest.loc[SENSOR, "time"] == T0 + timedelta(minutes=9)


def test_latest_is_each_kinds_own_newest_reading(store: Store) -> None:
    # A battery level reported weeks ago is still the sensor's latest battery level.
    store.write_readings(
        [
            Reading(SENSOR, "battery", MS0 - 21 * 86_400_000, 87.0),
            Reading(SENSOR, "moisture", MS0, 4.0),
            Reading(SENSOR, "moisture", MS0 - 60_000, 3.0),
        ]
    )
    latest = store.latest_readings([SENSOR]).set_index("kind")
    assert latest.loc["battery", "value"] == 87.0
    assert latest.loc["battery", "time"] == T0 - timedelta(days=21)
    assert latest.loc["moisture", "value"] == 4.0
    assert store.latest_readings([OTHER]).empty


def test_values_come_back_bit_for_bit(store: Store) -> None:
    values = [0.1 + 0.2, 1 / 3, 123456.78901234567, 5e-324, 1e300, 2.0**53 + 2]
    store.write_readings(
        [Reading(SENSOR, "moisture", MS0 + i * 60_000, v) for i, v in enumerate(values)]
    )
    read = store.read_readings(T0, T0 + timedelta(hours=1))["value"].tolist()
    assert [v.hex() for v in read] == [float(v).hex() for v in values]


def test_quarantine_keeps_every_reject_newest_first(store: Store) -> None:
    records = [
        QuarantineRecord(MS0, "floorwatch/up/x", "malformed_json", "Expecting value", "{oops"),
        QuarantineRecord(MS0, "floorwatch/up/y", "unknown_sensor", "no sensor 'y'", '{"v":1}'),
        QuarantineRecord(MS0 + 5, "floorwatch/up/z", "out_of_range", "moisture 140 > 100", "{}"),
    ]
    store.write_quarantine(records)
    got = store.read_quarantine(limit=10)
    assert len(got) == 3  # two rejects in the same millisecond are both kept
    assert got[0].reason == "out_of_range"
    assert {r.reason for r in got} == {"malformed_json", "unknown_sensor", "out_of_range"}
    assert store.read_quarantine(limit=1)[0].topic == "floorwatch/up/z"


def test_points_overwrite_by_measurement_tags_and_time(store: Store) -> None:
    tags = {"supplier": "torrgolv", "entrance": "yst-ostra-main", "kpi": "dry_time_share"}
    store.write_points([Point("kpi", tags, MS0, {"raw": 0.91, "status": "fail"})])
    store.write_points([Point("kpi", tags, MS0, {"raw": 0.97, "status": "pass"})])
    store.write_points([Point("kpi", {**tags, "supplier": "entre-ren"}, MS0, {"raw": 0.5})])
    frame = store.read_points("kpi", tags={"supplier": "torrgolv"})
    assert len(frame) == 1
    assert frame["raw"].iloc[0] == pytest.approx(0.97)
    assert frame["status"].iloc[0] == "pass"
    assert len(store.read_points("kpi")) == 2
    assert store.read_points("kpi", start=T0 + timedelta(seconds=1)).empty


def test_ping_answers(store: Store) -> None:
    store.ping()


def test_influxdb_not_answering_is_retryable() -> None:
    from tests.services import free_port

    with pytest.raises(StoreUnavailable) as caught:
        open_store(f"influxdb://127.0.0.1:{free_port()}/nothing")
    assert caught.value.retryable


def test_influxdb_bad_query_is_not_retryable(influx_url: str) -> None:
    from floorwatch.store.influx import InfluxStore

    store = open_store(influx_url)
    assert isinstance(store, InfluxStore)
    with pytest.raises(StoreRejected) as caught:
        store.query("SELEKT nonsense")
    assert not caught.value.retryable


def test_influx_float_and_int_values_never_conflict(influx_url: str) -> None:
    store = open_store(influx_url)
    store.write_readings([Reading(SENSOR, "footfall", MS0, 3)])
    store.write_readings([Reading(SENSOR, "footfall", MS0 + 1000, 2.5)])
    assert store.count_readings() == 2


def test_influx_stores_location_tags_for_dashboards(influx_url: str, registry) -> None:
    from floorwatch.store.influx import InfluxStore

    store = open_store(influx_url, sensor_tags=registry.sensor_tags)
    assert isinstance(store, InfluxStore)
    store.write_readings([Reading(SENSOR, "moisture", MS0, 7.0)])
    series = store.query(
        "SELECT value FROM reading WHERE school = 'yst-ostra' AND zone = 'inner' "
        "AND entrance = 'yst-ostra-main' AND municipality = 'ystad'"
    )
    assert series and series[0]["values"][0][1] == 7.0


def test_sqlite_readers_in_other_processes_see_committed_batches(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "shared.db"
    writer = open_store(f"sqlite:///{path}")
    writer.write_readings([Reading(SENSOR, "moisture", MS0 + i, 1.0) for i in range(500)])
    code = (
        "from floorwatch.store import open_store;"
        f"print(open_store('sqlite:///{path}').count_readings())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "500"
    assert writer.count_readings() == 500


def test_sqlite_unwritable_location_is_unavailable(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable):
        open_store(f"sqlite:///{blocker}/sub/x.db")


def test_sqlite_file_of_the_first_layout_is_migrated_on_open(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as old:  # version 1: readings keyed (sensor_id, ts_ms, kind)
        old.execute(
            "CREATE TABLE readings (sensor_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, "
            "kind TEXT NOT NULL, value REAL NOT NULL, "
            "PRIMARY KEY (sensor_id, ts_ms, kind)) WITHOUT ROWID"
        )
        old.executemany(
            "INSERT INTO readings VALUES (?,?,?,?)",
            [(SENSOR, MS0 + i * 60_000, kind, float(i)) for i in range(50) for kind in "ab"],
        )
    old.close()
    store = open_store(f"sqlite:///{path}")
    assert store.count_readings() == 100
    frame = store.read_readings(T0, T0 + timedelta(hours=1), kinds=["b"])
    assert frame["value"].tolist() == [float(i) for i in range(50)]
    store.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == 2
        key = check.execute("SELECT name FROM pragma_table_info('readings') WHERE pk ORDER BY pk")
        assert [row[0] for row in key] == ["sensor_id", "kind", "ts_ms"]
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
    assert open_store(f"sqlite:///{path}").count_readings() == 100  # opening again: no-op


def test_sqlite_counts_new_readings_across_insert_statements(tmp_path) -> None:
    from floorwatch.store.sqlite import ROWS_PER_INSERT

    store = open_store(f"sqlite:///{tmp_path / 'many.db'}")
    batch = [Reading(SENSOR, "moisture", MS0 + i * 1000, float(i)) for i in range(1_234)]
    assert len(batch) > 2 * ROWS_PER_INSERT  # three statements, the last a partial one
    assert store.write_readings(batch) == 1_234
    assert store.write_readings([*batch[600:], Reading(OTHER, "dirt", MS0, 1.0)]) == 1
    frame = store.read_readings(T0, T0 + timedelta(hours=1), sensor_ids=[SENSOR])
    assert frame["value"].tolist() == [float(i) for i in range(1_234)]
    store.close()
