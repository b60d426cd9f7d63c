"""Occupied minutes from the school calendar, in local time, across the DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pandas as pd
import pytest

from analytics.occupancy import local_dates, minute_index, occupied_mask, occupied_minutes
from floorwatch.errors import InvalidRequest
from floorwatch.localtime import day_bounds, period_bounds
from floorwatch.registry.calendar import SchoolDays
from floorwatch.registry.schema import Calendar, DateSpan, OpeningHours

HOURS = OpeningHours(open=time(7, 0), close=time(17, 0))


def calendar(*, holidays: list[date] | None = None) -> SchoolDays:
    return SchoolDays(
        Calendar(
            id="test",
            opening_hours=HOURS,
            terms=[DateSpan(start=date(2026, 8, 19), end=date(2027, 6, 12))],
            holidays=holidays or [],
        )
    )


def test_period_bounds_are_local_midnights_in_utc() -> None:
    start, end = period_bounds("2026-10")
    assert start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)  # CEST, UTC+2
    assert end == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # CET, UTC+1 after 25 Oct
    start, end = period_bounds("2026-12")
    assert (start.hour, end) == (23, datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    with pytest.raises(InvalidRequest):
        period_bounds("2026-13")
    with pytest.raises(InvalidRequest):
        period_bounds("october")


def test_dst_days_have_23_and_25_hours() -> None:
    # last Sunday of October 2026 is the 25th, of March 2027 the 28th
    for day, hours in [(date(2026, 10, 25), 25), (date(2027, 3, 28), 23), (date(2026, 10, 26), 24)]:
        start, end = day_bounds(day, day)
        index = minute_index(start, end)
        assert len(index) == hours * 60
        assert set(local_dates(index).tolist()) == {day}


def test_opening_hours_follow_local_time_across_autumn_change() -> None:
    days = calendar()
    # Friday 23 Oct (CEST) and Monday 26 Oct (CET): 07:00 local is 05:00 resp. 06:00 UTC
    start, end = day_bounds(date(2026, 10, 23), date(2026, 10, 26))
    occupied = occupied_minutes(start, end, days, HOURS)
    assert len(occupied) == 2 * 600  # Fri + Mon, weekend closed, 10 h each
    assert occupied[0] == pd.Timestamp("2026-10-23 05:00", tz="UTC")
    assert occupied[599] == pd.Timestamp("2026-10-23 14:59", tz="UTC")
    assert occupied[600] == pd.Timestamp("2026-10-26 06:00", tz="UTC")
    assert occupied[-1] == pd.Timestamp("2026-10-26 15:59", tz="UTC")


def test_opening_hours_follow_local_time_across_spring_change() -> None:
    days = calendar()
    start, end = day_bounds(date(2027, 3, 26), date(2027, 3, 29))
    occupied = occupied_minutes(start, end, days, HOURS)
    assert occupied[0] == pd.Timestamp("2027-03-26 06:00", tz="UTC")  # CET
    assert occupied[600] == pd.Timestamp("2027-03-29 05:00", tz="UTC")  # CEST
    assert len(occupied) == 1200


def test_holidays_breaks_and_out_of_term_are_not_occupied() -> None:
    days = calendar(holidays=[date(2026, 10, 23)])
    start, end = day_bounds(date(2026, 10, 23), date(2026, 10, 23))
    assert len(occupied_minutes(start, end, days, HOURS)) == 0
    start, end = day_bounds(date(2026, 7, 1), date(2026, 7, 31))  # summer: no term
    index = minute_index(start, end)
    assert not occupied_mask(index, days, HOURS).any()


def test_pilot_calendar_month(registry) -> None:
    school = registry.schools["trb-vastervang"]
    days = registry.school_days[school.id]
    hours = days.calendar.opening_hours
    start, end = period_bounds("2026-10")
    occupied = occupied_minutes(start, end, days, hours)
    # October 2026: 22 weekdays, autumn break Mon 26 - Fri 30 (week 44) -> 17 school days x 10 h
    assert len(occupied) == 17 * 600
