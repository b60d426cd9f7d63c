"""Stored results: the measurements analytics writes, their tags and fields, as typed records.

The writer (`analytics.scorecard.results_to_points`), the API (its KPI, scorecard and
comparison routes), the dashboards' queries and the test fillers all build or read these points
through this module, so a field is named in one place.

- `kpi`: per installation, KPI and period (`KpiRecord`): measured value (raw), the value judged
  on and what it is (`judged_on`: improvement, measured, measured_with_relief, no_events), the
  value expected without the solution and the improvement, each with its 95 % interval; targets,
  weight, data availability, status (pass, fail, insufficient, not_judged, not_in_contract).
- `scorecard`: per installation and period (`ScorecardRecord`): score, bonus/malus, payment,
  status counts and the full scorecard document (canonical JSON).
- `comparison`: per contract and period: the comparison document (canonical JSON).
- `sensor_health` and `trend`: written by analytics, described in analytics/README.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from floorwatch.readings import Point

KPI = "kpi"
SCORECARD = "scorecard"
COMPARISON = "comparison"
SENSOR_HEALTH = "sensor_health"
TREND = "trend"

INSTALLATION_TAGS = (
    "contract",
    "supplier",
    "installation",
    "entrance",
    "school",
    "municipality",
    "period",
)
COMPARISON_TAGS = ("contract", "period")


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class KpiRecord:
    """The fields of one `kpi` point (module docstring); None: the point has no such field."""

    status: str
    raw: float | None = None
    raw_low: float | None = None
    raw_high: float | None = None
    judged: float | None = None
    judged_low: float | None = None
    judged_high: float | None = None
    expected_untreated: float | None = None
    expected_untreated_low: float | None = None
    expected_untreated_high: float | None = None
    improvement: float | None = None
    improvement_low: float | None = None
    improvement_high: float | None = None
    basis: str | None = None
    judged_on: str | None = None
    target: float | None = None
    level_target: float | None = None
    improvement_target: float | None = None
    weight: float | None = None
    availability: float | None = None

    def fields(self) -> dict[str, float | str]:
        """The point's fields: numbers as floats (InfluxDB type trap), unknown ones left out."""
        out: dict[str, float | str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, str):
                out[item.name] = value
            elif (number := _float(value)) is not None:
                out[item.name] = number
        return out

    @classmethod
    def from_fields(cls, record: Mapping[str, Any]) -> KpiRecord:
        """From a stored point's fields (a store's row); missing or non-finite: None."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = record.get(item.name)
            is_text = item.type in ("str", "str | None")
            values[item.name] = _text(raw) if is_text else _float(raw)
        values["status"] = values["status"] or ""
        return cls(**values)


KPI_FIELDS = tuple(f.name for f in fields(KpiRecord))


@dataclass(frozen=True)
class ScorecardRecord:
    """The fields of one `scorecard` point."""

    document: str
    score: float | None
    bonus_malus_sek: float
    payment_sek: float
    passed: int
    failed: int
    insufficient: int
    not_judged: int

    def fields(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {
            "document": self.document,
            "bonus_malus_sek": float(self.bonus_malus_sek),
            "payment_sek": float(self.payment_sek),
            "pass": float(self.passed),
            "fail": float(self.failed),
            "insufficient": float(self.insufficient),
            "not_judged": float(self.not_judged),
        }
        if (score := _float(self.score)) is not None:
            out["score"] = score
        return out


def installation_tags(values: Mapping[str, Any]) -> dict[str, str]:
    """INSTALLATION_TAGS of a scorecard document (or any mapping holding them)."""
    return {k: str(values[k]) for k in INSTALLATION_TAGS}


def kpi_point(tags: Mapping[str, str], kpi: str, ts_ms: int, record: KpiRecord) -> Point:
    return Point(KPI, {**tags, "kpi": kpi}, ts_ms, record.fields())


def scorecard_point(tags: Mapping[str, str], ts_ms: int, record: ScorecardRecord) -> Point:
    return Point(SCORECARD, dict(tags), ts_ms, record.fields())


def comparison_point(contract: str, period: str, ts_ms: int, document: str) -> Point:
    tags = {"contract": contract, "period": period}
    return Point(COMPARISON, tags, ts_ms, {"document": document})
