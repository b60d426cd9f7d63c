"""Response models of the API: what callers get, kept apart from the registry and store models so
that either can change without breaking the other. Times are RFC 3339 UTC; units as named."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorBody(_Out):
    detail: str = Field(description="What is wrong, in one line")


# --- registry ---------------------------------------------------------------------------------
class MunicipalityOut(_Out):
    id: str
    name: str


class SensorOut(_Out):
    id: str
    kind: str
    zone: str
    entrance: str
    school: str
    municipality: str
    report_interval_s: int
    also: list[str]
    lorawan_dev_eui: str | None = None


class EntranceOut(_Out):
    id: str
    name: str
    school: str
    municipality: str
    reference: bool
    sensors: list[str]


class SchoolOut(_Out):
    id: str
    name: str
    municipality: str
    pupils: int
    weather_station: int
    calendar: str
    entrances: list[str]


class SupplierOut(_Out):
    id: str
    name: str


class InstallationOut(_Out):
    id: str
    entrance: str
    school: str
    supplier: str
    contract: str
    start: date
    end: date | None


class KpiTargetOut(_Out):
    target: float
    weight: float


class ContractOut(_Out):
    id: str
    name: str
    municipalities: list[str]
    start: date
    end: date
    wet_threshold: float
    dirt_threshold: float
    min_data_availability: float
    kpis: dict[str, KpiTargetOut]
    base_payment_sek: float
    registry_hash: str


# --- readings ---------------------------------------------------------------------------------
class ReadingOut(_Out):
    time: datetime
    sensor_id: str
    kind: str
    value: float
    count: int | None = Field(
        default=None, description="readings in the bucket (downsampled answers only)"
    )


class ReadingsPage(_Out):
    start: datetime
    end: datetime
    every: str | None = Field(description="bucket width when downsampled, e.g. 15m")
    aggregation: str | None = Field(
        description="mean per bucket; footfall is summed (passages per bucket)"
    )
    readings: list[ReadingOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null = done")


# --- current state ----------------------------------------------------------------------------
class LatestValue(_Out):
    sensor_id: str
    time: datetime
    value: float
    stale: bool = Field(description="older than three report intervals")


class ZoneState(_Out):
    zone: str
    moisture: LatestValue | None = None
    dirt: LatestValue | None = None
    footfall: LatestValue | None = None
    passages_last_hour: float | None = Field(
        default=None, description="footfall summed over the hour up to the latest reading"
    )


class EntranceState(_Out):
    entrance: str
    school: str
    wet_threshold: float = Field(description="moisture % above which the floor counts as wet")
    judged_zone: str | None = Field(description="zone whose moisture decides wet (inner)")
    wet: bool | None = Field(description="null when there is no moisture reading")
    wet_since: datetime | None = Field(description="start of the current wet episode")
    wet_since_before: bool = Field(
        default=False, description="wet during the whole lookback: it started before wet_since"
    )
    as_of: datetime | None = Field(description="time of the newest reading used")
    supplier: str | None = Field(description="supplier whose installation is there today")
    zones: list[ZoneState]


# --- stored results ---------------------------------------------------------------------------
class SensorHealthOut(_Out):
    sensor_id: str
    entrance: str
    school: str
    municipality: str
    zone: str
    period: str
    availability: float | None
    suspect_minutes: float | None
    status: str
    reasons: str


class KpiOut(_Out):
    contract: str
    supplier: str
    installation: str
    entrance: str
    school: str
    municipality: str
    kpi: str
    period: str
    raw: float | None
    raw_low: float | None
    raw_high: float | None
    basis: str | None = Field(description="the contract's basis: improvement or measured")
    judged_on: str | None = Field(
        description="what was judged: improvement, measured, measured_with_relief, no_events"
    )
    judged: float | None = Field(description="the value compared with the target")
    judged_low: float | None
    judged_high: float | None
    expected_untreated: float | None = Field(
        description="the KPI expected without the solution (the entrance's own baseline)"
    )
    improvement: float | None = Field(
        description="share of the expected untreated outcome the solution avoided (-1..1)"
    )
    improvement_low: float | None
    improvement_high: float | None
    target: float | None
    weight: float | None
    availability: float | None
    status: str


class ScorecardSummary(_Out):
    contract: str
    supplier: str
    installation: str
    entrance: str
    school: str
    municipality: str
    period: str
    score: float | None
    bonus_malus_sek: float | None
    payment_sek: float | None
    counts: dict[str, float] = Field(description="other numeric fields, e.g. KPIs per status")


class Scorecard(ScorecardSummary):
    document: dict[str, Any] = Field(description="the full scorecard as analytics computed it")


class ComparisonOut(_Out):
    contract: str
    period: str
    document: dict[str, Any] = Field(
        description=(
            "suppliers ranked by their effects against each entrance's own counterfactual, "
            "with differences tested on days of comparable conditions ('no difference shown' "
            "where the data cannot tell, or where the entrances had no such days)"
        )
    )


class TrendOut(_Out):
    entrance: str
    school: str
    municipality: str
    metric: str
    week_start: datetime
    value: float | None


class ReportOut(_Out):
    period: str
    url: str
    bytes: int


class QuarantineOut(_Out):
    received: datetime
    topic: str
    reason: str
    detail: str
    payload: str


# --- system -----------------------------------------------------------------------------------
class CheckOut(_Out):
    ok: bool = Field(description="whether it answered: the broker connects, the store reads")
    detail: str


class CollectorOut(_Out):
    collector: str | None = Field(
        description="the collector's client id (its broker session): null without an API key"
    )
    last_report: datetime
    report_age_s: float
    lag_s: float | None


class HealthOut(_Out):
    status: Literal["ok", "degraded", "down"]
    store: CheckOut
    broker: CheckOut
    collectors: list[CollectorOut]
    collector_lag_s: float | None = Field(description="largest lag among recent collectors")
