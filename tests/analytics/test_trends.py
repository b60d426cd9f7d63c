"""Weekly trends: cleaning interventions detected from the data, weeks in local time."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.occupancy import minute_index
from analytics.trends import cleaning_events, daily_trend_components, weekly_trends
from floorwatch.localtime import day_bounds


def test_cleaning_events_from_dirt_drops_and_mopping() -> None:
    n = 600
    dirt = np.linspace(10, 40, n)
    dirt[200:] -= 25  # swept at minute 200
    moisture = np.full(n, 3.0)
    moisture[400:440] = 60.0  # mopped at 400: wet 40 minutes, dry upstream
    moisture[500:530] = 60.0  # wet at 500 while it rains outside: not cleaning
    upstream = np.full(n, 5.0)
    upstream[480:540] = 70.0
    events = cleaning_events(moisture, dirt, upstream, 20.0)
    assert events.tolist() == [200, 400]
    # a long wet spell is not mopping either
    moisture[100:300] = 60.0
    assert 100 not in cleaning_events(moisture, dirt, upstream, 20.0).tolist()


def test_weekly_trends_start_on_local_monday() -> None:
    # Monday 19 Oct to Sunday 1 Nov 2026: the clocks change on Sunday 25 Oct
    start, end = day_bounds(date(2026, 10, 19), date(2026, 11, 1))
    index = minute_index(start, end)
    local = index.tz_convert("Europe/Stockholm")
    occupied = np.asarray((local.hour >= 8) & (local.hour < 16) & (local.day_of_week < 5))
    passages = np.where(occupied, 1.0, 0.0)
    entry_dirt = np.full(len(index), 20.0)
    moisture = np.where(occupied & (local.hour == 8), 50.0, 2.0)  # wet 08-09 each school day
    daily = daily_trend_components(
        index, occupied, moisture, np.full(len(index), 5.0), entry_dirt,
        np.full(len(index), 50.0), passages, 20.0,
    )  # fmt: skip
    weekly = weekly_trends(daily)
    assert weekly["week"].tolist() == [date(2026, 10, 19), date(2026, 10, 26)]
    assert weekly["week_ms"].tolist() == [
        int(pd.Timestamp("2026-10-18 22:00", tz="UTC").timestamp() * 1000),  # CEST
        int(pd.Timestamp("2026-10-25 23:00", tz="UTC").timestamp() * 1000),  # CET
    ]
    assert weekly["wet_minutes"].tolist() == [5 * 60, 5 * 60]
    assert weekly["grit_load"].tolist() == [5 * 480 * 20.0] * 2
    assert weekly["slip_exposure"].tolist() == pytest.approx([125.0, 125.0])  # 60 of 480
    assert weekly["cleaning_interventions"].tolist() == [0, 0]  # upstream wet: rain, not mops
