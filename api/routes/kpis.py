"""KPI results per installation and month, measured, expected without the solution and as
improvement over the entrance's own baseline, as analytics
stored them (never recomputed per request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Caller, Context
from api.errors import error_responses
from api.params import ContractQuery, EntranceQuery, PeriodQuery, SchoolQuery, SupplierQuery
from api.points import number, text
from api.routes import PREFIX
from api.schemas import KpiOut

router = APIRouter(prefix=PREFIX, tags=["kpis"], responses=error_responses(401, 403, 404, 422, 503))


@router.get("/kpis", summary="KPI results")
async def list_kpis(
    access: Caller,
    context: Context,
    period: PeriodQuery = None,
    supplier: SupplierQuery = None,
    entrance: EntranceQuery = None,
    school: SchoolQuery = None,
    contract: ContractQuery = None,
    kpi: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9_]{1,64}$", description="a KPI, e.g. dry_time_share"),
    ] = None,
) -> list[KpiOut]:
    """KPI values with intervals, target, weight and status (pass, fail, insufficient)."""
    rows = await access.commercial_results(
        context, "kpi", supplier, entrance, school, period=period, contract=contract, kpi=kpi
    )
    return [
        KpiOut(
            contract=text(r, "contract"),
            supplier=text(r, "supplier"),
            installation=text(r, "installation"),
            entrance=text(r, "entrance"),
            school=text(r, "school"),
            municipality=text(r, "municipality"),
            kpi=text(r, "kpi"),
            period=text(r, "period"),
            raw=number(r, "raw"),
            raw_low=number(r, "raw_low"),
            raw_high=number(r, "raw_high"),
            basis=r.get("basis") if isinstance(r.get("basis"), str) else None,
            judged_on=r.get("judged_on") if isinstance(r.get("judged_on"), str) else None,
            judged=number(r, "judged"),
            judged_low=number(r, "judged_low"),
            judged_high=number(r, "judged_high"),
            expected_untreated=number(r, "expected_untreated"),
            improvement=number(r, "improvement"),
            improvement_low=number(r, "improvement_low"),
            improvement_high=number(r, "improvement_high"),
            target=number(r, "target"),
            weight=number(r, "weight"),
            availability=number(r, "availability"),
            status=text(r, "status"),
        )
        for r in rows
    ]
