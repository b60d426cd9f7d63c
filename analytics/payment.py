"""Payment rules: how one KPI of one installation is judged, the weighted score, the bonus/malus.

Everything here depends only on the installation's own estimates (`analytics.effects`), its own
baseline's acceptance and the contract's terms, never on other installations. Each explanation
is its own small function returning an `Explanation` (message and values), so the report says
it in its reader's language and the scorecard document in English.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from analytics.baseline import Baseline
from analytics.effects import Estimate, Interval
from analytics.explanations import Explanation, styled
from floorwatch.i18n import N_
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
    value, the target it met or missed, the status, and why (`analytics.explanations`)."""

    judged_on: str
    value: Interval
    target: float | None
    status: str  # pass | fail | insufficient | not_judged
    why: tuple[Explanation, ...]

    @property
    def reason(self) -> str:
        """Why, in English (the scorecard document's `reason`)."""
        return "; ".join(e.english() for e in self.why)


# --- explanations (one function each) --------------------------------------------------------
def why_insufficient_data(availability: float, minimum: float) -> Explanation:
    if not math.isfinite(availability):
        return Explanation(
            N_("not judged: no data arrived, the contract needs {minimum}"),
            {"minimum": styled("percent", minimum)},
        )
    return Explanation(
        N_("not judged: {share} of readings arrived, the contract needs {minimum}"),
        {"share": styled("percent", availability), "minimum": styled("percent", minimum)},
    )


def why_no_value() -> Explanation:
    return Explanation(N_("not judged: nothing to compute this KPI from in the period"))


def why_no_wet_episodes(pass_without: bool) -> Explanation:
    if pass_without:
        return Explanation(N_("no wet episodes in the period: the contract counts that as a pass"))
    return Explanation(
        N_("no wet episodes in the period: the contract leaves this KPI out of the score")
    )


def why_improvement(value: float, target: float, passed: bool) -> Explanation:
    values = {"value": styled("percent", value), "target": styled("percent", target)}
    if passed:
        return Explanation(
            N_(
                "the solution avoided {value} of what the entrance's own baseline expected "
                "without it, at least the {target} the contract asks"
            ),
            values,
        )
    return Explanation(
        N_(
            "the solution avoided {value} of what the entrance's own baseline expected "
            "without it, less than the {target} the contract asks"
        ),
        values,
    )


MEASURED_MESSAGES = {  # (passed, higher is better) -> message
    (True, True): N_("measured {value}, at or above the target {target}"),
    (True, False): N_("measured {value}, at or below the target {target}"),
    (False, True): N_("measured {value}, below the target {target}"),
    (False, False): N_("measured {value}, above the target {target}"),
}


def why_measured(kpi: Kpi, value: float, target: float, passed: bool) -> Explanation:
    message = MEASURED_MESSAGES[(passed, KPI_HIGHER_IS_BETTER[kpi])]
    return Explanation(message, {"value": _styled(kpi, value), "target": _styled(kpi, target)})


def why_baseline_failed(reasons: list[Explanation]) -> Explanation:
    return Explanation(
        N_("judged on the measured level: the baseline was not accepted ({reasons})"),
        {"reasons": [r.record() for r in reasons]},
    )


def why_nothing_to_avoid() -> Explanation:
    return Explanation(
        N_(
            "judged on the measured level: without the solution the baseline expects next to "
            "nothing to avoid, so an improvement says nothing"
        )
    )


def why_relief(days: int) -> Explanation:
    return Explanation(
        N_("{days} day(s) excused by the contract's weather relief are left out"),
        {"days": days},
    )


def why_no_baseline_days() -> Explanation:
    return Explanation(N_("no baseline days"))


def why_not_in_contract() -> Explanation:
    return Explanation(N_("not a KPI of this contract"))


# --- judging ------------------------------------------------------------------------------------
def _styled(kpi: Kpi, value: float) -> list[Any]:
    if kpi == Kpi.WET_RECOVERY_P90:
        return styled("minutes", value)
    if kpi == Kpi.SLIP_EXPOSURE:
        return styled("per_thousand", value)
    return styled("percent1", value)


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
            (why_insufficient_data(availability, min_availability),),
        )
    if kpi == Kpi.WET_RECOVERY_P90 and estimate.events == 0:
        pass_without = terms.no_events == NoEvents.PASS
        status = "pass" if pass_without else "not_judged"
        return Judgement(
            "no_events",
            estimate.measured,
            terms.target,
            status,
            (why_no_wet_episodes(pass_without),),
        )
    fallback: tuple[Explanation, ...] = ()
    if terms.basis == Basis.IMPROVEMENT and terms.improvement_target is not None:
        if baseline is None or not baseline.accepted:
            reasons = baseline.reasons if baseline is not None else [why_no_baseline_days()]
            fallback = (why_baseline_failed(reasons),)
        elif estimate.negligible:
            fallback = (why_nothing_to_avoid(),)
        elif math.isfinite(estimate.improvement.value):
            value = estimate.improvement
            passed = value.value >= terms.improvement_target
            return Judgement(
                "improvement",
                value,
                terms.improvement_target,
                "pass" if passed else "fail",
                (why_improvement(value.value, terms.improvement_target, passed),),
            )
    # relief excuses days from the measured level, also where an improvement could not be judged
    use_relief = relief_days > 0
    value = estimate.judged_measured if use_relief else estimate.measured
    on = "measured_with_relief" if use_relief else "measured"
    if not math.isfinite(value.value):
        return Judgement(on, value, terms.target, "insufficient", (why_no_value(),))
    passed = value.value >= terms.target if higher else value.value <= terms.target
    why = (*fallback, why_measured(kpi, value.value, terms.target, passed))
    if use_relief:
        why = (*why, why_relief(relief_days))
    return Judgement(on, value, terms.target, "pass" if passed else "fail", why)


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
