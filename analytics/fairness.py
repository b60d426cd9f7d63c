"""Fairness: KPIs adjusted for weather and footfall, with bootstrap confidence intervals.

Schools differ in rain, snow and footfall. A model (scikit-learn gradient boosting, seeded) learns
each KPI's expected daily value from the day's weather and footfall, fitted only on days where no
supplier's solution acts: each entrance's baseline before its installation, and reference
entrances. For an installation, `expected` is the model's prediction for its own days (weighted as
the KPI weighs days) and `pooled` the same over the days of all installations compared in the
period. The adjusted KPI is raw - expected + pooled: the installation's result as if it had had
the average conditions of everyone compared. What remains is the solution's effect.

Confidence intervals: 95 % percentile bootstrap over days (days resampled with replacement, the
KPI recomputed from summed daily components), seeded, so the same inputs give the same numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from analytics.kpis import COMPONENTS, Kpi, kpis_from_components
from analytics.weather import WEATHER_FEATURES

CONTRACT_KPIS = (
    Kpi.DRY_TIME_SHARE,
    Kpi.CLEAN_TIME_SHARE,
    Kpi.WET_RECOVERY_P90,
    Kpi.SLIP_EXPOSURE,
    Kpi.DIRT_CAPTURE,
)
FEATURES = [*WEATHER_FEATURES, "outside_moisture", "passages"]
MIN_TRAINING_DAYS = 20
# A day whose KPI denominator is under this share of the median day's says next to nothing (a
# weekend with 0.001 points of dirt build-up upstream has a capture of -1e12): it is left out.
MIN_DAY_WEIGHT_SHARE = 0.05
RESAMPLES = 400
MODEL_NAME = "HistGradientBoostingRegressor(max_iter=80, learning_rate=0.1, max_depth=3)"


def daily_targets(daily: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Each day's own KPI values (what the model learns) and the weight of the day in the period
    KPI (the denominator it contributes). Columns `<kpi>` and `<kpi>_weight`; index as `daily`."""
    col = {name: daily[name].to_numpy(dtype=float) for name in COMPONENTS}
    values: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        values[Kpi.DRY_TIME_SHARE] = col["dry_minutes"] / col["moisture_minutes"]
        weights[Kpi.DRY_TIME_SHARE] = col["moisture_minutes"]
        values[Kpi.CLEAN_TIME_SHARE] = col["clean_minutes"] / col["dirt_minutes"]
        weights[Kpi.CLEAN_TIME_SHARE] = col["dirt_minutes"]
        values[Kpi.SLIP_EXPOSURE] = 1000.0 * col["wet_passages"] / col["passages_known"]
        weights[Kpi.SLIP_EXPOSURE] = col["passages_known"]
        values[Kpi.DIRT_CAPTURE] = 1.0 - col["inner_buildup"] / col["upstream_buildup"]
        weights[Kpi.DIRT_CAPTURE] = col["upstream_buildup"]
    by_day = episodes.groupby("day")["minutes"]
    wet_p90 = by_day.quantile(0.9).reindex(daily.index).to_numpy(dtype=float)  # as `p90`
    count = by_day.size().reindex(daily.index).fillna(0.0).to_numpy(dtype=float)
    has_moisture = col["moisture_minutes"] > 0
    values[Kpi.WET_RECOVERY_P90] = np.where(has_moisture, np.where(count > 0, wet_p90, 0.0), np.nan)
    # days weigh by their episodes; a period without any weighs its days equally
    weights[Kpi.WET_RECOVERY_P90] = np.where(has_moisture, count + 0.01, 0.0)
    columns: dict[str, np.ndarray] = {}
    for kpi in CONTRACT_KPIS:
        positive = weights[kpi][weights[kpi] > 0]
        floor = MIN_DAY_WEIGHT_SHARE * float(np.median(positive)) if len(positive) else 0.0
        bad = ~np.isfinite(values[kpi]) | (weights[kpi] <= floor)
        columns[str(kpi)] = np.where(bad, np.nan, values[kpi])
        columns[f"{kpi}_weight"] = np.where(bad, 0.0, weights[kpi])
    out = pd.DataFrame(columns, index=daily.index)
    return out


