"""What each role may see. One place for every access rule of the API.

- admin, procurement, technician: every school and entrance.
- facility: only the schools its key names (and their entrances and sensors).
- supplier: only entrances where it has or had an installation, readings only during its
  installation periods there, and only its own scorecards and KPIs.

Refusals never say whether the thing asked for exists: an entrance outside a key's reach and an
entrance that does not exist give the same 403 to a restricted key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from api.keys import ApiKey, Role
from floorwatch.errors import AccessDenied, InvalidRequest, NotFound
from floorwatch.localtime import local_midnight_ms, period_bounds_ms
from floorwatch.registry import Registry
from floorwatch.registry.model import SensorPlace
from floorwatch.registry.schema import Entrance, Installation, School

if TYPE_CHECKING:
    from api.context import ApiContext

DENIED = "this key is not allowed to see that"

EVERYONE = frozenset(Role)
COMMERCIAL = frozenset({Role.ADMIN, Role.PROCUREMENT, Role.FACILITY, Role.SUPPLIER})
PROCUREMENT_ONLY = frozenset({Role.ADMIN, Role.PROCUREMENT})
OPERATIONS = frozenset({Role.ADMIN, Role.TECHNICIAN})
RESTRICTED_VIEW = frozenset({Role.FACILITY, Role.SUPPLIER})
TRENDS = frozenset({Role.ADMIN, Role.PROCUREMENT, Role.FACILITY, Role.TECHNICIAN})


@dataclass(frozen=True)
class Access:
    """A caller's key applied to the registry."""

    key: ApiKey
    registry: Registry

    @property
    def role(self) -> Role:
        return self.key.role

    @property
    def restricted(self) -> bool:
        return self.key.role in (Role.FACILITY, Role.SUPPLIER)

    def require(self, roles: Iterable[Role]) -> None:
        if self.key.role not in roles:
            raise AccessDenied(DENIED)

    # --- what a restricted key may see ---------------------------------------------------------
    @cached_property
    def installations(self) -> list[Installation]:
        """The installations this key may see."""
        every = self.registry.document.installations
        if self.key.role is Role.SUPPLIER:
            return [i for i in every if i.supplier == self.key.supplier]
        if self.key.role is Role.FACILITY:
            return [i for i in every if self._school_of(i.entrance) in self.key.schools]
        return list(every)

    def _school_of(self, entrance_id: str) -> str | None:
        found = self.registry.entrances.get(entrance_id)
        return found[1].id if found else None

    @cached_property
    def entrance_ids(self) -> frozenset[str] | None:
        """Entrances this key may see; None means all."""
        if self.key.role is Role.SUPPLIER:
            return frozenset(i.entrance for i in self.installations)
        if self.key.role is Role.FACILITY:
            return frozenset(
                e
                for e, (_, school) in self.registry.entrances.items()
                if school.id in self.key.schools
            )
        return None

    @cached_property
    def school_ids(self) -> frozenset[str] | None:
        """Schools this key may see; None means all."""
        if self.entrance_ids is None:
            return None
        return frozenset(self.registry.entrances[e][1].id for e in self.entrance_ids)

    def may_see_entrance(self, entrance_id: str) -> bool:
        return self.entrance_ids is None or entrance_id in self.entrance_ids

    # --- checked lookups ----------------------------------------------------------------------
    def entrance(self, entrance_id: str) -> tuple[Entrance, School]:
        if not self.may_see_entrance(entrance_id):
            raise AccessDenied(DENIED)
        return self.registry.entrance(entrance_id)

    def school(self, school_id: str) -> School:
        if self.school_ids is not None and school_id not in self.school_ids:
            raise AccessDenied(DENIED)
        try:
            return self.registry.schools[school_id]
        except KeyError:
            raise NotFound(f"no school {school_id!r}") from None

    def sensor(self, sensor_id: str) -> SensorPlace:
        place = self.registry.sensors.get(sensor_id)
        if self.restricted and (place is None or not self.may_see_entrance(place.entrance.id)):
            raise AccessDenied(DENIED)
        if place is None:
            raise NotFound(f"no sensor {sensor_id!r}")
        return place

    def supplier_filter(self, supplier_id: str | None) -> str | None:
        """The supplier to filter results by: a supplier key always its own; asking for another
        supplier is refused."""
        if self.key.role is Role.SUPPLIER:
            if supplier_id is not None and supplier_id != self.key.supplier:
                raise AccessDenied(DENIED)
            return self.key.supplier
        return supplier_id

    # --- time limits ----------------------------------------------------------------------------
    def reading_windows(self, entrance_id: str) -> list[tuple[int, int]] | None:
        """[start, end) ms windows in which this key may read the entrance's data; None = always.
        A supplier may read an entrance only while its installation is (or was) there."""
        if self.key.role is not Role.SUPPLIER:
            return None
        windows = []
        for inst in self.installations:
            if inst.entrance == entrance_id:
                end = local_midnight_ms(inst.end) if inst.end else 2**62
                windows.append((local_midnight_ms(inst.start), end))
        return sorted(windows)

    def may_see_period(self, entrance_id: str, period: str) -> bool:
        """Whether a monthly result (sensor health) of the entrance is this key's to see."""
        windows = self.reading_windows(entrance_id)
        if windows is None:
            return True
        try:
            start, end = period_bounds_ms(period)
        except InvalidRequest:  # a malformed period tag in the store is nobody's to see
            return False
        return any(w_start < end and start < w_end for w_start, w_end in windows)

    # --- filtering stored results --------------------------------------------------------------
    def filter_results(self, rows: list[dict[str, Any]], by_supplier: bool) -> list[dict[str, Any]]:
        """Stored results (records of Points) this key may see: a facility key its schools'
        rows (by the `school` tag); a supplier key its own rows (`supplier` tag) or, for results
        without a supplier, rows of its entrances during its installation periods."""
        if not self.restricted:
            return rows
        if self.key.role is Role.FACILITY:
            schools = self.school_ids or frozenset()
            return [r for r in rows if r.get("school") in schools]
        if by_supplier:
            return [r for r in rows if r.get("supplier") == self.key.supplier]
        return [
            r
            for r in rows
            if isinstance(r.get("entrance"), str)
            and isinstance(r.get("period"), str)
            and self.may_see_entrance(r["entrance"])
            and self.may_see_period(r["entrance"], r["period"])
        ]

    async def commercial_results(
        self,
        context: ApiContext,
        measurement: str,
        supplier: str | None,
        entrance: str | None,
        school: str | None,
        **tags: str | None,
    ) -> list[dict[str, Any]]:
        """Stored per-supplier results (`kpi`, `scorecard`) for a commercial role, filtered by
        the query's tags and by what this key may see; a named entrance or school outside the
        key's reach is refused."""
        self.require(COMMERCIAL)
        supplier = self.supplier_filter(supplier)
        if entrance is not None:
            self.entrance(entrance)
        if school is not None:
            self.school(school)
        rows = await context.apoints(
            measurement, supplier=supplier, entrance=entrance, school=school, **tags
        )
        return self.filter_results(rows, by_supplier=True)
