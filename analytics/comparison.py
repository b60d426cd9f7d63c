"""The comparison across suppliers, for the procurement's evaluation and award (not payment).

Suppliers are compared on effects: each installation's improvement over its own entrance's
counterfactual (`analytics.effects`) in what the solution is judged to avoid (water and dirt on
the inner floor, without thresholds), so identical solutions at a wet and a dry school come out
alike. The comparison's counterfactuals keep each entrance's own intercept but learn the weather
slopes from every untreated entrance-day of the scored schools (at a drizzly school a month has
too few wet days to learn them; payment never does this). An installation whose comparison model
misses the acceptance criteria still counts, flagged, with that model's held-out error in its
interval, so it ranks but rarely wins a tested difference. A supplier's effect per KPI is the
mean over its installations.
Two suppliers are compared by testing their DIFFERENCE: the bootstrap replicates of both effects
(independent per installation) give the difference's standard error; z = difference / SE, a
two-sided p-value, and Holm's correction over every pair and KPI of the contract. Where the
corrected p-value is 0.05 or more the outcome is "no difference shown": a first-class result.
The overall effect is the contract-weighted mean over the KPIs every compared supplier has.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.baseline import Baseline
from analytics.effects import Estimate
from floorwatch.registry.schema import IMPROVEMENT_KPIS, Contract, Kpi

ALPHA = 0.05
NO_DIFFERENCE = "no difference shown"
OVERALL = "overall"


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


def _effects(
    items: list[Compared], kpis: list[Kpi], resamples: int
) -> tuple[
    dict[str, dict[str, tuple[float, np.ndarray, list[str]]]],
    list[dict[str, str]],
    list[dict[str, Any]],
]:
    """Per KPI, per supplier: (effect, replicates, installations used); what was left out and
    why; and which installation's improvement went in."""
    left_out: list[dict[str, str]] = []
    used: list[dict[str, Any]] = []
    out: dict[str, dict[str, tuple[float, np.ndarray, list[str]]]] = {}
    for kpi in kpis:
        per: dict[str, list[tuple[str, float, np.ndarray]]] = {}
        for item in items:
            est, base = item.estimates[kpi], item.baselines.get(kpi)
            if base is None or base.beta is None:
                reason = "no baseline model"
            elif est.negligible:
                reason = "next to nothing to avoid without the solution"
            elif not math.isfinite(est.improvement.value):
                reason = "no improvement could be computed"
            else:
                per.setdefault(item.supplier, []).append(
                    (item.installation, est.improvement.value, est.replicates)
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
                float(np.mean([v for _, v, _ in rows])),
                np.nanmean(np.vstack([r for _, _, r in rows]), axis=0)
                if len(rows) > 1
                else rows[0][2],
                sorted(i for i, _, _ in rows),
            )
            for supplier, rows in sorted(per.items())
        }
    return out, left_out, used


def compare(
    contract: Contract, period: str, items: list[Compared], resamples: int, registry_hash: str
) -> dict[str, Any]:
    """The comparison document of one contract and period (module docstring)."""
    kpis = [k for k in contract.kpis if k in IMPROVEMENT_KPIS]
    kpis.sort(key=str)
    effects, left_out, used = _effects(items, kpis, resamples)
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
            )
            for s in suppliers
        }
    tests: list[dict[str, Any]] = []
    for name, per in effects.items():
        for a, b in itertools.combinations(sorted(per), 2):
            difference = per[a][0] - per[b][0]
            se, p, low, high = _p_value(difference, per[a][1] - per[b][1])
            tests.append(
                {
                    "kpi": name,
                    "a": a,
                    "b": b,
                    "difference": difference,
                    "difference_low": low,
                    "difference_high": high,
                    "standard_error": se,
                    "p": p,
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
        for supplier, (effect, replicates, used) in per.items():
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
            "Differences between two suppliers tested on the bootstrap of the difference "
            f"(z test on its standard error), Holm-corrected over {len(tests)} tests at "
            f"{ALPHA:g}; otherwise: {NO_DIFFERENCE}."
        ),
        "registry_hash": registry_hash,
    }
