"""The registry: municipalities, schools, entrances, sensors, suppliers, installations, contracts.

Facility and supplier keys see only their part of it (see `api.access`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.access import Access
from api.deps import Caller
from api.errors import error_responses
from api.params import (
    ContractId,
    EntranceId,
    EntranceQuery,
    SchoolId,
    SchoolQuery,
    SensorId,
    SupplierId,
    SupplierQuery,
)
from api.routes import PREFIX
from api.schemas import (
    ContractOut,
    EntranceOut,
    InstallationOut,
    KpiTargetOut,
    MunicipalityOut,
    SchoolOut,
    SensorOut,
    SupplierOut,
)
from floorwatch.errors import AccessDenied, NotFound
from floorwatch.registry.model import SensorPlace
from floorwatch.registry.schema import Contract, Entrance, Installation, School

router = APIRouter(prefix=PREFIX, tags=["registry"], responses=error_responses(401, 403, 404, 422))


def _school(school: School, access: Access) -> SchoolOut:
    return SchoolOut(
        id=school.id,
        name=school.name,
        municipality=school.municipality,
        pupils=school.pupils,
        weather_station=school.weather_station,
        calendar=school.calendar,
        entrances=[e.id for e in school.entrances if access.may_see_entrance(e.id)],
    )


def _entrance(entrance: Entrance, school: School) -> EntranceOut:
    return EntranceOut(
        id=entrance.id,
        name=entrance.name,
        school=school.id,
        municipality=school.municipality,
        reference=entrance.reference,
        sensors=[s.id for s in entrance.sensors],
    )


def _sensor(place: SensorPlace) -> SensorOut:
    sensor = place.sensor
    return SensorOut(
        id=sensor.id,
        kind=str(sensor.kind),
        zone=str(sensor.zone),
        entrance=place.entrance.id,
        school=place.school.id,
        municipality=place.school.municipality,
        report_interval_s=sensor.report_interval,
        also=[str(k) for k in sensor.also],
        lorawan_dev_eui=sensor.lorawan.dev_eui if sensor.lorawan else None,
    )


def _installation(inst: Installation, access: Access) -> InstallationOut:
    school = access.registry.entrances[inst.entrance][1].id
    return InstallationOut(
        id=inst.id,
        entrance=inst.entrance,
        school=school,
        supplier=inst.supplier,
        contract=inst.contract,
        start=inst.start,
        end=inst.end,
    )


def _contract(contract: Contract, registry_hash: str) -> ContractOut:
    return ContractOut(
        id=contract.id,
        name=contract.name,
        municipalities=list(contract.municipalities),
        start=contract.start,
        end=contract.end,
        wet_threshold=contract.wet_threshold,
        dirt_threshold=contract.dirt_threshold,
        min_data_availability=contract.min_data_availability,
        kpis={
            str(name): KpiTargetOut(target=t.target, weight=t.weight)
            for name, t in contract.kpis.items()
        },
        base_payment_sek=contract.bonus_malus.base_payment_sek,
        registry_hash=registry_hash,
    )


@router.get("/municipalities", summary="Municipalities")
def list_municipalities(access: Caller) -> list[MunicipalityOut]:
    """Municipalities (a restricted key: those of its schools)."""
    schools = access.school_ids
    seen = None if schools is None else {access.registry.schools[s].municipality for s in schools}
    return [
        MunicipalityOut(id=m.id, name=m.name)
        for m in access.registry.document.municipalities
        if seen is None or m.id in seen
    ]


@router.get("/schools", summary="Schools")
def list_schools(access: Caller) -> list[SchoolOut]:
    """Schools this key may see, with their entrances."""
    return [
        _school(s, access)
        for s in access.registry.document.schools
        if access.school_ids is None or s.id in access.school_ids
    ]


@router.get("/schools/{school_id}", summary="One school")
def get_school(school_id: SchoolId, access: Caller) -> SchoolOut:
    """A school with its pupils, weather station, calendar and entrances."""
    return _school(access.school(school_id), access)


@router.get("/entrances", summary="Entrances")
def list_entrances(access: Caller, school: SchoolQuery = None) -> list[EntranceOut]:
    """Entrances this key may see, optionally of one school."""
    if school is not None:
        access.school(school)
    return [
        _entrance(e, s)
        for e, s in access.registry.entrances.values()
        if access.may_see_entrance(e.id) and (school is None or s.id == school)
    ]


@router.get("/entrances/{entrance_id}", summary="One entrance")
def get_entrance(entrance_id: EntranceId, access: Caller) -> EntranceOut:
    """An entrance with its sensors; `reference` entrances never get a supplier's solution."""
    entrance, school = access.entrance(entrance_id)
    return _entrance(entrance, school)


