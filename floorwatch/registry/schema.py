"""The registry and contract schema: who is where, which sensor measures what, who is paid how.

Files are YAML (see `floorwatch/pilot/` for the shipped example); `floorwatch.registry.loader`
reads them, validates them with these models and the cross-checks in `Registry`, and reports
every problem with its place in the file.
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from floorwatch.errors import InvalidRequest
from floorwatch.i18n import DEFAULT_LANGUAGE, check_language
from floorwatch.readings import Kind

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


class Zone(StrEnum):
    """Zones of an entrance, from the street inwards."""

    OUTSIDE = "outside"
    ENTRY = "entry"
    INNER = "inner"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Municipality(_Model):
    id: Id
    name: str


# Units a mapped field (or a SenML record) may be in, per kind, with the factor to the kind's
# unit (floorwatch.readings). The names are the SenML units registry's (RFC 8428, section 12.1).
KIND_UNITS: dict[str, dict[str, float]] = {
    Kind.MOISTURE: {"%": 1.0, "/": 100.0},
    Kind.DIRT: {"%": 1.0, "/": 100.0},
    Kind.FOOTFALL: {"count": 1.0},
    Kind.TEMPERATURE: {"Cel": 1.0},
    Kind.HUMIDITY: {"%RH": 1.0},
    Kind.BATTERY: {"%": 1.0, "%EL": 1.0},
    Kind.RSSI: {"dBm": 1.0},
    Kind.SNR: {"dB": 1.0},
}
# A battery reported in volts becomes % through its discharge curve (`empty`, `full`).
VOLTAGE_UNITS: dict[str, float] = {"V": 1.0, "mV": 0.001}

PathStep = str | int  # a key of an object, or an index into a list (-1: every element, [*])
_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+|\*)\]|(\.)")


def parse_path(text: str) -> tuple[PathStep, ...]:
    """A decoded-payload path: keys joined by dots, list indices in brackets, `[*]` for every
    element (`line_1.total_in`, `sensors[0].value`, `history[*]`). Raises ValueError."""
    steps: list[PathStep] = []
    position = 0
    expect_key = True
    while position < len(text):
        match = _PATH_STEP.match(text, position)
        if match is None:
            raise ValueError(f"bad path {text!r} at character {position + 1}")
        key, index, dot = match.groups()
        if dot is not None:
            if expect_key:
                raise ValueError(f"bad path {text!r}: empty key at character {position + 1}")
            expect_key = True
        elif key is not None:
            if not expect_key:
                raise ValueError(f"bad path {text!r}: a key must follow a dot")
            steps.append(key)
            expect_key = False
        else:
            if not steps:
                raise ValueError(f"bad path {text!r}: starts with an index")
            steps.append(-1 if index == "*" else int(index))
            expect_key = False
        position = match.end()
    if not steps or expect_key:
        raise ValueError(f"bad path {text!r}")
    return tuple(steps)


def value_key(value: object) -> str | None:
    """The key a decoded value is looked up by in a value map: strings as they are, booleans as
    `true`/`false`, whole numbers as digits; None for anything else."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return None


# Field names that say "volts" (BAT_V, battery_voltage, vdd): a battery mapping on one of these
# must state its unit, so that a voltage is never stored as a percentage.
_VOLT_NAME = re.compile(r"(volt|vdd|vbat|bat_?v$|_v$)", re.IGNORECASE)


