"""Readings at report intervals onto a minute grid, so that KPIs can count minutes.

A state reading (moisture %, dirt index) holds from its minute until the next reading, but at
most `gap_limit` minutes (default: two report intervals): a longer silence is missing data
(NaN), never "dry". A count reading (footfall: passages since the previous report) is spread
evenly over the minutes since the previous report (at most `gap_limit` back), as passages per
minute. All vectorised with numpy searchsorted over sorted times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MS_PER_MIN = 60_000


def _minutes_any(index: pd.DatetimeIndex) -> np.ndarray:
    """Minute numbers (minutes since the epoch) of UTC timestamps."""
    return index.as_unit("ns").asi8 // (MS_PER_MIN * 1_000_000)


def reading_minutes(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Minute numbers (floored) of reading timestamps (tz-aware UTC)."""
    index = pd.DatetimeIndex(times)
    return _minutes_any(index)


def _by_minute(
    index: pd.DatetimeIndex, times: pd.Series | pd.DatetimeIndex, values: np.ndarray | pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid's minute numbers, and the readings' minute numbers and values in time order
    (stable: readings of one minute keep their order)."""
    grid = _minutes_any(index)
    minute = reading_minutes(times)
    vals = np.asarray(values, dtype=float)
    order = np.argsort(minute, kind="stable")
    return grid, minute[order], vals[order]


def state_on_minutes(
    index: pd.DatetimeIndex,
    times: pd.Series | pd.DatetimeIndex,
    values: np.ndarray | pd.Series,
    gap_limit_min: int,
) -> np.ndarray:
    """Forward-fill state readings onto UTC minutes; NaN where no reading in the last
    `gap_limit_min` minutes. Several readings in one minute: the last wins. Units unchanged."""
    grid, minute, vals = _by_minute(index, times, values)
    out = np.full(len(grid), np.nan)
    if len(minute) == 0 or len(grid) == 0:
        return out
    pos = np.searchsorted(minute, grid, side="right") - 1
    ok = pos >= 0
    age = np.where(ok, grid - minute[np.clip(pos, 0, None)], gap_limit_min)
    ok &= age < gap_limit_min
    out[ok] = vals[pos[ok]]
    return out


def counts_on_minutes(
    index: pd.DatetimeIndex,
    times: pd.Series | pd.DatetimeIndex,
    values: np.ndarray | pd.Series,
    report_interval_min: int,
    gap_limit_min: int,
) -> np.ndarray:
    """Spread counts (e.g. passages since the previous report) over the minutes they cover:
    passages per minute; NaN for minutes no report covers. A report covers the minutes after the
    previous report up to and including its own minute (the first report: one report interval),
    never more than `gap_limit_min` minutes back."""
    grid, minute, vals = _by_minute(index, times, values)
    out = np.full(len(grid), np.nan)
    if len(minute) == 0 or len(grid) == 0:
        return out
    # several reports in one minute: add them up (they all end in that minute)
    minute, first = np.unique(minute, return_index=True)
    vals = np.add.reduceat(vals, first)
    span = np.empty(len(minute), dtype=np.int64)
    span[0] = report_interval_min
    span[1:] = np.diff(minute)
    span = np.clip(span, 1, gap_limit_min)
    pos = np.searchsorted(minute, grid, side="left")  # the first report at or after the minute
    ok = pos < len(minute)
    posc = np.clip(pos, 0, len(minute) - 1)
    ok &= (minute[posc] - grid) < span[posc]
    out[ok] = vals[posc[ok]] / span[posc[ok]]
    return out


def interval_mask(
    index: pd.DatetimeIndex,
    starts: pd.DatetimeIndex | pd.Series,
    ends: pd.DatetimeIndex | pd.Series,
) -> np.ndarray:
    """True for minutes inside any [start, end) interval (tz-aware UTC times)."""
    mask = np.zeros(len(index), dtype=bool)
    if len(starts) == 0 or len(index) == 0:
        return mask
    grid = _minutes_any(index)
    s = reading_minutes(pd.DatetimeIndex(starts))
    e = reading_minutes(pd.DatetimeIndex(ends))
    delta = np.zeros(len(grid) + 1, dtype=np.int64)
    np.add.at(delta, np.searchsorted(grid, s, side="left"), 1)
    np.add.at(delta, np.searchsorted(grid, e, side="left"), -1)
    return np.cumsum(delta[:-1]) > 0