@router.get("/sensors", summary="Sensors")
def list_sensors(
    access: Caller, entrance: EntranceQuery = None, school: SchoolQuery = None
) -> list[SensorOut]:
    """Sensors this key may see, optionally of one entrance or school."""
    if entrance is not None:
        access.entrance(entrance)
    if school is not None:
        access.school(school)
    return [
        _sensor(p)
        for p in access.registry.sensors.values()
        if access.may_see_entrance(p.entrance.id)
        and (entrance is None or p.entrance.id == entrance)
        and (school is None or p.school.id == school)
    ]


@router.get("/sensors/{sensor_id}", summary="One sensor")
def get_sensor(sensor_id: SensorId, access: Caller) -> SensorOut:
    """A sensor: what it measures, in which zone, how often it reports (seconds)."""
    return _sensor(access.sensor(sensor_id))


@router.get("/suppliers", summary="Suppliers")
def list_suppliers(access: Caller) -> list[SupplierOut]:
    """Suppliers (a supplier key: only itself; a facility key: those installed at its schools)."""
    visible = None if not access.restricted else {i.supplier for i in access.installations}
    return [
        SupplierOut(id=s.id, name=s.name)
        for s in access.registry.document.suppliers
        if visible is None or s.id in visible
    ]


@router.get("/suppliers/{supplier_id}", summary="One supplier")
def get_supplier(supplier_id: SupplierId, access: Caller) -> SupplierOut:
    """A supplier (a supplier key: only itself)."""
    if access.restricted and supplier_id not in {i.supplier for i in access.installations}:
        raise AccessDenied("")
    supplier = access.registry.suppliers.get(supplier_id)
    if supplier is None:
        raise NotFound(f"no supplier {supplier_id!r}")
    return SupplierOut(id=supplier.id, name=supplier.name)


@router.get("/installations", summary="Installations")
def list_installations(
    access: Caller, supplier: SupplierQuery = None, entrance: EntranceQuery = None
) -> list[InstallationOut]:
    """Which supplier's solution is at which entrance from when (a supplier key: its own)."""
    supplier = access.supplier_filter(supplier)
    if entrance is not None:
        access.entrance(entrance)
    return [
        _installation(i, access)
        for i in access.installations
        if (supplier is None or i.supplier == supplier)
        and (entrance is None or i.entrance == entrance)
    ]


@router.get("/contracts", summary="Contracts")
def list_contracts(access: Caller) -> list[ContractOut]:
    """Contracts with their KPI targets, weights and thresholds."""
    visible = None if not access.restricted else {i.contract for i in access.installations}
    return [
        _contract(c, access.registry.content_hash)
        for c in access.registry.document.contracts
        if visible is None or c.id in visible
    ]


@router.get("/contracts/{contract_id}", summary="One contract")
def get_contract(contract_id: ContractId, access: Caller) -> ContractOut:
    """A contract's thresholds, KPI targets and weights, and the registry hash they come from."""
    if access.restricted and contract_id not in {i.contract for i in access.installations}:
        raise AccessDenied("")
    contract = access.registry.contracts.get(contract_id)
    if contract is None:
        raise NotFound(f"no contract {contract_id!r}")
    return _contract(contract, access.registry.content_hash)
