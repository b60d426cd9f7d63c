"""InfluxDB store through the v1-compatible HTTP API (`/write` line protocol, `/query` InfluxQL).

Served by InfluxDB 1.x (user/password), 2.x (token, with a DBRP mapping from the database name to a
bucket) and 3.x (token). Readings are the measurement `reading` with tags sensor_id, kind and the
sensor's location (zone, entrance, school, municipality) and one float field `value`: the same
sensor, kind and time overwrite each other, so a reading written twice is stored once.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal

import httpx
import numpy as np
import pandas as pd

from floorwatch.errors import StoreRejected, StoreUnavailable
from floorwatch.readings import Point, QuarantineRecord, Reading
from floorwatch.settings import StoreTarget
from floorwatch.store.base import READING_COLUMNS
from floorwatch.store.lineprotocol import ReadingLines, body
from floorwatch.store.lineprotocol import line as _line

# Lines per /write request: the collector's batch (5,000 readings by default) goes in one request;
# larger writes (imports, backfills) are split. At most WRITE_CONCURRENCY requests of one store
# write at once, however many threads write through it (the collector writes two batches at
# once): bounded, as InfluxDB 1.6.7 wants; more did not raise its rate on 2 cores (bench/README.md).
WRITE_CHUNK = 20_000
WRITE_CONCURRENCY = 2
QUERY_CHUNK = 10_000  # rows per chunk of a chunked /query answer
_NO_TAGS: Mapping[str, str] = {}


_CSV_HEADER = b"name,tags,time,value"
_CSV_TYPES: dict[str, Any] = {"tags": "category", "time": np.int64, "value": np.float64}
# pandas 3 parses every double exactly by default (and deprecates the option); pandas 2's default
# can be one unit in the last place off, its round-trip parser is not.
_FLOAT_PRECISION: Literal["round_trip"] | None = (
    None if int(pd.__version__.split(".")[0]) >= 3 else "round_trip"
)


def _series_of(tags: str) -> tuple[str, str]:
    """(sensor_id, kind) from a CSV answer's tags column, `kind=...,sensor_id=...`."""
    kind, sep, sensor_id = tags.partition(",sensor_id=")
    if not sep or not kind.startswith("kind="):
        raise StoreUnavailable(f"InfluxDB answered a series with tags {tags!r}")
    return sensor_id, kind[len("kind=") :]


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


