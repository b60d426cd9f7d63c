"""SQLite store: the embedded default. One file, WAL journal: one writer and many reader processes.

Commits use synchronous=FULL so that a committed batch survives a crash or power loss: the
collector acknowledges MQTT messages only after `write_readings` returns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from floorwatch.errors import StoreRejected, StoreUnavailable
from floorwatch.readings import Point, QuarantineRecord, Reading
from floorwatch.store.base import READING_COLUMNS

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    sensor_id TEXT NOT NULL,
    ts_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (sensor_id, ts_ms, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    topic       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    payload     TEXT NOT NULL
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


# latest_readings: how far before a sensor's newest reading its other kinds are looked for.
LATEST_LOOKBACK_MS = 2 * 86_400_000


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times given to the store must be timezone-aware")
    return int(moment.timestamp() * 1000)


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
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._cursor() as cur:
            cur.executescript(SCHEMA)

    # --- connections ---------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                if self.path.parent != Path(""):
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=self._timeout_s, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        conn = self._connection()
        try:
            with conn:  # one transaction: commit on success, roll back on error
                yield conn.cursor()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc

    # --- readings ------------------------------------------------------------------------------
    def write_readings(self, readings: Sequence[Reading]) -> int:
        if not readings:
            return 0
        with self._cursor() as cur:
            before = cur.connection.total_changes
            cur.executemany(
                "INSERT OR IGNORE INTO readings (sensor_id, ts_ms, kind, value) VALUES (?,?,?,?)",
                [(r.sensor_id, r.ts_ms, r.kind, r.value) for r in readings],
            )
            return cur.connection.total_changes - before

    def read_readings(
        self,
        start: datetime,
        end: datetime,
        sensor_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        # One query per sensor walks the primary key in time order (no sort in SQLite), and the
        # columns are built as numpy arrays: building a DataFrame from row tuples was most of
        # the time of scoring a school year.
        window: list[object] = [_ms(start), _ms(end)]
        kind_clause = ""
        if kinds is not None:
            kind_clause = f" AND kind IN ({','.join('?' * len(kinds))})"
            window.extend(kinds)
        times: list[np.ndarray] = []
        values: list[np.ndarray] = []
        kind_codes: list[np.ndarray] = []
        sensor_codes: list[np.ndarray] = []
        kind_names: dict[str, int] = {}
        with self._cursor() as cur:
            if sensor_ids is None:
                sensor_ids = [
                    row[0]
                    for row in cur.execute("SELECT DISTINCT sensor_id FROM readings").fetchall()
                ]
            for code, sensor_id in enumerate(sensor_ids):
                rows = cur.execute(
                    "SELECT ts_ms, value, kind FROM readings WHERE sensor_id = ? "
                    "AND ts_ms >= ? AND ts_ms < ?" + kind_clause,
                    [sensor_id, *window],
                ).fetchall()
                if not rows:
                    continue
                ts, value, kind = zip(*rows, strict=True)
                times.append(np.fromiter(ts, dtype=np.int64, count=len(rows)))
                values.append(np.fromiter(value, dtype=np.float64, count=len(rows)))
                kind_codes.append(
                    np.fromiter(
                        (kind_names.setdefault(k, len(kind_names)) for k in kind),
                        dtype=np.int32,
                        count=len(rows),
                    )
                )
                sensor_codes.append(np.full(len(rows), code, dtype=np.int32))
        if not times:
            return _frame([])
        all_times = np.concatenate(times)
        order = np.argsort(all_times, kind="stable")  # by time, then sensor order, as stored
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
        # The newest row of a sensor comes straight off the primary key (backwards); its other
        # kinds (battery, temperature...) are looked for in the LATEST_LOOKBACK_MS before it.
        # A scan of all of a sensor's kinds would read its whole history (a year: 100,000 rows).
        rows: list[tuple[int, str, str, float]] = []
        with self._cursor() as cur:
            for sensor_id in sensor_ids:
                newest = cur.execute(
                    "SELECT ts_ms FROM readings WHERE sensor_id = ? ORDER BY ts_ms DESC LIMIT 1",
                    (sensor_id,),
                ).fetchone()
                if newest is None:
                    continue
                seen: set[str] = set()
                for ts_ms, kind, value in cur.execute(
                    "SELECT ts_ms, kind, value FROM readings WHERE sensor_id = ? AND ts_ms >= ? "
                    "ORDER BY ts_ms DESC",
                    (sensor_id, newest[0] - LATEST_LOOKBACK_MS),
                ):
                    if kind not in seen:
                        seen.add(kind)
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
            cur.executemany(
                "INSERT INTO quarantine (received_ms, topic, reason, detail, payload) "
                "VALUES (?,?,?,?,?)",
                [(r.received_ms, r.topic, r.reason, r.detail, r.payload) for r in records],
            )

    def read_quarantine(self, limit: int = 100) -> list[QuarantineRecord]:
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT received_ms, topic, reason, detail, payload FROM quarantine "
                "ORDER BY received_ms DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [QuarantineRecord(*row) for row in rows]

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
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
