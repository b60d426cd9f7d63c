"""An installation's KPIs over its scored days: measured, expected without the solution, and
the improvement, each with a 95 % interval that includes the baseline model's own uncertainty.

Measured: the KPI from the summed daily components (`analytics.kpis`). Expected untreated: the
same KPI with its level outcome (wet minutes, dirty minutes, wet passages, inner build-up:
`LEVEL_OUTCOME`) replaced by the baseline's prediction (`analytics.baseline`) for the same days,
weather and footfall. Improvement: 1 - measured / expected untreated of the outcome the KPI's
solution is judged to avoid (`AVOIDED_OUTCOME`: the inner floor's moisture above dry, passages
on it, inner dirt build-up), the share of it the solution avoided, bounded to -1..1 (-1: twice
the untreated outcome or worse).

Intervals: percentile bootstrap. Reporting days are resampled in circular blocks of 7 days
(days are correlated through the weather), and in the same replicate the baseline is refitted on
its training days resampled in calendar-week blocks, its expected total scaled by a draw of its
held-out error, and the measured total by a draw of the measurement error: the day-to-day
noise, the model's error and the sensors' are in the interval. Seeded from the installation, so
the same inputs give the same bytes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.baseline import (
    AVOIDED_OUTCOME,
    LEVEL_OUTCOME,
    Baseline,
    daily_outcomes,
    model_error,
    refit_replicates,
)
from analytics.kpis import COMPONENTS, kpis_from_components
from floorwatch.registry.schema import CONTRACT_KPIS, Kpi

RESAMPLES = 200
BLOCK_DAYS = 7
IMPROVEMENT_FLOOR = -1.0
# Relative error of a month's measured outcome total against the floor's true one: sensor noise
# and 10-15 minute reports (a cleaning or a drying floor seen a few minutes late). 3 % is what
# the simulated validation worlds show for inner build-up (tests/analytics/validity.py); without
# it the improvement's interval is as tight as if the sensors saw every minute exactly.
MEASUREMENT_ERROR = 0.03

NAN = float("nan")


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class AvoidedDays:
    """An improvement's outcome day by day with the bootstrap behind its interval, so that the
    comparison can restate the improvement on some of the days (days of comparable conditions,
    `analytics.comparison`). Units: the outcome's (`analytics.baseline.Outcome.unit`)."""

    measured: np.ndarray  # per day: the outcome measured
    expected: np.ndarray  # per day: the baseline's expected untreated outcome
    per: np.ndarray  # per day: what the outcome's `negligible` is per (e.g. occupied minutes)
    counts: np.ndarray  # resamples x days: how often each day is drawn (`block_counts`)
    expected_replicates: np.ndarray  # resamples x days: the refitted baselines' expectation
    measurement: np.ndarray  # resamples: a draw of the measured total's relative error

    def improvement_replicates(self) -> np.ndarray:
        """Bootstrap replicates of the improvement over all the days (`avoided_share`)."""
        boot_mu = np.sum(self.counts * self.expected_replicates, axis=1)
        boot_y = np.maximum(self.counts @ self.measured, 0.0) * self.measurement
        return avoided_share(boot_y, boot_mu)


def avoided_share(measured: Any, expected: Any) -> Any:
    """The improvement: 1 - measured / expected untreated (summed outcomes, scalars or arrays),
    a net measured outcome below 0 counting as none (noise), bounded to IMPROVEMENT_FLOOR..1;
    NaN where nothing was expected."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(
            np.where(expected > 0, 1.0 - np.maximum(measured, 0.0) / expected, np.nan),
            IMPROVEMENT_FLOOR,
            1.0,
        )


@dataclass(frozen=True)
class Estimate:
    """One KPI over an installation's days. judged_measured: the measured level without the
    contract's relief days; expected and improvement: NaN without a fitted baseline."""

    measured: Interval
    judged_measured: Interval
    expected: Interval
    improvement: Interval
    expected_share: float  # expected untreated avoided outcome per unit of its outcome's `per`
    negligible: bool  # expected_share below its outcome's `negligible`: nothing to avoid
    replicates: np.ndarray  # bootstrap replicates of the improvement (for the comparison)
    events: int  # wet episodes (wet recovery), else days with the outcome
    days: AvoidedDays | None  # the improvement day by day (None without a fitted baseline)


def stable_seed(*parts: str, base: int = 0) -> int:
    """A seed from names (stable across runs and machines, unlike hash())."""
    return (zlib.crc32("/".join(parts).encode()) + base) % (2**32)


