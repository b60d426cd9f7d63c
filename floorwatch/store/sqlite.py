"""SQLite store: the embedded default. One file, WAL journal: one writer and many reader processes.

Commits use synchronous=FULL so that a committed batch survives a crash or power loss: the
collector acknowledges MQTT messages only after `write_readings` returns.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from floorwatch.errors import StoreRejected, StoreUnavailable
from floorwatch.readings import Point, QuarantineRecord, Reading
from floorwatch.store.base import READING_COLUMNS
from floorwatch.store.connections import ThreadConnections

# Readings are keyed sensor, kind, time: what analytics reads (one kind of one sensor over a
# month) is then one contiguous range of the primary key, not a scan past the sensor's battery,
# RSSI and temperature rows. Files made before this layout are migrated on open (_migrate).
SCHEMA_VERSION = 2
READINGS_TABLE = """
CREATE TABLE IF NOT EXISTS readings (
    sensor_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    ts_ms     INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (sensor_id, kind, ts_ms)
) WITHOUT ROWID;
"""
SCHEMA = (
    READINGS_TABLE
    + """
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    topic       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    key         TEXT            -- the record's identity (QuarantineRecord.key); NULL before keys
);
CREATE TABLE IF NOT EXISTS points (
    measurement TEXT NOT NULL,
    tags        TEXT NOT NULL,   -- canonical JSON object, keys sorted
    ts_ms       INTEGER NOT NULL,
    fields      TEXT NOT NULL,   -- JSON object
    PRIMARY KEY (measurement, tags, ts_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_by_time ON points (measurement, ts_ms);
"""
)


def _distinct(cur: sqlite3.Cursor, column: str, sensor_id: str | None = None) -> list[str]:
    """The distinct sensor ids, or one sensor's kinds, in order: one seek along the primary key
    per value found (a skip scan), not a scan of millions of rows."""
    scope, args = ("sensor_id = ? AND ", [sensor_id]) if column == "kind" else ("", [])
    found: list[str] = []
    row = cur.execute(
        f"SELECT {column} FROM readings WHERE {scope}1 ORDER BY {column} LIMIT 1", args
    ).fetchone()
    while row is not None:
        found.append(row[0])
        row = cur.execute(
            f"SELECT {column} FROM readings WHERE {scope}{column} > ? ORDER BY {column} LIMIT 1",
            [*args, row[0]],
        ).fetchone()
    return found


def _migrate(cur: sqlite3.Cursor) -> None:
    """Bring a file to SCHEMA_VERSION in one transaction. Version 1 keyed readings
    (sensor_id, ts_ms, kind); a year of the pilot (10.6 million rows) took 38 s here."""
    columns = cur.execute("PRAGMA table_info(readings)").fetchall()
    key = [name for _, name, *_rest, pk in sorted(columns, key=lambda c: c[5]) if pk]
    if columns and key != ["sensor_id", "kind", "ts_ms"]:
        cur.execute("ALTER TABLE readings RENAME TO readings_v1")
        cur.execute(READINGS_TABLE)
        cur.execute(
            "INSERT INTO readings (sensor_id, kind, ts_ms, value) "
            "SELECT sensor_id, kind, ts_ms, value FROM readings_v1 ORDER BY sensor_id, kind, ts_ms"
        )
        cur.execute("DROP TABLE readings_v1")
    cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _quarantine_schema(cur: sqlite3.Cursor) -> None:
    """The quarantine's identity column (added to files made before it) and its indexes: one
    record per key, and the newest-first read walking an index instead of sorting the table."""
    columns = {row[1] for row in cur.execute("PRAGMA table_info(quarantine)").fetchall()}
    if "key" not in columns:
        cur.execute("ALTER TABLE quarantine ADD COLUMN key TEXT")
    cur.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS quarantine_by_key ON quarantine (key) "
        "WHERE key IS NOT NULL"
    )
    cur.execute("CREATE INDEX IF NOT EXISTS quarantine_by_time ON quarantine (received_ms)")


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times given to the store must be timezone-aware")
    return int(moment.timestamp() * 1000)


ROWS_PER_INSERT = 500  # 2,000 parameters: SQLite allows 32,766 since 3.32


@functools.lru_cache(maxsize=8)
def _insert_readings(rows: int) -> str:
    values = ",".join(["(?,?,?,?)"] * rows)
    return f"INSERT OR IGNORE INTO readings (sensor_id, kind, ts_ms, value) VALUES {values}"


def _set_up(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")


def _translate(exc: sqlite3.Error, path: Path) -> Exception:
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return StoreRejected(f"SQLite store {path}: {exc}")
    return StoreUnavailable(f"SQLite store {path}: {exc}")


def _frame(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["ts_ms", "sensor_id", "kind", "value"])
    frame.insert(0, "time", pd.to_datetime(frame.pop("ts_ms"), unit="ms", utc=True))
    return frame[READING_COLUMNS]


class SqliteStore:
    """The Store interface on one SQLite file. Thread-safe: one connection per thread."""

    def __init__(self, path: Path, timeout_s: float = 30.0):
        self.path = Path(path)
        self._connections = ThreadConnections(
            self.path,
            "SQLite store",
            timeout_s,
            on_open=_set_up,
            translate=lambda exc: _translate(exc, self.path),
        )
        self._cursor = self._connections.cursor
        with self._cursor() as cur:
            if cur.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                cur.execute("BEGIN IMMEDIATE")  # one writer migrates; others wait, then see v2
                if cur.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    _migrate(cur)
        with self._cursor() as cur:
            cur.executescript(SCHEMA)
        with self._cursor() as cur:
            _quarantine_schema(cur)

    # --- readings ------------------------------------------------------------------------------
    def write_readings(self, readings: Sequence[Reading]) -> int:
        # INSERT ... VALUES (...),(...) of ROWS_PER_INSERT rows: one statement step per few
        # hundred rows instead of one per row, 1.7 times executemany's rate, and the GIL is let
        # go (and fought back for) once per statement, not per row, while the collector decodes.
        if not readings:
            return 0
        # The statements are ready before the transaction takes the file's write lock, which
        # another collector sharing the file may be waiting for.
        statements = [
            (_insert_readings(len(rows)), list(itertools.chain.from_iterable(rows)))
            for rows in (
                readings[start : start + ROWS_PER_INSERT]  # a Reading is the row's 4 values
                for start in range(0, len(readings), ROWS_PER_INSERT)
            )
        ]
        with self._cursor() as cur:
            before = cur.connection.total_changes
            for sql, values in statements:
                cur.execute(sql, values)
            return cur.connection.total_changes - before

    def read_readings(
        self,
        start: datetime,
        end: datetime,
        sensor_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        # One query per sensor and kind walks one range of the primary key, and SQLite hands the
        # column back as one comma-separated string that numpy parses: a Python tuple per row
        # was most of the time of scoring a school year. '%!.17g' keeps every bit of a double.
        window = (_ms(start), _ms(end))
        times: list[np.ndarray] = []
        values: list[np.ndarray] = []
        kind_codes: list[np.ndarray] = []
        sensor_codes: list[np.ndarray] = []
        kind_names: dict[str, int] = {}
        with self._cursor() as cur:
            if sensor_ids is None:
                sensor_ids = _distinct(cur, "sensor_id")
            for code, sensor_id in enumerate(sensor_ids):
                for kind in (
                    sorted(set(kinds)) if kinds is not None else _distinct(cur, "kind", sensor_id)
                ):
                    ts_text, value_text = cur.execute(
                        "SELECT group_concat(ts_ms), group_concat(printf('%!.17g', value)) "
                        "FROM readings WHERE sensor_id = ? AND kind = ? "
                        "AND ts_ms >= ? AND ts_ms < ?",
                        (sensor_id, kind, *window),
                    ).fetchone()
                    if ts_text is None:
                        continue
                    ts = np.fromstring(ts_text, dtype=np.int64, sep=",")
                    value = np.fromstring(value_text, dtype=np.float64, sep=",")
                    if len(ts) != len(value):
                        raise StoreUnavailable(f"SQLite store {self.path}: unreadable readings")
                    times.append(ts)
                    values.append(value)
                    kind_codes.append(
                        np.full(len(ts), kind_names.setdefault(kind, len(kind_names)))
                    )
                    sensor_codes.append(np.full(len(ts), code, dtype=np.int32))
        if not times:
            return _frame([])
        all_times = np.concatenate(times)
        # by time, then sensor order, then kind (sorted above): the same order on every read
        order = np.argsort(all_times, kind="stable")
        sensors = pd.Categorical.from_codes(
            np.concatenate(sensor_codes)[order], categories=pd.Index(list(sensor_ids))
        )
        kind_list = sorted(kind_names, key=kind_names.__getitem__)
        return pd.DataFrame(
            {
                "time": pd.to_datetime(all_times[order], unit="ms", utc=True),
                "sensor_id": np.asarray(sensors, dtype=object),
                "kind": np.asarray(kind_list, dtype=object)[np.concatenate(kind_codes)[order]],
                "value": np.concatenate(values)[order],
            }
        )

    def latest_readings(self, sensor_ids: Sequence[str]) -> pd.DataFrame:
        # Each kind's newest row comes straight off the primary key, read backwards.
        rows: list[tuple[int, str, str, float]] = []
        with self._cursor() as cur:
            for sensor_id in sensor_ids:
                for kind in _distinct(cur, "kind", sensor_id):
                    ts_ms, value = cur.execute(
                        "SELECT ts_ms, value FROM readings WHERE sensor_id = ? AND kind = ? "
                        "ORDER BY ts_ms DESC LIMIT 1",
                        (sensor_id, kind),
                    ).fetchone()
                    rows.append((ts_ms, sensor_id, kind, value))
        return _frame(rows)

    def count_readings(self) -> int:
        with self._cursor() as cur:
            return int(cur.execute("SELECT COUNT(*) FROM readings").fetchone()[0])

    # --- quarantine ----------------------------------------------------------------------------
    def write_quarantine(self, records: Sequence[QuarantineRecord]) -> None:
        if not records:
            return
        with self._cursor() as cur:
            # a key already stored is a redelivered or replayed reject: kept once
            cur.executemany(
                "INSERT OR IGNORE INTO quarantine (received_ms, topic, reason, detail, payload, "
                "key) VALUES (?,?,?,?,?,?)",
                [
                    (r.received_ms, r.topic, r.reason, r.detail, r.payload, r.key or None)
                    for r in records
                ],
            )

    def read_quarantine(self, limit: int = 100) -> list[QuarantineRecord]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT received_ms, topic, reason, detail, payload, coalesce(key, '') "
                "FROM quarantine ORDER BY received_ms DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [QuarantineRecord(*row) for row in rows]

    def prune_quarantine(self, before_ms: int) -> None:
        with self._cursor() as cur:
            cur.execute("DELETE FROM quarantine WHERE received_ms < ?", (before_ms,))

    # --- derived results -----------------------------------------------------------------------
    def write_points(self, points: Sequence[Point]) -> None:
        if not points:
            return
        with self._cursor() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO points (measurement, tags, ts_ms, fields) VALUES (?,?,?,?)",
                [
                    (
                        p.measurement,
                        json.dumps(p.tags, sort_keys=True),
                        p.ts_ms,
                        json.dumps(p.fields),
                    )
                    for p in points
                ],
            )

    def read_points(
        self,
        measurement: str,
        start: datetime | None = None,
        end: datetime | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        sql = "SELECT tags, ts_ms, fields FROM points WHERE measurement = ?"
        args: list[object] = [measurement]
        if start is not None:
            sql += " AND ts_ms >= ?"
            args.append(_ms(start))
        if end is not None:
            sql += " AND ts_ms < ?"
            args.append(_ms(end))
        for key, value in (tags or {}).items():
            sql += " AND json_extract(tags, ?) = ?"
            args.extend([f"$.{key}", value])
        with self._cursor() as cur:
            rows = cur.execute(sql + " ORDER BY ts_ms", args).fetchall()
        records = [{**json.loads(t), **json.loads(f), "ts_ms": ts} for t, ts, f in rows]
        frame = pd.DataFrame.from_records(records)
        if frame.empty:
            return pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns, UTC]")})
        frame.insert(0, "time", pd.to_datetime(frame.pop("ts_ms"), unit="ms", utc=True))
        return frame

    # --- lifecycle -----------------------------------------------------------------------------
    def ping(self) -> None:
        with self._cursor() as cur:
            cur.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._connections.close()
