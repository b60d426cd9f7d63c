"""Readings as pages: time windows, downsampling into buckets, and opaque cursors.

Raw pages are ordered by (time, sensor, kind); the cursor names the last row given, and the next
page starts right after it. The store is read in time windows sized from the sensors' report
intervals, so a page never loads much more than it returns, however long the range is.
Downsampled pages hold whole buckets; their cursor is the next bucket's start.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from floorwatch.errors import InvalidRequest

EVERY = re.compile(r"^([1-9][0-9]{0,3})([smhd])$")
UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
# Kinds that count events (passages per report): summed per bucket; everything else averaged.
SUMMED_KINDS = frozenset({"footfall", "precipitation"})

MAX_RAW_RANGE_MS = 93 * 86_400_000  # one quarter of raw readings per request
MAX_BUCKETED_RANGE_MS = 400 * 86_400_000  # a bit over a year, downsampled
MAX_BUCKETS = 50_000  # per series and request
MIN_EVERY_MS = 60_000
MAX_WINDOW_READS = 64  # store reads per page at most: a page can never turn into a long scan


def parse_every(text: str) -> int:
    """Bucket width in ms of e.g. "15m". Units s, m, h, d; at least one minute."""
    match = EVERY.match(text)
    if not match:
        raise InvalidRequest(
            f"every: expected a number and a unit s, m, h or d (e.g. 15m), got {text!r}"
        )
    width = int(match.group(1)) * UNIT_MS[match.group(2)]
    if width < MIN_EVERY_MS:
        raise InvalidRequest("every: buckets must be at least 1m wide")
    if width > 31 * 86_400_000:
        raise InvalidRequest("every: buckets must be at most 31d wide")
    return width


def check_range(start_ms: int, end_ms: int, every_ms: int | None) -> None:
    """Refuse an empty, reversed or too long range with a message saying what is allowed."""
    if end_ms <= start_ms:
        raise InvalidRequest("end must be after start")
    span = end_ms - start_ms
    if every_ms is None and span > MAX_RAW_RANGE_MS:
        raise InvalidRequest(
            "range too large: at most 93 days of raw readings per request; "
            "downsample with every=15m (up to 400 days) or ask for a shorter range"
        )
    if every_ms is not None:
        if span > MAX_BUCKETED_RANGE_MS:
            raise InvalidRequest("range too large: at most 400 days per request")
        if span // every_ms > MAX_BUCKETS:
            raise InvalidRequest(
                f"too many buckets: {span // every_ms} of {every_ms // 60_000} minutes; "
                f"at most {MAX_BUCKETS}, choose a wider every"
            )


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after (ts_ms, sensor_id, kind) for raw pages; at ts_ms (a
    bucket start) for downsampled ones."""

    ts_ms: int
    sensor_id: str = ""
    kind: str = ""

    def encode(self) -> str:
        text = json.dumps([self.ts_ms, self.sensor_id, self.kind], separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            ts_ms, sensor_id, kind = json.loads(raw)
            if (
                not isinstance(ts_ms, int)
                or not isinstance(sensor_id, str)
                or not isinstance(kind, str)
            ):
                raise ValueError("wrong types")
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidRequest("cursor: not a cursor this API gave out") from exc
        return cls(ts_ms, sensor_id, kind)


Reader = Callable[[int, int], pd.DataFrame]  # [start_ms, end_ms) -> READING_COLUMNS frame


@dataclass(frozen=True)
class Page:
    rows: list[tuple[int, str, str, float, int | None]]  # ts_ms, sensor, kind, value, count
    next_cursor: str | None


def _ms_column(frame: pd.DataFrame) -> pd.Series:
    """The `time` column as int ms (whatever resolution pandas chose for it)."""
    return frame["time"].dt.as_unit("ms").astype("int64")


def _in_windows(ts: pd.Series, windows: Sequence[tuple[int, int]] | None) -> pd.Series:
    if windows is None:
        return pd.Series(True, index=ts.index)
    keep = pd.Series(False, index=ts.index)
    for w_start, w_end in windows:
        keep |= (ts >= w_start) & (ts < w_end)
    return keep


def raw_page(
    read: Reader,
    start_ms: int,
    end_ms: int,
    limit: int,
    rows_per_ms: float,
    cursor: Cursor | None,
    windows: Sequence[tuple[int, int]] | None = None,
) -> Page:
    """Up to `limit` raw readings in [start, end) after the cursor, within `windows` if given.

    rows_per_ms: expected readings per ms of time (from the registry), to size store reads.
    """
    begin = max(start_ms, cursor.ts_ms) if cursor else start_ms
    window_ms = max(60_000, int((limit + 1) / max(rows_per_ms, 1e-12) * 1.25))
    collected: list[pd.DataFrame] = []
    count = 0
    at = begin
    reads = 0
    while at < end_ms and count <= limit and reads < MAX_WINDOW_READS:
        upto = min(end_ms, at + window_ms)
        frame = read(at, upto)
        reads += 1
        if not frame.empty:
            ts = _ms_column(frame)
            keep = _in_windows(ts, windows)
            if cursor is not None and at == begin:
                after = (ts > cursor.ts_ms) | (
                    (ts == cursor.ts_ms)
                    & (
                        (frame["sensor_id"] > cursor.sensor_id)
                        | ((frame["sensor_id"] == cursor.sensor_id) & (frame["kind"] > cursor.kind))
                    )
                )
                keep &= after
            frame = frame[keep]
            collected.append(frame)
            count += len(frame)
        at = upto
        if frame.empty:  # a gap in the data: widen the next read (dense data keeps its size)
            window_ms *= 2
    rows: list[tuple[int, str, str, float, int | None]] = []
    for frame in collected:
        for ts, sensor, kind, value in zip(
            _ms_column(frame), frame["sensor_id"], frame["kind"], frame["value"], strict=True
        ):
            rows.append((int(ts), str(sensor), str(kind), float(value), None))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        return Page(rows, Cursor(last[0], last[1], last[2]).encode())
    if at < end_ms:  # stopped after MAX_WINDOW_READS of sparse data: continue after `at - 1`
        return Page(rows, Cursor(at - 1, "\uffff", "\uffff").encode())
    return Page(rows, None)


def bucketed_page(
    read: Reader,
    start_ms: int,
    end_ms: int,
    every_ms: int,
    limit: int,
    series_count: int,
    cursor: Cursor | None,
    windows: Sequence[tuple[int, int]] | None = None,
) -> Page:
    """Buckets of `every_ms` aligned to `start`, one row per (bucket, sensor, kind) that has
    readings, mean per bucket (sums for counted kinds). A page holds whole buckets."""
    begin = max(start_ms, cursor.ts_ms) if cursor else start_ms
    offset = (begin - start_ms) % every_ms
    if offset:
        begin += every_ms - offset
    buckets = max(1, limit // max(1, series_count))
    upto = min(end_ms, begin + buckets * every_ms)
    if begin >= end_ms:
        return Page([], None)
    frame = read(begin, upto)
    rows: list[tuple[int, str, str, float, int | None]] = []
    if not frame.empty:
        ts = _ms_column(frame)
        frame = frame[_in_windows(ts, windows)].copy()
        frame["bucket"] = start_ms + (_ms_column(frame) - start_ms) // every_ms * every_ms
        grouped = frame.groupby(["bucket", "sensor_id", "kind"], sort=True)["value"]
        stats = grouped.agg(["mean", "sum", "count"]).reset_index()
        for bucket, sensor, kind, mean, total, n in stats.itertuples(index=False):
            value = total if kind in SUMMED_KINDS else mean
            rows.append((int(bucket), str(sensor), str(kind), float(value), int(n)))
    if len(rows) > limit:  # more series than expected: end the page at a bucket boundary
        cut = rows[limit][0]
        whole = [r for r in rows if r[0] < cut]
        if whole:
            return Page(whole, Cursor(cut).encode())
        raise InvalidRequest(f"limit: one bucket holds {len(rows)} rows; raise limit")
    return Page(rows, Cursor(upto).encode() if upto < end_ms else None)