class FieldMapping(_Model):
    """How decoded LoRaWAN fields become a reading: value = (sum of fields) * scale + offset.

    With `cumulative`, the fields are running totals (a people counter's total in/out): the
    reading is the increase since the previous uplink; a drop is a counter reset, or a wrap
    at `counter_max` when the previous total was near it.

    Fields are paths into the decoded payload (`line_1.total_in`, `sensors[0].value`).
    `values` maps strings and booleans to numbers (`{normal: 0, leak: 100}`). `unit` is the
    field's own unit (SenML names: `%`, `Cel`, `%RH`, `V`, `mV`, ...), converted to the kind's;
    a battery in volts becomes % along `empty`..`full` (in `unit`), clamped to 0..100.
    `records` is the path of a list of logged records (`history[*]`): each record gives a
    reading at its own time, `time_field` (epoch seconds or RFC 3339), with `fields` inside it.
    """

    kind: Kind
    fields: list[str] = Field(min_length=1)
    scale: float = 1.0
    offset: float = 0.0
    cumulative: bool = False
    counter_max: int | None = Field(default=None, gt=0)
    values: dict[str, float] | None = Field(default=None, min_length=1)
    unit: str | None = None
    empty: float | None = None
    full: float | None = None
    records: str | None = None
    time_field: str | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _value_keys(cls, value: object) -> object:
        # YAML reads `true:` and `1:` as a boolean and a number: key them as decoded values are.
        if isinstance(value, dict):
            keys = [value_key(key) if not isinstance(key, str) else key for key in value]
            if None in keys:
                raise ValueError("value map keys must be strings, booleans or whole numbers")
            return dict(zip(keys, value.values(), strict=True))
        return value

    @model_validator(mode="after")
    def _check(self) -> FieldMapping:
        for name in self.fields:
            if -1 in parse_path(name):
                raise ValueError(f"field {name!r}: [*] belongs in records, not in fields")
        if self.records is not None:
            parse_path(self.records)
            if self.time_field is None:
                raise ValueError("records needs time_field (the record's own time)")
            if self.cumulative:
                raise ValueError("records cannot be cumulative: map the period counts instead")
        if self.time_field is not None:
            if self.records is None:
                raise ValueError("time_field belongs to records")
            parse_path(self.time_field)
        if self.cumulative and self.values is not None:
            raise ValueError("a cumulative mapping cannot have a value map")
        curve = self.empty is not None or self.full is not None
        if self.unit in VOLTAGE_UNITS:
            if self.kind != Kind.BATTERY:
                raise ValueError(f"unit {self.unit} is for a battery only, not {self.kind}")
            if self.empty is None or self.full is None:
                raise ValueError(
                    f"a battery in {self.unit} needs empty and full (its discharge curve) to "
                    "become %"
                )
            if self.empty >= self.full:
                raise ValueError("empty must be below full")
        elif curve:
            raise ValueError("empty and full need a battery in V or mV")
        elif self.unit is not None:
            units = KIND_UNITS.get(self.kind)
            if units is None or self.unit not in units:
                allowed = sorted(units or ()) + (["V", "mV"] if self.kind == Kind.BATTERY else [])
                raise ValueError(f"unit {self.unit!r} is not one of {self.kind}: {allowed}")
        elif self.kind == Kind.BATTERY:
            volts = [name for name in self.fields if _VOLT_NAME.search(name.rsplit(".", 1)[-1])]
            if volts:
                raise ValueError(
                    f"{volts[0]} reads as volts: give unit: V with empty and full, or unit: '%' "
                    "if it is a percentage"
                )
        return self

    @property
    def plain(self) -> bool:
        """Only top-level field names and numbers: the collector's fast path."""
        return (
            self.values is None
            and self.unit is None
            and self.records is None
            and all(_PLAIN_NAME.fullmatch(name) for name in self.fields)
        )


_PLAIN_NAME = re.compile(r"[^.\[\]]+")


class LoRaWANDevice(_Model):
    """A LoRaWAN device. `model` names its vendor decoder as The Things Network's device
    repository does (`milesight-iot/em300-sld`): `registry validate` then warns about a mapped
    path that decoder never outputs (floorwatch.registry.devices)."""

    dev_eui: str
    model: str | None = None
    mappings: list[FieldMapping] = Field(min_length=1)

    @field_validator("dev_eui")
    @classmethod
    def _eui(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9a-fA-F]{16}", value):
            raise ValueError("dev_eui must be 16 hexadecimal digits")
        return value.lower()


class Sensor(_Model):
    """A sensor in one zone of one entrance. report_interval in seconds. A climate sensor
    (own kind temperature or humidity) is recorded but counts in no KPI's data availability."""

    id: Id
    kind: Literal[Kind.MOISTURE, Kind.DIRT, Kind.FOOTFALL, Kind.TEMPERATURE, Kind.HUMIDITY]
    zone: Zone
    report_interval: int = Field(default=300, gt=0, le=86_400)
    also: list[Kind] = Field(default_factory=list, description="optional extra kinds it reports")
    lorawan: LoRaWANDevice | None = None

    @property
    def kinds(self) -> frozenset[str]:
        """Every kind this sensor may publish (its own, the extras, and link quality)."""
        return frozenset({self.kind, *self.also, Kind.RSSI, Kind.SNR})


