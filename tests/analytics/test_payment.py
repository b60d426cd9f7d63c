"""Payment rules and the supplier comparison on hand-made estimates: each KPI judged on the
contract's basis with its reason, no wet episode is no number, identical suppliers show no
difference, differences tested only on days of comparable conditions, Holm's correction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from analytics.baseline import AVOIDED_OUTCOME, OUTCOME_NAMED, Baseline
from analytics.comparison import (
    NO_DIFFERENCE,
    NOT_COMPARABLE,
    RANKED_FROM,
    Compared,
    compare,
    holm,
)
from analytics.effects import AvoidedDays, Estimate, Interval, block_counts
from analytics.explanations import Explanation, render_all
from analytics.payment import Judgement, judge, weighted_score
from analytics.report import difference_text
from floorwatch.i18n import language
from floorwatch.registry import Registry
from floorwatch.registry.schema import Basis, Kpi, KpiTarget, NoEvents

NAN = float("nan")


DAYS = 20
RESAMPLES = 200


def _days(improvement: np.ndarray, load: np.ndarray, seed: int) -> AvoidedDays:
    """Days of 600 occupied minutes expecting `load` of the outcome per minute untreated, of
    which the solution avoided `improvement` (both per day), measured with 5 % day-to-day noise;
    the bootstrap as `analytics.effects` draws it."""
    rng = np.random.default_rng(seed)
    per = np.full(len(load), 600.0)
    expected = load * per
    measured = expected * (1.0 - improvement) * (1.0 + rng.normal(0.0, 0.05, len(load)))
    return AvoidedDays(
        measured,
        expected,
        per,
        block_counts(len(load), RESAMPLES, seed),
        expected[None, :] * (1.0 + rng.normal(0.0, 0.03, (RESAMPLES, 1))),
        1.0 + rng.normal(0.0, 0.03, RESAMPLES),
    )


def _estimate(measured: float, improvement: float, share: float = 0.2, events: int = 3,
              spread: float = 0.05, seed: int = 0,
              days: AvoidedDays | None = None) -> Estimate:  # fmt: skip
    replicates = np.random.default_rng(seed).normal(improvement, spread, RESAMPLES)
    if days is None and np.isfinite(improvement):
        days = _days(np.full(DAYS, improvement), np.full(DAYS, share), seed)
    return Estimate(
        Interval(measured, measured - 0.01, measured + 0.01),
        Interval(measured, measured - 0.01, measured + 0.01),
        Interval(0.8, 0.75, 0.85),
        Interval(improvement, improvement - 2 * spread, improvement + 2 * spread),
        share,
        share < 0.01,  # next to nothing to avoid
        replicates,
        events,
        days,
    )


def _baseline(kpi: Kpi, accepted: bool) -> Baseline:
    return Baseline(
        OUTCOME_NAMED[AVOIDED_OUTCOME[kpi]],
        "e",
        None,
        np.zeros(2),
        {},
        {},
        [] if accepted else [Explanation("too few days")],
    )


IMPROVE = KpiTarget(target=0.95, weight=0.3, basis=Basis.IMPROVEMENT, improvement_target=0.4)


def _dry(est: Estimate, accepted: bool) -> Judgement:
    return judge(
        Kpi.DRY_TIME_SHARE, IMPROVE, est, _baseline(Kpi.DRY_TIME_SHARE, accepted), 1.0, 0.8, 0
    )


def test_improvement_basis_is_judged_on_the_share_avoided() -> None:
    est = _estimate(measured=0.90, improvement=0.6)  # below the level target, but improved
    ok = judge(Kpi.DRY_TIME_SHARE, IMPROVE, est, _baseline(Kpi.DRY_TIME_SHARE, True), 1.0, 0.8, 0)
    assert (ok.status, ok.judged_on, ok.target) == ("pass", "improvement", 0.4)
    assert "avoided 60%" in ok.reason
    weak = _dry(_estimate(0.99, 0.2), accepted=True)
    assert weak.status == "fail"


def test_the_reason_is_stored_as_data_and_said_in_the_readers_language() -> None:
    weak = _dry(_estimate(0.99, 0.2), accepted=True)
    records = [e.record() for e in weak.why]
    assert records[0]["values"] == {"value": ["percent", 0.2], "target": ["percent", 0.4]}
    assert weak.reason == (
        "the solution avoided 20% of what the entrance's own baseline expected without it, "
        "less than the 40% the contract asks"
    )
    with language("sv"):
        swedish = render_all(records)
    assert swedish == (
        "lösningen undvek 20\u00a0% av det som entréns egen baslinje förväntade utan den, "
        "mindre än de 40\u00a0% som avtalet kräver"
    )
    refused = _dry(_estimate(0.97, 0.1), accepted=False)
    with language("sv"):
        assert render_all([e.record() for e in refused.why]).startswith(
            "bedömd på uppmätt nivå: baslinjemodellen godkändes inte (too few days); uppmätt 97,0"
        )


def test_a_refused_baseline_or_nothing_to_avoid_falls_back_to_the_measured_level() -> None:
    est = _estimate(measured=0.97, improvement=0.1)
    refused = _dry(est, accepted=False)
    assert (refused.status, refused.judged_on) == ("pass", "measured")
    assert "baseline was not accepted (too few days)" in refused.reason
    dry_month = _estimate(measured=0.97, improvement=0.1, share=0.001)
    quiet = _dry(dry_month, accepted=True)
    assert quiet.judged_on == "measured" and "next to nothing to avoid" in quiet.reason


def test_no_wet_episode_is_judged_as_the_contract_says_and_data_gaps_are_never_a_fail() -> None:
    none = _estimate(measured=NAN, improvement=NAN, events=0)
    for rule, status in ((NoEvents.PASS, "pass"), (NoEvents.NOT_JUDGED, "not_judged")):
        terms = KpiTarget(target=30.0, weight=0.2, no_events=rule)
        verdict = judge(Kpi.WET_RECOVERY_P90, terms, none, None, 1.0, 0.8, 0)
        assert (verdict.status, verdict.judged_on) == (status, "no_events")
        assert "no wet episodes" in verdict.reason
    gap = judge(Kpi.DRY_TIME_SHARE, IMPROVE, _estimate(0.1, -0.5), None, 0.5, 0.8, 0)
    assert gap.status == "insufficient"
    statuses = {"a": "pass", "b": "not_judged", "c": "fail"}
    assert weighted_score(statuses, {"a": 1, "b": 5, "c": 1}) == 0.5


def test_holm_adjusts_step_down() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


KPIS = (Kpi.DRY_TIME_SHARE, Kpi.CLEAN_TIME_SHARE, Kpi.SLIP_EXPOSURE, Kpi.DIRT_CAPTURE)


def _compared(supplier: str, inst: str, improvement: float, seed: int,
              days: AvoidedDays | None = None) -> Compared:  # fmt: skip
    estimates = {
        k: _estimate(0.9, improvement, seed=seed + i, days=days) for i, k in enumerate(KPIS)
    }
    estimates[Kpi.WET_RECOVERY_P90] = _estimate(30.0, NAN)
    return Compared(supplier, inst, estimates, {k: _baseline(k, True) for k in KPIS}, 1.0)


def test_the_comparison_tests_differences_and_says_no_difference_shown(registry: Registry) -> None:
    contract = registry.contracts["skane-entrance-2026"]
    same = [_compared("a", "a1", 0.5, 1), _compared("b", "b1", 0.5, 11)]
    doc = compare(contract, "2026-10", same, RESAMPLES, "h")
    assert doc["no_difference_shown"] is True
    assert all(t["outcome"] == NO_DIFFERENCE for t in doc["differences"])
    apart = [_compared("a", "a1", 0.8, 1), _compared("b", "b1", 0.2, 11)]
    doc = compare(contract, "2026-10", apart, RESAMPLES, "h")
    assert [r["supplier"] for r in doc["ranking"]] == ["a", "b"]
    assert doc["ranking"][0]["better_than"] == ["b"] and doc["no_difference_shown"] is False
    assert all(t["p_holm"] >= t["p"] for t in doc["differences"])
    for kpi in ("dry_time_share", "slip_exposure", "clean_time_share"):
        (test,) = doc["by_kpi"][kpi]["differences"]
        assert test["comparable"] and test["strata"] == 1 and test["better"] == "a", test


def _dry_time_test(
    registry: Registry, *pair: tuple[str, float, int, AvoidedDays]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The comparison of two suppliers (name, improvement, seed, days), and its dry time test."""
    items = [_compared(name, f"{name}1", value, seed, days) for name, value, seed, days in pair]
    doc = compare(registry.contracts["skane-entrance-2026"], "2026-10", items, RESAMPLES, "h")
    return doc, doc["by_kpi"]["dry_time_share"]["differences"][0]


