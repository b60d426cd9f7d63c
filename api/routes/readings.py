"""Readings of an entrance or a sensor over a time range: raw or downsampled, in pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query

from api.access import Access
from api.deps import Caller, StoreDep
from api.errors import error_responses
from api.params import EntranceId, SensorId, time_ms
from api.routes import PREFIX
from api.schemas import ReadingOut, ReadingsPage
from api.series import Cursor, bucketed_page, check_range, parse_every, raw_page
from floorwatch.readings import Kind
from floorwatch.registry.schema import Sensor, Zone
from floorwatch.store import Store

router = APIRouter(
    prefix=PREFIX, tags=["readings"], responses=error_responses(401, 403, 404, 422, 503)
)

Start = Annotated[datetime, Query(description="from (inclusive), RFC 3339 with offset")]
End = Annotated[datetime, Query(description="to (exclusive), RFC 3339 with offset")]
Every = Annotated[
    str | None,
    Query(
        pattern=r"^[1-9][0-9]{0,3}[smhd]$",
        description="downsample into buckets of this width, e.g. 15m, 1h, 1d (at least 1m)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=10_000, description="rows per page (at most 10,000)")]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=512, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page"
    ),
]
KindQuery = Annotated[Kind | None, Query(description="only this kind")]
ZoneQuery = Annotated[Zone | None, Query(description="only sensors in this zone")]


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _page(
    store: Store,
    access: Access,
    entrance_id: str,
    sensors: list[Sensor],
    start: datetime,
    end: datetime,
    kind: Kind | None,
    every: str | None,
    limit: int,
    cursor: str | None,
) -> ReadingsPage:
    start_ms, end_ms = time_ms("start", start), time_ms("end", end)
    every_ms = parse_every(every) if every else None
    check_range(start_ms, end_ms, every_ms)
    after = Cursor.decode(cursor) if cursor else None
    windows = access.reading_windows(entrance_id)
    read_from, read_to = start_ms, end_ms
    if windows is not None:  # a supplier: only during its installation periods
        read_from = max(start_ms, min((w[0] for w in windows), default=end_ms))
        read_to = min(end_ms, max((w[1] for w in windows), default=start_ms))
    ids = [s.id for s in sensors]
    kinds = [kind.value] if kind else None
    # A series per (sensor, kind) that the sensor can report; sizes reads and pages.
    series = sum(1 if kind else len(s.kinds) for s in sensors) or 1
    rows_per_ms = sum((1 if kind else len(s.kinds)) / (s.report_interval * 1000) for s in sensors)

    def read(a: int, b: int) -> pd.DataFrame:
        return store.read_readings(_time(a), _time(b), sensor_ids=ids, kinds=kinds)

    if not ids or read_from >= read_to:
        page_rows, next_cursor = [], None
    elif every_ms is None:
        page = raw_page(read, read_from, read_to, limit, rows_per_ms, after, windows)
        page_rows, next_cursor = page.rows, page.next_cursor
    else:
        # Buckets stay aligned to the requested start, whatever a supplier's window clips.
        aligned_from = start_ms + (read_from - start_ms) // every_ms * every_ms
        page = bucketed_page(read, aligned_from, read_to, every_ms, limit, series, after, windows)
        page_rows, next_cursor = page.rows, page.next_cursor
    return ReadingsPage(
        start=_time(start_ms),
        end=_time(end_ms),
        every=every,
        aggregation=None if every_ms is None else "mean (footfall: sum)",
        readings=[
            ReadingOut(time=_time(ts), sensor_id=s, kind=k, value=v, count=n)
            for ts, s, k, v, n in page_rows
        ],
        next_cursor=next_cursor,
    )


@router.get("/entrances/{entrance_id}/readings", summary="Readings of an entrance")
def entrance_readings(
    entrance_id: EntranceId,
    access: Caller,
    store: StoreDep,
    start: Start,
    end: End,
    kind: KindQuery = None,
    zone: ZoneQuery = None,
    every: Every = None,
    limit: Limit = 1000,
    cursor: CursorQuery = None,
) -> ReadingsPage:
    """Readings of all sensors of an entrance in [start, end), ordered by time.

    Raw: at most 93 days per request. With `every` (e.g. 15m): one row per bucket, sensor and
    kind (mean; footfall summed), at most 400 days. Follow `next_cursor` for more pages.
    """
    entrance, _ = access.entrance(entrance_id)
    sensors = [s for s in entrance.sensors if zone is None or s.zone == zone]
    if kind is not None:
        sensors = [s for s in sensors if kind in s.kinds]
    return _page(store, access, entrance_id, sensors, start, end, kind, every, limit, cursor)


@router.get("/sensors/{sensor_id}/readings", summary="Readings of a sensor")
def sensor_readings(
    sensor_id: SensorId,
    access: Caller,
    store: StoreDep,
    start: Start,
    end: End,
    kind: KindQuery = None,
    every: Every = None,
    limit: Limit = 1000,
    cursor: CursorQuery = None,
) -> ReadingsPage:
    """Readings of one sensor in [start, end); same rules as the entrance readings."""
    place = access.sensor(sensor_id)
    sensors = [place.sensor] if kind is None or kind in place.sensor.kinds else []
    return _page(store, access, place.entrance.id, sensors, start, end, kind, every, limit, cursor)
