"""The entrance model, qualitatively: rain wets floors, capture keeps them clean, calendars rule
footfall."""

from __future__ import annotations

from datetime import date

import numpy as np

from floorwatch.registry import Registry
from simulators import Scenario, simulate
from simulators.entrance import entrance_shares
from simulators.scenario import Station
from simulators.timegrid import LOCAL
from tests.simulators.conftest import WEEK

STATIONS = (52230, 53300, 54290)


def _inner_wet_minutes(registry: Registry, scenario: Scenario) -> int:
    sim = simulate(registry, scenario, WEEK, 14, seed=4)
    return sum(int((t.moisture["inner"] > 20).sum()) for t in sim.entrances.values())


def test_more_rain_gives_more_wet_inner_minutes(registry: Registry, scenario: Scenario) -> None:
    dry = scenario.model_copy(update={"stations": {s: Station(wetness=0.5) for s in STATIONS}})
    wet = scenario.model_copy(update={"stations": {s: Station(wetness=2.0) for s in STATIONS}})
    dry_minutes = _inner_wet_minutes(registry, dry)
    wet_minutes = _inner_wet_minutes(registry, wet)
    assert wet_minutes > 1.5 * dry_minutes > 0


def _with_capture(scenario: Scenario, efficiency: float) -> Scenario:
    profiles = {
        name: profile.model_copy(update={"capture_efficiency": efficiency})
        for name, profile in scenario.profiles.items()
        if name != "baseline"
    }
    return scenario.model_copy(update={"profiles": {**scenario.profiles, **profiles}})


def test_better_capture_gives_less_inner_dirt(registry: Registry, scenario: Scenario) -> None:
    results = {}
    for efficiency in (0.5, 0.9):
        sim = simulate(registry, _with_capture(scenario, efficiency), WEEK, 7, seed=4)
        installed = [t for t in sim.entrances.values() if t.periods[0].installation]
        assert len(installed) == 12
        results[efficiency] = (
            np.mean([t.dirt["inner"].mean() for t in installed]),
            np.mean([t.dirt["entry"].mean() for t in installed]),
        )
    inner_poor, entry_poor = results[0.5]
    inner_good, entry_good = results[0.9]
    assert inner_good < 0.6 * inner_poor
    # What comes in at the door does not depend on the solution.
    assert abs(entry_good - entry_poor) < 1e-6


def test_baseline_before_installation_and_reference_entrances(
    registry: Registry, scenario: Scenario
) -> None:
    sim = simulate(registry, scenario, date(2026, 9, 28), 7, seed=4)
    main = sim.entrances["trb-vastervang-main"]
    assert [(p.name, p.start, p.end) for p in main.periods] == [
        ("baseline", date(2026, 9, 28), date(2026, 10, 1)),
        ("entre-ren", date(2026, 10, 1), date(2026, 10, 5)),
    ]
    assert main.periods[1].profile == scenario.profiles["entre-ren"]
    gym = sim.entrances["trb-vastervang-gym"]  # a reference entrance
    assert [p.name for p in gym.periods] == ["baseline"]
    # The solution captures more once installed.
    day_hours = 24
    before = main.capture_dirt[: 3 * day_hours].mean()
    after = main.capture_dirt[3 * day_hours :].mean()
    assert after > before + 0.3


def test_no_footfall_at_night_weekends_or_school_breaks(
    registry: Registry, scenario: Scenario
) -> None:
    # Week 44 of 2026 (26-30 October) is the autumn break; 31 October-1 November a weekend.
    start = date(2026, 10, 19)
    sim = simulate(registry, scenario, start, 14, seed=9)
    span = sim.span
    for truth in sim.entrances.values():
        school = registry.schools[truth.school]
        calendar = registry.school_days[school.id]
        hours = calendar.calendar.opening_hours
        open_m = hours.open.hour * 60 + hours.open.minute
        close_m = hours.close.hour * 60 + hours.close.minute
        night = (span.minute_of_day < open_m) | (span.minute_of_day >= close_m)
        assert truth.passages[night].sum() == 0
        per_day = np.add.reduceat(truth.passages, span.day_starts[:-1])
        for d, day in enumerate(span.dates):
            if day.weekday() >= 5:
                assert per_day[d] == 0, day
        school_days = [
            per_day[d] for d, day in enumerate(span.dates) if calendar.is_school_day(day)
        ]
        break_days = [
            per_day[d]
            for d, day in enumerate(span.dates)
            if day.weekday() < 5 and not calendar.is_school_day(day)
        ]
        assert len(break_days) == 5 and len(school_days) == 5
        assert max(break_days) < 0.05 * np.mean(school_days)
        # An arrival peak before the first lesson; quiet during lessons (Monday 19 October).
        first = calendar.calendar.first_lesson
        first_m = first.hour * 60 + first.minute
        monday = truth.passages[int(span.day_starts[0]) : int(span.day_starts[1])]
        arrival = monday[first_m - 30 : first_m].sum()
        lesson = monday[first_m + 30 : first_m + 60].sum()
        assert arrival > 5 * max(lesson, 1)
        assert arrival > 0.5 * school.pupils * entrance_share(registry, scenario, truth.entrance)
    assert LOCAL.key == "Europe/Stockholm"


def entrance_share(registry: Registry, scenario: Scenario, entrance_id: str) -> float:
    _, school = registry.entrance(entrance_id)
    return entrance_shares(school, scenario)[entrance_id]


def test_days_follow_local_time_across_the_dst_change() -> None:
    from simulators.timegrid import Span

    span = Span(date(2026, 10, 24), 3)  # clocks go back on 25 October 2026
    assert list(np.diff(span.day_starts)) == [1440, 1500, 1440]
    assert all(span.minute_of_day[int(i)] == 0 for i in span.day_starts[:-1])
    assert span.minute_of_day[int(span.day_starts[1]) + 8 * 60 + 60] == 8 * 60  # 08:00 local


def test_a_full_solution_captures_less_until_maintenance(
    registry: Registry, scenario: Scenario
) -> None:
    def inner_dirt(interval: int) -> float:
        profiles = {
            name: profile.model_copy(
                update={"dirt_capacity_kg": 0.3, "maintenance_interval_days": interval}
            )
            for name, profile in scenario.profiles.items()
        }
        sim = simulate(registry, scenario.model_copy(update={"profiles": profiles}), WEEK, 7, 4)
        installed = [t for t in sim.entrances.values() if t.periods[0].installation]
        return float(np.mean([t.dirt["inner"].mean() for t in installed]))

    assert inner_dirt(1) < 0.8 * inner_dirt(60)