@dataclass
class OutcomeModel:
    """Expected daily KPI values from weather and footfall, one regressor per KPI."""

    seed: int = 0
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    models: dict[Kpi, HistGradientBoostingRegressor] = field(default_factory=dict)
    training_days: dict[Kpi, int] = field(default_factory=dict)

    def fitted(self, kpi: Kpi) -> bool:
        return kpi in self.models

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Expected KPI value per row of `features` (NaN for KPIs without a model)."""
        out = pd.DataFrame(index=features.index)
        x = features.reindex(columns=self.features).to_numpy(dtype=float)
        for kpi in CONTRACT_KPIS:
            model = self.models.get(kpi)
            if model is not None and len(x):
                with threadpool_limits(1):
                    out[kpi] = model.predict(x)
            else:
                out[kpi] = np.nan
        return out

    def describe(self) -> dict[str, object]:
        return {
            "model": MODEL_NAME,
            "features": self.features,
            "seed": self.seed,
            "fitted_on": "days without a supplier's solution (baselines, reference entrances)",
            "training_days": {str(k): v for k, v in sorted(self.training_days.items())},
        }


def fit_outcome_model(training: pd.DataFrame, seed: int = 0) -> OutcomeModel:
    """Fit on rows of untreated entrance-days: columns FEATURES (NaN allowed) and the
    `daily_targets` columns. KPIs with fewer than MIN_TRAINING_DAYS usable days get no model
    (their adjusted value is then the raw one)."""
    # a feature nobody measured, or that never varies (no snow), says nothing: leave it out
    known = [f for f in FEATURES if f in training and training[f].dropna().nunique() >= 2]
    model = OutcomeModel(seed=seed, features=known)
    if not known:
        return model
    x_all = training.reindex(columns=known).to_numpy(dtype=float)
    for kpi in CONTRACT_KPIS:
        if kpi not in training:
            continue
        y = training[kpi].to_numpy(dtype=float)
        w = training[f"{kpi}_weight"].to_numpy(dtype=float)
        usable = np.isfinite(y) & (w > 0)
        model.training_days[kpi] = int(usable.sum())
        if usable.sum() < MIN_TRAINING_DAYS:
            continue
        regressor = HistGradientBoostingRegressor(
            max_iter=80,
            learning_rate=0.1,
            max_depth=3,
            min_samples_leaf=max(5, int(usable.sum()) // 20),
            early_stopping=False,
            random_state=seed,
        )
        with threadpool_limits(1):  # OpenMP start-up costs seconds on these small samples
            # days weigh as in the period KPI, so the expected period value is the weighted mean
            regressor.fit(x_all[usable], y[usable], sample_weight=w[usable])
        model.models[kpi] = regressor
    return model


def weighted_expected(targets: pd.DataFrame, predicted: pd.DataFrame, kpi: Kpi) -> float:
    """The KPI expected over these days: predictions weighted as the KPI weighs days."""
    w = targets[f"{kpi}_weight"].to_numpy(dtype=float)
    p = predicted[kpi].to_numpy(dtype=float)
    ok = np.isfinite(p) & (w > 0)
    return float(np.sum(w[ok] * p[ok]) / np.sum(w[ok])) if ok.any() else float("nan")


@dataclass(frozen=True)
class Estimate:
    """A KPI raw and adjusted, each with its 95 % bootstrap interval (NaN = cannot tell)."""

    raw: float
    raw_low: float
    raw_high: float
    adjusted: float
    adjusted_low: float
    adjusted_high: float
    adjusted_by_model: bool


def stable_seed(*parts: str, base: int = 0) -> int:
    """A seed from names (stable across runs and machines, unlike hash())."""
    return (zlib.crc32("/".join(parts).encode()) + base) % (2**32)


def _interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    # an interval from too few successful resamples would claim more than the data can say
    if len(finite) < 0.5 * len(values) or len(finite) == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def estimate(
    daily: pd.DataFrame,
    episodes: pd.DataFrame,
    predicted: pd.DataFrame | None,
    pooled: Mapping[Kpi, float],
    seed: int,
    resamples: int = RESAMPLES,
) -> dict[Kpi, Estimate]:
    """Raw and adjusted KPIs over the days of `daily` (COMPONENTS per day) with bootstrap
    intervals. predicted: the model's expected daily values for these days (None: no model);
    pooled: the expected value under everyone's conditions, per KPI."""
    raw = kpis_from_components(daily, episodes)
    targets = daily_targets(daily, episodes)
    n = len(daily)
    rng = np.random.default_rng(seed)
    if n:
        picks = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
        drawn = np.bincount(picks.ravel(), minlength=resamples * n)
        counts = drawn.reshape(resamples, n).astype(np.float64)
    else:
        counts = np.zeros((resamples, 0))
    sums = counts @ daily[COMPONENTS].to_numpy(dtype=float)
    col = {name: i for i, name in enumerate(COMPONENTS)}

    def ratio(num: str, den: str, scale: float = 1.0) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                sums[:, col[den]] > 0, scale * sums[:, col[num]] / sums[:, col[den]], np.nan
            )

    boot: dict[Kpi, np.ndarray] = {
        Kpi.DRY_TIME_SHARE: ratio("dry_minutes", "moisture_minutes"),
        Kpi.CLEAN_TIME_SHARE: ratio("clean_minutes", "dirt_minutes"),
        Kpi.SLIP_EXPOSURE: ratio("wet_passages", "passages_known", 1000.0),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (sums[:, col["upstream_buildup"]] > 0) & (sums[:, col["capture_passages"]] > 0)
        boot[Kpi.DIRT_CAPTURE] = np.where(
            ok, 1.0 - sums[:, col["inner_buildup"]] / sums[:, col["upstream_buildup"]], np.nan
        )
    boot[Kpi.WET_RECOVERY_P90] = _boot_p90(daily, episodes, counts, col)

    result: dict[Kpi, Estimate] = {}
    for kpi in CONTRACT_KPIS:
        raw_value = raw[kpi]
        raw_low, raw_high = _interval(boot[kpi]) if np.isfinite(raw_value) else (np.nan, np.nan)
        adjusted, adj_low, adj_high, by_model = raw_value, raw_low, raw_high, False
        shift_ok = predicted is not None and np.isfinite(pooled.get(kpi, np.nan))
        if shift_ok and predicted is not None and np.isfinite(raw_value):
            expected = weighted_expected(targets, predicted, kpi)
            if np.isfinite(expected):
                shift = pooled[kpi] - expected
                w = targets[f"{kpi}_weight"].to_numpy(dtype=float)
                p = np.nan_to_num(predicted[kpi].to_numpy(dtype=float), nan=0.0)
                usable = np.where(np.isfinite(predicted[kpi].to_numpy(dtype=float)), w, 0.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    expected_b = (counts @ (usable * p)) / (counts @ usable)
                adjusted = raw_value + shift
                adj_low, adj_high = _interval(boot[kpi] - expected_b + pooled[kpi])
                by_model = True
        result[kpi] = Estimate(
            float(raw_value),
            raw_low,
            raw_high,
            float(adjusted),
            float(adj_low),
            float(adj_high),
            by_model,
        )
    return result


def _boot_p90(
    daily: pd.DataFrame, episodes: pd.DataFrame, counts: np.ndarray, col: dict[str, int]
) -> np.ndarray:
    """Bootstrap p90 of wet-episode lengths: each resample pools the episodes of its days."""
    out = np.full(counts.shape[0], np.nan)
    if counts.shape[1] == 0:
        return out
    has_moisture = counts @ daily["moisture_minutes"].to_numpy(dtype=float) > 0
    position = pd.Index(daily.index).get_indexer(episodes["day"].to_numpy())
    keep = position >= 0
    lengths = episodes["minutes"].to_numpy(dtype=float)[keep]
    position = position[keep]
    order = np.argsort(lengths, kind="stable")
    lengths, position = lengths[order], position[order]
    for b in range(counts.shape[0]):
        if not has_moisture[b]:
            continue
        weights = counts[b, position]
        total = weights.sum()
        if total == 0:
            out[b] = 0.0
            continue
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
