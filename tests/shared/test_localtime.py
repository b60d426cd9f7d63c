"""Local school time (floorwatch/localtime.py): days, periods and "active on a day" in
Europe/Stockholm, whatever the UTC date of the instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from floorwatch.errors import InvalidRequest
from floorwatch.localtime import (
    LOCAL_TZ,
    active_on,
    day_bounds,
    local_date,
    local_midnight,
    local_midnight_ms,
    next_month,
    period_bounds,
    period_bounds_ms,
    periods_between,
)


def test_local_midnight_is_utc_minus_the_offset_of_the_day() -> None:
    assert local_midnight(date(2026, 1, 15)) == datetime(2026, 1, 14, 23, tzinfo=UTC)  # CET
    assert local_midnight(date(2026, 7, 15)) == datetime(2026, 7, 14, 22, tzinfo=UTC)  # CEST
    assert local_midnight_ms(date(2026, 10, 1)) == 1_790_805_600_000


def test_the_local_date_of_an_instant_is_not_its_utc_date() -> None:
    half_past_midnight = datetime(2026, 10, 1, 0, 30, tzinfo=LOCAL_TZ).astimezone(UTC)
    assert half_past_midnight.date() == date(2026, 9, 30)
    assert local_date(half_past_midnight) == date(2026, 10, 1)
    assert local_date(datetime(2026, 10, 1, 21, 59, tzinfo=UTC)) == date(2026, 10, 1)
    assert local_date(datetime(2026, 10, 1, 22, 0, tzinfo=UTC)) == date(2026, 10, 2)


def test_periods_are_local_months_with_their_dst_change_days() -> None:
    start, end = period_bounds("2026-10")  # the clocks go back on 2026-10-25: 25 hours
    assert (start, end) == (
        datetime(2026, 9, 30, 22, tzinfo=UTC),
        datetime(2026, 10, 31, 23, tzinfo=UTC),
    )
    assert end - start == timedelta(days=31, hours=1)
    march = period_bounds("2027-03")  # forward on 2027-03-28: 23 hours
    assert march[1] - march[0] == timedelta(days=31, hours=-1)
    assert period_bounds("2026-12")[1] == local_midnight(date(2027, 1, 1))
    assert period_bounds_ms("2026-10") == (
        int(start.timestamp() * 1000),
        int(end.timestamp() * 1000),
    )
    for bad in ("2026-13", "2026-1", "26-10", "2026-00", "x"):
        with pytest.raises(InvalidRequest, match="period must look like 2026-10"):
            period_bounds(bad)


def test_next_month_and_the_periods_a_span_touches() -> None:
    assert next_month(date(2026, 12, 31)) == date(2027, 1, 1)
    assert next_month(date(2026, 1, 31)) == date(2026, 2, 1)
    assert periods_between(date(2026, 9, 1), date(2026, 10, 31)) == ["2026-09", "2026-10"]
    assert periods_between(date(2026, 12, 30), date(2027, 1, 2)) == ["2026-12", "2027-01"]
    assert periods_between(date(2026, 10, 5), date(2026, 10, 5)) == ["2026-10"]


def test_day_bounds_are_inclusive_local_days() -> None:
    start, end = day_bounds(date(2026, 10, 25), date(2026, 10, 25))
    assert end - start == timedelta(hours=25)
    with pytest.raises(InvalidRequest, match="before"):
        day_bounds(date(2026, 10, 2), date(2026, 10, 1))


def test_active_from_the_start_day_until_before_the_end_day() -> None:
    start, end = date(2026, 10, 1), date(2027, 7, 1)
    assert not active_on(start, end, date(2026, 9, 30))
    assert active_on(start, end, start) and active_on(start, end, date(2027, 6, 30))
    assert not active_on(start, end, end)
    assert active_on(start, None, date(2040, 1, 1))
