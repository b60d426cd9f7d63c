"""Sensor health: each check on hand-made readings, and its effect on KPIs and availability."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.entrance import prepare_entrance
from analytics.health import (
    CLOCK,
    GAP,
    IMPLAUSIBLE,
    OUT_OF_RANGE,
    SPIKE,
    STUCK,
    HealthRules,
    check_sensor,
    merge_intervals,
)
from analytics.kpis import dry_time_share
from floorwatch.localtime import day_bounds
from floorwatch.readings import Kind
from floorwatch.registry import Registry
from floorwatch.registry.schema import Sensor, Zone
from simulators import load_scenario, simulate
from simulators.scenario import Station
from tests.analytics.synthetic import entrance_readings, quiet

MIN = 60_000
T0 = 1_790_000_000_000 - 1_790_000_000_000 % (5 * MIN)


def moisture_sensor() -> Sensor:
    return Sensor(id="s-inner-moisture", kind=Kind.MOISTURE, zone=Zone.INNER, report_interval=300)


def times(n: int) -> np.ndarray:
    return T0 + np.arange(n, dtype=np.int64) * 5 * MIN


def all_day() -> np.ndarray:
    return T0 + np.arange(0, 2000, dtype=np.int64) * MIN


def reasons(found) -> list[str]:
    return [i.reason for i in found]


def test_merge_intervals() -> None:
    merged = merge_intervals(np.array([5, 0, 20, 8]), np.array([10, 5, 30, 9]))
    assert merged == [(0, 10), (20, 30)]


def test_out_of_range_and_spike() -> None:
    values = np.array([5, 5, 80, 5, 5, 120, 5, 5.0])
    drop, found = check_sensor(moisture_sensor(), times(8), values, all_day(), 20, HealthRules())
    assert drop.tolist() == [False, False, True, False, False, True, False, False]
    assert sorted(reasons(found)) == [OUT_OF_RANGE, SPIKE]
    spike = next(i for i in found if i.reason == SPIKE)
    assert (spike.start_ms, spike.end_ms) == (T0 + 10 * MIN, T0 + 15 * MIN)


def test_two_readings_in_a_row_can_be_a_spike() -> None:
    values = np.array([5, 5, 95, 92, 6, 5, 5.0])
    drop, found = check_sensor(moisture_sensor(), times(7), values, all_day(), 20, HealthRules())
    assert np.flatnonzero(drop).tolist() == [2, 3] and reasons(found) == [SPIKE]


def test_a_real_wet_step_is_not_a_spike() -> None:
    values = np.array([5, 5, 60, 65, 60, 5, 5.0])
    drop, found = check_sensor(moisture_sensor(), times(7), values, all_day(), 20, HealthRules())
    assert not drop.any() and not found


def test_stuck_counts_only_occupied_time_and_wet_values() -> None:
    values = np.full(60, 45.0)  # 5 hours of exactly the same wet reading
    drop, found = check_sensor(moisture_sensor(), times(60), values, all_day(), 20, HealthRules())
    assert drop.all() and reasons(found) == [STUCK]
    # the same flat line at night (nothing occupied) is not suspect
    night = np.zeros(0, dtype=np.int64)
    drop, found = check_sensor(moisture_sensor(), times(60), values, night, 20, HealthRules())
    assert not drop.any()
    # a dry floor may read the same all day
    drop, _ = check_sensor(
        moisture_sensor(), times(60), np.full(60, 3.0), all_day(), 20, HealthRules()
    )
    assert not drop.any()


def test_gaps_and_clock_trouble() -> None:
    t = np.concatenate([times(3), [T0 + 30 * MIN, T0 + 31 * MIN, T0 + 35 * MIN]])
    values = np.array([1, 2, 3, 4, 5, 6.0])
    drop, found = check_sensor(moisture_sensor(), t, values, all_day(), 20, HealthRules())
    gap = next(i for i in found if i.reason == GAP)
    assert (gap.start_ms, gap.end_ms) == (T0 + 15 * MIN, T0 + 30 * MIN)
    assert drop.tolist() == [False, False, False, False, True, False]
    assert CLOCK in reasons(found)


def test_implausible_inner_wetness_is_excluded_and_counted(registry) -> None:
    entrance_id = "trb-vastervang-main"
    start, end = day_bounds(date(2026, 9, 28), date(2026, 10, 2))  # Mon-Fri, in term

    def blob(zone: str, kind: str, t: pd.DatetimeIndex) -> np.ndarray:
        values = quiet(zone, kind, t)
        local = t.tz_convert("Europe/Stockholm")
        lunch = (
            (local.date == date(2026, 9, 30))
            & (local.time >= time(11, 0))
            & (local.time < time(13, 0))
        )
        if zone == "inner" and kind == "moisture":
            values = np.where(lunch, 70.0 + (local.minute % 7), values)
        if kind == "footfall":
            values = np.where(lunch, 0.0, values)
        return values

    readings = entrance_readings(registry, entrance_id, start, end, blob)
    prepared = prepare_entrance(registry, entrance_id, readings, start, end, 20.0, 0.8)
    implausible = [i for i in prepared.intervals if i.reason == IMPLAUSIBLE]
    assert implausible, "the wet inner floor with dry upstream and nobody passing is suspect"
    flagged = sum(i.end_ms - i.start_ms for i in implausible) // MIN
    assert 60 <= flagged <= 135  # most of the two hours (the first bins still have passages)
    sensor = "trb-vastervang-main-inner-moisture"
    health = prepared.health[sensor]
    assert health.status == "suspect" and IMPLAUSIBLE in health.reasons
    assert health.availability < 1.0
    assert health.suspect_minutes == flagged
    # what remains of the blob (bins still explained by recent passages) is all that is wet
    share = dry_time_share(prepared.role("inner_moisture"), prepared.occupied, 20.0)
    occupied_minutes = int(prepared.occupied.sum())
    assert share == pytest.approx(1 - (120 - flagged) / (occupied_minutes - flagged))
    # the other sensors are fine
    assert prepared.health["trb-vastervang-main-inner-dirt"].status == "ok"
    assert prepared.health["trb-vastervang-main-inner-dirt"].availability == 1.0


def test_silent_sensor(registry) -> None:
    entrance_id = "trb-vastervang-main"
    start, end = day_bounds(date(2026, 9, 28), date(2026, 9, 28))
    readings = entrance_readings(registry, entrance_id, start, end)
    readings = readings[readings["sensor_id"] != "trb-vastervang-main-inner-dirt"]
    prepared = prepare_entrance(registry, entrance_id, readings, start, end, 20.0, 0.8)
    health = prepared.health["trb-vastervang-main-inner-dirt"]
    assert (health.status, health.availability, health.received) == ("silent", 0.0, 0)
    assert np.isnan(prepared.role("inner_dirt")).all()


def test_footfall_bursts_are_spikes_but_arrival_peaks_are_not() -> None:
    counter = Sensor(id="s-footfall", kind=Kind.FOOTFALL, zone=Zone.ENTRY, report_interval=300)
    values = np.array([10, 12, 620, 11, 40, 120, 60, 9, 8, 80.0 + 250, 70, 5])
    drop, found = check_sensor(counter, times(12), values, all_day(), 0, HealthRules())
    assert np.flatnonzero(drop).tolist() == [2, 9]
    assert reasons(found) == [SPIKE, SPIKE]


# --- stuck dry (issue 12): flat and dry while water comes in upstream and people pass ----------
STUCK_FROM = date(2026, 10, 5)  # a school week and the weekend after it, Trelleborg made wet
STUCK_ENTRANCE = "trb-vastervang-main"
STUCK_SENSOR = "trb-vastervang-main-inner-moisture"


def one_entrance(registry: Registry) -> Registry:
    school = next(s for s in registry.document.schools if s.id == "trb-vastervang")
    school = school.model_copy(
        update={"entrances": [e for e in school.entrances if e.id == STUCK_ENTRANCE]}
    )
    document = registry.document.model_copy(update={"schools": [school], "installations": []})
    return Registry(document, "sha256:stuck-dry", ["stuck-dry.yaml"])


def stuck_dry_world(registry: Registry, *, wetness: float, seed: int, stuck: bool, noise: float):
    scenario = load_scenario().model_copy(update={"stations": {52230: Station(wetness=wetness)}})
    faults = scenario.faults.only("stuck" if stuck else "")
    # one sensor of the six is frozen for three days (which one and when: the seed)
    faults = faults.model_copy(
        update={"stuck": faults.stuck.model_copy(update={"duration_h": 72.0, "sensor_share": 0.1})}
    )
    sensors = scenario.sensors.model_copy(
        update={"noise": {**scenario.sensors.noise, "moisture": noise}}
    )
    scenario = scenario.model_copy(update={"faults": faults, "sensors": sensors})
    return simulate(one_entrance(registry), scenario, STUCK_FROM, 7, seed=seed)


def test_moisture_sensor_stuck_dry_for_three_days_is_flagged(registry: Registry) -> None:
    sim = stuck_dry_world(registry, wetness=3.0, seed=26, stuck=True, noise=1.0)
    assert sim.fault_log.sensors["stuck"] == [STUCK_SENSOR]  # the seed picks the inner sensor
    series = next(s for s in sim.series if s.sensor_id == STUCK_SENSOR)
    values = series.values["moisture"]
    frozen = values[1:] == values[:-1]
    run = np.flatnonzero(np.diff(np.concatenate(([0], frozen.astype(np.int8), [0]))))
    longest = int(np.argmax(run[1::2] - run[::2]))
    lo, hi = run[2 * longest], run[2 * longest + 1] + 1
    stuck_from_ms, stuck_to_ms = int(series.ts_s[lo]) * 1000, int(series.ts_s[hi - 1]) * 1000
    assert (stuck_to_ms - stuck_from_ms) / 3_600_000 >= 71 and values[lo] <= 20.0  # dry
    truth = sim.entrances[STUCK_ENTRANCE]
    start_s = sim.span.start_s
    window = slice((stuck_from_ms // 1000 - start_s) // 60, (stuck_to_ms // 1000 - start_s) // 60)
    assert truth.moisture["entry"][window].max() > 20.0  # water came in meanwhile
    assert truth.moisture["inner"][window].max() > 20.0  # and the real floor got wet

    start, end = day_bounds(STUCK_FROM, STUCK_FROM + timedelta(days=6))
    rig = one_entrance(registry)
    prepared = prepare_entrance(rig, STUCK_ENTRANCE, sim.readings_frame(), start, end, 20.0, 0.8)
    health = prepared.health[STUCK_SENSOR]
    assert health.status == "suspect" and IMPLAUSIBLE in health.reasons
    flagged = [i for i in prepared.intervals if i.reason == IMPLAUSIBLE]
    occupied_ms = prepared.index[prepared.occupied].as_unit("ns").asi8 // 1_000_000
    in_window = (occupied_ms >= stuck_from_ms) & (occupied_ms < stuck_to_ms)
    covered = np.zeros(len(occupied_ms), dtype=bool)
    for item in flagged:
        assert item.sensor_id == STUCK_SENSOR
        assert stuck_from_ms - 15 * MIN <= item.start_ms and item.end_ms <= stuck_to_ms + 15 * MIN
        covered |= (occupied_ms >= item.start_ms) & (occupied_ms < item.end_ms)
    # all but the partial bins at the ends of the frozen stretch are left out of the KPIs
    assert covered[in_window].mean() >= 0.95
    assert np.isnan(prepared.role("inner_moisture")[prepared.occupied][covered]).all()
    # the other sensors are fine
    for sensor, other in prepared.health.items():
        if sensor != STUCK_SENSOR:
            assert IMPLAUSIBLE not in other.reasons, sensor


def test_dry_entrance_on_dry_days_reading_flat_is_not_flagged(registry: Registry) -> None:
    """A noise-free sensor on a floor that stays dry reads exactly 0.0 for days: not suspect
    while no water comes in upstream."""
    sim = stuck_dry_world(registry, wetness=0.05, seed=26, stuck=False, noise=0.0)
    truth = sim.entrances[STUCK_ENTRANCE]
    assert truth.moisture["entry"].max() <= 20.0 and truth.moisture["outside"].max() <= 20.0
    start, end = day_bounds(STUCK_FROM, STUCK_FROM + timedelta(days=6))
    readings = sim.readings_frame()
    inner = readings[readings["sensor_id"] == STUCK_SENSOR]["value"].to_numpy()
    assert (inner == inner[0]).mean() > 0.9  # flat: the same reading nearly all week
    prepared = prepare_entrance(
        one_entrance(registry), STUCK_ENTRANCE, readings, start, end, 20.0, 0.8
    )
    health = prepared.health[STUCK_SENSOR]
    assert health.status == "ok" and health.suspect_minutes == 0, health
