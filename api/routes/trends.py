"""Weekly trends for facility managers (not scored): grit load, wet minutes, cleaning
interventions, slip exposure."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.access import TRENDS
from api.deps import Caller, Context
from api.errors import error_responses
from api.params import EntranceQuery, SchoolQuery
from api.points import number, text
from api.routes import PREFIX
from api.schemas import TrendOut

router = APIRouter(
    prefix=PREFIX, tags=["trends"], responses=error_responses(401, 403, 404, 422, 503)
)

Metric = Literal["grit_load", "wet_minutes", "cleaning_interventions", "slip_exposure"]


@router.get("/trends", summary="Weekly trends")
async def list_trends(
    access: Caller,
    context: Context,
    entrance: EntranceQuery = None,
    school: SchoolQuery = None,
    metric: Annotated[Metric | None, Query()] = None,
) -> list[TrendOut]:
    """One value per entrance, metric and week (week_start: Monday 00:00 local time)."""
    access.require(TRENDS)
    if entrance is not None:
        access.entrance(entrance)
    if school is not None:
        access.school(school)
    rows = await context.apoints("trend", entrance=entrance, school=school, metric=metric)
    rows = access.filter_results(rows, by_supplier=False)
    return [
        TrendOut(
            entrance=text(r, "entrance"),
            school=text(r, "school"),
            municipality=text(r, "municipality"),
            metric=text(r, "metric"),
            week_start=r["time"],
            value=number(r, "value"),
        )
        for r in rows
    ]