def block_counts(n: int, resamples: int, seed: int, block: int = BLOCK_DAYS) -> np.ndarray:
    """How often each of n days is drawn in each replicate (resamples x n): circular blocks of
    `block` consecutive days, as many as fill n days."""
    if n == 0:
        return np.zeros((resamples, 0))
    rng = np.random.default_rng(seed)
    size = min(block, n)
    blocks = math.ceil(n / size)
    starts = rng.integers(0, n, size=(resamples, blocks))
    picks = (starts[:, :, None] + np.arange(size)[None, None, :]).reshape(resamples, -1)[:, :n] % n
    counts = np.zeros((resamples, n))
    np.add.at(counts, (np.arange(resamples)[:, None], picks), 1.0)
    return counts


def _interval(values: np.ndarray, point: float) -> Interval:
    finite = values[np.isfinite(values)]
    # an interval from too few successful resamples would claim more than the data can say
    if not math.isfinite(point) or len(finite) < 0.5 * len(values) or len(finite) == 0:
        return Interval(point, NAN, NAN)
    low, high = np.percentile(finite, [2.5, 97.5])
    return Interval(point, float(min(low, point)), float(max(high, point)))


def _widen(interval: Interval, by: float) -> Interval:
    if not math.isfinite(interval.low) or by <= 0:
        return interval
    return Interval(interval.value, max(0.0, interval.low - by), interval.high + by)


def _boot_measured(daily: pd.DataFrame, counts: np.ndarray) -> dict[Kpi, np.ndarray]:
    sums = counts @ daily[COMPONENTS].to_numpy(dtype=float)
    col = {name: i for i, name in enumerate(COMPONENTS)}

    def ratio(num: str, den: str, scale: float = 1.0) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                sums[:, col[den]] > 0, scale * sums[:, col[num]] / sums[:, col[den]], np.nan
            )

    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (sums[:, col["upstream_buildup"]] > 0) & (sums[:, col["capture_passages"]] > 0)
        inner = np.maximum(sums[:, col["inner_buildup"]], 0.0)
        capture = np.where(
            ok, np.maximum(-1.0, 1.0 - inner / sums[:, col["upstream_buildup"]]), np.nan
        )
    return {
        Kpi.DRY_TIME_SHARE: ratio("dry_minutes", "moisture_minutes"),
        Kpi.CLEAN_TIME_SHARE: ratio("clean_minutes", "dirt_minutes"),
        Kpi.SLIP_EXPOSURE: ratio("wet_passages", "passages_known", 1000.0),
        Kpi.DIRT_CAPTURE: capture,
    }


