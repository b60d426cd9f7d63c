"""The comparison across suppliers, for the procurement's evaluation and award (not payment).

Suppliers are compared on effects: each installation's improvement over its own entrance's
counterfactual (`analytics.effects`) in what the solution is judged to avoid (water and dirt on
the inner floor, without thresholds), so identical solutions at a wet and a dry school come out
alike. The comparison's counterfactuals keep each entrance's own intercept but learn the weather
slopes from every untreated entrance-day of the scored schools (at a drizzly school a month has
too few wet days to learn them; payment never does this). An installation whose comparison model
misses the acceptance criteria still counts, flagged, with that model's held-out error in its
interval, so it ranks but rarely wins a tested difference. A supplier's effect per KPI is the
mean over its installations that expect at least RANKED_FROM of their outcome's `negligible`.
Two suppliers are compared by testing their DIFFERENCE, on days of comparable conditions: how
much a solution avoids depends on how much there is to avoid (a mat that keeps a drizzle off the
floor saturates in a downpour), so a supplier whose entrances had only light days and one whose
entrances had heavy ones cannot be told apart by their solutions, only by their weather. Each
compared day is put in a stratum by its expected untreated outcome per unit (`per`: occupied
minute, passage, point of upstream build-up) within a factor of LOAD_STRATUM, from the outcome's
`negligible` up (days below it had next to nothing to avoid); the difference is the mean, over
the strata both suppliers have at least MIN_STRATUM_DAYS days in, of their improvements there,
weighted by the two suppliers' expected untreated outcome in the stratum (coarsened exact
matching, Iacus, King and Porro 2012). Without such a stratum there is no test: "no difference
shown", with that reason. The bootstrap replicates of both (independent per installation: days
in blocks, refitted baselines, measurement error) give the difference's standard error; z =
difference / SE, a two-sided p-value, and Holm's correction over every pair and KPI of the
contract. Where the corrected p-value is 0.05 or more the outcome is "no difference shown": a
first-class result. Overall: the contract-weighted mean over the KPIs every compared supplier has
(the ranking), and over those of them with comparable days (the test).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.baseline import AVOIDED_OUTCOME, OUTCOME_NAMED, Baseline
from analytics.effects import AvoidedDays, Estimate, avoided_share
from floorwatch.registry.schema import IMPROVEMENT_KPIS, Contract, Kpi

ALPHA = 0.05
NO_DIFFERENCE = "no difference shown"
NOT_COMPARABLE = "no days of comparable conditions"
OVERALL = "overall"
LOAD_STRATUM = 4.0  # a stratum's days expect within a factor of 4 of each other per unit
MIN_STRATUM_DAYS = 2  # per supplier, for a stratum to be compared
# An installation ranks when its expected untreated outcome is at least this share of its
# outcome's `negligible` (a few times a dry floor's sensor noise): a supplier whose entrances had
# a nearly dry month still ranks, on a wide interval, while the tests use only days above
# `negligible`. Payment judges such an installation on its measured level.
RANKED_FROM = 0.2


@dataclass(frozen=True)
class Compared:
    """One installation's part in the comparison."""

    supplier: str
    installation: str
    estimates: dict[Kpi, Estimate]
    baselines: dict[Kpi, Baseline]
    score: float


def _p_value(difference: float, replicates: np.ndarray) -> tuple[float, float, float, float]:
    """(standard error, p, low, high) of a difference from its bootstrap replicates."""
    finite = replicates[np.isfinite(replicates)]
    if len(finite) < 0.5 * len(replicates) or len(finite) < 2:
        return float("nan"), 1.0, float("nan"), float("nan")
    se = float(np.std(finite, ddof=1))
    low, high = (float(v) for v in np.percentile(finite, [2.5, 97.5]))
    if se <= 0:
        return se, (0.0 if difference != 0 else 1.0), low, high
    z = abs(difference) / se
    return se, math.erfc(z / math.sqrt(2.0)), low, high


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# per supplier: (effect, bootstrap replicates, installations used, their days)
SupplierEffect = tuple[float, np.ndarray, list[str], list[AvoidedDays]]


