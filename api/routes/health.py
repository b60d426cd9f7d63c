"""Sensor health per month: availability, suspect minutes, status (ok, suspect, silent)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import Caller, Context
from api.errors import error_responses
from api.params import EntranceQuery, PeriodQuery, SchoolQuery
from api.points import number, text
from api.routes import PREFIX
from api.schemas import SensorHealthOut

router = APIRouter(
    prefix=PREFIX, tags=["sensor health"], responses=error_responses(401, 403, 404, 422, 503)
)


@router.get("/sensor-health", summary="Sensor health")
async def sensor_health(
    access: Caller,
    context: Context,
    period: PeriodQuery = None,
    school: SchoolQuery = None,
    entrance: EntranceQuery = None,
    status: Annotated[Literal["ok", "suspect", "silent"] | None, Query()] = None,
) -> list[SensorHealthOut]:
    """Health of each sensor per month, as analytics stored it (not recomputed per request).
    Technicians use it to find silent and suspect sensors."""
    if school is not None:
        access.school(school)
    if entrance is not None:
        access.entrance(entrance)
    rows = await context.apoints("sensor_health", period=period, school=school, entrance=entrance)
    rows = access.filter_results(rows, by_supplier=False)
    if status is not None:  # a field, not a tag: filtered here
        rows = [r for r in rows if r.get("status") == status]
    return [
        SensorHealthOut(
            sensor_id=text(r, "sensor_id"),
            entrance=text(r, "entrance"),
            school=text(r, "school"),
            municipality=text(r, "municipality"),
            zone=text(r, "zone"),
            period=text(r, "period"),
            availability=number(r, "availability"),
            suspect_minutes=number(r, "suspect_minutes"),
            status=text(r, "status"),
            reasons=text(r, "reasons"),
        )
        for r in rows
    ]
