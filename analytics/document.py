"""The scorecard document: one installation's result for a period as procurement pays by it,
in canonical JSON (sorted keys, floats rounded to 6 decimals, NaN as null, no wall-clock time)
with the registry's content hash and the code version, so that anyone can recompute it and get
the same bytes.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.baseline import AVOIDED_OUTCOME, LEVEL_OUTCOME, Baseline
from analytics.effects import BLOCK_DAYS, Estimate
from analytics.entrance import role_sensors
from analytics.health import SensorHealth, SuspectInterval
from analytics.kpis import KPI_INPUTS
from analytics.payment import bonus_malus, judge, weighted_score, why_not_in_contract
from floorwatch import __version__
from floorwatch.localtime import LOCAL_TZ, active_on, local_days_between
from floorwatch.registry import Registry
from floorwatch.registry.schema import (
    CONTRACT_KPIS,
    KPI_HIGHER_IS_BETTER,
    Contract,
    Entrance,
    Installation,
    Kpi,
)

MAX_LISTED_INTERVALS = 500


# --- canonical JSON ---------------------------------------------------------------------------
def canonical_value(value: Any, digits: int = 6) -> Any:
    """A value as the canonical JSON holds it: floats rounded to `digits`, NaN as None, numpy
    scalars as Python ones, containers recursively."""
    if isinstance(value, float | np.floating):
        number = float(value)
        return round(number, digits) + 0.0 if math.isfinite(number) else None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): canonical_value(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v, digits) for v in value]
    return value


def canonical_json(document: dict[str, Any]) -> str:
    """Sorted keys, compact separators, floats rounded to 6 decimals, NaN as null."""
    return json.dumps(
        canonical_value(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, str]:
    """floorwatch's version and the git commit of this checkout ("unknown" outside git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"floorwatch": __version__, "git_commit": commit or "unknown"}


