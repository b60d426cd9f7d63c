"""The counterfactual truth (simulators.counterfactual): the same weather and footfall with the
entrances untreated or with another supplier's solution; true KPIs as analytics computes them
from the same noise-free series; deterministic per seed."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.kpis import Kpi, daily_components, kpis_from_components
from analytics.occupancy import minute_index, occupied_mask
from floorwatch.errors import InvalidRequest, NotFound
from floorwatch.localtime import day_bounds
from floorwatch.registry import Registry
from simulators import Scenario, simulate
from simulators.counterfactual import ACTUAL, Counterfactual, Thresholds
from simulators.scenario import BASELINE

START, DAYS = date(2026, 9, 24), 14  # a week of baseline, then the installations (1 October)
PERIOD = (date(2026, 10, 1), date(2026, 10, 8))


@pytest.fixture(scope="module")
def world(registry: Registry, scenario: Scenario) -> Counterfactual:
    return Counterfactual(simulate(registry, scenario, START, DAYS, seed=5))


def test_runs_share_weather_and_footfall_and_differ_only_where_treated(
    world: Counterfactual,
) -> None:
    actual, untreated = world.run(ACTUAL), world.run(BASELINE)
    first_installed = int(world.span.day_starts[(PERIOD[0] - START).days])
    for entrance, truth in actual.items():
        base = untreated[entrance]
        assert np.array_equal(truth.passages, base.passages)
        assert np.array_equal(truth.moisture["outside"], base.moisture["outside"])
        # before the installations every run is the baseline
        assert np.array_equal(
            truth.moisture["inner"][:first_installed], base.moisture["inner"][:first_installed]
        )
        reference = world.registry.entrance(entrance)[0].reference
        treated_later = not np.array_equal(truth.dirt["inner"], base.dirt["inner"])
        assert treated_later is not reference, entrance
    for supplier in world.suppliers:
        own = [i.entrance for i in world.registry.document.installations if i.supplier == supplier]
        for entrance in own:  # a supplier's run is the actual world at its own entrances
            assert np.array_equal(
                world.run(supplier)[entrance].moisture["inner"], actual[entrance].moisture["inner"]
            )


def test_true_kpis_are_what_analytics_computes_from_the_noise_free_series(
    world: Counterfactual,
) -> None:
    contract = next(iter(world.registry.contracts.values()))
    start, end = day_bounds(PERIOD[0], date(2026, 10, 7))
    index = minute_index(start, end)
    lo = int((index[0].value // 10**9 - world.span.start_s) // 60)
    checked = 0
    for truth in world.installations(contract.id, *PERIOD):
        _, school = world.registry.entrance(truth.entrance)
        days = world.registry.school_days[school.id]
        occupied = occupied_mask(index, days, days.calendar.opening_hours)
        for treatment, values in ((ACTUAL, truth.treated), (BASELINE, truth.untreated)):
            run = world.run(treatment)[truth.entrance]
            cut = slice(lo, lo + len(index))
            daily, episodes = daily_components(
                index,
                occupied,
                run.moisture["inner"][cut],
                run.dirt["inner"][cut],
                run.dirt["entry"][cut],
                run.passages[cut],
                contract.wet_threshold,
                contract.dirt_threshold,
                dry_reading=contract.dry_reading,
            )
            expected = kpis_from_components(daily, episodes)
            # the threshold-free sums the improvement is judged on agree too, day by day
            th = Thresholds(contract.wet_threshold, contract.dirt_threshold, contract.dry_reading)
            sums, _ = world.daily(treatment, truth.entrance, th)
            true_days = sums.reindex([pd.Timestamp(d).date() for d in daily.index])
            for name in ("moisture_excess", "wet_passage_load", "inner_buildup"):
                assert true_days[name].to_numpy() == pytest.approx(
                    daily[name].to_numpy(), rel=1e-6, abs=1e-6
                ), name
            for kpi in Kpi:
                if kpi == Kpi.DATA_AVAILABILITY:
                    continue
                mine = values[str(kpi)]
                if kpi == Kpi.WET_RECOVERY_P90 and mine is None:
                    assert math.isnan(expected[kpi])  # analytics: no number without episodes
                    continue
                assert mine == pytest.approx(expected[kpi], abs=1e-9), (truth.entrance, kpi)
                checked += 1
    assert checked >= 20


def test_effects_follow_from_treated_and_untreated_counts(world: Counterfactual) -> None:
    contract = next(iter(world.registry.contracts.values()))
    truths = world.installations(contract.id, *PERIOD)
    assert truths and all(t.days for t in truths)
    for t in truths:
        wet_u, wet_t = t.sums_untreated["wet_minutes"], t.sums_treated["wet_minutes"]
        if wet_u > 0:
            assert t.effect.avoided["wet_minutes"] == pytest.approx(1 - wet_t / wet_u)
        dry_t, dry_u = t.treated["dry_time_share"], t.untreated["dry_time_share"]
        assert dry_t is not None and dry_u is not None
        assert t.effect.change["dry_time_share"] == pytest.approx(dry_t - dry_u)
        assert t.by_supplier[t.supplier] == t.effect  # its own supplier's run is the actual one
        # every solution of the pilot captures more than the plain baseline mat
        assert (t.effect.avoided["inner_buildup"] or 0.0) > 0.2
    per_supplier = world.suppliers_truth(contract.id, *PERIOD)
    assert set(per_supplier) == set(world.suppliers)
    assert sum(s.installations for s in per_supplier.values()) == len(truths)


def test_same_seed_same_truth_other_seed_other_truth(
    registry: Registry, scenario: Scenario, world: Counterfactual
) -> None:
    contract = next(iter(registry.contracts.values()))
    again = Counterfactual(simulate(registry, scenario, START, DAYS, seed=5))
    other = Counterfactual(simulate(registry, scenario, START, DAYS, seed=6))
    mine = world.installations(contract.id, *PERIOD)
    assert again.installations(contract.id, *PERIOD) == mine
    again.keep_days_only()  # what was computed can be asked again, over fewer days too
    assert again.installations(contract.id, *PERIOD) == mine
    fewer = (PERIOD[0], date(2026, 10, 5))
    assert again.installations(contract.id, *fewer) == world.installations(contract.id, *fewer)
    with pytest.raises(InvalidRequest, match="let go"):
        again.run(BASELINE)
    assert other.installations(contract.id, *PERIOD) != mine


def test_unknown_treatment_is_refused(world: Counterfactual) -> None:
    with pytest.raises(NotFound, match="no counterfactual run"):
        world.run("no-such-supplier")