def _effects(
    items: list[Compared], kpis: list[Kpi]
) -> tuple[dict[str, dict[str, SupplierEffect]], list[dict[str, str]], list[dict[str, Any]]]:
    """Per KPI, per supplier its effect; what was left out and why; and which installation's
    improvement went in."""
    left_out: list[dict[str, str]] = []
    used: list[dict[str, Any]] = []
    out: dict[str, dict[str, SupplierEffect]] = {}
    for kpi in kpis:
        per: dict[str, list[tuple[str, float, np.ndarray, AvoidedDays]]] = {}
        for item in items:
            est, base = item.estimates[kpi], item.baselines.get(kpi)
            if base is None or base.beta is None or est.days is None:
                reason = "no baseline model"
            elif not est.expected_share >= RANKED_FROM * base.outcome.negligible:
                reason = "next to nothing to avoid without the solution"
            elif not math.isfinite(est.improvement.value):
                reason = "no improvement could be computed"
            else:
                per.setdefault(item.supplier, []).append(
                    (item.installation, est.improvement.value, est.replicates, est.days)
                )
                used.append(
                    {
                        "installation": item.installation,
                        "kpi": str(kpi),
                        "improvement": est.improvement.value,
                        "improvement_low": est.improvement.low,
                        "improvement_high": est.improvement.high,
                        "baseline_accepted": base.accepted,
                        "baseline_reasons": [r.english() for r in base.reasons],
                    }
                )
                continue
            left_out.append({"installation": item.installation, "kpi": str(kpi), "reason": reason})
        out[str(kpi)] = {
            supplier: (
                float(np.mean([row[1] for row in rows])),
                np.nanmean(np.vstack([row[2] for row in rows]), axis=0)
                if len(rows) > 1
                else rows[0][2],
                sorted(row[0] for row in rows),
                [row[3] for row in rows],
            )
            for supplier, rows in sorted(per.items())
        }
    return out, left_out, used


@dataclass(frozen=True)
class Matched:
    """Two suppliers' difference in improvement on days of comparable conditions (module
    docstring): a's minus b's, its bootstrap replicates, and what it was computed on."""

    difference: float  # NaN: no stratum both suppliers have enough days in
    replicates: np.ndarray
    strata: int  # strata compared
    days: dict[str, int]  # per supplier: its days in the compared strata
    compared_share: dict[str, float]  # per supplier: share of its expected outcome compared
    kpis: tuple[str, ...] = ()  # overall: the KPIs it was computed on


def strata(days: AvoidedDays, negligible: float) -> np.ndarray:
    """Each day's stratum: floor(log of its expected untreated outcome per unit over
    `negligible`, base LOAD_STRATUM); -1 for a day with next to nothing to avoid."""
    with np.errstate(divide="ignore", invalid="ignore"):
        load = np.where(days.per > 0, days.expected / days.per, 0.0)
    out = np.full(len(load), -1, dtype=int)
    ok = load >= negligible
    out[ok] = np.floor(np.log(load[ok] / negligible) / math.log(LOAD_STRATUM)).astype(int)
    return out


@dataclass
class _Stratum:
    """One supplier's days of one stratum, summed: points and bootstrap replicates."""

    days: int = 0
    measured: float = 0.0
    expected: float = 0.0
    measured_replicates: np.ndarray | float = 0.0
    expected_replicates: np.ndarray | float = 0.0

    def add(self, days: AvoidedDays, mask: np.ndarray) -> None:
        counts = days.counts * mask[None, :]
        self.days += int(mask.sum())
        self.measured += float(days.measured[mask].sum())
        self.expected += float(days.expected[mask].sum())
        self.measured_replicates = self.measured_replicates + (
            (counts @ days.measured) * days.measurement
        )
        self.expected_replicates = self.expected_replicates + np.sum(
            counts * days.expected_replicates, axis=1
        )


def _by_stratum(installations: list[AvoidedDays], negligible: float) -> dict[int, _Stratum]:
    out: dict[int, _Stratum] = {}
    for days in installations:
        of_day = strata(days, negligible)
        for k in np.unique(of_day[of_day >= 0]):
            out.setdefault(int(k), _Stratum()).add(days, of_day == k)
    return out


