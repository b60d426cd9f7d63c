"""Current state per entrance: latest moisture, dirt, footfall per zone; wet now, since when."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter

from api.access import Access
from api.context import ApiContext
from api.deps import Caller, Context
from api.errors import error_responses
from api.params import EntranceId, SchoolQuery
from api.routes import PREFIX
from api.schemas import EntranceState
from api.state import entrance_state
from floorwatch.errors import AccessDenied

router = APIRouter(
    prefix=PREFIX, tags=["state"], responses=error_responses(401, 403, 404, 422, 503)
)


async def _state(context: ApiContext, access: Access, entrance_id: str) -> EntranceState:
    entrance, school = access.entrance(entrance_id)
    now = datetime.now(UTC)
    windows = access.reading_windows(entrance_id)
    now_ms = int(now.timestamp() * 1000)
    if windows is not None and not any(a <= now_ms < b for a, b in windows):
        raise AccessDenied("")  # a supplier sees the live state only while installed there
    return await context.state_cache.aget(
        ("state", entrance_id),
        lambda: entrance_state(context.store, context.registry, entrance, school, now),
    )


@router.get("/entrances/{entrance_id}/state", summary="Current state of an entrance")
async def get_state(entrance_id: EntranceId, access: Caller, context: Context) -> EntranceState:
    """Latest values per zone and whether the floor is wet now (inner zone moisture above the
    contract's wet threshold) and since when. Cached for a few seconds."""
    return await _state(context, access, entrance_id)


@router.get("/state", summary="Current state of every entrance")
async def list_state(
    access: Caller, context: Context, school: SchoolQuery = None
) -> list[EntranceState]:
    """The current state of every entrance this key may see (optionally of one school)."""
    if school is not None:
        access.school(school)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    wanted = []
    for entrance_id, (_, entrance_school) in access.registry.entrances.items():
        if not access.may_see_entrance(entrance_id):
            continue
        if school is not None and entrance_school.id != school:
            continue
        windows = access.reading_windows(entrance_id)
        if windows is not None and not any(a <= now_ms < b for a, b in windows):
            continue
        wanted.append(entrance_id)
    # Cache misses read the store in worker threads: let them run side by side.
    return list(await asyncio.gather(*(_state(context, access, e) for e in wanted)))