def test_suppliers_are_only_told_apart_on_days_of_comparable_conditions(
    registry: Registry,
) -> None:
    """The same solution avoids less on heavy days (it saturates): a supplier seen only on
    heavy days and one seen only on light days cannot be told apart by their solutions; where
    both have light days, the test compares those."""
    heavy, light = np.full(DAYS, 20.0), np.full(DAYS, 0.2)  # moisture % per occupied minute
    at_wet = _days(np.full(DAYS, 0.45), heavy, 1)
    at_dry = _days(np.full(DAYS, 0.9), light, 2)
    doc, apart = _dry_time_test(registry, ("x", 0.45, 1, at_wet), ("y", 0.9, 2, at_dry))
    assert [r["supplier"] for r in doc["ranking"]] == ["y", "x"]  # the ranking still shows it
    assert doc["no_difference_shown"] is True
    for test in doc["by_kpi"]["dry_time_share"]["differences"] + doc["differences"]:
        assert (test["outcome"], test["comparable"]) == (NO_DIFFERENCE, False), test
    assert apart["reason"] == NOT_COMPARABLE
    with language("sv"):  # the report says why, in the reader's language
        assert difference_text(apart).startswith(
            "x och y: ingen skillnad påvisad: deras entréer hade inga dagar med jämförbara"
        )
    # x also had light days (avoiding 0.9 there, as y does): only those are compared
    mixed = _days(np.r_[np.full(10, 0.45), np.full(10, 0.9)], np.r_[heavy[:10], light[:10]], 3)
    _, test = _dry_time_test(registry, ("x", 0.5, 3, mixed), ("y", 0.9, 2, at_dry))
    assert test["comparable"] and test["strata"] == 1
    assert test["days_compared"] == {"x": 10, "y": 20}
    assert test["expected_share_compared"]["x"] == pytest.approx(0.01, abs=1e-3)
    assert abs(test["difference"]) < 0.05 and test["outcome"] == NO_DIFFERENCE
    # a real difference on the same days is claimed
    worse = _days(np.full(DAYS, 0.3), light, 4)
    _, test = _dry_time_test(registry, ("x", 0.5, 3, mixed), ("z", 0.3, 4, worse))
    assert test["better"] == "x" and test["difference"] == pytest.approx(0.6, abs=0.05)


