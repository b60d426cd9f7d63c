"""Counterfactual baselines: the entrance's expected UNTREATED daily outcome, from the day's
weather and footfall, in a form a supplier can recompute.

As in IPMVP Option C, ASHRAE Guideline 14 and CalTRACK, the baseline is fitted at the same site
before the solution (the entrance's own days without an installation) and, for the shared weather
slopes, on the school's reference entrances (which never get a solution; sibling entrances are
left out so that one installation's contract never moves another's payment). Each entrance has
its own intercept; the slopes are shared. The outcome's range is respected by the form:

- what a solution is judged to avoid (`AVOIDED_OUTCOME`), without thresholds: the inner floor's
  moisture above a dry floor's reading per measured minute, passages weighted by it per counted
  passage, and inner dirt build-up (soiling-index points) per point of upstream build-up: log
  link with the exposure as offset (expected = exposure x exp(eta) >= 0, quasi-Poisson);
- what the KPI's expected untreated level is computed from (`LEVEL_OUTCOME`): wet minutes of
  the moisture-measured occupied minutes, dirty minutes of the dirt-measured ones and wet
  passages of the counted passages: binomial GLM, logit link (a daily share stays 0..1).

Features (each standardised on the training days, centre and scale recorded): rain in opening
hours (log1p mm, from three hours before opening), rain the day before (log1p mm), outside
wetness (mean outside moisture %, which no solution changes), frost (degrees below 0), snow
depth (m) and footfall (log1p passages). A feature that does not vary in the training days is
left out (it cannot be learnt), and reporting days far outside the training range are counted.

Fit: iteratively reweighted least squares with a light ridge penalty on the slopes (worth one
average day per coefficient; intercepts unpenalised). Vectorised over bootstrap replicates: the
same solve for a stack of day weights (`fit_glm`).

Acceptance on held-out baseline days: 5 folds of whole weeks; on the entrance's own held-out days
CV(RMSE) = RMSE / mean daily outcome and NMBE = sum(measured - predicted) / sum(measured), as
ASHRAE Guideline 14 defines them (without its degrees-of-freedom correction: held-out days fit
nothing). Thresholds (`ACCEPTANCE`) are adapted to daily floor outcomes, which are much spikier
than monthly energy use; data sufficiency (`SUFFICIENCY`) as CalTRACK's, in days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from analytics.explanations import Explanation, styled
from floorwatch.i18n import N_
from floorwatch.registry.schema import Kpi

Family = Literal["binomial", "log"]


FEATURES = ("rain_open", "rain_before", "outside_wet", "frost", "snow", "footfall", "door_load")
# The water reaching the inner floor follows the wetness at the door and the people walking
# through it; rain at the station says the same less directly, and on a drizzly school's few wet
# days its slopes extrapolate wildly (held-out CV(RMSE) in the hundreds).
DOOR_FEATURES = ("door_load", "frost", "snow")


@dataclass(frozen=True)
class Outcome:
    """A daily untreated outcome: `count` of `exposure` (binomial) or per unit of it (log).
    negligible: an expected outcome per unit of exposure below this is next to nothing to
    avoid (an improvement on it says nothing)."""

    name: str
    family: Family
    unit: str
    describe: str
    label: str  # the outcome's name in a sentence ("wet minutes")
    exposure: str  # what the outcome is counted per, in the model's equation
    negligible: float
    features: tuple[str, ...] = FEATURES
    per: str | None = None  # the daily component `negligible` is per (None: the exposure)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "wet_minutes",
        "binomial",
        "minutes",
        N_("occupied minutes with the inner floor wet, of those with moisture data"),
        N_("wet minutes"),
        "minutes with moisture data",
        0.01,
    ),
    Outcome(
        "dirty_minutes",
        "binomial",
        "minutes",
        N_("occupied minutes with the inner floor dirty, of those with dirt data"),
        N_("dirty minutes"),
        "minutes with dirt data",
        0.01,
    ),
    Outcome(
        "wet_passages",
        "binomial",
        "passages",
        N_("passages while the inner floor was wet, of the counted passages"),
        N_("wet passages"),
        "counted passages",
        0.01,
    ),
    Outcome(
        "inner_buildup",
        "log",
        "soiling-index points",
        N_("inner dirt build-up, per point of upstream build-up"),
        N_("inner build-up"),
        "upstream build-up",
        0.01,
    ),
    Outcome(
        "moisture_excess",
        "log",
        "moisture %-minutes",
        N_("inner moisture above a dry floor's reading, per occupied minute with moisture data"),
        N_("inner moisture"),
        "minutes with moisture data",
        0.1,  # % per minute: one minute in a hundred 10 points above dry
        DOOR_FEATURES,
        "moisture_minutes",
    ),
    Outcome(
        "wet_passage_load",
        "log",
        "passages x moisture fraction",
        N_("passages weighted by the inner floor's moisture above dry, per counted passage"),
        N_("passages on a moist floor"),
        "counted passages",
        0.001,  # per counted passage
        DOOR_FEATURES,
        "passages_known",
    ),
)
OUTCOME_NAMED: Mapping[str, Outcome] = {o.name: o for o in OUTCOMES}
# What the solution is judged to avoid, per KPI: the water and the dirt that reach the inner
# floor, without a threshold. A share of wet minutes avoided depends on how close the school's
# floors sit to the wet threshold (the same mat that keeps a drizzly school's floor below it
# avoids a third of a rainy school's wet minutes); a share of the water or dirt avoided does
# not, so identical solutions at wet and dry schools earn alike.
AVOIDED_OUTCOME: Mapping[Kpi, str] = {
    Kpi.DRY_TIME_SHARE: "moisture_excess",
    Kpi.WET_RECOVERY_P90: "moisture_excess",
    Kpi.SLIP_EXPOSURE: "wet_passage_load",
    Kpi.CLEAN_TIME_SHARE: "inner_buildup",
    Kpi.DIRT_CAPTURE: "inner_buildup",
}
# The outcome whose expected untreated value gives the KPI's expected untreated level (shown
# next to the measured level; wet recovery, a percentile of lengths, has none).
LEVEL_OUTCOME: Mapping[Kpi, str] = {
    Kpi.DRY_TIME_SHARE: "wet_minutes",
    Kpi.CLEAN_TIME_SHARE: "dirty_minutes",
    Kpi.SLIP_EXPOSURE: "wet_passages",
    Kpi.DIRT_CAPTURE: "inner_buildup",
}

# What the door load counts as "nothing at the door" (passages x moisture fraction a day): a few
# times what a dry door's sensor noise adds up to (500 passages at a noise of 1 point: about
# 0.04). With log(1 + load) every load below about 1 looked alike, so the wet days' fit set the
# expectation of every dry day: at a nearly dry school tens of times what its inner floor
# measured, and a solution was credited for avoiding water that never came.
DOOR_LOAD_FLOOR = 0.1
FEATURE_TEXT = {
    "rain_open": "log(1 + rain mm from 3 h before opening to closing)",
    "rain_before": "log(1 + rain mm the day before)",
    "outside_wet": "log(1 + mean outside moisture % in opening hours)",
    "frost": "degrees below 0 degC (mean air temperature in opening hours)",
    "snow": "snow depth (m)",
    "footfall": "log(1 + passages)",
    "door_load": f"log({DOOR_LOAD_FLOOR:g} + passages x door moisture % above dry / 100, in "
    "opening hours)",
}
RIDGE_DAYS = 1.0
IRLS_ITERATIONS = 25  # at most; a fit stops once no coefficient moves by TOLERANCE
TOLERANCE = 1e-7
BOOT_ITERATIONS = 4  # warm-started from the full fit: a few steps reach it again
HALVINGS = 10  # at most, per IRLS step
FOLDS = 5

SUFFICIENCY = {
    "min_own_days": 10,  # the entrance's own school days without a solution
    "min_days": 20,  # own and reference days together
    "min_event_days": 5,  # days with more of the outcome than next to nothing (`negligible`)
    "max_out_of_range_share": 0.4,  # reporting days with a feature outside the training range
}
ACCEPTANCE = {"max_cv_rmse": 1.0, "max_abs_nmbe": 0.15}


def daily_outcomes(daily: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per outcome (count, exposure) per day from daily components (`analytics.kpis`)."""
    col = {c: daily[c].to_numpy(dtype=float) for c in daily.columns}
    return {
        "wet_minutes": (col["moisture_minutes"] - col["dry_minutes"], col["moisture_minutes"]),
        "dirty_minutes": (col["dirt_minutes"] - col["clean_minutes"], col["dirt_minutes"]),
        "wet_passages": (col["wet_passages"], col["passages_known"]),
        "inner_buildup": (col["inner_buildup"], col["upstream_buildup"]),
        "moisture_excess": (col["moisture_excess"], col["moisture_minutes"]),
        "wet_passage_load": (col["wet_passage_load"], col["passages_known"]),
    }


