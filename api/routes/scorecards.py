"""Monthly scorecards per installation with score and bonus/malus, as analytics stored them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.access import COMMERCIAL
from api.deps import Caller, Context
from api.errors import error_responses
from api.params import (
    ContractQuery,
    EntranceQuery,
    InstallationId,
    PeriodPath,
    PeriodQuery,
    SchoolQuery,
    SupplierQuery,
)
from api.points import document, number, text
from api.routes import PREFIX
from api.schemas import Scorecard, ScorecardSummary
from floorwatch.errors import AccessDenied, NotFound

router = APIRouter(
    prefix=PREFIX, tags=["scorecards"], responses=error_responses(401, 403, 404, 422, 503)
)

TAGS = ("contract", "supplier", "installation", "entrance", "school", "municipality", "period")
MAIN_FIELDS = ("score", "bonus_malus_sek", "payment_sek", "document", "time")


def _summary(r: dict[str, Any]) -> dict[str, Any]:
    counts = {
        k: float(v)
        for k, v in sorted(r.items())
        if k not in TAGS and k not in MAIN_FIELDS and number(r, k) is not None
    }
    return {
        **{tag: text(r, tag) for tag in TAGS},
        "score": number(r, "score"),
        "bonus_malus_sek": number(r, "bonus_malus_sek"),
        "payment_sek": number(r, "payment_sek"),
        "counts": counts,
    }


@router.get("/scorecards", summary="Scorecards")
async def list_scorecards(
    access: Caller,
    context: Context,
    period: PeriodQuery = None,
    supplier: SupplierQuery = None,
    entrance: EntranceQuery = None,
    school: SchoolQuery = None,
    contract: ContractQuery = None,
) -> list[ScorecardSummary]:
    """Score and bonus/malus per installation and month (a supplier key: only its own)."""
    rows = await access.commercial_results(
        context, "scorecard", supplier, entrance, school, period=period, contract=contract
    )
    return [ScorecardSummary(**_summary(r)) for r in rows]


@router.get("/scorecards/{installation_id}/{period}", summary="One scorecard in full")
async def get_scorecard(
    installation_id: InstallationId, period: PeriodPath, access: Caller, context: Context
) -> Scorecard:
    """The full scorecard document of an installation for a month: every KPI measured,
    expected without the solution and as improvement with intervals, its baselines, the
    registry hash it was computed from, and the payment."""
    access.require(COMMERCIAL)
    if access.restricted and installation_id not in {i.id for i in access.installations}:
        raise AccessDenied("")
    rows = await context.apoints("scorecard", installation=installation_id, period=period)
    rows = access.filter_results(rows, by_supplier=True)
    found = rows
    if not found:
        raise NotFound(f"no scorecard for {installation_id!r} in {period}")
    record = found[-1]
    return Scorecard(**_summary(record), document=document(record))
