"""KPI results per installation and month, measured, expected without the solution and as
improvement over the entrance's own baseline, as analytics
stored them (never recomputed per request)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Caller, Context
from api.errors import error_responses
from api.params import ContractQuery, EntranceQuery, PeriodQuery, SchoolQuery, SupplierQuery
from api.points import text
from api.routes import PREFIX
from api.schemas import KpiOut
from floorwatch.results import KPI, KPI_FIELDS, KpiRecord

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
        context, KPI, supplier, entrance, school, period=period, contract=contract, kpi=kpi
    )
    return [kpi_out(r) for r in rows]


def kpi_out(r: dict[str, Any]) -> KpiOut:
    """A stored `kpi` point as the response model."""
    record = KpiRecord.from_fields(r)
    values = {k: getattr(record, k) for k in KPI_FIELDS if k in KpiOut.model_fields}
    return KpiOut(
        contract=text(r, "contract"),
        supplier=text(r, "supplier"),
        installation=text(r, "installation"),
        entrance=text(r, "entrance"),
        school=text(r, "school"),
        municipality=text(r, "municipality"),
        kpi=text(r, "kpi"),
        period=text(r, "period"),
        **values,
    )
