"""One entrance over one stretch of time: readings -> health -> minute series -> daily components.

This is the I/O-free middle of scoring: it takes the readings of an entrance's sensors (as the
store returns them) and gives the trusted minute series the KPIs are computed from, the daily
KPI components, and the sensor health (availability, suspect intervals with reasons).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from analytics.health import (
    IMPLAUSIBLE,
    HealthRules,
    SensorHealth,
    SuspectInterval,
    bin_frame,
    check_sensor,
    implausible_bins,
    intervals_to_minutes_mask,
    merge_intervals,
    sensor_health,
)
from analytics.kpis import daily_components
from analytics.minutes import counts_on_minutes, state_on_minutes
from analytics.occupancy import local_dates, minute_index, occupied_mask
from floorwatch.readings import Kind
from floorwatch.registry import Registry
from floorwatch.registry.schema import Entrance, School, Sensor, Zone

# Minute series of an entrance, by role. upstream_dirt: entry dirt, else outside dirt.
ROLES = (
    "inner_moisture",
    "inner_dirt",
    "upstream_dirt",
    "entry_moisture",
    "outside_moisture",
    "passages",
)

# Readings this long before a period are read too, so its first minutes can be forward-filled.
LEAD_IN = timedelta(hours=1)


def role_sensors(entrance: Entrance) -> dict[str, Sensor]:
    """Which sensor plays which role (first by id if a zone has several of a kind)."""
    by: dict[tuple[str, str], Sensor] = {}
    for sensor in sorted(entrance.sensors, key=lambda s: s.id):
        by.setdefault((str(sensor.zone), str(sensor.kind)), sensor)
    roles: dict[str, Sensor] = {}
    pairs = {
        "inner_moisture": [(Zone.INNER, Kind.MOISTURE)],
        "inner_dirt": [(Zone.INNER, Kind.DIRT)],
        "upstream_dirt": [(Zone.ENTRY, Kind.DIRT), (Zone.OUTSIDE, Kind.DIRT)],
        "entry_moisture": [(Zone.ENTRY, Kind.MOISTURE)],
        "outside_moisture": [(Zone.OUTSIDE, Kind.MOISTURE)],
        "passages": [(Zone.ENTRY, Kind.FOOTFALL), (Zone.OUTSIDE, Kind.FOOTFALL)],
    }
    for role, candidates in pairs.items():
        for zone, kind in candidates:
            if (str(zone), str(kind)) in by:
                roles[role] = by[(str(zone), str(kind))]
                break
    if "passages" not in roles:  # a footfall counter in the inner zone counts the same people
        inner = by.get((str(Zone.INNER), str(Kind.FOOTFALL)))
        if inner is not None:
            roles["passages"] = inner
    return roles


@dataclass
class EntranceMinutes:
    """Trusted minute series of one entrance over [start, end) (UTC minutes)."""

    entrance: Entrance
    school: School
    index: pd.DatetimeIndex
    occupied: np.ndarray
    series: dict[str, np.ndarray]
    health: dict[str, SensorHealth] = field(default_factory=dict)
    intervals: list[SuspectInterval] = field(default_factory=list)
    roles: dict[str, Sensor] = field(default_factory=dict)

    @functools.cached_property
    def days(self) -> np.ndarray:
        """Local date of each minute (datetime64[D])."""
        return local_dates(self.index)

    def role(self, name: str) -> np.ndarray:
        return self.series.get(name, np.full(len(self.index), np.nan))

    def door_moisture(self) -> np.ndarray:
        """Outside moisture (%), entry where there is no outside sensor: the water waiting at
        the door, which no solution changes."""
        outside = self.role("outside_moisture")
        return self.role("entry_moisture") if np.isnan(outside).all() else outside

    def exposure(self) -> pd.DataFrame:
        """Per local day: mean door moisture (%, `door_moisture`) over occupied minutes."""
        outside = self.door_moisture()
        known = self.occupied & ~np.isnan(outside)
        frame = (
            pd.DataFrame(
                {
                    "day": local_dates(self.index),
                    "sum": np.where(known, outside, 0.0),
                    "n": known.astype(float),
                }
            )
            .groupby("day", sort=True)[["sum", "n"]]
            .sum()
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(frame["n"] > 0, frame["sum"] / frame["n"], np.nan)
        return pd.DataFrame({"outside_moisture": mean}, index=frame.index)

    def components(
        self, wet_threshold: float, dirt_threshold: float, dry_reading: float
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Daily KPI components and wet episodes (`analytics.kpis.daily_components`)."""
        return daily_components(
            self.index,
            self.occupied,
            self.role("inner_moisture"),
            self.role("inner_dirt"),
            self.role("upstream_dirt"),
            self.role("passages"),
            wet_threshold,
            dirt_threshold,
            self.days,
            dry_reading,
            self.door_moisture(),
        )


