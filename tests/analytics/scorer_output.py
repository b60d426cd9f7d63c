"""The one place the validity tests run the scorer and read its output.

Everything else in tests/analytics/validity.py and test_validity.py sees only `score` and these
records, so when the scorer or its scorecard document changes, only this module changes. What
it has to say:
- per installation (`Card`): score, bonus/malus, payment, and per KPI the measured (raw) level and
  the value payment is judged on, each with its stated 95 % interval and the basis it is on
  (`Stated.basis`, which tells the tests which truth to compare it with);
- per contract (`Comparison`): the supplier order per KPI and overall, and which differences
  between suppliers the comparison claims.

The scorer (analytics.scorecard, the method of analytics/README.md):
- raw value and its bootstrap interval: basis "level" (the installation's KPI on its days);
- expected_untreated and its interval: basis "untreated_level" (the KPI the entrance would have
  had without the solution on the same days);
- improvement and its interval: basis "avoided" (share of the untreated quantity avoided);
- judged (what pass/fail compares with the target): "avoided" when judged on improvement,
  "level" when on the measured level, over the days left after the contract's relief days when
  it is judged with relief; no number when there were no wet episodes;
- a comparison claims that supplier a beats b on a KPI (or overall) where its tested difference
  says so (`better` set); "no difference shown" claims nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from analytics.scorecard import PeriodResult, Scorer
from floorwatch.registry import Registry
from floorwatch.store import Store
from simulators.counterfactual import AVOIDED_FOR_KPI

Basis = Literal["level", "pooled_level", "untreated_level", "avoided", "change"]
CONTRACT_KPIS = (
    "dry_time_share",
    "clean_time_share",
    "wet_recovery_p90",
    "slip_exposure",
    "dirt_capture",
)
OVERALL = "overall"
RESAMPLES = 200  # bootstrap resamples (the scorer's default)


def score(store: Store, registry: Registry, period: str) -> PeriodResult:
    """Score a month ("YYYY-MM") as `floorwatch score --period` does."""
    return Scorer(store, registry, resamples=RESAMPLES).score(period)


@dataclass(frozen=True)
class Stated:
    """A value the scorecard states with its 95 % interval; None where it states no number
    (e.g. wet recovery with no wet episodes) or no interval.

    basis: "level" (the KPI measured over the installation's days), "pooled_level" (the
    installation's solution under pooled conditions), "avoided" (share of the untreated
    `quantity` the solution avoided: wet_minutes, dirty_minutes, wet_passages, inner_buildup),
    "change" (treated minus untreated level). `days`: set when the value leaves some of the
    installation's days out (e.g. days the contract excuses for the weather)."""

    basis: Basis
    value: float | None
    low: float | None
    high: float | None
    quantity: str | None = None
    days: tuple[date, ...] | None = None  # the days it is over; None: all the card's days


@dataclass(frozen=True)
class KpiCard:
    kpi: str
    raw: Stated  # the measured level
    judged: Stated | None  # what pass/fail is judged on; None when the KPI is not judged
    status: str  # pass | fail | insufficient | not_in_contract (or the scorer's own words)
    stated: tuple[Stated, ...] = field(default=())  # every value the card states for the KPI


@dataclass(frozen=True)
class Card:
    installation: str
    supplier: str
    entrance: str
    school: str
    score: float | None
    bonus_malus_sek: float
    payment_sek: float
    kpis: dict[str, KpiCard]


@dataclass(frozen=True)
class Comparison:
    contract: str
    suppliers: tuple[str, ...]
    order: dict[str, tuple[str, ...]]  # per KPI and OVERALL: suppliers, best first
    claims: frozenset[tuple[str, str, str]]  # (KPI or OVERALL, better, worse) claimed
    mean_score: dict[str, float | None]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _stated(
    entry: dict[str, Any],
    prefix: str,
    basis: Basis,
    quantity: str | None = None,
    days: tuple[date, ...] | None = None,
) -> Stated:
    return Stated(
        basis,
        _number(entry.get(prefix)),
        _number(entry.get(f"{prefix}_low")),
        _number(entry.get(f"{prefix}_high")),
        quantity,
        days,
    )


def _kept_days(doc: dict[str, Any], excused: list[str]) -> tuple[date, ...]:
    """The card's days without the excused ones."""
    first, last = date.fromisoformat(doc["from"]), date.fromisoformat(doc["to"])
    every = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    left_out = {date.fromisoformat(d) for d in excused}
    return tuple(d for d in every if d not in left_out)


def _judged(doc: dict[str, Any], kpi: str, entry: dict[str, Any]) -> Stated | None:
    on = entry.get("judged_on")
    if entry["status"] == "not_in_contract" or on is None:
        return None
    if on == "improvement":
        return _stated(entry, "judged", "avoided", AVOIDED_FOR_KPI[kpi])
    if on == "measured_with_relief":
        return _stated(entry, "judged", "level", days=_kept_days(doc, entry["relief_days"]))
    return _stated(entry, "judged", "level")  # measured, or no_events (then no number)


def cards(result: PeriodResult) -> list[Card]:
    """Every installation's scorecard of the period, by installation id."""
    out = []
    for item in result.scorecards:
        doc = item.document
        kpis = {}
        for kpi in CONTRACT_KPIS:
            entry = doc["kpis"][kpi]
            raw = _stated(entry, "raw", "level")
            stated = [raw, _stated(entry, "expected_untreated", "untreated_level")]
            if kpi in AVOIDED_FOR_KPI:
                stated.append(_stated(entry, "improvement", "avoided", AVOIDED_FOR_KPI[kpi]))
            judged = _judged(doc, kpi, entry)
            if judged is not None:
                stated.append(judged)
            kpis[kpi] = KpiCard(kpi, raw, judged, entry["status"], tuple(stated))
        out.append(
            Card(
                installation=doc["installation"],
                supplier=doc["supplier"],
                entrance=doc["entrance"],
                school=doc["school"],
                score=_number(doc["score"]),
                bonus_malus_sek=float(doc["payment"]["bonus_malus_sek"]),
                payment_sek=float(doc["payment"]["payment_sek"]),
                kpis=kpis,
            )
        )
    return sorted(out, key=lambda c: c.installation)


def _order_and_claims(
    part: dict[str, Any], name: str
) -> tuple[tuple[str, ...], set[tuple[str, str, str]]]:
    order = tuple(row["supplier"] for row in part["ranking"])
    claims = set()
    for test in part["differences"]:
        if test["better"] is not None:
            worse = test["b"] if test["better"] == test["a"] else test["a"]
            claims.add((name, test["better"], worse))
    return order, claims


def comparison(result: PeriodResult, contract_id: str) -> Comparison:
    """The contract's comparison of suppliers in the period."""
    doc = result.comparisons[contract_id]
    order: dict[str, tuple[str, ...]] = {}
    claims: set[tuple[str, str, str]] = set()
    for kpi in CONTRACT_KPIS:
        if kpi not in doc["by_kpi"]:  # no effect without a baseline model (wet recovery)
            order[kpi] = ()
            continue
        order[kpi], found = _order_and_claims(doc["by_kpi"][kpi], kpi)
        claims |= found
    order[OVERALL], found = _order_and_claims(doc, OVERALL)
    claims |= found
    return Comparison(
        contract=contract_id,
        suppliers=tuple(sorted({i.document["supplier"] for i in result.scorecards})),
        order=order,
        claims=frozenset(claims),
        mean_score={k: _number(v) for k, v in doc["mean_score"].items()},
    )