def _weighted(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over the first axis, over the finite values (NaN where none is)."""
    w = np.where(np.isfinite(values), weights.reshape(-1, *([1] * (values.ndim - 1))), 0.0)
    total = w.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, np.nansum(values * w, axis=0) / total, np.nan)


def matched_difference(
    a: list[AvoidedDays],
    b: list[AvoidedDays],
    negligible: float,
    names: tuple[str, str],
    resamples: int,
) -> Matched:
    """a's improvement minus b's on the strata both have MIN_STRATUM_DAYS days in (module
    docstring); each list holds a supplier's installations' days."""
    of_a, of_b = _by_stratum(a, negligible), _by_stratum(b, negligible)
    common = sorted(
        k for k in of_a.keys() & of_b.keys() if min(of_a[k].days, of_b[k].days) >= MIN_STRATUM_DAYS
    )
    expected_total = {
        names[0]: sum(float(d.expected.sum()) for d in a),
        names[1]: sum(float(d.expected.sum()) for d in b),
    }

    def share(name: str, part: dict[int, _Stratum]) -> float:
        covered = sum(part[k].expected for k in common)
        return covered / expected_total[name] if expected_total[name] > 0 else 0.0

    days = {
        names[0]: sum(of_a[k].days for k in common),
        names[1]: sum(of_b[k].days for k in common),
    }
    shares = {names[0]: share(names[0], of_a), names[1]: share(names[1], of_b)}
    if not common:
        return Matched(float("nan"), np.full(resamples, np.nan), 0, days, shares)
    weights = np.array([of_a[k].expected + of_b[k].expected for k in common])
    point = np.array(
        [
            avoided_share(of_a[k].measured, of_a[k].expected)
            - avoided_share(of_b[k].measured, of_b[k].expected)
            for k in common
        ],
        dtype=float,
    )
    replicates = np.vstack(
        [
            avoided_share(of_a[k].measured_replicates, of_a[k].expected_replicates)
            - avoided_share(of_b[k].measured_replicates, of_b[k].expected_replicates)
            for k in common
        ]
    )
    return Matched(
        float(_weighted(point, weights)), _weighted(replicates, weights), len(common), days, shares
    )


def _overall(parts: dict[str, tuple[float, Matched]], resamples: int) -> Matched:
    """The contract-weighted mean of per-KPI matched differences (weight, difference), over the
    KPIs with comparable days."""
    kept = {k: (w, m) for k, (w, m) in parts.items() if math.isfinite(m.difference)}
    if not kept:
        return Matched(float("nan"), np.full(resamples, np.nan), 0, {}, {})
    weights = np.array([w for w, _ in kept.values()])
    point = np.array([m.difference for _, m in kept.values()])
    replicates = np.vstack([m.replicates for _, m in kept.values()])
    return Matched(
        float(_weighted(point, weights)),
        _weighted(replicates, weights),
        sum(m.strata for _, m in kept.values()),
        {},
        {},
        tuple(kept),
    )


def compare(
    contract: Contract, period: str, items: list[Compared], resamples: int, registry_hash: str
) -> dict[str, Any]:
    """The comparison document of one contract and period (module docstring)."""
    kpis = [k for k in contract.kpis if k in IMPROVEMENT_KPIS]
    kpis.sort(key=str)
    effects, left_out, used = _effects(items, kpis)
    suppliers = sorted({i.supplier for i in items})
    shared = [k for k in kpis if suppliers and all(s in effects[str(k)] for s in suppliers)]
    weights = {str(k): contract.kpis[k].weight for k in shared}
    total = sum(weights.values())
    if shared and total > 0:
        effects[OVERALL] = {
            s: (
                sum(weights[str(k)] * effects[str(k)][s][0] for k in shared) / total,
                np.sum([weights[str(k)] * effects[str(k)][s][1] for k in shared], axis=0) / total,
                sorted({i for k in shared for i in effects[str(k)][s][2]}),
                [],
            )
            for s in suppliers
        }
    matched: dict[tuple[str, str, str], Matched] = {}
    for kpi in kpis:
        per = effects[str(kpi)]
        negligible = OUTCOME_NAMED[AVOIDED_OUTCOME[kpi]].negligible
        for a, b in itertools.combinations(sorted(per), 2):
            matched[(str(kpi), a, b)] = matched_difference(
                per[a][3], per[b][3], negligible, (a, b), resamples
            )
    for a, b in itertools.combinations(sorted(effects.get(OVERALL, {})), 2):
        matched[(OVERALL, a, b)] = _overall(
            {str(k): (weights[str(k)], matched[(str(k), a, b)]) for k in shared}, resamples
        )
    tests: list[dict[str, Any]] = []
    for (name, a, b), m in matched.items():
        se, p, low, high = _p_value(m.difference, m.replicates)
        tests.append(
            {
                "kpi": name,
                "a": a,
                "b": b,
                "difference": m.difference,
                "difference_low": low,
                "difference_high": high,
                "standard_error": se,
                "p": p,
                "comparable": m.strata > 0,
                "strata": m.strata,
                "days_compared": m.days,
                "expected_share_compared": m.compared_share,
                **({"kpis": list(m.kpis)} if name == OVERALL else {}),
                **({} if m.strata > 0 else {"reason": NOT_COMPARABLE}),
            }
        )
    for test, adjusted in zip(tests, holm([t["p"] for t in tests]), strict=True):
        test["p_holm"] = adjusted
        if adjusted < ALPHA and math.isfinite(test["difference"]):
            better = test["a"] if test["difference"] > 0 else test["b"]
            test["outcome"] = f"{better} better"
            test["better"] = better
        else:
            test["outcome"] = NO_DIFFERENCE
            test["better"] = None

    def ranking(name: str) -> dict[str, Any]:
        per = effects.get(name, {})
        rows: list[dict[str, Any]] = []
        for supplier, (effect, replicates, used, _) in per.items():
            finite = replicates[np.isfinite(replicates)]
            low, high = (
                (float(v) for v in np.percentile(finite, [2.5, 97.5]))
                if len(finite) >= 0.5 * len(replicates) and len(finite)
                else (float("nan"), float("nan"))
            )
            beats = sorted(
                (t["b"] if t["better"] == t["a"] else t["a"])
                for t in tests
                if t["kpi"] == name and t["better"] == supplier
            )
            rows.append(
                {
                    "supplier": supplier,
                    "effect": effect,
                    "effect_low": min(low, effect),
                    "effect_high": max(high, effect),
                    "installations": used,
                    "better_than": beats,
                }
            )
        rows.sort(key=lambda r: (-float(r["effect"]), str(r["supplier"])))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        mine = [t for t in tests if t["kpi"] == name]
        return {
            "ranking": rows,
            "differences": mine,
            "no_difference_shown": all(t["better"] is None for t in mine),
        }

    overall = ranking(OVERALL)
    scores: dict[str, list[float]] = {}
    for item in items:
        scores.setdefault(item.supplier, []).append(item.score)
    return {
        "contract": contract.id,
        "period": period,
        "ranking": overall["ranking"],
        "differences": overall["differences"],
        "no_difference_shown": overall["no_difference_shown"],
        "by_kpi": {str(k): ranking(str(k)) for k in kpis},
        "overall_kpis": [str(k) for k in shared],
        "left_out": left_out,
        "effects_used": used,
        # the comparison's own counterfactuals, so that anyone can recompute its effects
        "models": {
            item.installation: {
                name: base.describe()
                for name, base in {b.outcome.name: b for b in item.baselines.values()}.items()
            }
            for item in sorted(items, key=lambda i: i.installation)
        },
        "mean_score": {
            s: (float(np.nanmean(v)) if any(math.isfinite(x) for x in v) else None)
            for s, v in sorted(scores.items())
        },
        "method": (
            "Effects: each installation's improvement over its own entrance's counterfactual "
            "(share of the expected untreated water or dirt on the inner floor avoided; weather "
            "slopes learnt from every untreated entrance-day, intercepts per entrance), averaged "
            "per supplier. "
            "Differences between two suppliers tested on days of comparable conditions: strata "
            "of the expected untreated outcome per unit within a factor of "
            f"{LOAD_STRATUM:g}, those both suppliers have {MIN_STRATUM_DAYS} or more days in, "
            "weighted by their expected untreated outcome (coarsened exact matching); the "
            "bootstrap of the difference gives its standard error (z test), Holm-corrected "
            f"over {len(tests)} tests at {ALPHA:g}; otherwise, or without such a stratum "
            f"({NOT_COMPARABLE}): {NO_DIFFERENCE}."
        ),
        "registry_hash": registry_hash,
    }
