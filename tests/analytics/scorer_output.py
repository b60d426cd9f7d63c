"""The one place the validity tests run the scorer and read its output.

Everything else in tests/analytics/validity.py and test_validity.py sees only `score` and these
records, so when the scorer or its scorecard document changes, only this module changes. What
it has to say:
- per installation (`Card`): score, bonus/malus, payment, and per KPI the measured (raw) level and
  the value payment is judged on, each with its stated 95 % interval and the basis it is on
  (`Stated.basis`, which tells the tests which truth to compare it with);
- per contract (`Comparison`): the supplier order per KPI and overall, and which differences
  between suppliers the comparison claims.

Today's scorer (adjusted = raw - expected(own days) + expected(all installations' days)):
- raw value and its bootstrap interval: basis "level" (the installation's KPI on its days);
- adjusted value and interval, judged on where a model was fitted: basis "pooled_level" (the
  installation's solution under all compared installations' conditions);
- a comparison claims that supplier a beats b on a KPI when a ranks above b and their adjusted
  intervals do not overlap (the report's "order is not certain" note is the overlap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from analytics.scorecard import PeriodResult, Scorer
from floorwatch.registry import Registry
from floorwatch.store import Store

Basis = Literal["level", "pooled_level", "avoided", "change"]
CONTRACT_KPIS = (
    "dry_time_share",
    "clean_time_share",
    "wet_recovery_p90",
    "slip_exposure",
    "dirt_capture",
)
OVERALL = "overall"
RESAMPLES = 200  # bootstrap resamples (the scorer's default is 400; fewer keep the tests fast)


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


def _stated(entry: dict[str, Any], prefix: str, basis: Basis) -> Stated:
    return Stated(
        basis,
        _number(entry.get(prefix)),
        _number(entry.get(f"{prefix}_low")),
        _number(entry.get(f"{prefix}_high")),
    )


def cards(result: PeriodResult) -> list[Card]:
    """Every installation's scorecard of the period, by installation id."""
    out = []
    for item in result.scorecards:
        doc = item.document
        kpis = {}
        for kpi in CONTRACT_KPIS:
            entry = doc["kpis"][kpi]
            raw = _stated(entry, "raw", "level")
            adjusted = _stated(entry, "adjusted", "pooled_level")
            judged = None
            if entry["status"] != "not_in_contract":
                judged = adjusted if entry.get("adjusted_by_model") else raw
            kpis[kpi] = KpiCard(kpi, raw, judged, entry["status"], (raw, adjusted))
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
    ranking: list[dict[str, Any]], name: str
) -> tuple[tuple[str, ...], set[tuple[str, str, str]]]:
    order = tuple(row["supplier"] for row in ranking)
    claims = set()
    for i, better in enumerate(ranking):
        for worse in ranking[i + 1 :]:
            ends = [
                _number(row.get(k))
                for row in (better, worse)
                for k in ("adjusted_low", "adjusted_high")
            ]
            b_low, b_high, w_low, w_high = ends
            if b_low is None or b_high is None or w_low is None or w_high is None:
                continue
            if max(b_low, w_low) > min(b_high, w_high):  # the intervals do not overlap
                claims.add((name, better["supplier"], worse["supplier"]))
    return order, claims


def comparison(result: PeriodResult, contract_id: str) -> Comparison:
    """The contract's comparison of suppliers in the period."""
    doc = result.comparisons[contract_id]
    order: dict[str, tuple[str, ...]] = {}
    claims: set[tuple[str, str, str]] = set()
    for kpi in CONTRACT_KPIS:
        order[kpi], found = _order_and_claims(doc["by_kpi"][kpi]["ranking"], kpi)
        claims |= found
    order[OVERALL], found = _order_and_claims(doc["ranking"], OVERALL)
    claims |= found
    return Comparison(
        contract=contract_id,
        suppliers=tuple(sorted(order[OVERALL])),
        order=order,
        claims=frozenset(claims),
        mean_score={k: _number(v) for k, v in doc["mean_score"].items()},
    )
