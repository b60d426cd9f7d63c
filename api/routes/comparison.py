"""The supplier comparison per contract and month: suppliers ranked on their effects against
each entrance's own counterfactual, differences tested ("no difference shown" where unclear)."""

from __future__ import annotations

from fastapi import APIRouter

from api.access import PROCUREMENT_ONLY
from api.deps import Caller, Context
from api.errors import error_responses
from api.params import ContractId, ContractQuery, PeriodPath, PeriodQuery
from api.points import document, text
from api.routes import PREFIX
from api.schemas import ComparisonOut
from floorwatch.errors import NotFound

router = APIRouter(
    prefix=PREFIX, tags=["comparison"], responses=error_responses(401, 403, 404, 422, 503)
)


@router.get("/comparisons", summary="Supplier comparisons")
async def list_comparisons(
    access: Caller, context: Context, contract: ContractQuery = None, period: PeriodQuery = None
) -> list[ComparisonOut]:
    """Every supplier's results side by side: for procurement (and admin) only, since it shows
    all suppliers."""
    access.require(PROCUREMENT_ONLY)
    rows = await context.apoints("comparison", contract=contract, period=period)
    return [
        ComparisonOut(contract=text(r, "contract"), period=text(r, "period"), document=document(r))
        for r in rows
    ]


@router.get("/comparisons/{contract_id}/{period}", summary="One supplier comparison")
async def get_comparison(
    contract_id: ContractId, period: PeriodPath, access: Caller, context: Context
) -> ComparisonOut:
    """Suppliers ranked on their effects for a contract and month, with intervals and the
    tested difference of every pair ("no difference shown" where the data cannot tell)."""
    access.require(PROCUREMENT_ONLY)
    found = await context.apoints("comparison", contract=contract_id, period=period)
    if not found:
        raise NotFound(f"no comparison for {contract_id!r} in {period}")
    r = found[-1]
    return ComparisonOut(
        contract=text(r, "contract"), period=text(r, "period"), document=document(r)
    )