def _level(kpi: Kpi, outcome: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """The KPI's level from summed outcome and exposure (arrays of replicates)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(exposure > 0, outcome / exposure, np.nan)
    if kpi == Kpi.SLIP_EXPOSURE:
        return 1000.0 * share
    if kpi == Kpi.DIRT_CAPTURE:
        return np.maximum(-1.0, 1.0 - share)
    return 1.0 - share


@dataclass(frozen=True)
class _Expected:
    """A baseline's expected untreated outcome over the days: point and bootstrap replicates."""

    point: np.ndarray  # per day
    replicates: np.ndarray  # resamples x days


def _expected(
    baseline: Baseline,
    features: pd.DataFrame,
    exposure: np.ndarray,
    seed: int,
    resamples: int,
) -> _Expected:
    name = baseline.outcome.name
    assert baseline.beta is not None
    point = baseline.predict(features, exposure, baseline.beta[None, :])[0]
    betas = refit_replicates(baseline, resamples, stable_seed(str(seed), name))
    mu = baseline.predict(features, exposure, betas)
    # what refitting cannot see, the model's error on held-out days can: each replicate's
    # expected outcome is scaled by a draw of that error (`model_error`)
    rng = np.random.default_rng(stable_seed(str(seed), name, "error"))
    error = rng.normal(0.0, model_error(baseline), size=(resamples, 1))
    mu = mu * np.clip(1.0 + error, 0.05, None)
    if baseline.outcome.family == "binomial":  # never more wet minutes than minutes
        mu = np.minimum(mu, exposure[None, :])
    return _Expected(point, mu)


def estimate(
    daily: pd.DataFrame,
    episodes: pd.DataFrame,
    features: pd.DataFrame,
    baselines: Mapping[str, Baseline],
    relief: Mapping[Kpi, np.ndarray],
    seed: int,
    resamples: int = RESAMPLES,
    resolution_min: float = 0.0,
) -> dict[Kpi, Estimate]:
    """The contract KPIs of one installation over the days of `daily` (COMPONENTS per day).
    features: `analytics.baseline.feature_frame` of the same days; baselines: per outcome the
    entrance's fitted baseline (accepted or not: it is shown either way); relief: per KPI the
    days (bool per row of `daily`) the contract excuses from its measured level;
    resolution_min: how long an episode's start or end can hide between two moisture reports
    (the sensor's report interval, minutes): wet recovery's interval is widened by it."""
    n = len(daily)
    counts = block_counts(n, resamples, seed)
    raw = kpis_from_components(daily, episodes)
    boot = _boot_measured(daily, counts)
    boot[Kpi.WET_RECOVERY_P90] = _boot_p90(daily, episodes, counts)
    outcomes = daily_outcomes(daily)
    drawn: dict[str, _Expected] = {}

    def expected_of(name: str | None) -> _Expected | None:
        baseline = baselines.get(name) if name is not None else None
        if name is None or baseline is None or baseline.beta is None or not n:
            return None
        if name not in drawn:
            drawn[name] = _expected(baseline, features, outcomes[name][1], seed, resamples)
        return drawn[name]

    result: dict[Kpi, Estimate] = {}
    for kpi in CONTRACT_KPIS:
        measured = _interval(boot[kpi], float(raw[kpi]))
        if kpi == Kpi.WET_RECOVERY_P90:
            measured = _widen(measured, resolution_min)
        excused = relief.get(kpi)
        judged = measured
        if excused is not None and excused.any():
            kept = daily[~excused]
            kept_episodes = episodes[episodes["day"].isin(set(kept.index))]
            kept_raw = float(kpis_from_components(kept, kept_episodes)[kpi])
            masked = counts * (~excused)[None, :]
            if kpi == Kpi.WET_RECOVERY_P90:
                kept_boot = _boot_p90(daily, kept_episodes, masked)
            else:
                kept_boot = _boot_measured(daily, masked)[kpi]
            judged = _interval(kept_boot, kept_raw)
            if kpi == Kpi.WET_RECOVERY_P90:
                judged = _widen(judged, resolution_min)
        nothing = Interval(NAN, NAN, NAN)
        expected, improvement, share = nothing, nothing, NAN
        replicates = np.full(resamples, np.nan)
        level_name = LEVEL_OUTCOME.get(kpi)
        level = expected_of(level_name)
        if level is not None and level_name is not None:
            _, exposure = outcomes[level_name]
            expected = _interval(
                _level(kpi, np.sum(counts * level.replicates, axis=1), counts @ exposure),
                float(_level(kpi, np.array([level.point.sum()]), np.array([exposure.sum()]))[0]),
            )
        avoided_name = AVOIDED_OUTCOME[kpi]
        y, exposure = outcomes[avoided_name]
        events = len(episodes) if kpi == Kpi.WET_RECOVERY_P90 else int(np.sum(y > 0))
        avoided = expected_of(avoided_name)
        negligible = False
        days: AvoidedDays | None = None
        if avoided is not None:
            total_mu = float(avoided.point.sum())
            per_name = baselines[avoided_name].outcome.per
            per_day = daily[per_name].to_numpy(dtype=float) if per_name else exposure
            rng = np.random.default_rng(stable_seed(str(seed), avoided_name, "measured"))
            days = AvoidedDays(
                np.asarray(y, dtype=float),
                avoided.point,
                np.asarray(per_day, dtype=float),
                counts,
                avoided.replicates,
                np.clip(1.0 + rng.normal(0.0, MEASUREMENT_ERROR, resamples), 0, None),
            )
            per = float(per_day.sum())
            share = total_mu / per if per > 0 else NAN
            negligible = not share >= baselines[avoided_name].outcome.negligible
            replicates = days.improvement_replicates()
            improvement = _interval(replicates, float(avoided_share(float(y.sum()), total_mu)))
        result[kpi] = Estimate(
            measured, judged, expected, improvement, share, negligible, replicates, events, days
        )
    return result


def _boot_p90(daily: pd.DataFrame, episodes: pd.DataFrame, counts: np.ndarray) -> np.ndarray:
    """Bootstrap p90 of wet-episode lengths: each resample pools the episodes of its days (NaN
    where a resample holds no episode: no episode has no length)."""
    out = np.full(counts.shape[0], np.nan)
    if counts.shape[1] == 0:
        return out
    position = pd.Index(daily.index).get_indexer(episodes["day"].to_numpy())
    keep = position >= 0
    lengths = episodes["minutes"].to_numpy(dtype=float)[keep]
    position = position[keep]
    order = np.argsort(lengths, kind="stable")
    lengths, position = lengths[order], position[order]
    for b in range(counts.shape[0]):
        weights = counts[b, position]
        total = weights.sum()
        if total > 0:
            out[b] = _weighted_p90(lengths, weights, total)
    return out


def _weighted_p90(sorted_lengths: np.ndarray, weights: np.ndarray, total: float) -> float:
    """p90 with linear interpolation (as numpy) of lengths repeated `weights` times."""
    rank = 0.9 * (total - 1)
    cum = np.cumsum(weights)
    lo = int(np.searchsorted(cum, np.floor(rank) + 1, side="left"))
    hi = int(np.searchsorted(cum, np.floor(rank) + 2, side="left"))
    hi = min(hi, len(sorted_lengths) - 1)
    frac = rank - np.floor(rank)
    return float(sorted_lengths[lo] + frac * (sorted_lengths[hi] - sorted_lengths[lo]))
