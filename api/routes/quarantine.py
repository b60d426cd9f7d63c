"""Recently quarantined input with its reason: for technicians commissioning installations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.access import OPERATIONS
from api.deps import Caller, StoreDep
from api.errors import error_responses
from api.routes import PREFIX
from api.schemas import QuarantineOut

router = APIRouter(
    prefix=PREFIX, tags=["quarantine"], responses=error_responses(401, 403, 422, 503)
)

MAX_SCAN = 5_000


@router.get("/quarantine", summary="Recent rejects")
def list_quarantine(
    access: Caller,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="newest first, at most 1,000")] = 100,
    reason: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,40}$", description="e.g. out_of_range")
    ] = None,
) -> list[QuarantineOut]:
    """The newest quarantined messages with reason and detail (payload truncated)."""
    access.require(OPERATIONS)
    # Filtering by reason scans a bounded number of the newest rejects, never the whole table.
    records = store.read_quarantine(limit=limit if reason is None else MAX_SCAN)
    if reason is not None:
        records = [r for r in records if r.reason == reason][:limit]
    return [
        QuarantineOut(
            received=datetime.fromtimestamp(r.received_ms / 1000, tz=UTC),
            topic=r.topic,
            reason=r.reason,
            detail=r.detail,
            payload=r.payload,
        )
        for r in records
    ]
