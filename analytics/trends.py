"""Weekly trends for facility managers (not scored): wear, wet floors, cleaning work, slips.

- grit_load: sum over occupied minutes of passages x entry dirt (soiling index): a wear proxy,
  in passage-index-points (dirt is abrasive; more people over dirtier mats wear the floor).
- wet_minutes: occupied minutes with the inner floor wet (moisture % > the wet threshold).
- cleaning_interventions: cleaning detected in the inner zone's data: a sharp dirt drop (sweeping,
  scrubbing) or a wet spike that dries again within 90 minutes while the zones water comes through
  are dry (wet mopping); events closer than an hour count once.
- slip_exposure: passages during wet minutes per 1,000 passages (occupied time).
Weeks start on Monday 00:00 local time (Europe/Stockholm); the `trend` point's time is that
moment in UTC ms.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics.kpis import wet_episodes
from analytics.occupancy import daily_sums, local_dates
from floorwatch.localtime import local_midnight_ms

TREND_METRICS = ("grit_load", "wet_minutes", "cleaning_interventions", "slip_exposure")
DAILY_TREND_COLUMNS = [
    "grit_load",
    "wet_minutes",
    "cleaning_interventions",
    "wet_passages",
    "passages",
]

DIRT_DROP_POINTS = 10.0
DIRT_DROP_WINDOW_MIN = 30
MOP_MAX_MINUTES = 90
EVENT_MERGE_MIN = 60


def cleaning_events(
    inner_moisture: np.ndarray,
    inner_dirt: np.ndarray,
    upstream_moisture: np.ndarray,
    wet_threshold: float,
) -> np.ndarray:
    """Minute positions where a cleaning intervention starts (see module docstring). Inputs are
    minute series (moisture %, soiling index; NaN = missing), upstream = the wetter of entry
    and outside moisture."""
    n = len(inner_dirt)
    starts: list[np.ndarray] = []
    if n > 1:
        dirt = pd.Series(inner_dirt)
        recent_max = dirt.shift(1).rolling(DIRT_DROP_WINDOW_MIN, min_periods=1).max()
        dropping = ((recent_max - dirt) >= DIRT_DROP_POINTS).to_numpy()
        edges = np.flatnonzero(np.diff(np.concatenate(([False], dropping)).astype(np.int8)) == 1)
        starts.append(edges)
    episodes = wet_episodes(inner_moisture, np.ones(n, dtype=bool), wet_threshold)
    if len(episodes):
        first = episodes["start"].to_numpy()
        length = episodes["minutes"].to_numpy().astype(np.int64)
        upstream = np.nan_to_num(np.asarray(upstream_moisture, dtype=float), nan=np.inf)
        cum_wet = np.concatenate(([0], np.cumsum(upstream > wet_threshold)))
        upstream_dry = (cum_wet[first + length] - cum_wet[first]) == 0
        starts.append(first[(length <= MOP_MAX_MINUTES) & upstream_dry])
    if not starts:
        return np.zeros(0, dtype=np.int64)
    events = np.unique(np.concatenate(starts))
    if len(events) == 0:
        return events
    keep = np.concatenate(([True], np.diff(events) >= EVENT_MERGE_MIN))
    # merging against the last kept event, not just the previous one, would need a loop; the
    # difference is negligible for events at most every hour
    return events[keep]


def daily_trend_components(
    index: pd.DatetimeIndex,
    occupied: np.ndarray,
    inner_moisture: np.ndarray,
    inner_dirt: np.ndarray,
    upstream_dirt: np.ndarray,
    upstream_moisture: np.ndarray,
    passages: np.ndarray,
    wet_threshold: float,
    days: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per local day: grit_load, wet_minutes, cleaning_interventions, wet_passages, passages
    (units in the module docstring). `days`: the local dates of `index`, if known."""
    days = local_dates(index) if days is None else days
    occ = np.asarray(occupied, dtype=bool)
    p = np.nan_to_num(np.asarray(passages, dtype=float), nan=0.0)
    m = np.asarray(inner_moisture, dtype=float)
    wet = occ & (np.nan_to_num(m, nan=-np.inf) > wet_threshold)
    moisture_known = occ & ~np.isnan(m)
    events = np.zeros(len(index))
    events[cleaning_events(m, np.asarray(inner_dirt, float), upstream_moisture, wet_threshold)] = 1
    return daily_sums(
        days,
        {
            "grit_load": np.where(occ, p * np.nan_to_num(np.asarray(upstream_dirt, float)), 0.0),
            "wet_minutes": wet.astype(float),
            "cleaning_interventions": events,
            "wet_passages": np.where(wet, p, 0.0),
            "passages": np.where(moisture_known, p, 0.0),
        },
    )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_trends(daily: pd.DataFrame) -> pd.DataFrame:
    """Daily trend components (index datetime64 days) -> one row per week: week (Monday, date),
    week_ms (Monday 00:00 local as UTC ms) and the TREND_METRICS."""
    if daily.empty:
        return pd.DataFrame(columns=["week", "week_ms", *TREND_METRICS])
    days = pd.DatetimeIndex(daily.index)
    weeks = [week_start(d.date()) for d in days]
    grouped = daily.groupby(weeks, sort=True)[DAILY_TREND_COLUMNS].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        slip = np.where(
            grouped["passages"] > 0, 1000.0 * grouped["wet_passages"] / grouped["passages"], np.nan
        )
    return pd.DataFrame(
        {
            "week": list(grouped.index),
            "week_ms": [local_midnight_ms(w) for w in grouped.index],
            "grit_load": grouped["grit_load"].to_numpy(),
            "wet_minutes": grouped["wet_minutes"].to_numpy(),
            "cleaning_interventions": grouped["cleaning_interventions"].to_numpy(),
            "slip_exposure": slip,
        }
    )
