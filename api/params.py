"""Validated request parameters shared by the routes (ids, periods, times)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query

from floorwatch.errors import InvalidRequest

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

EntranceId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. yst-ostra-main")]
SensorId = Annotated[
    str, Path(pattern=ID_PATTERN, description="e.g. yst-ostra-main-inner-moisture")
]
SchoolId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. yst-ostra")]
SupplierId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. entre-ren")]
ContractId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. skane-entrance-2026")]
InstallationId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. inst-yst-ostra-main")]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="a month, e.g. 2026-10")]

PeriodQuery = Annotated[
    str | None, Query(pattern=PERIOD_PATTERN, description="a month, e.g. 2026-10")
]
SupplierQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="a supplier id")]
EntranceQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="an entrance id")]
SchoolQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="a school id")]
ContractQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="a contract id")]

# Times outside this span are refused (they cannot be readings, and far ones overflow).
EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
LATEST = datetime.fromisoformat("2100-01-01T00:00:00+00:00")


def time_ms(name: str, moment: datetime) -> int:
    """A query time as ms since the epoch; it must carry a UTC offset and be in 2000..2100."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequest(f"{name}: give a UTC offset, e.g. 2026-10-05T08:00:00Z")
    if not EARLIEST <= moment <= LATEST:
        raise InvalidRequest(f"{name}: must be between 2000 and 2100")
    return int(moment.timestamp() * 1000)