class Entrance(_Model):
    id: Id
    name: str
    reference: bool = Field(
        default=False, description="a reference entrance never gets a supplier's solution"
    )
    sensors: list[Sensor] = Field(default_factory=list)


class School(_Model):
    """A school. pupils sets the footfall scale; weather_station is an SMHI station id."""

    id: Id
    name: str
    municipality: Id
    pupils: int = Field(gt=0, le=5_000)
    weather_station: int = Field(gt=0)
    calendar: Id
    entrances: list[Entrance] = Field(min_length=1)


class Supplier(_Model):
    id: Id
    name: str


class Installation(_Model):
    """A supplier's solution at an entrance from `start` (inclusive) to `end` (exclusive, open if
    unset). Before the first installation the entrance is in its baseline."""

    id: Id
    entrance: Id
    supplier: Id
    contract: Id
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _order(self) -> Installation:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class DateSpan(_Model):
    """Inclusive span of days."""

    name: str = ""
    start: date
    end: date

    @model_validator(mode="after")
    def _order(self) -> DateSpan:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class OpeningHours(_Model):
    """Local time (Europe/Stockholm) when the school is occupied, on school days."""

    open: time = time(7, 30)
    close: time = time(16, 30)

    @model_validator(mode="after")
    def _order(self) -> OpeningHours:
        if self.close <= self.open:
            raise ValueError("close must be after open")
        return self


class Calendar(_Model):
    """A school calendar. Occupied time = opening hours on weekdays within a term, minus holidays
    and breaks. `terms`, `holidays` and `breaks` left empty get the Swedish defaults
    (floorwatch.registry.calendar) for the years the terms span."""

    id: Id
    opening_hours: OpeningHours = OpeningHours()
    first_lesson: time = time(8, 15)
    last_lesson_end: time = time(15, 0)
    terms: list[DateSpan] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list)
    breaks: list[DateSpan] = Field(default_factory=list)
    swedish_defaults_from: int | None = Field(
        default=None, description="school year starting in this autumn gets default terms/breaks"
    )


class Kpi(StrEnum):
    """The KPIs: the five a contract can judge (`CONTRACT_KPIS`), and data availability, which
    every scorecard reports but no contract weighs."""

    DRY_TIME_SHARE = "dry_time_share"
    CLEAN_TIME_SHARE = "clean_time_share"
    WET_RECOVERY_P90 = "wet_recovery_p90"
    SLIP_EXPOSURE = "slip_exposure"
    DIRT_CAPTURE = "dirt_capture"
    DATA_AVAILABILITY = "data_availability"


CONTRACT_KPIS: tuple[Kpi, ...] = (
    Kpi.DRY_TIME_SHARE,
    Kpi.CLEAN_TIME_SHARE,
    Kpi.WET_RECOVERY_P90,
    Kpi.SLIP_EXPOSURE,
    Kpi.DIRT_CAPTURE,
)

# Whether a bigger value of the KPI is better. Shares and capture: higher; minutes and slips: lower.
KPI_HIGHER_IS_BETTER: dict[Kpi, bool] = {
    Kpi.DRY_TIME_SHARE: True,
    Kpi.CLEAN_TIME_SHARE: True,
    Kpi.WET_RECOVERY_P90: False,
    Kpi.SLIP_EXPOSURE: False,
    Kpi.DIRT_CAPTURE: True,
}

# KPIs that can be judged on improvement: every contract KPI whose outcome the solution avoids
# has a baseline model of it (the water and dirt reaching the inner floor, analytics.baseline).
IMPROVEMENT_KPIS = frozenset(
    {
        Kpi.DRY_TIME_SHARE,
        Kpi.CLEAN_TIME_SHARE,
        Kpi.WET_RECOVERY_P90,
        Kpi.SLIP_EXPOSURE,
        Kpi.DIRT_CAPTURE,
    }
)


class Basis(StrEnum):
    """What a KPI is judged on. measured: the measured level against `target` (with the
    contract's weather relief); improvement: the share of the entrance's expected untreated
    outcome that the solution avoided, against `improvement_target`."""

    MEASURED = "measured"
    IMPROVEMENT = "improvement"


