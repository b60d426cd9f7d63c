"""KPI results per installation and month, raw and weather/footfall adjusted, as analytics
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
            adjusted=number(r, "adjusted"),
            adjusted_low=number(r, "adjusted_low"),
            adjusted_high=number(r, "adjusted_high"),
            target=number(r, "target"),
            weight=number(r, "weight"),
            availability=number(r, "availability"),
            status=text(r, "status"),
        )
        for r in rows
    ]