def test_a_nearly_dry_month_ranks_in_no_test_and_a_dry_one_is_left_out(
    registry: Registry,
) -> None:
    """An installation expecting less than "next to nothing" but at least RANKED_FROM of it
    (moisture above dry per occupied minute) ranks, its days are in no test; one expecting less
    than that is left out, with the reason."""
    negligible = OUTCOME_NAMED[AVOIDED_OUTCOME[Kpi.DRY_TIME_SHARE]].negligible
    quiet, nothing = 0.5 * negligible, 0.5 * RANKED_FROM * negligible
    at_wet = _days(np.full(DAYS, 0.7), np.full(DAYS, 1.0), 1)
    at_dry = _days(np.full(DAYS, 0.6), np.full(DAYS, quiet), 2)
    items = [_compared("wet", "w1", 0.7, 1, at_wet), _compared("dry", "d1", 0.6, 2, at_dry)]
    # both expect less than "next to nothing": payment judges them on the measured level
    items[1].estimates[Kpi.DRY_TIME_SHARE] = replace(
        _estimate(0.99, 0.6, quiet, seed=2, days=at_dry), negligible=True
    )
    contract = registry.contracts["skane-entrance-2026"]
    doc = compare(contract, "2026-10", items, RESAMPLES, "h")
    dry_time = doc["by_kpi"]["dry_time_share"]
    assert [r["supplier"] for r in dry_time["ranking"]] == ["wet", "dry"]
    (test,) = dry_time["differences"]
    assert (test["comparable"], test["reason"]) == (False, NOT_COMPARABLE)
    assert not any(r["kpi"] == "dry_time_share" for r in doc["left_out"])

    none = _days(np.full(DAYS, 0.6), np.full(DAYS, nothing), 3)
    items[1].estimates[Kpi.DRY_TIME_SHARE] = replace(
        _estimate(0.99, 0.6, nothing, seed=3, days=none), negligible=True
    )
    doc = compare(contract, "2026-10", items, RESAMPLES, "h")
    assert [r["supplier"] for r in doc["by_kpi"]["dry_time_share"]["ranking"]] == ["wet"]
    reason = "next to nothing to avoid without the solution"
    assert {"installation": "d1", "kpi": "dry_time_share", "reason": reason} in doc["left_out"]