def feature_frame(features: pd.DataFrame) -> pd.DataFrame:
    """The model's features from daily weather, outside moisture and passages (`FEATURES`)."""
    get = {c: features[c].to_numpy(dtype=float) for c in features.columns}
    nan = np.full(len(features), np.nan)
    temp = get.get("air_temp_c", nan)
    return pd.DataFrame(
        {
            "rain_open": np.log1p(np.clip(get.get("precip_open_mm", nan), 0, None)),
            "rain_before": np.log1p(np.clip(get.get("precip_prev_day_mm", nan), 0, None)),
            "outside_wet": np.log1p(np.clip(get.get("outside_moisture", nan), 0, None)),
            "frost": np.where(np.isnan(temp), np.nan, np.clip(-temp, 0, None)),
            "snow": get.get("snow_depth_m", nan),
            "footfall": np.log1p(np.clip(get.get("passages", nan), 0, None)),
            "door_load": np.log(DOOR_LOAD_FLOOR + np.clip(get.get("door_wet_load", nan), 0, None)),
        },
        index=features.index,
    )


# --- the GLM -----------------------------------------------------------------------------------
def _mean(family: Family, eta: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    eta = np.clip(eta, -30.0, 30.0)
    if family == "binomial":
        return exposure / (1.0 + np.exp(-eta))
    return exposure * np.exp(eta)


def _deviance(family: Family, y: np.ndarray, eta: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Per day, the deviance of `eta` up to terms that do not depend on it (the quasi-Poisson
    one for the log link, defined for a net build-up below 0 too)."""
    eta = np.clip(eta, -30.0, 30.0)
    if family == "binomial":
        return 2.0 * (y * np.logaddexp(0.0, -eta) + (exposure - y) * np.logaddexp(0.0, eta))
    return 2.0 * (exposure * np.exp(eta) - y * eta)


GRAM_BATCH = 16  # replicates per matrix product: (batch x p x days) floats at a time


def _weighted_gram(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """X' diag(w_b) X for every row b of w (replicates x days): batched matrix products (BLAS),
    a few replicates at a time to bound memory; einsum's loop was 90 % of scoring a year."""
    out = np.empty((w.shape[0], x.shape[1], x.shape[1]))
    xt = x.T
    for start in range(0, w.shape[0], GRAM_BATCH):
        chunk = w[start : start + GRAM_BATCH]
        out[start : start + GRAM_BATCH] = (xt[None, :, :] * chunk[:, None, :]) @ x
    return out


def fit_glm(
    x: np.ndarray,
    y: np.ndarray,
    exposure: np.ndarray,
    family: Family,
    weights: np.ndarray,
    penalty: np.ndarray,
    start: np.ndarray | None = None,
    iterations: int = IRLS_ITERATIONS,
) -> np.ndarray:
    """IRLS for a stack of day weights: x (days x p), y and exposure (days), weights
    (replicates x days, 0 = day left out). penalty: ridge per coefficient, scaled by the mean
    working weight of the overall-rate model; the unpenalised columns (penalty 0) are the
    entrances' intercepts. Stops early when every replicate has converged.
    Returns coefficients (replicates x p)."""
    b, p = weights.shape[0], x.shape[1]
    beta = np.zeros((b, p)) if start is None else np.broadcast_to(start, (b, p)).copy()
    rate = max(float(np.sum(np.clip(y, 0, None))), 1e-9) / max(np.sum(exposure), 1e-9)
    if family == "binomial":
        rate = float(np.clip(rate, 1e-4, 1 - 1e-4))
    if start is None:
        # every intercept starts at the overall rate: an intercept left at 0 (a rate of 1 per
        # unit of exposure) took a log-link model with steep slopes over 30 iterations
        intercept = np.log(rate / (1 - rate)) if family == "binomial" else np.log(rate)
        beta[:, penalty == 0] = intercept
    ok = exposure > 0
    # the ridge's scale: the mean working weight of the overall-rate model, fixed, so that it
    # keeps holding where a few wet days separate perfectly and the weights of a fit collapse
    var0 = rate * exposure * ((1.0 - rate) if family == "binomial" else 1.0)
    scale = np.maximum(
        (weights * var0[None, :]).sum(axis=1) / np.maximum((weights > 0).sum(axis=1), 1), 1e-9
    )
    ridge = scale * RIDGE_DAYS

    day_weights = weights * ok[None, :]

    def objective(coefficients: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Penalised deviance of each of `rows`' replicates (no IRLS step may increase it)."""
        deviance = _deviance(family, y, coefficients @ x.T, exposure)
        return np.sum(day_weights[rows] * deviance, axis=1) + ridge[rows] * (
            (coefficients**2) @ penalty
        )

    current = objective(beta)
    for _ in range(iterations):
        eta = np.clip(beta @ x.T, -30.0, 30.0)
        mu = _mean(family, eta, exposure)
        if family == "binomial":
            var = np.maximum(mu * (1.0 - mu / np.where(ok, exposure, 1.0)), 1e-9)
        else:
            var = np.maximum(mu, 1e-9)
        z = eta + (y - mu) / var
        w = np.where(ok, weights * var, 0.0)
        lhs = _weighted_gram(w, x) + (
            ridge[:, None, None] * np.diag(penalty)[None] + 1e-9 * np.eye(p)[None]
        )
        rhs = (w * z) @ x
        previous = beta
        beta = np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0]
        # step halving: where a full step made the fit worse (a weight that collapsed near a
        # perfectly separated day overshoots), go half as far, until it is no worse
        new = objective(beta)
        for _ in range(HALVINGS):
            worse = ~(new <= current * (1.0 + 1e-12) + 1e-12)
            if not worse.any():
                break
            beta[worse] = 0.5 * (beta[worse] + previous[worse])
            new[worse] = objective(beta[worse], worse)
        current = new
        if np.max(np.abs(beta - previous)) < TOLERANCE:
            break
    return beta


# --- fitting an entrance's baseline ------------------------------------------------------------
@dataclass
class Design:
    """How feature values become the model's columns: one intercept per entrance, then the
    standardised features that vary in the training days."""

    entrances: list[str]
    features: list[str]
    center: np.ndarray
    scale: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def matrix(self, entrance: np.ndarray, values: pd.DataFrame) -> np.ndarray:
        onehot = (entrance[:, None] == np.array(self.entrances)[None, :]).astype(float)
        raw = values.reindex(columns=self.features).to_numpy(dtype=float)
        raw = np.where(np.isnan(raw), self.center, raw)  # unknown: the training mean
        return np.hstack([onehot, (raw - self.center) / self.scale])

    def out_of_range(self, values: pd.DataFrame) -> np.ndarray:
        """Days with a feature more than a quarter of its training range outside it."""
        raw = values.reindex(columns=self.features).to_numpy(dtype=float)
        margin = 0.25 * (self.high - self.low)
        with np.errstate(invalid="ignore"):
            out = (raw < self.low - margin) | (raw > self.high + margin)
        return np.any(out, axis=1)


@dataclass
class Baseline:
    """One entrance's fitted baseline for one outcome, with its acceptance."""

    outcome: Outcome
    entrance: str
    design: Design | None
    beta: np.ndarray | None
    training: dict[str, Any]
    fit: dict[str, Any]
    reasons: list[Explanation]
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    exposure: np.ndarray | None = None
    groups: np.ndarray | None = None  # block id of each training day
    penalty: np.ndarray | None = None
    out_of_range: dict[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.beta is not None and not self.reasons

    def predict(self, values: pd.DataFrame, exposure: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """Expected untreated outcome per day (replicates x days) for coefficient rows `beta`."""
        assert self.design is not None
        x = self.design.matrix(np.full(len(values), self.entrance), values)
        return _mean(self.outcome.family, np.clip(beta @ x.T, -30, 30), exposure[None, :])

    def describe(self) -> dict[str, Any]:
        """The model as the scorecard records it: form, coefficients, fit, acceptance."""
        o = self.outcome
        link = "logit" if o.family == "binomial" else "log"
        form = (
            f"binomial GLM, logit link: {o.describe}"
            if o.family == "binomial"
            else f"log-link GLM (quasi-Poisson) with {o.exposure} as exposure: {o.describe}"
        )
        doc: dict[str, Any] = {
            "outcome": o.name,
            "unit": o.unit,
            "form": form,
            "equation": (
                f"{link}(expected share) = intercept[entrance] + sum(coefficient * "
                "(feature - centre) / scale)"
                if o.family == "binomial"
                else f"expected {o.label} = {o.exposure} * exp(intercept[entrance] + "
                "sum(coefficient * (feature - centre) / scale))"
            ),
            "ridge": f"{RIDGE_DAYS:g} mean day's weight per slope; intercepts unpenalised",
            "training": self.training,
            "fit": self.fit,
            "acceptance": {
                "criteria": {**SUFFICIENCY, **ACCEPTANCE},
                "accepted": self.accepted,
                "reasons": [r.english() for r in self.reasons],
                "why": [r.record() for r in self.reasons],
            },
            "reporting_days_out_of_range": self.out_of_range,
            "model_error": model_error(self),
        }
        if self.design is not None and self.beta is not None:
            d = self.design
            k = len(d.entrances)
            doc["intercepts"] = dict(zip(d.entrances, self.beta[:k].tolist(), strict=True))
            doc["coefficients"] = [
                {
                    "feature": name,
                    "meaning": FEATURE_TEXT[name],
                    "centre": float(d.center[i]),
                    "scale": float(d.scale[i]),
                    "coefficient": float(self.beta[k + i]),
                }
                for i, name in enumerate(d.features)
            ]
        return doc


def _design(entrances: list[str], values: pd.DataFrame, features: tuple[str, ...]) -> Design:
    keep, centers, scales, lows, highs = [], [], [], [], []
    for name in features:
        column = values[name].to_numpy(dtype=float)
        known = column[np.isfinite(column)]
        if len(known) < 2 or float(np.std(known)) < 1e-9:
            continue
        keep.append(name)
        centers.append(float(np.mean(known)))
        scales.append(float(np.std(known)))
        lows.append(float(np.min(known)))
        highs.append(float(np.max(known)))
    return Design(
        entrances, keep, np.array(centers), np.array(scales), np.array(lows), np.array(highs)
    )


def fit_baseline(
    outcome: Outcome,
    entrance: str,
    rows: pd.DataFrame,
    reporting: pd.DataFrame,
) -> Baseline:
    """Fit one outcome's baseline. rows: training days (untreated school days) with columns
    entrance, day (datetime64[D]), `count`, `exposure`, optionally `per` (the outcome's `per`
    component) and FEATURES; reporting: the scored school days' FEATURES (for the range
    check)."""
    own = rows["entrance"].to_numpy() == entrance
    usable = rows["exposure"].to_numpy(dtype=float) > 0
    rows = rows[usable]
    own = own[usable]
    y = rows["count"].to_numpy(dtype=float)
    exposure = rows["exposure"].to_numpy(dtype=float)
    if outcome.family == "binomial":
        y = np.clip(y, 0.0, exposure)
    days = pd.DatetimeIndex(rows["day"].to_numpy())
    # a day "with the outcome" has more of it than next to nothing (not sensor noise alone)
    per = rows["per"].to_numpy(dtype=float) if "per" in rows else exposure
    event_days = int(np.sum(y > outcome.negligible * per))
    training: dict[str, Any] = {
        "own_days": int(own.sum()),
        "reference_days": int((~own).sum()),
        "event_days": event_days,
        "entrances": sorted(set(rows["entrance"])),
        "from": days.min().date().isoformat() if len(days) else None,
        "to": days.max().date().isoformat() if len(days) else None,
    }
    reasons: list[Explanation] = []
    s = SUFFICIENCY
    if own.sum() < s["min_own_days"]:
        reasons.append(
            Explanation(
                N_("{days} own baseline days (at least {needed} needed)"),
                {"days": int(own.sum()), "needed": s["min_own_days"]},
            )
        )
    if len(rows) < s["min_days"]:
        reasons.append(
            Explanation(
                N_("{days} baseline days (at least {needed} needed)"),
                {"days": len(rows), "needed": s["min_days"]},
            )
        )
    if event_days < s["min_event_days"]:
        reasons.append(
            Explanation(
                N_("{days} baseline days with {outcome} (at least {needed} needed)"),
                {
                    "days": event_days,
                    "outcome": outcome.label,
                    "needed": s["min_event_days"],
                },
            )
        )
    if reasons and own.sum() == 0:
        return Baseline(outcome, entrance, None, None, training, {}, reasons)
    entrances = sorted(set(rows["entrance"]))
    design = _design(entrances, rows, outcome.features)
    x = design.matrix(rows["entrance"].to_numpy(), rows)
    penalty = np.concatenate([np.zeros(len(entrances)), np.ones(len(design.features))])
    beta = fit_glm(x, y, exposure, outcome.family, np.ones((1, len(y))), penalty)[0]
    # held-out check: whole weeks in FOLDS folds, scored on the entrance's own days
    week = np.asarray(rows["day"].to_numpy(), dtype="datetime64[D]").astype(np.int64) // 7
    fold = week % FOLDS
    predicted = np.full(len(y), np.nan)
    folds = [k for k in range(FOLDS) if ((fold == k) & own).any() and ((fold != k) & own).any()]
    if folds:  # all folds in one stacked fit
        weights = np.vstack([(fold != k).astype(float) for k in folds])
        fold_betas = fit_glm(x, y, exposure, outcome.family, weights, penalty, start=beta)
        for k, fold_beta in zip(folds, fold_betas, strict=True):
            test = (fold == k) & own
            predicted[test] = _mean(outcome.family, x[test] @ fold_beta, exposure[test])
    held = own & np.isfinite(predicted)
    fit: dict[str, Any] = {"held_out_days": int(held.sum()), "folds": FOLDS}
    if held.sum() >= 3 and np.sum(y[held]) > 0:
        mean_y = float(np.mean(y[held]))
        fit["cv_rmse"] = float(np.sqrt(np.mean((y[held] - predicted[held]) ** 2)) / mean_y)
        fit["nmbe"] = float(np.sum(y[held] - predicted[held]) / np.sum(y[held]))
        if fit["cv_rmse"] > ACCEPTANCE["max_cv_rmse"]:
            reasons.append(
                Explanation(
                    N_("held-out CV(RMSE) {value} above {limit}"),
                    {
                        "value": styled("percent", fit["cv_rmse"]),
                        "limit": styled("percent", ACCEPTANCE["max_cv_rmse"]),
                    },
                )
            )
        if abs(fit["nmbe"]) > ACCEPTANCE["max_abs_nmbe"]:
            reasons.append(
                Explanation(
                    N_("held-out NMBE {value} outside ±{limit}"),
                    {
                        "value": styled("signed_percent", fit["nmbe"]),
                        "limit": styled("percent", ACCEPTANCE["max_abs_nmbe"]),
                    },
                )
            )
    else:
        fit["cv_rmse"] = None
        fit["nmbe"] = None
        reasons.append(
            Explanation(N_("too few own held-out days with the outcome to check the model"))
        )
    in_sample = _mean(outcome.family, x @ beta, exposure)
    fit["in_sample_total"] = float(np.sum(y))
    fit["in_sample_predicted_total"] = float(np.sum(in_sample))
    out = design.out_of_range(reporting)
    out_share = float(out.mean()) if len(out) else 0.0
    if out_share > s["max_out_of_range_share"]:
        reasons.append(
            Explanation(
                N_(
                    "{days} of {total} reporting school days outside the baseline's weather and "
                    "footfall range"
                ),
                {"days": int(out.sum()), "total": len(out)},
            )
        )
    entrance_of = rows["entrance"].to_numpy()
    groups = np.array([f"{e}|{w}" for e, w in zip(entrance_of, week, strict=True)])
    return Baseline(
        outcome,
        entrance,
        design,
        beta,
        training,
        fit,
        reasons,
        x,
        y,
        exposure,
        groups,
        penalty,
        {"days": int(out.sum()), "of": len(out)},
    )


def block_weights(
    groups: np.ndarray, entrances: np.ndarray, resamples: int, seed: int
) -> np.ndarray:
    """Bootstrap day weights (resamples x days): whole blocks (an entrance's calendar week)
    drawn with replacement, each entrance as many blocks as it has."""
    rng = np.random.default_rng(seed)
    weights = np.zeros((resamples, len(groups)))
    for entrance in sorted(set(entrances.tolist())):
        mine = np.flatnonzero(entrances == entrance)
        names, inverse = np.unique(groups[mine], return_inverse=True)
        picks = rng.integers(0, len(names), size=(resamples, len(names)))
        counts = np.zeros((resamples, len(names)))
        np.add.at(counts, (np.arange(resamples)[:, None], picks), 1.0)
        weights[:, mine] = counts[:, inverse]
    return weights


def refit_replicates(baseline: Baseline, resamples: int, seed: int) -> np.ndarray:
    """Coefficients refitted on block-resampled baseline days (resamples x p)."""
    assert baseline.x is not None and baseline.y is not None and baseline.exposure is not None
    assert baseline.groups is not None and baseline.penalty is not None
    entrances = np.array([g.split("|", 1)[0] for g in baseline.groups])
    weights = block_weights(baseline.groups, entrances, resamples, seed)
    return fit_glm(
        baseline.x,
        baseline.y,
        baseline.exposure,
        baseline.outcome.family,
        weights,
        baseline.penalty,
        start=baseline.beta,
        iterations=BOOT_ITERATIONS,
    )


def model_error(baseline: Baseline) -> float:
    """The relative error of a period's expected untreated total, from the held-out check:
    its bias (|NMBE|) and the daily scatter averaged over the held-out days
    (CV(RMSE) / sqrt(days)), together in quadrature. 0 without a check."""
    fit = baseline.fit
    cv, nmbe, days = fit.get("cv_rmse"), fit.get("nmbe"), fit.get("held_out_days") or 0
    if cv is None or nmbe is None or days <= 0:
        return 0.0
    return float(math.hypot(float(nmbe), float(cv) / math.sqrt(days)))
