"""Counterfactual ground truth: what each entrance would have been untreated, or with another
supplier's solution, under the same weather and footfall.

`Counterfactual(sim)` reruns the entrance physics of a simulation (`Simulation.entrance_truths`)
with the treatment swapped, never forking the model:
- `actual`: as the registry says (the simulation itself),
- `BASELINE` ("baseline"): every entrance untreated for the whole span,
- each supplier id: that supplier's solution (its scenario profile) on every day an installation
  acts at an entrance, whoever the installation's supplier is; baseline on the other days.
Weather, footfall and cleaning schedules come from their own seeded streams, so every run sees
the same rain and the same people; the same simulation gives the same truth.

True KPIs are computed from the noise-free minute state of the inner zone during occupied time
(opening hours on school days, local time), with the contract's thresholds, as the contract
defines them (and as `analytics.kpis` implements them; simulators do not import analytics, and a
test checks both agree on the same series):
    dry_time_share    occupied minutes with moisture % <= wet_threshold / occupied minutes
    clean_time_share  occupied minutes with dirt index <= dirt_threshold / occupied minutes
    wet_recovery_p90  90th percentile length (min) of wet episodes that touch occupied time,
                      by the day they start; wet from above the threshold until at or below
                      threshold - WET_HYSTERESIS. None: no wet episodes
    slip_exposure     passages in wet minutes per 1,000 passages
    dirt_capture      1 - inner dirt build-up / upstream (entry, else outside) build-up, in
                      index points per occupied minute, falls of CLEANING_DROP or more (a
                      cleaning) counting 0
A KPI with nothing to count is None.

True effects of a treatment against the untreated run, over the same days (`Effect`):
    avoided   share of the untreated quantity the solution avoided: wet_minutes,
              dirty_minutes, wet_passages (occupied), inner_buildup (points),
              moisture_excess (moisture % above the contract's dry_reading, summed over
              occupied minutes), wet_passage_load (passages x that excess / 100); 1 - treated /
              untreated, None when the untreated run had none
    change    treated minus untreated, per KPI (None where either is None)
    level     the treated KPIs
A supplier's effect in a contract (`SupplierTruth`) is the mean of its effects over entrances.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from floorwatch.errors import InvalidRequest, NotFound
from floorwatch.registry.schema import Contract, Entrance, Installation
from simulators.entrance import EntranceTruth
from simulators.scenario import BASELINE
from simulators.simulation import Simulation

ACTUAL = "actual"
KPIS = ("dry_time_share", "clean_time_share", "wet_recovery_p90", "slip_exposure", "dirt_capture")
AVOIDED = (
    "wet_minutes",
    "dirty_minutes",
    "wet_passages",
    "inner_buildup",
    "moisture_excess",
    "wet_passage_load",
)
# The quantity a KPI judged on improvement is judged to avoid: the water and dirt that reach
# the inner floor, without a threshold.
AVOIDED_FOR_KPI = {
    "dry_time_share": "moisture_excess",
    "wet_recovery_p90": "moisture_excess",
    "slip_exposure": "wet_passage_load",
    "clean_time_share": "inner_buildup",
    "dirt_capture": "inner_buildup",
}
WET_HYSTERESIS = 2.0  # moisture %
CLEANING_DROP = 8.0  # dirt index points from one minute to the next
_SUMS = (
    "occupied_minutes",
    "wet_minutes",
    "dirty_minutes",
    "passages",
    "wet_passages",
    "inner_buildup",
    "upstream_buildup",
    "moisture_excess",
    "wet_passage_load",
)

Values = dict[str, float | None]


class Thresholds(NamedTuple):
    """A contract's thresholds: moisture % above which a floor is wet, the soiling index above
    which it is dirty, and the moisture % a dry floor reads."""

    wet: float
    dirt: float
    dry_reading: float


@dataclass(frozen=True)
class Effect:
    """A treatment's true effect against the untreated run (module docstring), and the KPIs
    it reached (`level`)."""

    avoided: Values
    change: Values
    level: Values


@dataclass(frozen=True)
class InstallationTruth:
    """The truth of one installation over its active days in a reporting period."""

    installation: str
    supplier: str
    entrance: str
    school: str
    days: tuple[date, ...]  # local days the installation acts, within the period and contract
    treated: Values  # KPIs as the registry has it (the installation's supplier)
    untreated: Values  # KPIs of the same days untreated
    sums_treated: dict[str, float]  # the counts behind them (occupied minutes, wet minutes, ...)
    sums_untreated: dict[str, float]
    effect: Effect  # treated against untreated
    by_supplier: dict[str, Effect]  # each supplier's solution here against untreated


@dataclass(frozen=True)
class SupplierTruth:
    """A supplier's true effect in a contract and period: the mean over the contract's
    installations active in the period of its effect at each (`all_entrances`: its solution
    run at every installed entrance), and over its own installations only."""

    supplier: str
    all_entrances: Effect
    own_entrances: Effect
    installations: int  # how many it has itself


class Counterfactual:
    """The counterfactual runs of a simulation and the true KPIs and effects (module
    docstring). `suppliers`: whose solutions to run everywhere (default: every supplier with an
    installation in the registry). Runs are computed when first needed."""

    def __init__(self, sim: Simulation, suppliers: Iterable[str] | None = None):
        self.sim: Simulation | None = sim
        self.registry = sim.registry
        self.span = sim.span
        installs = self.registry.document.installations
        self.suppliers = sorted(
            set(suppliers) if suppliers is not None else {i.supplier for i in installs}
        )
        self._runs: dict[str, dict[str, EntranceTruth]] = {ACTUAL: sim.entrances}
        self._days: dict[
            tuple[str, str, float, float, float], tuple[pd.DataFrame, pd.DataFrame]
        ] = {}

    def run(self, treatment: str) -> dict[str, EntranceTruth]:
        """Entrance id -> true state under `treatment` (ACTUAL, BASELINE or a supplier id)."""
        if treatment not in self._runs:
            if treatment != BASELINE and treatment not in self.suppliers:
                raise NotFound(f"no counterfactual run for {treatment!r}")
            if self.sim is None:
                raise InvalidRequest("the minute-level runs were let go (keep_days_only)")
            self._runs[treatment] = self.sim.entrance_truths(treatment)
        return self._runs[treatment]

    def keep_days_only(self) -> None:
        """Let go of the simulation and its minute-level runs (tens of MB each), keeping the
        per-day counts computed so far: the truths already asked for can be asked again (also
        over fewer days), new entrances, thresholds or treatments cannot."""
        self.sim = None
        self._runs = {}

    # --- per day ------------------------------------------------------------------------------
    def daily(
        self, treatment: str, entrance_id: str, thresholds: Thresholds
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per local day of the span the true counts (columns _SUMS; index `day`, dates), and
        the wet episodes (columns day, minutes) of one entrance under a treatment."""
        key = (treatment, entrance_id, *thresholds)
        if key not in self._days:
            self._days[key] = self._daily(self.run(treatment)[entrance_id], thresholds)
        return self._days[key]

    def _daily(
        self, truth: EntranceTruth, thresholds: Thresholds
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        wet_threshold, dirt_threshold, dry_reading = thresholds
        span = self.span
        entrance, _ = self.registry.entrance(truth.entrance)
        occ = self._occupied[truth.school]
        m = truth.moisture["inner"].astype(np.float64)
        d = truth.dirt["inner"].astype(np.float64)
        up = truth.dirt[_upstream_zone(entrance)].astype(np.float64)
        p = truth.passages.astype(np.float64)
        wet = m > wet_threshold
        excess = np.clip(m - dry_reading, 0.0, None)
        columns = {
            "occupied_minutes": occ,
            "wet_minutes": occ & wet,
            "dirty_minutes": occ & (d > dirt_threshold),
            "passages": np.where(occ, p, 0.0),
            "wet_passages": np.where(occ & wet, p, 0.0),
            "inner_buildup": np.where(occ, _buildup(d), 0.0),
            "upstream_buildup": np.where(occ, _buildup(up), 0.0),
            "moisture_excess": np.where(occ, excess, 0.0),
            "wet_passage_load": np.where(occ, p * excess / 100.0, 0.0),
        }
        starts = span.day_starts[:-1]
        sums = pd.DataFrame(
            {
                k: np.add.reduceat(np.asarray(v, dtype=np.float64), starts)
                for k, v in columns.items()
            },
            index=pd.Index(list(span.dates), name="day"),
        )
        first, length = _wet_episodes(m, occ, wet_threshold)
        episodes = pd.DataFrame(
            {"day": [span.dates[i] for i in span.day_index[first].tolist()], "minutes": length}
        )
        return sums, episodes

    @cached_property
    def _occupied(self) -> dict[str, np.ndarray]:
        """Per school, its occupied minutes of the span (opening hours on school days)."""
        span = self.span
        out = {}
        for school in self.registry.document.schools:
            days = self.registry.school_days[school.id]
            hours = days.calendar.opening_hours
            open_m = hours.open.hour * 60 + hours.open.minute
            close_m = hours.close.hour * 60 + hours.close.minute
            school_day = np.array([days.is_school_day(d) for d in span.dates], dtype=bool)
            in_hours = (span.minute_of_day >= open_m) & (span.minute_of_day < close_m)
            out[school.id] = school_day[span.day_index] & in_hours
        return out

    # --- KPIs over days -----------------------------------------------------------------------
    def kpis(
        self,
        treatment: str,
        entrance_id: str,
        days: Iterable[date],
        thresholds: Thresholds,
    ) -> tuple[Values, dict[str, float]]:
        """True KPIs (module docstring) of one entrance under a treatment over these local days,
        and the counts behind them."""
        sums, episodes = self.daily(treatment, entrance_id, thresholds)
        chosen = set(days)
        total = sums[sums.index.isin(list(chosen))].sum()
        counts = {k: float(total[k]) for k in _SUMS}
        lengths = episodes.loc[episodes["day"].isin(list(chosen)), "minutes"].to_numpy()
        return _kpis(counts, lengths), counts

    def installation(
        self, installation_id: str, start: date, end: date, only: Iterable[date] | None = None
    ) -> InstallationTruth:
        """The truth of an installation over local days [start, end) (a reporting period; a
        month is date(y, m, 1) to the 1st of the next), on the days it acts within its contract
        and the simulated span; `only`: of those, just these days (e.g. without the days a
        contract excuses for the weather)."""
        inst = next(i for i in self.registry.document.installations if i.id == installation_id)
        contract = self.registry.contracts[inst.contract]
        days = _active_days(inst, contract, start, end, self.span.dates)
        if only is not None:
            kept = set(only)
            days = [d for d in days if d in kept]
        _, school = self.registry.entrance(inst.entrance)
        th = Thresholds(contract.wet_threshold, contract.dirt_threshold, contract.dry_reading)
        treated, sums_t = self.kpis(ACTUAL, inst.entrance, days, th)
        untreated, sums_u = self.kpis(BASELINE, inst.entrance, days, th)
        by_supplier = {}
        for supplier in self.suppliers:
            values, sums = self.kpis(supplier, inst.entrance, days, th)
            by_supplier[supplier] = _effect(values, sums, untreated, sums_u)
        return InstallationTruth(
            installation=inst.id,
            supplier=inst.supplier,
            entrance=inst.entrance,
            school=school.id,
            days=tuple(days),
            treated=treated,
            untreated=untreated,
            sums_treated=sums_t,
            sums_untreated=sums_u,
            effect=_effect(treated, sums_t, untreated, sums_u),
            by_supplier=by_supplier,
        )

    def installations(self, contract_id: str, start: date, end: date) -> list[InstallationTruth]:
        """Every installation of the contract acting on some day of [start, end), by id."""
        out = []
        for inst in sorted(self.registry.document.installations, key=lambda i: i.id):
            if inst.contract == contract_id:
                truth = self.installation(inst.id, start, end)
                if truth.days:
                    out.append(truth)
        return out

    def suppliers_truth(self, contract_id: str, start: date, end: date) -> dict[str, SupplierTruth]:
        """Per supplier its true effect in the contract over [start, end) (`SupplierTruth`)."""
        truths = self.installations(contract_id, start, end)
        out = {}
        for supplier in self.suppliers:
            mine = [t for t in truths if t.supplier == supplier]
            out[supplier] = SupplierTruth(
                supplier=supplier,
                all_entrances=_mean_effect([t.by_supplier[supplier] for t in truths]),
                own_entrances=_mean_effect([t.by_supplier[supplier] for t in mine]),
                installations=len(mine),
            )
        return out


def _upstream_zone(entrance: Entrance) -> str:
    """Entry dirt if the entrance measures it, else outside (as the contract's capture does)."""
    zones = {str(s.zone) for s in entrance.sensors if str(s.kind) == "dirt"}
    return "entry" if "entry" in zones or "outside" not in zones else "outside"


def _buildup(dirt: np.ndarray) -> np.ndarray:
    rise = np.zeros(len(dirt))
    change = np.diff(dirt)
    rise[1:] = np.where(change <= -CLEANING_DROP, 0.0, change)
    return rise


def _wet_episodes(
    moisture: np.ndarray, occupied: np.ndarray, wet_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(first minute, length in minutes) of wet runs, with hysteresis, that touch occupied time."""
    state = np.where(moisture > wet_threshold, 1.0, np.nan)
    state[moisture <= wet_threshold - WET_HYSTERESIS] = 0.0
    wet = pd.Series(state).ffill().fillna(0.0).to_numpy() > 0
    edges = np.diff(np.concatenate(([0], wet.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    occ_cum = np.concatenate(([0], np.cumsum(occupied, dtype=np.int64)))
    touches = (occ_cum[ends] - occ_cum[starts]) > 0
    return starts[touches], (ends - starts)[touches].astype(np.float64)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _kpis(c: dict[str, float], lengths: np.ndarray) -> Values:
    occ = c["occupied_minutes"]
    wet, dirty = _ratio(c["wet_minutes"], occ), _ratio(c["dirty_minutes"], occ)
    slip = _ratio(c["wet_passages"], c["passages"])
    capture = (
        1.0 - c["inner_buildup"] / c["upstream_buildup"]
        if c["upstream_buildup"] > 0 and c["passages"] > 0
        else None
    )
    return {
        "dry_time_share": None if wet is None else 1.0 - wet,
        "clean_time_share": None if dirty is None else 1.0 - dirty,
        "wet_recovery_p90": float(np.percentile(lengths, 90)) if len(lengths) else None,
        "slip_exposure": None if slip is None else 1000.0 * slip,
        "dirt_capture": capture,
    }


def _effect(
    treated: Values, sums_t: dict[str, float], untreated: Values, sums_u: dict[str, float]
) -> Effect:
    avoided: Values = {}
    for name in AVOIDED:
        base = sums_u[name]
        avoided[name] = 1.0 - sums_t[name] / base if base > 0 else None
    change: Values = {}
    for kpi in KPIS:
        t, u = treated[kpi], untreated[kpi]
        change[kpi] = None if t is None or u is None else t - u
    return Effect(avoided, change, dict(treated))


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def _mean_effect(effects: list[Effect]) -> Effect:
    return Effect(
        {k: _mean([e.avoided[k] for e in effects]) for k in AVOIDED},
        {k: _mean([e.change[k] for e in effects]) for k in KPIS},
        {k: _mean([e.level[k] for e in effects]) for k in KPIS},
    )


def _active_days(
    inst: Installation, contract: Contract, start: date, end: date, simulated: list[date]
) -> list[date]:
    days = []
    day = start
    while day < end:
        if (
            inst.start <= day
            and (inst.end is None or day < inst.end)
            and contract.start <= day < contract.end
            and simulated[0] <= day <= simulated[-1]
        ):
            days.append(day)
        day += timedelta(days=1)
    return days
