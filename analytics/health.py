"""Sensor health, checked before any KPI: which readings can be trusted.

Per sensor (its installed kind): range checks, stuck/flatline values, spikes, gaps and clock
trouble (reports much faster than the report interval). Per entrance: a multivariate outlier
model (scikit-learn IsolationForest, seeded) over 15-minute bins of inner, entry and outside
moisture and footfall, that flags bins where the inner floor reads wet although the zones water
comes through are dry and nobody passed: physically implausible, so the inner moisture sensor
is suspect there. The model says "unusual", the physical rule says "impossible"; both must agree,
so heavy rain (unusual but real) is never thrown away. The opposite is suspect too, on the rule
alone: an inner moisture sensor that reads exactly the same dry value through hours of occupied
time while the upstream zones are wet and people pass (stuck dry: a real sensor's reading
moves when water is tracked past it; a stuck wet one is caught by the stuck check).

Suspect readings are dropped and suspect intervals masked before the KPIs; they count against
data availability and are listed with their reasons in the scorecard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from analytics.kpis import data_availability
from floorwatch.readings import VALID_RANGE, Kind
from floorwatch.registry.schema import Sensor

MS_PER_MIN = 60_000

# Reasons (stable, snake_case): they appear in scorecards and `sensor_health` points.
OUT_OF_RANGE = "out_of_range"
STUCK = "stuck"
SPIKE = "spike"
GAP = "gap"
CLOCK = "clock"
IMPLAUSIBLE = "implausible"


@dataclass(frozen=True)
class HealthRules:
    """Thresholds of the health checks.

    stuck_minutes: identical values through this many occupied minutes (pupils passing) mean a
    stuck sensor. spike_points: a single
    reading this far (moisture %, dirt points) from both neighbours, which agree, is a spike;
    footfall_spike: a report this many passages above both neighbours (and over three times
    them) is a counter glitch.
    clock_fraction: reports closer together than this share of the report interval mean clock
    trouble. gap_intervals: silence longer than this many report intervals is a gap.
    """

    stuck_minutes: int = 240
    spike_points: float = 40.0
    footfall_spike: float = 150.0
    clock_fraction: float = 0.4
    gap_intervals: int = 2
    bin_minutes: int = 15
    lookback_bins: int = 4  # an hour of wetness upstream and passages explain a wet inner floor
    seed: int = 0


@dataclass(frozen=True)
class SuspectInterval:
    """Readings of `sensor_id` in [start_ms, end_ms) are not trusted, because of `reason`."""

    sensor_id: str
    start_ms: int
    end_ms: int
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "sensor_id": self.sensor_id,
            "start": _iso(self.start_ms),
            "end": _iso(self.end_ms),
            "reason": self.reason,
        }


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SensorHealth:
    """Health of one sensor over a period. availability: readings received and trusted during
    occupied minutes / readings expected then (0..1; NaN when nothing was expected)."""

    sensor_id: str
    received: int
    expected: float
    availability: float
    suspect_minutes: int
    status: str  # ok | suspect | silent
    reasons: tuple[str, ...]


def merge_intervals(starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
    """Merge overlapping or touching [start, end) intervals (ms)."""
    if len(starts) == 0:
        return []
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    run_end = np.maximum.accumulate(e)
    new = np.concatenate(([True], s[1:] > run_end[:-1]))
    first = np.flatnonzero(new)
    last_end = np.maximum.reduceat(e, first)
    return [(int(s[i]), int(last_end[g])) for g, i in enumerate(first)]


def check_sensor(
    sensor: Sensor,
    times_ms: np.ndarray,
    values: np.ndarray,
    occupied_ms: np.ndarray,
    stuck_floor: float,
    rules: HealthRules,
) -> tuple[np.ndarray, list[SuspectInterval]]:
    """Single-sensor checks over its readings sorted by time (ms UTC; values in the kind's
    unit). occupied_ms: the sorted occupied minutes (ms UTC); a value held unchanged through
    `rules.stuck_minutes` of occupied time, above `stuck_floor` (for moisture the wet threshold:
    a dry floor may read the same for hours), is stuck. Returns which readings to drop and the
    suspect intervals (gaps included)."""
    interval_ms = sensor.report_interval * 1000
    n = len(times_ms)
    drop = np.zeros(n, dtype=bool)
    found: list[SuspectInterval] = []
    if n == 0:
        return drop, found

    def flag(reason: str, mask: np.ndarray) -> None:
        if mask.any():
            drop[mask] = True
            for start, end in merge_intervals(times_ms[mask], times_ms[mask] + interval_ms):
                found.append(SuspectInterval(sensor.id, start, end, reason))

    low, high = VALID_RANGE[Kind(sensor.kind)]
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    flag(OUT_OF_RANGE, bad)

    spacing = np.diff(times_ms)
    too_fast = np.zeros(n, dtype=bool)
    too_fast[1:] = spacing < rules.clock_fraction * interval_ms
    flag(CLOCK, too_fast)

    # stuck: runs of identical values through stuck_minutes of occupied time (nights and
    # weekends legitimately change nothing)
    new_run = np.concatenate(([True], values[1:] != values[:-1]))
    run_id = np.cumsum(new_run) - 1
    run_first = np.flatnonzero(new_run)
    run_last = np.concatenate((run_first[1:] - 1, [n - 1]))
    occupied_in_run = np.searchsorted(
        occupied_ms, times_ms[run_last] + interval_ms, side="left"
    ) - np.searchsorted(occupied_ms, times_ms[run_first], side="left")
    stuck_run = (occupied_in_run >= rules.stuck_minutes) & (values[run_first] > stuck_floor)
    flag(STUCK, stuck_run[run_id])

    if sensor.kind in (Kind.MOISTURE, Kind.DIRT) and n >= 3:
        prev, here, nxt = values[:-2], values[1:-1], values[2:]
        up = (here - prev > rules.spike_points) & (here - nxt > rules.spike_points)
        down = (prev - here > rules.spike_points) & (nxt - here > rules.spike_points)
        calm = np.abs(nxt - prev) < rules.spike_points / 2
        spike = np.zeros(n, dtype=bool)
        spike[1:-1] = (up | down) & calm & ~bad[:-2] & ~bad[1:-1] & ~bad[2:]
        if n >= 4:  # two readings in a row: no floor gets soaked and dries again that fast
            a, b, c, d = values[:-3], values[1:-2], values[2:-1], values[3:]
            jump = rules.spike_points
            pair_up = (np.minimum(b, c) - np.maximum(a, d)) > jump
            pair_down = (np.minimum(a, d) - np.maximum(b, c)) > jump
            pair = (pair_up | pair_down) & (np.abs(d - a) < jump / 2)
            pair &= ~bad[:-3] & ~bad[1:-2] & ~bad[2:-1] & ~bad[3:]
            spike[1:-2] |= pair
            spike[2:-1] |= pair
        flag(SPIKE, spike)

    if sensor.kind == Kind.FOOTFALL and n >= 3:
        # a burst of passages no neighbouring report comes near: a counter glitch
        neighbours = np.maximum(values[:-2], values[2:])
        here = values[1:-1]
        burst = np.zeros(n, dtype=bool)
        burst[1:-1] = (here - neighbours > rules.footfall_spike) & (here > 3 * neighbours)
        burst[1:-1] &= ~bad[:-2] & ~bad[1:-1] & ~bad[2:]
        flag(SPIKE, burst)

    gap_ms = rules.gap_intervals * interval_ms
    gap_after = np.flatnonzero(spacing > gap_ms)
    for i in gap_after:  # gaps are few; listed, not dropped (there is nothing to drop)
        found.append(
            SuspectInterval(sensor.id, int(times_ms[i] + interval_ms), int(times_ms[i + 1]), GAP)
        )
    return drop, found


def implausible_bins(frame: pd.DataFrame, wet_threshold: float, rules: HealthRules) -> np.ndarray:
    """Which bins of an entrance are physically implausible AND outliers to the model.

    frame: one row per bin (pooled over entrances is fine), columns inner_moisture,
    entry_moisture, outside_moisture (mean %, NaN if missing), passages (sum), upstream_wet (max
    of entry/outside moisture over the lookback, %), recent_passages (sum over the lookback),
    occupied (bool); rows of one entrance in time order for the stuck-dry part
    (`flat_dry_bins`). Returns a boolean array over rows."""
    flat_dry = flat_dry_bins(frame, wet_threshold, rules)
    rule = (
        (frame["inner_moisture"] > wet_threshold)
        & (frame["upstream_wet"] <= wet_threshold)
        & (frame["recent_passages"] <= 0)
        & frame["occupied"]
    ).to_numpy(dtype=bool)
    outlier = np.zeros(len(frame), dtype=bool)
    if not rule.any():  # nothing impossible: no need to ask the model (saves most of the time)
        return flat_dry
    cols = ["inner_moisture", "entry_moisture", "outside_moisture", "passages"]
    complete = frame[cols].notna().all(axis=1).to_numpy()
    if complete.sum() >= 50:  # the model needs a sample of normal behaviour to learn from
        features = frame.loc[complete, cols].to_numpy(dtype=float)
        model = IsolationForest(n_estimators=100, random_state=rules.seed, contamination="auto")
        outlier[complete] = model.fit_predict(features) == -1
    return (outlier & rule) | flat_dry


def flat_dry_bins(frame: pd.DataFrame, wet_threshold: float, rules: HealthRules) -> np.ndarray:
    """Bins of an inner moisture sensor stuck dry: runs of consecutive bins (one entrance, in
    time order; `bin_frame`) with exactly the same mean inner moisture (%), at or below the wet
    threshold, through `rules.stuck_minutes` of occupied time, in which the entry or outside
    zone read wet (> threshold) while people passed in at least `rules.lookback_bins` occupied
    bins. A dry floor on dry days may read the same for hours; it is never flagged."""
    inner = frame["inner_moisture"].to_numpy(dtype=float)
    if len(inner) == 0:
        return np.zeros(0, dtype=bool)
    occupied = frame["occupied"].to_numpy(dtype=bool)
    upstream = frame[["entry_moisture", "outside_moisture"]].max(axis=1).to_numpy(dtype=float)
    wet_passing = occupied & (upstream > wet_threshold) & (frame["passages"].to_numpy() > 0)
    new_run = np.concatenate(([True], inner[1:] != inner[:-1]))  # NaN starts a run of its own
    run_id = np.cumsum(new_run) - 1
    first = np.flatnonzero(new_run)
    occupied_minutes = np.bincount(run_id, weights=occupied) * rules.bin_minutes
    wet_bins = np.bincount(run_id, weights=wet_passing)
    stuck = (
        (occupied_minutes >= rules.stuck_minutes)
        & (inner[first] <= wet_threshold)
        & (wet_bins >= rules.lookback_bins)
    )
    return np.asarray(stuck[run_id], dtype=bool)


def bin_frame(
    index: pd.DatetimeIndex,
    occupied: np.ndarray,
    inner_moisture: np.ndarray,
    entry_moisture: np.ndarray,
    outside_moisture: np.ndarray,
    passages: np.ndarray,
    rules: HealthRules,
) -> pd.DataFrame:
    """Minute series of one entrance (moisture %, passages per minute) into bins for
    `implausible_bins`; index = bin start (UTC). The index starts at a local midnight, so bins
    are aligned to the quarter hour."""
    width = rules.bin_minutes
    n_bins = len(index) // width
    usable = n_bins * width  # a trailing partial bin is left out

    def binned_mean(values: np.ndarray) -> np.ndarray:
        block = np.asarray(values[:usable], dtype=float).reshape(n_bins, width)
        count = np.sum(~np.isnan(block), axis=1)
        total = np.nansum(block, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, total / count, np.nan)

    def binned_sum(values: np.ndarray) -> np.ndarray:
        block = np.asarray(values[:usable], dtype=float).reshape(n_bins, width)
        return np.where(np.any(~np.isnan(block), axis=1), np.nansum(block, axis=1), np.nan)

    binned = pd.DataFrame(
        {
            "inner_moisture": binned_mean(inner_moisture),
            "entry_moisture": binned_mean(entry_moisture),
            "outside_moisture": binned_mean(outside_moisture),
            "passages": binned_sum(passages),
            "occupied": np.asarray(occupied[:usable]).reshape(n_bins, width).any(axis=1),
        },
        index=index[:usable:width],
    )
    upstream = binned[["entry_moisture", "outside_moisture"]].max(axis=1)
    binned["upstream_wet"] = upstream.rolling(rules.lookback_bins, min_periods=1).max()
    binned["recent_passages"] = binned["passages"].rolling(rules.lookback_bins, min_periods=1).sum()
    return binned


def sensor_health(
    sensor: Sensor,
    times_ms: np.ndarray,
    kept: np.ndarray,
    intervals: Iterable[SuspectInterval],
    occupied_minutes_ms: np.ndarray,
    min_availability: float,
) -> SensorHealth:
    """Summarise one sensor: trusted readings in occupied minutes against those expected,
    occupied minutes inside non-gap suspect intervals, status and reasons."""
    occ = np.asarray(occupied_minutes_ms, dtype=np.int64)
    expected = len(occ) * 60.0 / sensor.report_interval
    reading_minute = (times_ms[kept] // MS_PER_MIN) * MS_PER_MIN
    # occ is sorted: a reading's minute is occupied if it is found there
    at = np.clip(np.searchsorted(occ, reading_minute), 0, max(len(occ) - 1, 0))
    received = int(np.sum(occ[at] == reading_minute)) if len(occ) else 0
    availability = data_availability(received, expected)
    suspect = np.zeros(len(occ), dtype=bool)
    reasons: set[str] = set()
    for item in intervals:
        reasons.add(item.reason)
        if item.reason != GAP:
            suspect |= (occ >= item.start_ms) & (occ < item.end_ms)
    if len(times_ms) == 0 or (expected > 0 and received == 0):
        status = "silent"
        reasons.add("no_readings")
    elif suspect.any() or (expected > 0 and availability < min_availability):
        status = "suspect"
        if expected > 0 and availability < min_availability:
            reasons.add("low_availability")
    else:
        status = "ok"
    return SensorHealth(
        sensor_id=sensor.id,
        received=received,
        expected=expected,
        availability=availability,
        suspect_minutes=int(suspect.sum()),
        status=status,
        reasons=tuple(sorted(reasons)),
    )


def intervals_to_minutes_mask(
    index: pd.DatetimeIndex, intervals: Sequence[SuspectInterval]
) -> np.ndarray:
    """Minutes of `index` inside any of the (non-gap) intervals."""
    grid = index.as_unit("ns").asi8 // 1_000_000
    mask = np.zeros(len(grid), dtype=bool)
    for item in intervals:
        if item.reason != GAP:
            lo, hi = np.searchsorted(grid, [item.start_ms, item.end_ms], side="left")
            mask[lo:hi] = True
    return mask
