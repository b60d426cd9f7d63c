"""Contract KPIs: pure, vectorised functions over minute series of one entrance.

Inputs are aligned numpy arrays or pandas Series over the same UTC minutes (see
`analytics.minutes`): moisture in % (0..100), dirt as soiling index (0..100), passages per minute
(>= 0), NaN where data is missing or suspect, and `occupied` (bool: the school's opening hours on
school days, `analytics.occupancy`). Missing minutes are left out of numerator and denominator
alike, so they lower data availability, never the KPI. A KPI that has nothing to count returns
NaN ("insufficient data"), never a fail.

Each KPI is also split into daily components (`daily_components`): sums per local day from which
the period KPI is recomputed (`kpis_from_components`); the bootstrap over days and the
counterfactual baselines (`analytics.baseline`, `analytics.effects`) work on these.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analytics.occupancy import daily_sums, local_dates
from floorwatch.registry.schema import Kpi

ArrayLike = np.ndarray | pd.Series


def _arr(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _bool(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=bool)


def _share(hits: float, total: float) -> float:
    return float(hits / total) if total > 0 else float("nan")


# --- shares of occupied minutes --------------------------------------------------------------
def dry_time_share(moisture: ArrayLike, occupied: ArrayLike, wet_threshold: float) -> float:
    """Share (0..1) of occupied minutes with moisture (%) <= wet_threshold (%), among occupied
    minutes with valid data. NaN if there is none."""
    m, occ = _arr(moisture), _bool(occupied)
    valid = occ & ~np.isnan(m)
    return _share(float(np.sum(valid & (m <= wet_threshold))), float(np.sum(valid)))


def clean_time_share(dirt: ArrayLike, occupied: ArrayLike, dirt_threshold: float) -> float:
    """Share (0..1) of occupied minutes with dirt (soiling index) <= dirt_threshold, among
    occupied minutes with valid data. NaN if there is none."""
    d, occ = _arr(dirt), _bool(occupied)
    valid = occ & ~np.isnan(d)
    return _share(float(np.sum(valid & (d <= dirt_threshold))), float(np.sum(valid)))


# --- wet episodes -----------------------------------------------------------------------------
# A wet episode ends when moisture falls to the threshold minus this (moisture %): readings that
# flicker around the threshold by sensor noise do not split one drying floor into many episodes.
WET_HYSTERESIS = 2.0


def wet_state(moisture: np.ndarray, wet_threshold: float) -> np.ndarray:
    """Wet (True) from a reading above the threshold until one at or below threshold minus
    WET_HYSTERESIS; missing data is not wet and ends the state."""
    state = np.where(moisture > wet_threshold, 1.0, np.nan)
    state[moisture <= wet_threshold - WET_HYSTERESIS] = 0.0
    state[np.isnan(moisture)] = 0.0
    return pd.Series(state).ffill().fillna(0.0).to_numpy() > 0


def wet_episodes(moisture: ArrayLike, occupied: ArrayLike, wet_threshold: float) -> pd.DataFrame:
    """Wet episodes: maximal runs of consecutive wet minutes (`wet_state`: moisture % above
    wet_threshold, with hysteresis) that touch occupied time. Missing data ends a run (its length
    is then a lower bound).

    Returns columns `start` (position of the first minute in the arrays) and `minutes` (length
    in minutes, including wet minutes outside opening hours: drying is physical)."""
    m, occ = _arr(moisture), _bool(occupied)
    wet = wet_state(m, wet_threshold)
    edges = np.diff(np.concatenate(([0], wet.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # exclusive
    if len(starts) == 0:
        return pd.DataFrame({"start": np.array([], dtype=np.int64), "minutes": np.array([])})
    occ_cum = np.concatenate(([0], np.cumsum(occ, dtype=np.int64)))
    touches = (occ_cum[ends] - occ_cum[starts]) > 0
    return pd.DataFrame(
        {"start": starts[touches], "minutes": (ends - starts)[touches].astype(float)}
    )


def p90(lengths: ArrayLike) -> float:
    """90th percentile (linear interpolation between order statistics, numpy's default); NaN
    without lengths: no episode has no length, not 0 minutes."""
    values = _arr(lengths)
    return float(np.percentile(values, 90)) if len(values) else float("nan")


def wet_recovery_p90(moisture: ArrayLike, occupied: ArrayLike, wet_threshold: float) -> float:
    """90th percentile length (minutes) of wet episodes (`wet_episodes`). NaN when the floor was
    never wet during occupied time ("no wet episodes": the contract says how that is judged)
    and when no occupied minute has valid moisture data."""
    m, occ = _arr(moisture), _bool(occupied)
    if not np.any(occ & ~np.isnan(m)):
        return float("nan")
    return p90(wet_episodes(m, occ, wet_threshold)["minutes"])


# --- passages ---------------------------------------------------------------------------------
def slip_exposure(
    moisture: ArrayLike, passages: ArrayLike, occupied: ArrayLike, wet_threshold: float
) -> float:
    """Passages during wet minutes (moisture % > wet_threshold) per 1,000 passages, over occupied
    minutes where both moisture and passages are known. NaN if no passages were counted."""
    m, p, occ = _arr(moisture), _arr(passages), _bool(occupied)
    valid = occ & ~np.isnan(m) & ~np.isnan(p)
    total = float(np.sum(p[valid]))
    wet = float(np.sum(p[valid & (m > wet_threshold)]))
    return 1000.0 * wet / total if total > 0 else float("nan")


# A fall of the soiling index by at least this many points from one minute to the next is a
# cleaning; smaller changes either way are build-up and measurement noise.
CLEANING_DROP = 8.0


def dirt_buildup(dirt: ArrayLike) -> np.ndarray:
    """Per-minute dirt build-up (soiling-index points): the change since the previous minute,
    except cleanings (falls of CLEANING_DROP points or more), which count as 0. Small falls are
    kept so that sensor noise cancels out over a day instead of adding up as false build-up.
    NaN where this or the previous minute is missing."""
    d = _arr(dirt)
    rise = np.full(len(d), np.nan)
    if len(d) > 1:
        change = np.diff(d)
        rise[1:] = np.where(change <= -CLEANING_DROP, 0.0, change)
    return rise


def dirt_capture(
    inner_dirt: ArrayLike, upstream_dirt: ArrayLike, passages: ArrayLike, occupied: ArrayLike
) -> float:
    """Dirt capture (share, -1..1): 1 - (inner dirt build-up per 1,000 passages) / (upstream,
    i.e. entry or outside, dirt build-up per 1,000 passages), over occupied minutes where both
    build-ups are known. Build-up in soiling-index points (`dirt_buildup`: net of noise, without
    cleanings). Net inner build-up below 0 (noise) counts as 0, and inner build-up above twice
    the upstream one as twice, so the share stays in -1..1. NaN if no passages or no upstream
    build-up."""
    parts = _capture_parts(
        dirt_buildup(inner_dirt), dirt_buildup(upstream_dirt), _arr(passages), _bool(occupied)
    )
    inner, upstream, passages_sum = (float(np.sum(x)) for x in parts)
    return _capture(inner, upstream, passages_sum)


def _capture_parts(
    inner_rise: np.ndarray, upstream_rise: np.ndarray, passages: np.ndarray, occ: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    valid = occ & ~np.isnan(inner_rise) & ~np.isnan(upstream_rise)
    return (
        np.where(valid, inner_rise, 0.0),
        np.where(valid, upstream_rise, 0.0),
        np.where(valid, np.nan_to_num(passages, nan=0.0), 0.0),
    )


def _capture(inner: float, upstream: float, passages: float) -> float:
    if passages <= 0 or upstream <= 0:
        return float("nan")
    per_k_inner = max(inner, 0.0) / (passages / 1000.0)
    per_k_upstream = upstream / (passages / 1000.0)
    return max(-1.0, 1.0 - per_k_inner / per_k_upstream)


def moisture_excess(moisture: ArrayLike, dry_reading: float) -> np.ndarray:
    """Per minute, moisture % above `dry_reading` (% a dry floor reads), 0 at or below it, NaN
    where moisture is missing. Threshold-free where a solution acts: with less water on the
    floor it falls in proportion, whether the floor would have been just wet or soaked."""
    m = _arr(moisture)
    return np.where(np.isnan(m), np.nan, np.clip(m - dry_reading, 0.0, None))


def data_availability(received: float, expected: float) -> float:
    """Readings received / readings expected (share 0..1, capped at 1); NaN if none expected."""
    return min(1.0, received / expected) if expected > 0 else float("nan")


# --- daily components -------------------------------------------------------------------------
COMPONENTS = [
    "occupied_minutes",
    "moisture_minutes",
    "dry_minutes",
    "dirt_minutes",
    "clean_minutes",
    "passages",
    "passages_known",
    "wet_passages",
    "capture_passages",
    "inner_buildup",
    "upstream_buildup",
    "moisture_excess",
    "wet_passage_load",
    "door_wet_load",
]


def daily_components(
    index: pd.DatetimeIndex,
    occupied: ArrayLike,
    inner_moisture: ArrayLike,
    inner_dirt: ArrayLike,
    upstream_dirt: ArrayLike,
    passages: ArrayLike,
    wet_threshold: float,
    dirt_threshold: float,
    days: np.ndarray | None = None,
    dry_reading: float = 2.0,
    door_moisture: ArrayLike | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per local day (index `day`, datetime64[D]) the sums the KPIs are ratios of (columns
    COMPONENTS: minutes, passages, build-up points), and the wet episodes with the local day
    each starts on (columns day, minutes). Days are those of `index` (UTC minutes); `days`, if
    given, are its local dates already computed.

    Two sums measure the water on the inner floor without a threshold, so that how much of it a
    solution avoids does not depend on how close a school's floors sit to the wet threshold
    (`moisture_excess`): moisture_excess, the moisture % above `dry_reading` (what a dry
    floor reads, sensor noise included) summed over occupied minutes with moisture data, in
    %-minutes; wet_passage_load, passages weighted by that excess in moisture fractions
    (passage x (moisture % - dry_reading) / 100). door_wet_load is what shoes bring to the door
    (passages x (door moisture % - dry_reading) / 100, outside or entry: `door_moisture`), which
    no solution changes: the water the inner floor's moisture is counted against."""
    occ = _bool(occupied)
    m, d, up, p = _arr(inner_moisture), _arr(inner_dirt), _arr(upstream_dirt), _arr(passages)
    days = local_dates(index) if days is None else days
    m_ok = occ & ~np.isnan(m)
    d_ok = occ & ~np.isnan(d)
    slip_ok = m_ok & ~np.isnan(p)
    inner_rise, up_rise, cap_p = _capture_parts(dirt_buildup(d), dirt_buildup(up), p, occ)
    excess = moisture_excess(m, dry_reading)
    door = np.full(len(m), np.nan) if door_moisture is None else _arr(door_moisture)
    door_ok = occ & ~np.isnan(door) & ~np.isnan(p)
    daily = daily_sums(
        days,
        {
            "occupied_minutes": occ.astype(float),
            "moisture_minutes": m_ok.astype(float),
            "dry_minutes": (m_ok & (m <= wet_threshold)).astype(float),
            "dirt_minutes": d_ok.astype(float),
            "clean_minutes": (d_ok & (d <= dirt_threshold)).astype(float),
            "passages": np.where(occ, np.nan_to_num(p, nan=0.0), 0.0),
            "passages_known": np.where(slip_ok, p, 0.0),
            "wet_passages": np.where(slip_ok & (m > wet_threshold), p, 0.0),
            "capture_passages": cap_p,
            "inner_buildup": inner_rise,
            "upstream_buildup": up_rise,
            "moisture_excess": np.where(m_ok, excess, 0.0),
            "wet_passage_load": np.where(slip_ok, p * excess / 100.0, 0.0),
            "door_wet_load": np.where(door_ok, p * moisture_excess(door, dry_reading) / 100.0, 0.0),
        },
    )
    episodes = wet_episodes(m, occ, wet_threshold)
    episodes = pd.DataFrame(
        {"day": days[episodes["start"].to_numpy()], "minutes": episodes["minutes"].to_numpy()}
    )
    return daily, episodes


def kpis_from_components(daily: pd.DataFrame, episodes: pd.DataFrame) -> dict[Kpi, float]:
    """The five contract KPIs over the given days (components summed), in the units of the KPI
    functions above. Days may repeat (bootstrap resamples)."""
    total = daily[COMPONENTS].sum() if len(daily) else pd.Series(0.0, index=COMPONENTS)
    moisture_minutes = float(total["moisture_minutes"])
    return {
        Kpi.DRY_TIME_SHARE: _share(float(total["dry_minutes"]), moisture_minutes),
        Kpi.CLEAN_TIME_SHARE: _share(float(total["clean_minutes"]), float(total["dirt_minutes"])),
        Kpi.WET_RECOVERY_P90: p90(episodes["minutes"]),
        Kpi.SLIP_EXPOSURE: (
            1000.0 * float(total["wet_passages"]) / float(total["passages_known"])
            if total["passages_known"] > 0
            else float("nan")
        ),
        Kpi.DIRT_CAPTURE: _capture(
            float(total["inner_buildup"]),
            float(total["upstream_buildup"]),
            float(total["capture_passages"]),
        ),
    }


# Sensors (zone, kind) each KPI needs; its availability is the lowest of theirs.
KPI_INPUTS: Mapping[Kpi, tuple[tuple[str, str], ...]] = {
    Kpi.DRY_TIME_SHARE: (("inner", "moisture"),),
    Kpi.CLEAN_TIME_SHARE: (("inner", "dirt"),),
    Kpi.WET_RECOVERY_P90: (("inner", "moisture"),),
    Kpi.SLIP_EXPOSURE: (("inner", "moisture"), ("entry", "footfall")),
    Kpi.DIRT_CAPTURE: (("inner", "dirt"), ("upstream", "dirt"), ("entry", "footfall")),
}