# --- the document -------------------------------------------------------------------------------
def scorecard_document(
    registry: Registry,
    contract: Contract,
    inst: Installation,
    period: str,
    own: pd.DataFrame,
    estimates: dict[Kpi, Estimate],
    baselines: dict[str, Baseline],
    relief: dict[Kpi, np.ndarray],
    health: dict[str, SensorHealth],
    intervals: list[SuspectInterval],
    start: datetime,
    end: datetime,
    reproducibility: dict[str, Any],
) -> dict[str, Any]:
    """One installation's scorecard: per KPI the measured value, expected untreated,
    improvement, how it was judged and why, the baselines (form, coefficients, fit,
    acceptance); score, bonus/malus and payment; the data behind it, the readings left out and
    how to recompute it (`reproducibility`: seed, bootstrap resamples, health rules)."""
    entrance, school = registry.entrance(inst.entrance)
    roles = _roles(entrance)
    sensors = {s.id: health[s.id] for s in entrance.sensors if s.id in health}
    kpis: dict[str, Any] = {}
    statuses: dict[str, str] = {}
    weights: dict[str, float] = {}
    for kpi in CONTRACT_KPIS:
        terms = contract.kpis.get(kpi)
        touched = [roles[r] for r in _touched_roles(kpi) if r in roles]
        availability = min(
            (sensors[s].availability for s in touched if s in sensors), default=float("nan")
        )
        if not touched:
            availability = float("nan")
        est = estimates[kpi]
        baseline = baselines.get(AVOIDED_OUTCOME[kpi])
        level_name = LEVEL_OUTCOME.get(kpi)
        level_baseline = (
            baselines.get(level_name)
            if level_name is not None and level_name != AVOIDED_OUTCOME[kpi]
            else None
        )
        excused = relief.get(kpi)
        excused_days = (
            [pd.Timestamp(d).date().isoformat() for d in own.index[excused]]
            if excused is not None
            else []
        )
        entry: dict[str, Any] = {
            "raw": est.measured.value,
            "raw_low": est.measured.low,
            "raw_high": est.measured.high,
            "expected_untreated": est.expected.value,
            "expected_untreated_low": est.expected.low,
            "expected_untreated_high": est.expected.high,
            "improvement": est.improvement.value,
            "improvement_low": est.improvement.low,
            "improvement_high": est.improvement.high,
            "events": est.events,
            "higher_is_better": KPI_HIGHER_IS_BETTER[kpi],
            "availability": availability,
            "sensors": sorted(touched),
            "relief_days": excused_days,
            "baseline": baseline.describe() if baseline is not None else None,
            "level_baseline": (level_baseline.describe() if level_baseline is not None else None),
        }
        if terms is None:
            entry.update(
                {
                    "basis": None,
                    "judged_on": None,
                    "judged": None,
                    "judged_low": None,
                    "judged_high": None,
                    "target": None,
                    "weight": 0.0,
                    "status": "not_in_contract",
                    "reason": why_not_in_contract().english(),
                    "why": [why_not_in_contract().record()],
                }
            )
        else:
            verdict = judge(
                kpi,
                terms,
                est,
                baseline,
                availability,
                contract.min_data_availability,
                len(excused_days),
            )
            entry.update(
                {
                    "basis": str(terms.basis),
                    "judged_on": verdict.judged_on,
                    "judged": verdict.value.value,
                    "judged_low": verdict.value.low,
                    "judged_high": verdict.value.high,
                    "target": verdict.target,
                    "level_target": terms.target,
                    "improvement_target": terms.improvement_target,
                    "weight": terms.weight,
                    "status": verdict.status,
                    "reason": verdict.reason,
                    "why": [e.record() for e in verdict.why],
                }
            )
            statuses[kpi] = verdict.status
            weights[kpi] = terms.weight
        kpis[str(kpi)] = entry
    received = sum(h.received for h in sensors.values())
    expected = sum(h.expected for h in sensors.values())
    overall = min(1.0, received / expected) if expected > 0 else float("nan")
    kpis[str(Kpi.DATA_AVAILABILITY)] = {
        "raw": overall,
        "judged": overall,
        "target": contract.min_data_availability,
        "weight": 0.0,
        "availability": overall,
        "status": (
            "pass"
            if math.isfinite(overall) and overall >= contract.min_data_availability
            else "insufficient"
        ),
    }
    score = weighted_score(statuses, weights)
    days_total = len(local_days_between(start, end))
    active_days = _active_calendar_days(inst, contract, start, end)
    base = contract.bonus_malus.base_payment_sek * active_days / days_total if days_total else 0.0
    amount = bonus_malus(score, contract.bonus_malus, base)
    counts = {
        s: sum(1 for v in statuses.values() if v == s)
        for s in ("pass", "fail", "insufficient", "not_judged")
    }
    listed = sorted(intervals, key=lambda i: (i.start_ms, i.sensor_id, i.reason))
    return {
        "contract": contract.id,
        "supplier": inst.supplier,
        "installation": inst.id,
        "entrance": entrance.id,
        "school": school.id,
        "municipality": school.municipality,
        "period": period,
        "from": start.astimezone(LOCAL_TZ).date().isoformat(),
        "to": (end - timedelta(seconds=1)).astimezone(LOCAL_TZ).date().isoformat(),
        "kpis": kpis,
        "score": score,
        "status": "insufficient" if not math.isfinite(score) else "scored",
        "status_counts": counts,
        "payment": {
            "base_payment_sek": round(base, 2),
            "bonus_malus_sek": round(amount, 2),
            "payment_sek": round(base + amount, 2),
            "active_days": active_days,
            "period_days": days_total,
            "rule": contract.bonus_malus.model_dump(),
            "depends_on": "this installation's own data, baseline and the contract only",
        },
        "thresholds": {
            "wet_threshold": contract.wet_threshold,
            "dirt_threshold": contract.dirt_threshold,
            "min_data_availability": contract.min_data_availability,
        },
        "data": {
            "days_scored": len(own),
            "school_days": int((own["occupied_minutes"] > 0).sum()),
            "occupied_minutes": float(own["occupied_minutes"].sum()),
            "passages": float(own["passages"].sum()),
            "sensors": {
                sid: {
                    "received": h.received,
                    "expected": h.expected,
                    "availability": h.availability,
                    "suspect_minutes": h.suspect_minutes,
                    "status": h.status,
                    "reasons": list(h.reasons),
                }
                for sid, h in sorted(sensors.items())
            },
        },
        "excluded": [i.to_dict() for i in listed[:MAX_LISTED_INTERVALS]],
        "excluded_total": len(listed),
        "method": METHOD_SUMMARY,
        "registry_hash": registry.content_hash,
        "reproducibility": {
            "registry_hash": registry.content_hash,
            "registry_files": sorted(Path(f).name for f in registry.files),
            "code_version": code_version(),
            **reproducibility,
            "bootstrap_block_days": BLOCK_DAYS,
        },
    }


METHOD_SUMMARY = (
    "Payment: each KPI judged as the contract's basis says, on this installation's own data: "
    "improvement = 1 - measured outcome / the entrance's own baseline's expected untreated "
    "outcome for the same days, or the measured level (with the contract's relief days left "
    "out). Intervals: block bootstrap over days with the baseline refitted in each replicate."
)


def _roles(entrance: Entrance) -> dict[str, str]:
    return {role: sensor.id for role, sensor in role_sensors(entrance).items()}


def _touched_roles(kpi: Kpi) -> list[str]:
    names = {
        ("inner", "moisture"): "inner_moisture",
        ("inner", "dirt"): "inner_dirt",
        ("upstream", "dirt"): "upstream_dirt",
        ("entry", "footfall"): "passages",
    }
    return [names[pair] for pair in KPI_INPUTS[kpi]]


def _active_calendar_days(
    inst: Installation, contract: Contract, start: datetime, end: datetime
) -> int:
    return sum(
        1
        for d in local_days_between(start, end)
        if active_on(inst.start, inst.end, d) and active_on(contract.start, contract.end, d)
    )