class InfluxStore:
    """The Store interface on InfluxDB's v1-compatible HTTP API. Writes may come from several
    threads at once."""

    def __init__(
        self,
        target: StoreTarget,
        sensor_tags: Any = None,
        timeout_s: float = 30.0,
        gzip_level: int = 0,
    ):
        """gzip_level 1 to 9 compresses write bodies (pays over a slow link); 0 does not."""
        self.target = target
        self.database = target.database
        self._reading_lines = ReadingLines(sensor_tags)
        self._gzip_level = gzip_level
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._posting = threading.BoundedSemaphore(WRITE_CONCURRENCY)
        # one quarantine write at a time: each checks and updates the keys already stored
        self._quarantine_lock = threading.Lock()
        headers = {"Authorization": f"Token {target.token}"} if target.token else {}
        self._auth_params: dict[str, str] = {}
        if target.username and not target.token:
            self._auth_params = {"u": target.username, "p": target.password or ""}
        self._http = httpx.Client(base_url=target.base_url, headers=headers, timeout=timeout_s)
        self._quarantine_seq = itertools.count()
        self._quarantine_keys: set[str] | None = None  # see _stored_quarantine_keys
        self._ensure_database()

    # --- HTTP ----------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        params = {**self._auth_params, **kwargs.pop("params", {})}
        try:
            response = self._http.request(method, path, params=params, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB at {self.target.base_url}: {exc}") from exc
        if response.status_code >= 500:
            raise StoreUnavailable(
                f"InfluxDB at {self.target.base_url}: {response.status_code} {response.text[:200]}"
            )
        if response.status_code >= 400:
            raise StoreRejected(
                f"InfluxDB at {self.target.base_url}: {response.status_code} {response.text[:300]}"
            )
        return response

    def _ensure_database(self) -> None:
        # InfluxDB 2.x/3.x refuse this: there the operator makes the bucket and its DBRP mapping.
        with contextlib.suppress(StoreRejected):
            self._request(
                "POST", "/query", params={"q": f"CREATE DATABASE {_ident(self.database)}"}
            )

    def _post_lines(self, lines: Sequence[str], precision: str) -> None:
        headers = {"Content-Type": "text/plain"}
        content = body(lines)
        if self._gzip_level:
            content = gzip.compress(content, compresslevel=self._gzip_level)
            headers["Content-Encoding"] = "gzip"
        with self._posting:
            self._request(
                "POST",
                "/write",
                params={"db": self.database, "precision": precision},
                content=content,
                headers=headers,
            )

    def _write_lines(self, lines: Iterable[str], precision: str = "ms") -> None:
        everything = lines if isinstance(lines, list) else list(lines)
        if len(everything) <= WRITE_CHUNK:
            if everything:
                self._post_lines(everything, precision)
            return
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    WRITE_CONCURRENCY, thread_name_prefix="influx-write"
                )
        chunks = [
            everything[start : start + WRITE_CHUNK]
            for start in range(0, len(everything), WRITE_CHUNK)
        ]
        for future in [self._pool.submit(self._post_lines, c, precision) for c in chunks]:
            future.result()  # all written, or the first error

    def _post_query(self, influxql: str, accept: str = "application/json") -> httpx.Response:
        """A chunked /query answer (no row limit applies), times in epoch milliseconds."""
        return self._request(
            "POST",
            "/query",
            params={
                "db": self.database,
                "epoch": "ms",
                "chunked": "true",
                "chunk_size": QUERY_CHUNK,
            },
            data={"q": influxql},
            headers={"Accept": accept},
        )

    def query(self, influxql: str) -> list[dict[str, Any]]:
        """Run InfluxQL; return the series (name, tags, columns, values) of all statements.
        Times are epoch milliseconds. Raises StoreRejected on a statement error."""
        response = self._post_query(influxql)
        series: dict[tuple[int, str, str], dict[str, Any]] = {}
        for text in response.text.splitlines():
            if not text.strip():
                continue
            answer = json.loads(text)
            if "error" in answer:
                raise StoreRejected(f"InfluxDB query failed: {answer['error']}")
            for result in answer.get("results", []):
                if "error" in result:
                    raise StoreRejected(f"InfluxDB query failed: {result['error']}")
                for one in result.get("series", []):
                    key = (
                        result.get("statement_id", 0),
                        one.get("name", ""),
                        json.dumps(one.get("tags", {}), sort_keys=True),
                    )
                    if key in series:  # the next chunk of a series already seen
                        series[key]["values"].extend(one.get("values", []))
                    else:
                        series[key] = {**one, "values": list(one.get("values", []))}
        return list(series.values())

    # --- readings ------------------------------------------------------------------------------
    def write_readings(self, readings: Sequence[Reading]) -> None:
        self._write_lines(self._reading_lines.lines(readings))
        return None

    def forget_sensor_tags(self) -> None:
        """The registry changed: build each sensor's location tags again on its next reading."""
        self._reading_lines.forget()

    def _readings_frame(self, series: list[dict[str, Any]]) -> pd.DataFrame:
        rows: list[tuple[int, str, str, float]] = []
        for one in series:
            columns = one["columns"]
            t, s, k, v = (columns.index(c) for c in ("time", "sensor_id", "kind", "value"))
            rows.extend((row[t], row[s], row[k], row[v]) for row in one["values"])
        frame = pd.DataFrame(rows, columns=["ts_ms", "sensor_id", "kind", "value"])
        frame.insert(0, "time", pd.to_datetime(frame.pop("ts_ms"), unit="ms", utc=True))
        frame["value"] = frame["value"].astype(float)
        return frame.sort_values(["time", "sensor_id", "kind"], kind="stable").reset_index(
            drop=True
        )[READING_COLUMNS]

    @staticmethod
    def _any_of(tag: str, values: Sequence[str]) -> str:
        return "(" + " OR ".join(f"{_ident(tag)} = {_quote(v)}" for v in values) + ")"

    def read_readings(
        self,
        start: datetime,
        end: datetime,
        sensor_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        where = [
            f"time >= {int(start.timestamp() * 1000)}ms",
            f"time < {int(end.timestamp() * 1000)}ms",
        ]
        if sensor_ids is not None:
            if not sensor_ids:
                return self._readings_frame([])
            where.append(self._any_of("sensor_id", sensor_ids))
        if kinds is not None:
            if not kinds:
                return self._readings_frame([])
            where.append(self._any_of("kind", kinds))
        # One series after another (GROUP BY), not merged by time on the server; the answer as
        # CSV, which InfluxDB writes faster than JSON and pandas parses without a Python object
        # per row (44,640 points of one series here: CSV 213 ms to answer + 10 ms to parse,
        # chunked JSON 492 + 69 ms, MessagePack 347 + 225 ms).
        clause = " AND ".join(where)
        query = f'SELECT "value" FROM "reading" WHERE {clause} GROUP BY "sensor_id", "kind"'
        response = self._post_query(query, accept="application/csv")
        return self._readings_from_csv(response.content, sensor_ids)

    def _readings_from_csv(self, content: bytes, sensor_ids: Sequence[str] | None) -> pd.DataFrame:
        """The readings frame in the SQLite store's order: by time, then the caller's sensor
        order (sorted when not given), then kind."""
        header, _, rest = content.partition(b"\n")
        if not header.strip():
            return self._readings_frame([])
        if header != _CSV_HEADER:
            detail = content.decode("utf-8", "replace")[:300]
            if header.split(b",")[-1] == b"error":
                raise StoreRejected(f"InfluxDB query failed: {detail}")
            raise StoreUnavailable(
                f"InfluxDB at {self.target.base_url}: unreadable answer {detail}"
            )
        rest = rest.replace(b"\n" + _CSV_HEADER + b"\n", b"\n")  # a header again, if any
        table = pd.read_csv(
            io.BytesIO(rest),
            header=None,
            names=["name", "tags", "time", "value"],
            usecols=["tags", "time", "value"],
            dtype=_CSV_TYPES,
            float_precision=_FLOAT_PRECISION,  # every bit of the double, as SQLite gives it
        )
        series = [_series_of(str(tags)) for tags in table["tags"].cat.categories]
        place = {sid: i for i, sid in reversed(list(enumerate(sensor_ids or [])))}
        if sensor_ids is None:
            place = {sid: i for i, sid in enumerate(sorted({sid for sid, _ in series}))}
        ranked = sorted(range(len(series)), key=lambda i: (place[series[i][0]], series[i][1]))
        rank = np.empty(len(series), dtype=np.int64)
        rank[ranked] = np.arange(len(series))
        codes = table["tags"].cat.codes.to_numpy()
        times = table["time"].to_numpy()
        order = np.lexsort((rank[codes], times))
        codes = codes[order]
        return pd.DataFrame(
            {
                "time": pd.to_datetime(times[order], unit="ms", utc=True),
                "sensor_id": np.asarray([sid for sid, _ in series], dtype=object)[codes],
                "kind": np.asarray([kind for _, kind in series], dtype=object)[codes],
                "value": table["value"].to_numpy()[order],
            }
        )

    def latest_readings(self, sensor_ids: Sequence[str]) -> pd.DataFrame:
        if not sensor_ids:
            return self._readings_frame([])
        query = (
            f'SELECT last("value") AS "value" FROM "reading" '
            f'WHERE {self._any_of("sensor_id", sensor_ids)} GROUP BY "sensor_id", "kind"'
        )
        series = []
        for one in self.query(query):
            tags = one.get("tags", {})
            series.append(
                {
                    "columns": ["time", "value", "sensor_id", "kind"],
                    "values": [
                        [r[0], r[1], tags["sensor_id"], tags["kind"]] for r in one["values"]
                    ],
                }
            )
        return self._readings_frame(series)

    def count_readings(self) -> int:
        series = self.query('SELECT count("value") FROM "reading"')
        return int(series[0]["values"][0][1]) if series else 0

    # --- quarantine ----------------------------------------------------------------------------
    def _stored_quarantine_keys(self) -> set[str]:
        """The keys of the records stored (read once, then kept up to date by this store's
        writes): InfluxDB cannot refuse a point by a field's value, so the collector's store
        leaves out a record whose key it has seen. The quarantine is bounded by the collector's
        budget and retention, and so is this set."""
        if self._quarantine_keys is None:
            series = self.query('SELECT "record_key" FROM "quarantine"')
            self._quarantine_keys = {
                row[1] for one in series for row in one["values"] if row[1] is not None
            }
        return self._quarantine_keys

    def write_quarantine(self, records: Sequence[QuarantineRecord]) -> None:
        if not records:
            return
        with self._quarantine_lock:
            self._write_quarantine(records)

    def _write_quarantine(self, records: Sequence[QuarantineRecord]) -> None:
        known = self._stored_quarantine_keys()
        fresh: dict[str, QuarantineRecord] = {}
        for index, record in enumerate(records):
            if record.key not in known:
                fresh.setdefault(record.key or f"unkeyed-{index}", record)

        def fields(r: QuarantineRecord) -> dict[str, float | str]:
            values: dict[str, float | str] = {
                "topic": r.topic,
                "detail": r.detail,
                "payload": r.payload,
            }
            if r.key:
                values["record_key"] = r.key
            return values

        # Nanosecond times with a running counter keep two rejects of the same millisecond apart.
        self._write_lines(
            (
                _line(
                    "quarantine",
                    {"reason": r.reason},
                    fields(r),
                    r.received_ms * 1_000_000 + next(self._quarantine_seq) % 1_000_000,
                )
                for r in fresh.values()
            ),
            precision="ns",
        )
        known.update(r.key for r in fresh.values() if r.key)

    def prune_quarantine(self, before_ms: int) -> None:
        self.query(f'DELETE FROM "quarantine" WHERE time < {int(before_ms)}ms')

    def read_quarantine(self, limit: int = 100) -> list[QuarantineRecord]:
        series = self.query(
            f'SELECT "topic", "reason", "detail", "payload", "record_key" FROM "quarantine" '
            f"ORDER BY time DESC LIMIT {int(limit)}"
        )
        records = []
        for one in series:
            idx = {c: i for i, c in enumerate(one["columns"])}
            for row in one["values"]:
                records.append(
                    QuarantineRecord(
                        received_ms=int(row[idx["time"]]),
                        topic=row[idx["topic"]] or "",
                        reason=row[idx["reason"]] or "",
                        detail=row[idx["detail"]] or "",
                        payload=row[idx["payload"]] or "",
                        key=(row[idx["record_key"]] or "") if "record_key" in idx else "",
                    )
                )
        return records

    # --- derived results -----------------------------------------------------------------------
    def write_points(self, points: Sequence[Point]) -> None:
        self._write_lines(_line(p.measurement, p.tags, p.fields, p.ts_ms) for p in points)

    def read_points(
        self,
        measurement: str,
        start: datetime | None = None,
        end: datetime | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        where = []
        if start is not None:
            where.append(f"time >= {int(start.timestamp() * 1000)}ms")
        if end is not None:
            where.append(f"time < {int(end.timestamp() * 1000)}ms")
        where.extend(f"{_ident(k)} = {_quote(v)}" for k, v in (tags or _NO_TAGS).items())
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        series = self.query(f"SELECT * FROM {_ident(measurement)}{clause} GROUP BY *")
        records = []
        for one in series:
            columns = one["columns"]
            for row in one["values"]:
                record = {**one.get("tags", {}), **dict(zip(columns, row, strict=True))}
                records.append(record)
        if not records:
            return pd.DataFrame({"time": pd.Series([], dtype="datetime64[ns, UTC]")})
        frame = pd.DataFrame.from_records(records)
        frame["time"] = pd.to_datetime(frame["time"], unit="ms", utc=True)
        frame = frame.sort_values("time", kind="stable").reset_index(drop=True)
        return frame[["time", *[c for c in frame.columns if c != "time"]]]

    # --- lifecycle -----------------------------------------------------------------------------
    def ping(self) -> None:
        self._request("GET", "/ping")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        self._http.close()