class NoEvents(StrEnum):
    """How a KPI that counts events (wet recovery: wet episodes) is judged when there were none:
    pass, or not judged (its weight goes to the other KPIs)."""

    PASS = "pass"
    NOT_JUDGED = "not_judged"


class WeatherRelief(_Model):
    """School days a measured-level KPI excuses, fixed in the contract in advance: a day is
    excused when any threshold given is reached at the school's SMHI station. rain_open_mm:
    precipitation (mm) from three hours before opening to closing; snow_depth_m: the day's
    largest snow depth (m); frost_below_c: mean air temperature in opening hours (degC) below."""

    rain_open_mm: float | None = Field(default=None, gt=0)
    snow_depth_m: float | None = Field(default=None, gt=0)
    frost_below_c: float | None = Field(default=None, ge=-40, le=10)


class KpiTarget(_Model):
    """A KPI's targets, weight and basis. Units of `target` (the measured level): shares 0..1,
    wet recovery in minutes, slip exposure in passages during wet minutes per 1,000 passages.
    `improvement_target` (basis improvement): the share (<= 1) of the expected untreated outcome
    to avoid; where the baseline model is not accepted the KPI is judged on `target` instead."""

    target: float
    weight: float = Field(ge=0)
    basis: Basis = Basis.MEASURED
    improvement_target: float | None = Field(default=None, gt=-1, le=1)
    relief: WeatherRelief | None = None
    no_events: NoEvents = NoEvents.NOT_JUDGED

    @model_validator(mode="after")
    def _basis(self) -> KpiTarget:
        if self.basis == Basis.IMPROVEMENT and self.improvement_target is None:
            raise ValueError("basis improvement needs an improvement_target")
        return self


class BonusMalus(_Model):
    """Monthly payment rule per installation.

    The weighted score (0..1, share of weight on KPIs that pass) is compared with the neutral
    band: above `bonus_from` the bonus grows linearly to `max_bonus_share` of the base payment at a
    score of 1; below `malus_below` the malus grows linearly to `max_malus_share` at a score of 0.
    """

    base_payment_sek: float = Field(gt=0)
    bonus_from: float = Field(default=0.8, ge=0, le=1)
    malus_below: float = Field(default=0.6, ge=0, le=1)
    max_bonus_share: float = Field(default=0.10, ge=0, le=1)
    max_malus_share: float = Field(default=0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _band(self) -> BonusMalus:
        if self.malus_below > self.bonus_from:
            raise ValueError("malus_below must not exceed bonus_from")
        return self


class Contract(_Model):
    """An outcome contract: thresholds, KPI targets and weights, data rules, payment rule."""

    id: Id
    name: str
    municipalities: list[Id] = Field(min_length=1)
    start: date
    end: date
    wet_threshold: float = Field(default=20.0, ge=0, le=100, description="moisture %")
    dirt_threshold: float = Field(default=30.0, ge=0, le=100, description="soiling index")
    dry_reading: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="moisture % a dry floor reads (sensor noise): the excess above it is the "
        "water a solution is judged to avoid",
    )
    min_data_availability: float = Field(default=0.8, ge=0, le=1)
    kpis: dict[Kpi, KpiTarget] = Field(min_length=1)
    bonus_malus: BonusMalus
    language: str = Field(
        default=DEFAULT_LANGUAGE,
        description="language of its reports, dashboards and alerts (a catalogue in "
        "floorwatch/locale, or en)",
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        try:
            return check_language(value)
        except InvalidRequest as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _check(self) -> Contract:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if sum(k.weight for k in self.kpis.values()) <= 0:
            raise ValueError("KPI weights must not all be zero")
        if Kpi.DATA_AVAILABILITY in self.kpis:
            raise ValueError("data_availability is a data rule (min_data_availability), not a KPI")
        for name, target in self.kpis.items():
            if target.basis == Basis.IMPROVEMENT and name not in IMPROVEMENT_KPIS:
                raise ValueError(f"{name} has no baseline model: it can only be judged measured")
        return self


class RegistryDocument(_Model):
    """The merged content of all registry files, as validated by the schema alone."""

    version: Literal[1] = 1
    municipalities: list[Municipality] = Field(default_factory=list)
    schools: list[School] = Field(default_factory=list)
    suppliers: list[Supplier] = Field(default_factory=list)
    installations: list[Installation] = Field(default_factory=list)
    calendars: list[Calendar] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
