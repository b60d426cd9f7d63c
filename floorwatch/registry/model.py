"""The validated registry as the components use it: lookups by id and cross-checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import pairwise

from floorwatch.errors import NotFound, Problem
from floorwatch.i18n import DEFAULT_LANGUAGE
from floorwatch.localtime import active_on
from floorwatch.readings import Kind
from floorwatch.registry.calendar import SchoolDays
from floorwatch.registry.devices import DEVICE_FIELDS, known_paths, mapped_path
from floorwatch.registry.schema import (
    VOLTAGE_UNITS,
    Contract,
    Entrance,
    Installation,
    RegistryDocument,
    School,
    Sensor,
    Supplier,
)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SensorPlace:
    """A sensor with where it sits: entrance, school and municipality."""

    sensor: Sensor
    entrance: Entrance
    school: School

    def tags(self) -> dict[str, str]:
        """Location tags stored with each reading (InfluxDB tags; Grafana filters on them)."""
        return {
            "sensor_id": self.sensor.id,
            "zone": str(self.sensor.zone),
            "entrance": self.entrance.id,
            "school": self.school.id,
            "municipality": self.school.municipality,
        }


class Registry:
    """Read-only view of a validated registry document with fast lookups."""

    def __init__(self, document: RegistryDocument, content_hash: str, files: list[str]):
        self.document = document
        self.content_hash = content_hash
        self.files = files
        self.warnings: list[Problem] = []  # warnings, with their place (the loader's)

    # --- lookups -----------------------------------------------------------------------------
    @cached_property
    def sensors(self) -> dict[str, SensorPlace]:
        return {
            sensor.id: SensorPlace(sensor, entrance, school)
            for school in self.document.schools
            for entrance in school.entrances
            for sensor in entrance.sensors
        }

    @cached_property
    def sensors_by_dev_eui(self) -> dict[str, SensorPlace]:
        return {
            place.sensor.lorawan.dev_eui: place
            for place in self.sensors.values()
            if place.sensor.lorawan is not None
        }

    @cached_property
    def entrances(self) -> dict[str, tuple[Entrance, School]]:
        return {e.id: (e, s) for s in self.document.schools for e in s.entrances}

    @cached_property
    def schools(self) -> dict[str, School]:
        return {s.id: s for s in self.document.schools}

    @cached_property
    def suppliers(self) -> dict[str, Supplier]:
        return {s.id: s for s in self.document.suppliers}

    @cached_property
    def contracts(self) -> dict[str, Contract]:
        return {c.id: c for c in self.document.contracts}

    @property
    def language(self) -> str:
        """The language the contracts name for reports, dashboards and alerts (they agree:
        cross-checked); Swedish for a registry without contracts."""
        contracts = self.document.contracts
        return contracts[0].language if contracts else DEFAULT_LANGUAGE

    @cached_property
    def school_days(self) -> dict[str, SchoolDays]:
        """School id -> its calendar's school days."""
        calendars = {c.id: c for c in self.document.calendars}
        return {s.id: SchoolDays(calendars[s.calendar]) for s in self.document.schools}

    def sensor_tags(self, sensor_id: str) -> dict[str, str]:
        """Location tags of a sensor (empty for one the registry does not know)."""
        place = self.sensors.get(sensor_id)
        return place.tags() if place else {}

    def entrance(self, entrance_id: str) -> tuple[Entrance, School]:
        try:
            return self.entrances[entrance_id]
        except KeyError:
            raise NotFound(f"no entrance {entrance_id!r}") from None

    def installations_at(self, entrance_id: str) -> list[Installation]:
        return sorted(
            (i for i in self.document.installations if i.entrance == entrance_id),
            key=lambda i: i.start,
        )

    def installation_on(self, entrance_id: str, day: date) -> Installation | None:
        """The installation active at the entrance on that local day, or None (baseline or
        reference)."""
        for inst in self.installations_at(entrance_id):
            if active_on(inst.start, inst.end, day):
                return inst
        return None

    def summary(self) -> dict[str, int]:
        doc = self.document
        return {
            "municipalities": len(doc.municipalities),
            "schools": len(doc.schools),
            "entrances": len(self.entrances),
            "reference entrances": sum(1 for e, _ in self.entrances.values() if e.reference),
            "sensors": len(self.sensors),
            "suppliers": len(doc.suppliers),
            "installations": len(doc.installations),
            "calendars": len(doc.calendars),
            "contracts": len(doc.contracts),
        }

    # --- cross-checks the schema alone cannot make --------------------------------------------
    def cross_check(self) -> list[tuple[Loc, str]]:
        """Every reference that points nowhere, duplicate id and overlap, with its place."""
        return list(self._cross_check())

    def _cross_check(self) -> Iterator[tuple[Loc, str]]:
        doc = self.document
        yield from _duplicates("municipalities", (m.id for m in doc.municipalities))
        yield from _duplicates("schools", (s.id for s in doc.schools))
        yield from _duplicates("suppliers", (s.id for s in doc.suppliers))
        yield from _duplicates("installations", (i.id for i in doc.installations))
        yield from _duplicates("calendars", (c.id for c in doc.calendars))
        yield from _duplicates("contracts", (c.id for c in doc.contracts))

        municipalities = {m.id for m in doc.municipalities}
        calendars = {c.id for c in doc.calendars}
        entrance_seen: dict[str, Loc] = {}
        sensor_seen: dict[str, Loc] = {}
        eui_seen: dict[str, Loc] = {}
        for si, school in enumerate(doc.schools):
            at: Loc = ("schools", si)
            if school.municipality not in municipalities:
                yield (*at, "municipality"), f"unknown municipality {school.municipality!r}"
            if school.calendar not in calendars:
                yield (*at, "calendar"), f"unknown calendar {school.calendar!r}"
            for ei, entrance in enumerate(school.entrances):
                e_at: Loc = (*at, "entrances", ei)
                if entrance.id in entrance_seen:
                    yield (*e_at, "id"), f"entrance id {entrance.id!r} is used twice"
                entrance_seen[entrance.id] = e_at
                for ni, sensor in enumerate(entrance.sensors):
                    s_at: Loc = (*e_at, "sensors", ni)
                    if sensor.id in sensor_seen:
                        yield (*s_at, "id"), f"sensor id {sensor.id!r} is used twice"
                    sensor_seen[sensor.id] = s_at
                    if sensor.lorawan is not None:
                        eui = sensor.lorawan.dev_eui
                        if eui in eui_seen:
                            yield (*s_at, "lorawan", "dev_eui"), f"dev_eui {eui} is used twice"
                        eui_seen[eui] = s_at
                        yield from _volts_as_percent(sensor, s_at)

        suppliers = {s.id for s in doc.suppliers}
        contracts = {c.id for c in doc.contracts}
        by_entrance: dict[str, list[tuple[int, Installation]]] = {}
        for ii, inst in enumerate(doc.installations):
            at = ("installations", ii)
            if inst.entrance not in entrance_seen:
                yield (*at, "entrance"), f"unknown entrance {inst.entrance!r}"
            elif self.entrances[inst.entrance][0].reference:
                yield (*at, "entrance"), f"{inst.entrance!r} is a reference entrance"
            if inst.supplier not in suppliers:
                yield (*at, "supplier"), f"unknown supplier {inst.supplier!r}"
            if inst.contract not in contracts:
                yield (*at, "contract"), f"unknown contract {inst.contract!r}"
            by_entrance.setdefault(inst.entrance, []).append((ii, inst))
        for entries in by_entrance.values():
            entries.sort(key=lambda pair: pair[1].start)
            for (_, before), (ii, after) in pairwise(entries):
                if before.end is None or after.start < before.end:
                    yield (
                        ("installations", ii, "start"),
                        f"overlaps installation {before.id!r} at entrance {after.entrance!r}",
                    )

        for ci, contract in enumerate(doc.contracts):
            for mi, municipality in enumerate(contract.municipalities):
                if municipality not in municipalities:
                    yield (
                        ("contracts", ci, "municipalities", mi),
                        f"unknown municipality {municipality!r}",
                    )
            if contract.language != doc.contracts[0].language:
                # One report and one set of dashboards serve every contract of a registry.
                yield (
                    ("contracts", ci, "language"),
                    f"language {contract.language!r} differs from {doc.contracts[0].language!r} "
                    f"of contract {doc.contracts[0].id!r}: contracts share their reports",
                )

    def check_warnings(self) -> list[tuple[Loc, str]]:
        """What is valid but probably wrong: a mapped path the device's decoder never outputs,
        a device model whose decoder output is not known here."""
        found: list[tuple[Loc, str]] = []
        for si, school in enumerate(self.document.schools):
            for ei, entrance in enumerate(school.entrances):
                for ni, sensor in enumerate(entrance.sensors):
                    device = sensor.lorawan
                    if device is None or device.model is None:
                        continue
                    at: Loc = ("schools", si, "entrances", ei, "sensors", ni, "lorawan")
                    known = known_paths(device.model)
                    if known is None:
                        found.append(
                            (
                                (*at, "model"),
                                f"no decoder output known for model {device.model!r}: its "
                                f"paths are not checked (known: {', '.join(DEVICE_FIELDS)})",
                            )
                        )
                        continue
                    for mi, mapping in enumerate(device.mappings):
                        for fi, name in enumerate(mapping.fields):
                            if mapped_path(mapping.records, name) not in known:
                                found.append(
                                    (
                                        (*at, "mappings", mi, "fields", fi),
                                        f"{name!r}"
                                        + (f" in {mapping.records}" if mapping.records else "")
                                        + f" is never in the decoded payload of {device.model} "
                                        f"(it gives {_some(DEVICE_FIELDS[device.model])})",
                                    )
                                )
        return found


def _some(names: Iterable[str], shown: int = 8) -> str:
    names = list(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _volts_as_percent(sensor: Sensor, at: Loc) -> Iterator[tuple[Loc, str]]:
    """A battery mapping on a field the device's decoder gives in volts, without unit: V."""
    assert sensor.lorawan is not None
    known = known_paths(sensor.lorawan.model) if sensor.lorawan.model else None
    if not known:
        return
    for mi, mapping in enumerate(sensor.lorawan.mappings):
        if mapping.kind != Kind.BATTERY or mapping.unit is not None:
            continue
        for name in mapping.fields:
            unit = known.get(mapped_path(mapping.records, name))
            if unit in VOLTAGE_UNITS:
                yield (
                    (*at, "lorawan", "mappings", mi, "unit"),
                    f"{name} of {sensor.lorawan.model} is in {unit}: give unit: {unit} with "
                    "empty and full, so that a voltage is never stored as a percentage",
                )


def _duplicates(section: str, ids: Iterable[str]) -> Iterator[tuple[Loc, str]]:
    ids = list(ids)
    counts = Counter(ids)
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if counts[item] > 1 and item in seen:
            yield (section, index, "id"), f"id {item!r} is used twice in {section}"
        seen.add(item)