def prepare_entrance(
    registry: Registry,
    entrance_id: str,
    readings: pd.DataFrame,
    start: datetime,
    end: datetime,
    wet_threshold: float,
    min_availability: float,
    rules: HealthRules | None = None,
) -> EntranceMinutes:
    """Health-check the entrance's readings (columns time, sensor_id, kind, value) and put the
    trusted ones on the minutes of [start, end). Readings from before `start` (up to LEAD_IN)
    only fill the first minutes."""
    rules = rules or HealthRules()
    entrance, school = registry.entrance(entrance_id)
    days = registry.school_days[school.id]
    index = minute_index(start, end)
    occupied = occupied_mask(index, days, days.calendar.opening_hours)
    occupied_ms = index[occupied].as_unit("ns").asi8 // 1_000_000
    roles = role_sensors(entrance)

    sensor_codes, sensor_names = pd.factorize(readings["sensor_id"])
    kind_codes, kind_names = pd.factorize(readings["kind"])
    codes = sensor_codes * max(len(kind_names), 1) + kind_codes
    sensor_pos = {str(name): i for i, name in enumerate(sensor_names)}
    kind_pos = {str(name): i for i, name in enumerate(kind_names)}
    all_ms = pd.DatetimeIndex(readings["time"]).as_unit("ns").asi8 // 1_000_000
    all_values = readings["value"].to_numpy(dtype=float)
    result = EntranceMinutes(entrance, school, index, occupied, {}, roles=roles)
    per_sensor: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for sensor in sorted(entrance.sensors, key=lambda s: s.id):
        rows = np.zeros(0, dtype=np.int64)
        if sensor.id in sensor_pos and str(sensor.kind) in kind_pos:
            code = sensor_pos[sensor.id] * len(kind_names) + kind_pos[str(sensor.kind)]
            rows = np.flatnonzero(codes == code)
        times, values = all_ms[rows], all_values[rows]
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
        floor = wet_threshold if sensor.kind == Kind.MOISTURE else 0.0
        drop, found = check_sensor(sensor, times, values, occupied_ms, floor, rules)
        result.intervals.extend(found)
        per_sensor[sensor.id] = (times, values, ~drop)

    interval_of = {sensor.id: sensor.report_interval // 60 or 1 for sensor in entrance.sensors}
    for role, sensor in roles.items():
        times, values, keep = per_sensor[sensor.id]
        stamp = pd.to_datetime(times[keep], unit="ms", utc=True)
        gap_limit = rules.gap_intervals * interval_of[sensor.id]
        if sensor.kind == Kind.FOOTFALL:
            series = counts_on_minutes(
                index, stamp, values[keep], interval_of[sensor.id], gap_limit
            )
        else:
            # a reading stands for the report interval centred on it (no half-interval lag)
            half = pd.Timedelta(seconds=sensor.report_interval // 2)
            series = state_on_minutes(index, stamp - half, values[keep], gap_limit)
        mine = [i for i in result.intervals if i.sensor_id == sensor.id]
        series[intervals_to_minutes_mask(index, mine)] = np.nan
        result.series[role] = series

    _multivariate(result, per_sensor, wet_threshold, rules)

    for sensor in entrance.sensors:
        times, _, keep = per_sensor[sensor.id]
        mine = [i for i in result.intervals if i.sensor_id == sensor.id]
        result.health[sensor.id] = sensor_health(
            sensor, times, keep, mine, occupied_ms, min_availability
        )
    return result


def _multivariate(
    result: EntranceMinutes,
    per_sensor: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    wet_threshold: float,
    rules: HealthRules,
) -> None:
    """Flag implausible inner-moisture bins (see `analytics.health`), mask them and drop the
    readings in them, so they count against availability."""
    inner = result.roles.get("inner_moisture")
    if inner is None or not result.occupied.any():
        return
    bins = bin_frame(
        result.index,
        result.occupied,
        result.role("inner_moisture"),
        result.role("entry_moisture"),
        result.role("outside_moisture"),
        result.role("passages"),
        rules,
    )
    flagged = implausible_bins(bins, wet_threshold, rules)
    if not flagged.any():
        return
    starts = pd.DatetimeIndex(bins.index[flagged]).as_unit("ns").asi8 // 1_000_000
    merged = merge_intervals(starts, starts + rules.bin_minutes * 60_000)
    found = [SuspectInterval(inner.id, s, e, IMPLAUSIBLE) for s, e in merged]
    result.intervals.extend(found)
    mask = intervals_to_minutes_mask(result.index, found)
    result.series["inner_moisture"][mask] = np.nan
    times, values, keep = per_sensor[inner.id]
    for item in found:
        keep &= ~((times >= item.start_ms) & (times < item.end_ms))
    per_sensor[inner.id] = (times, values, keep)
