"""KPI functions on small hand-made series with hand-computed answers."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.kpis import (
    Kpi,
    clean_time_share,
    daily_components,
    data_availability,
    dirt_buildup,
    dirt_capture,
    dry_time_share,
    kpis_from_components,
    moisture_excess,
    slip_exposure,
    wet_episodes,
    wet_recovery_p90,
)
from analytics.minutes import counts_on_minutes, interval_mask, state_on_minutes
from analytics.occupancy import minute_index
from floorwatch.localtime import day_bounds

NAN = float("nan")


def test_dry_and_clean_time_share_count_only_occupied_valid_minutes() -> None:
    moisture = np.array([0, 10, 25, 30, NAN, 5, 50, 0])
    occupied = np.array([1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    # occupied & valid: 0,10,25,30,5 -> dry (<=20): 0,10,5 -> 3/5
    assert dry_time_share(moisture, occupied, 20.0) == pytest.approx(0.6)
    assert dry_time_share(np.array([20.0]), np.array([True]), 20.0) == 1.0  # <= is dry
    dirt = np.array([10, 31, 30, NAN, 90, 0, 0, 0])
    # occupied & valid: 10,31,30,90,0 -> clean (<=30): 10,30,0 -> 3/5
    assert clean_time_share(dirt, occupied, 30.0) == pytest.approx(0.6)


def test_shares_are_nan_for_empty_and_all_missing_periods() -> None:
    assert math.isnan(dry_time_share(np.array([]), np.array([], dtype=bool), 20.0))
    assert math.isnan(dry_time_share(np.array([NAN, NAN]), np.array([True, True]), 20.0))
    assert math.isnan(clean_time_share(np.array([1.0, 2.0]), np.array([False, False]), 30.0))
    assert math.isnan(wet_recovery_p90(np.array([NAN]), np.array([True]), 20.0))
    assert math.isnan(slip_exposure(np.array([30.0]), np.array([0.0]), np.array([True]), 20.0))
    assert math.isnan(dirt_capture(np.array([]), np.array([]), np.array([]), np.array([])))


def test_wet_episodes_and_p90() -> None:
    w, d = 50.0, 0.0
    # runs: [0,3) len 3 occupied; [4,5) len 1 occupied; [6,8) len 2 unoccupied only (ignored);
    # [9,15) len 6 partly occupied (19 is within the hysteresis: still wet); NaN at 15 ends it;
    # [16,18) len 2
    moisture = np.array([w, w, w, d, w, d, w, w, d, w, w, 19, w, w, w, NAN, w, w])
    occupied = np.zeros(len(moisture), dtype=bool)
    occupied[[0, 4, 13, 14, 16]] = True
    episodes = wet_episodes(moisture, occupied, 20.0)
    assert episodes["start"].tolist() == [0, 4, 9, 16]
    assert episodes["minutes"].tolist() == [3.0, 1.0, 6.0, 2.0]
    # p90 of [1,2,3,6] with linear interpolation: rank 0.9*3 = 2.7 -> 3 + 0.7*(6-3) = 5.1
    assert wet_recovery_p90(moisture, occupied, 20.0) == pytest.approx(5.1)


def test_never_wet_has_no_recovery_time_not_zero_minutes() -> None:
    assert math.isnan(wet_recovery_p90(np.array([1.0, 2.0, 3.0]), np.ones(3, dtype=bool), 20.0))


def test_slip_exposure_per_thousand_passages() -> None:
    moisture = np.array([30, 30, 0, 0, NAN, 30])
    passages = np.array([10, 5, 20, 15, 100, 7.0])
    occupied = np.array([1, 1, 1, 1, 1, 0], dtype=bool)
    # valid occupied: 10,5 wet + 20,15 dry; the NaN-moisture minute and the closed minute are out
    assert slip_exposure(moisture, passages, occupied, 20.0) == pytest.approx(1000 * 15 / 50)


def test_dirt_buildup_ignores_cleaning_drops_and_lets_noise_cancel() -> None:
    rise = dirt_buildup(np.array([10, 12, 15, 3, 4, NAN, 9, 11, 10, 12]))
    assert np.isnan(rise[0]) and np.isnan(rise[5]) and np.isnan(rise[6])
    assert rise[1:5].tolist() == [2, 3, 0, 1]  # the fall of 12 is a cleaning
    assert rise[7:].tolist() == [2, -1, 2]  # noise: up and down, net +3


def test_dirt_capture() -> None:
    entry = np.array([0, 4, 8, 12, 16, 20.0])
    inner = np.array([10, 11, 12, 0, 1, 2.0])  # cleaned at minute 3
    passages = np.full(6, 10.0)
    occupied = np.ones(6, dtype=bool)
    # inner build-up 1+1+0+1+1 = 4 over 50 passages -> 80 per 1000; entry 20 -> 400 per 1000
    assert dirt_capture(inner, entry, passages, occupied) == pytest.approx(1 - 80 / 400)


def test_data_availability() -> None:
    assert data_availability(90, 120) == 0.75
    assert data_availability(130, 120) == 1.0
    assert math.isnan(data_availability(0, 0))


def test_state_forward_fill_respects_gap_limit() -> None:
    index = pd.date_range("2026-10-05 06:00", periods=30, freq="min", tz="UTC")
    times = pd.to_datetime(
        ["2026-10-05 06:00:20", "2026-10-05 06:05:10", "2026-10-05 06:20:00"], utc=True
    )
    values = state_on_minutes(index, times, np.array([1.0, 2.0, 3.0]), gap_limit_min=10)
    assert values[:5].tolist() == [1.0] * 5
    assert values[5:15].tolist() == [2.0] * 10  # 06:05 .. 06:14
    assert np.isnan(values[15:20]).all()  # silent beyond two report intervals: missing
    assert values[20:30].tolist() == [3.0] * 10


def test_counts_spread_over_the_minutes_since_the_previous_report() -> None:
    index = pd.date_range("2026-10-05 06:00", periods=20, freq="min", tz="UTC")
    times = pd.to_datetime(["2026-10-05 06:04", "2026-10-05 06:09", "2026-10-05 06:19"], utc=True)
    rate = counts_on_minutes(index, times, np.array([10.0, 5.0, 20.0]), 5, gap_limit_min=10)
    assert rate[:5].tolist() == [2.0] * 5  # first report covers one interval: 06:00-06:04
    assert rate[5:10].tolist() == [1.0] * 5
    assert rate[10:20].tolist() == [2.0] * 10  # 10-minute gap: spread over all 10 minutes
    assert np.nansum(rate) == 35.0


def test_interval_mask() -> None:
    index = pd.date_range("2026-10-05 06:00", periods=10, freq="min", tz="UTC")
    mask = interval_mask(
        index,
        pd.to_datetime(["2026-10-05 06:02", "2026-10-05 06:08"], utc=True),
        pd.to_datetime(["2026-10-05 06:04", "2026-10-05 07:00"], utc=True),
    )
    assert np.flatnonzero(mask).tolist() == [2, 3, 8, 9]


def test_daily_components_across_the_october_dst_change() -> None:
    # Sunday 25 Oct 2026 has 25 local hours; Monday 26 Oct 24
    start, end = day_bounds(date(2026, 10, 25), date(2026, 10, 26))
    index = minute_index(start, end)
    assert len(index) == (25 + 24) * 60
    local = index.tz_convert("Europe/Stockholm")
    # occupied: local 07:00-09:00 on both days (pretend the Sunday is a school day)
    occupied = (local.hour >= 7) & (local.hour < 9)
    moisture = np.where((local.hour == 7) & (local.minute < 30), 40.0, 5.0)  # 30 wet min a day
    dirt = np.full(len(index), 10.0)
    passages = np.where(occupied, 2.0, 0.0)
    daily, episodes = daily_components(
        index, occupied, moisture, dirt, dirt, passages, wet_threshold=20, dirt_threshold=30
    )
    assert daily.index.tolist() == [np.datetime64("2026-10-25"), np.datetime64("2026-10-26")]
    assert daily["occupied_minutes"].tolist() == [120, 120]
    assert daily["dry_minutes"].tolist() == [90, 90]
    assert daily["wet_passages"].tolist() == [60, 60]
    assert episodes["minutes"].tolist() == [30, 30]
    kpis = kpis_from_components(daily, episodes)
    assert kpis[Kpi.DRY_TIME_SHARE] == pytest.approx(0.75)
    assert kpis[Kpi.CLEAN_TIME_SHARE] == 1.0
    assert kpis[Kpi.WET_RECOVERY_P90] == 30.0
    assert kpis[Kpi.SLIP_EXPOSURE] == pytest.approx(250.0)
    assert math.isnan(kpis[Kpi.DIRT_CAPTURE])  # no dirt build-up upstream: nothing to capture
    # components agree with the direct KPI functions
    assert kpis[Kpi.DRY_TIME_SHARE] == dry_time_share(moisture, occupied, 20)
    assert kpis[Kpi.SLIP_EXPOSURE] == slip_exposure(moisture, passages, occupied, 20)


def test_water_reaching_the_floor_is_summed_without_a_threshold() -> None:
    start, end = day_bounds(date(2026, 10, 26), date(2026, 10, 26))
    index = minute_index(start, end)
    local = index.tz_convert("Europe/Stockholm")
    occupied = (local.hour >= 8) & (local.hour < 10)  # 120 occupied minutes
    # inner floor: 60 minutes at 12 % (below the wet threshold), 60 at 1 % (below dry: nothing)
    moisture = np.where(local.hour == 8, 12.0, 1.0)
    moisture[(local.hour == 9) & (local.minute < 10)] = np.nan  # missing: counted nowhere
    door = np.where(occupied, 42.0, 0.0)  # outside the door
    passages = np.where(occupied, 3.0, 0.0)
    dirt = np.full(len(index), 10.0)
    daily, _ = daily_components(
        index, occupied, moisture, dirt, dirt, passages, 20, 30,
        dry_reading=2.0, door_moisture=door,
    )  # fmt: skip
    day = daily.iloc[0]
    assert day["dry_minutes"] == 110  # never wet by the threshold ...
    assert day["moisture_excess"] == pytest.approx(60 * 10.0)  # ... but water all the same
    assert day["wet_passage_load"] == pytest.approx(60 * 3.0 * 0.10)
    assert day["door_wet_load"] == pytest.approx(120 * 3.0 * 0.40)
    # halving the water above dry halves the excess: what a solution avoids is proportional
    halved, _ = daily_components(
        index, occupied, np.where(local.hour == 8, 7.0, 1.0), dirt, dirt, passages, 20, 30,
        dry_reading=2.0, door_moisture=door,
    )  # fmt: skip
    assert halved.iloc[0]["moisture_excess"] == pytest.approx(60 * 5.0)
    assert moisture_excess(np.array([np.nan, 1.0, 2.5]), 2.0)[1:].tolist() == [0.0, 0.5]


def test_components_of_an_empty_period_are_insufficient() -> None:
    index = minute_index(*day_bounds(date(2026, 7, 1), date(2026, 7, 1)))
    nothing = np.full(len(index), NAN)
    daily, episodes = daily_components(
        index, np.zeros(len(index), dtype=bool), nothing, nothing, nothing, nothing, 20, 30
    )
    kpis = kpis_from_components(daily, episodes)
    assert all(math.isnan(v) for v in kpis.values())
    empty = kpis_from_components(daily.iloc[:0], episodes.iloc[:0])
    assert all(math.isnan(v) for v in empty.values())
