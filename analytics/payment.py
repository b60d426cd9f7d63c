"""Payment rules: how one KPI of one installation is judged, the weighted score, the bonus/malus.

Everything here depends only on the installation's own estimates (`analytics.effects`), its own
baseline's acceptance and the contract's terms, never on other installations. Each explanation
is its own small function (plain words), so the report can translate them one by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analytics.baseline import Baseline
from analytics.effects import MIN_EXPECTED_SHARE, Estimate, Interval
from floorwatch.registry.schema import (
    KPI_HIGHER_IS_BETTER,
    Basis,
    BonusMalus,
    Kpi,
    KpiTarget,
    NoEvents,
)

JUDGED_STATUSES = ("pass", "fail")


@dataclass(frozen=True)
class Judgement:
    """What a KPI was judged on (improvement, measured, measured_with_relief, no_events), the
    value, the target it met or missed, the status, and why in plain words."""

    judged_on: str
    value: Interval
    target: float | None
    status: str  # pass | fail | insufficient | not_judged
    reason: str


# --- explanations (one function each) --------------------------------------------------------
def why_insufficient_data(availability: float, minimum: float) -> str:
    shown = "no data" if not math.isfinite(availability) else f"{availability:.0%} of readings"
    return f"not judged: {shown} arrived, the contract needs {minimum:.0%}"


def why_no_value() -> str:
    return "not judged: nothing to compute this KPI from in the period"


def why_no_wet_episodes(pass_without: bool) -> str:
    if pass_without:
        return "no wet episodes in the period: the contract counts that as a pass"
    return "no wet episodes in the period: the contract leaves this KPI out of the score"


def why_improvement(value: float, target: float, passed: bool) -> str:
    verdict = "at least" if passed else "less than"
    return (
        f"the solution avoided {value:.0%} of what the entrance's own baseline expected without "
        f"it, {verdict} the {target:.0%} the contract asks"
    )


def why_measured(value: str, target: str, passed: bool, higher: bool) -> str:
    if passed:
        word = "at or above" if higher else "at or below"
    else:
        word = "below" if higher else "above"
    return f"measured {value}, {word} the target {target}"


def why_baseline_failed(reasons: list[str]) -> str:
    return (
        "judged on the measured level: the baseline was not accepted (" + "; ".join(reasons) + ")"
    )


def why_nothing_to_avoid(share: float) -> str:
    return (
        "judged on the measured level: without the solution the baseline expects next to "
        f"nothing to avoid ({share:.1%} of the measured time), so an improvement says nothing"
    )


def why_relief(days: int) -> str:
    return f"{days} day(s) excused by the contract's weather relief are left out"


# --- judging ------------------------------------------------------------------------------------
def _format(kpi: Kpi, value: float) -> str:
    if kpi == Kpi.WET_RECOVERY_P90:
        return f"{value:.0f} min"
    if kpi == Kpi.SLIP_EXPOSURE:
        return f"{value:.1f} per 1,000"
    return f"{value:.1%}"


def judge(
    kpi: Kpi,
    terms: KpiTarget,
    estimate: Estimate,
    baseline: Baseline | None,
    availability: float,
    min_availability: float,
    relief_days: int,
) -> Judgement:
    """Judge one KPI as the contract's terms say (module docstring)."""
    higher = KPI_HIGHER_IS_BETTER[kpi]
    if not math.isfinite(availability) or availability < min_availability:
        return Judgement(
            "measured",
            estimate.measured,
            terms.target,
            "insufficient",
            why_insufficient_data(availability, min_availability),
        )
    fallback = ""
    if terms.basis == Basis.IMPROVEMENT and terms.improvement_target is not None:
        if baseline is None or not baseline.accepted:
            reasons = baseline.reasons if baseline is not None else ["no baseline days"]
            fallback = why_baseline_failed(reasons)
        elif not estimate.expected_share >= MIN_EXPECTED_SHARE:
            fallback = why_nothing_to_avoid(estimate.expected_share)
        elif math.isfinite(estimate.improvement.value):
            value = estimate.improvement
            passed = value.value >= terms.improvement_target
            return Judgement(
                "improvement",
                value,
                terms.improvement_target,
                "pass" if passed else "fail",
                why_improvement(value.value, terms.improvement_target, passed),
            )
    use_relief = terms.basis == Basis.MEASURED and relief_days > 0
    value = estimate.judged_measured if use_relief else estimate.measured
    on = "measured_with_relief" if use_relief else "measured"
    if kpi == Kpi.WET_RECOVERY_P90 and estimate.events == 0:
        pass_without = terms.no_events == NoEvents.PASS
        status = "pass" if pass_without else "not_judged"
        return Judgement(
            "no_events", value, terms.target, status, why_no_wet_episodes(pass_without)
        )
    if not math.isfinite(value.value):
        return Judgement(on, value, terms.target, "insufficient", why_no_value())
    passed = value.value >= terms.target if higher else value.value <= terms.target
    reason = why_measured(_format(kpi, value.value), _format(kpi, terms.target), passed, higher)
    if use_relief:
        reason += "; " + why_relief(relief_days)
    if fallback:
        reason = fallback + "; " + reason
    return Judgement(on, value, terms.target, "pass" if passed else "fail", reason)


def weighted_score(statuses: dict[str, str], weights: dict[str, float]) -> float:
    """Share of weight on passing KPIs, weights renormalised over the judged KPIs (pass or
    fail). NaN if none was judged."""
    judged = {k: w for k, w in weights.items() if statuses.get(k) in JUDGED_STATUSES}
    total = sum(judged.values())
    if total <= 0:
        return float("nan")
    return sum(w for k, w in judged.items() if statuses[k] == "pass") / total


def bonus_malus(score: float, rule: BonusMalus, base_payment_sek: float) -> float:
    """Bonus (+) or malus (-) in SEK for a score 0..1 (`BonusMalus`): above bonus_from growing
    linearly to max_bonus_share of the base at 1; below malus_below growing linearly to
    max_malus_share at 0; nothing in between, and nothing without a score."""
    if not math.isfinite(score):
        return 0.0
    if score > rule.bonus_from and rule.bonus_from < 1:
        return (
            (score - rule.bonus_from)
            / (1 - rule.bonus_from)
            * rule.max_bonus_share
            * base_payment_sek
        )
    if score < rule.malus_below and rule.malus_below > 0:
        return (
            -(rule.malus_below - score) / rule.malus_below * rule.max_malus_share * base_payment_sek
        )
    return 0.0
