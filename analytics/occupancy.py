"""Occupied minutes: when a school's entrance counts for the contract.

Occupied time is the calendar's opening hours (local time, Europe/Stockholm) on school days
(weekdays within a term, minus holidays and breaks; `floorwatch.registry.calendar`). Every
minute index here is UTC; conversion to local time happens once, vectorised, so the days the
clocks change (last Sunday of March: 23 hours; last Sunday of October: 25 hours) come out right.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from floorwatch.localtime import LOCAL_TZ_NAME
from floorwatch.registry.calendar import SchoolDays
from floorwatch.registry.schema import OpeningHours


def minute_index(start: datetime, end: datetime) -> pd.DatetimeIndex:
    """Every UTC minute m with start <= m < end (start is floored to the minute)."""
    first = pd.Timestamp(start).tz_convert("UTC").floor("min")
    last = pd.Timestamp(end).tz_convert("UTC")
    return pd.date_range(first, last, freq="min", inclusive="left", name="time")


def local_dates(index: pd.DatetimeIndex) -> np.ndarray:
    """The local (Europe/Stockholm) calendar date of each UTC minute, as datetime64[D]."""
    local = index.tz_convert(LOCAL_TZ_NAME).tz_localize(None)
    return local.values.astype("datetime64[D]")


def daily_sums(days: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sum each column per day; `days` (datetime64[D]) must be sorted, as the local dates of a
    UTC minute index are. Index `day` (datetime64[D] values), one row per day present."""
    if len(days) == 0:
        return pd.DataFrame(
            {name: np.zeros(0) for name in columns},
            index=pd.Index(np.array([], dtype="datetime64[D]"), name="day"),
        )
    first = np.flatnonzero(np.concatenate(([True], days[1:] != days[:-1])))
    return pd.DataFrame(
        {
            name: np.add.reduceat(np.asarray(values, dtype=float), first)
            for name, values in columns.items()
        },
        index=pd.Index(days[first], name="day"),
    )


def school_day_flags(days: np.ndarray, school_days: SchoolDays) -> np.ndarray:
    """For datetime64[D] days, whether each is a school day (calendar asked once per unique day)."""
    unique, inverse = np.unique(days, return_inverse=True)
    flags = np.array(
        [school_days.is_school_day(pd.Timestamp(d).date()) for d in unique], dtype=bool
    )
    return flags[inverse] if len(unique) else np.zeros(len(days), dtype=bool)


def occupied_mask(
    index: pd.DatetimeIndex, school_days: SchoolDays, hours: OpeningHours
) -> np.ndarray:
    """Boolean mask over UTC minutes: True where the school is open (local opening hours on a
    school day, open <= local time < close)."""
    local = index.tz_convert(LOCAL_TZ_NAME).tz_localize(None)
    days = local.values.astype("datetime64[D]")
    minute_of_day = (local.values - days).astype("timedelta64[m]").astype(np.int64)
    open_m = hours.open.hour * 60 + hours.open.minute
    close_m = hours.close.hour * 60 + hours.close.minute
    in_hours = (minute_of_day >= open_m) & (minute_of_day < close_m)
    return in_hours & school_day_flags(days, school_days)


def occupied_minutes(
    start: datetime, end: datetime, school_days: SchoolDays, hours: OpeningHours
) -> pd.DatetimeIndex:
    """The occupied UTC minutes in [start, end)."""
    index = minute_index(start, end)
    return index[occupied_mask(index, school_days, hours)]
