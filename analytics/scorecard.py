"""Scorecards: per contract, supplier, installation and period, what procurement pays by.

`Scorer(store, registry).score(period)` reads the readings month by month and entrance by
entrance (`analytics.months`: sensor health, daily KPI components), fits each installation's
own counterfactual baselines (`analytics.baseline`), estimates its KPIs measured, expected
untreated and as improvement with bootstrap intervals (`analytics.effects`), judges them as the
contract says (`analytics.payment`) and compares the suppliers on their effects
(`analytics.comparison`). `PeriodResult.points()` gives what is written back to the store
(measurements `kpi`, `scorecard`, `comparison`, `sensor_health`, `trend`).

Reproducible: the scorecard document (`analytics.document`) is canonical JSON and records the
registry's content hash and the code version.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from analytics.baseline import (
    AVOIDED_OUTCOME,
    FEATURES,
    OUTCOME_NAMED,
    OUTCOMES,
    Baseline,
    Outcome,
    daily_outcomes,
    feature_frame,
    fit_baseline,
)
from analytics.comparison import Compared, compare
from analytics.document import canonical_json, canonical_value, scorecard_document
from analytics.effects import RESAMPLES, estimate, stable_seed
from analytics.entrance import role_sensors
from analytics.health import HealthRules, SensorHealth
from analytics.months import (
    EntranceChunk,
    EntranceMonths,
    Progress,
    ReadAhead,
    health_in_period,
    months,
)
from analytics.trends import TREND_METRICS, weekly_trends
from floorwatch.localtime import (
    LOCAL_TZ,
    active_on,
    local_date,
    local_days_between,
    local_midnight,
    next_month,
    period_bounds,
)
from floorwatch.readings import Point
from floorwatch.registry import Registry
from floorwatch.registry.schema import CONTRACT_KPIS, Contract, Kpi
from floorwatch.results import (
    KPI_FIELDS,
    KpiRecord,
    ScorecardRecord,
    comparison_point,
    installation_tags,
    kpi_point,
    scorecard_point,
)
from floorwatch.store import Store

# The baseline before installations (and reference entrances) this far back train the model.
TRAINING_LOOKBACK = timedelta(days=92)


# --- results ----------------------------------------------------------------------------------
@dataclass
class InstallationResult:
    """One scorecard and what the report draws from."""

    document: dict[str, Any]
    daily: pd.DataFrame
    episodes: pd.DataFrame
    weekly: pd.DataFrame  # per week: measured and expected untreated outcome totals

    @property
    def json(self) -> str:
        return canonical_json(self.document)


@dataclass
class PeriodResult:
    """Everything computed for one period."""

    period: str
    start: datetime
    end: datetime
    scorecards: list[InstallationResult] = field(default_factory=list)
    comparisons: dict[str, dict[str, Any]] = field(default_factory=dict)
    sensor_health: dict[str, SensorHealth] = field(default_factory=dict)
    trends: dict[str, pd.DataFrame] = field(default_factory=dict)  # entrance -> weekly
    weather: dict[int, pd.DataFrame] = field(default_factory=dict)  # station -> daily
    registry_hash: str = ""

    def points(self, registry: Registry) -> list[Point]:
        """The results as store points, per the agreed contracts (BRIEF)."""
        return results_to_points(self, registry)


# The outcomes the comparison ranks effects on (what each KPI's solution is judged to avoid).
COMPARED_OUTCOMES = tuple(OUTCOME_NAMED[name] for name in sorted(set(AVOIDED_OUTCOME.values())))


class Scorer:
    """Scores periods from a store. Its entrance months (`analytics.months`) are kept, so that
    scoring several periods (or the training window shared by them) reads each month once."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        rules: HealthRules | None = None,
        seed: int = 0,
        resamples: int = RESAMPLES,
        progress: Progress | None = None,
        workers: int = 1,
        worker_store: Callable[[], Store] | None = None,
    ):
        """workers > 1 with `worker_store` (opens this store again, in a worker process):
        entrance months are read and prepared in that many processes."""
        self.store = store
        self.registry = registry
        self.rules = rules or HealthRules()
        self.seed = seed
        self.resamples = resamples
        self.progress = progress
        self.workers = workers if worker_store is not None else 1
        self.worker_store = worker_store
        self.months = EntranceMonths(store, registry, self.rules)
        self._months_ahead = False

    def score(
        self, period: str, start: datetime | None = None, end: datetime | None = None
    ) -> PeriodResult:
        """Score a period: a month "YYYY-MM", or a label with explicit [start, end) in UTC."""
        if start is None or end is None:
            start, end = period_bounds(period)
        result = PeriodResult(period, start, end, registry_hash=self.registry.content_hash)
        contracts = sorted(self.registry.contracts.values(), key=lambda c: c.id)
        installs = self.registry.document.installations
        earliest = min([start, *(local_midnight(i.start) for i in installs)])
        # from a month start, so that the months read (and checked) never depend on which
        # installations a contract has
        first = local_date(earliest - TRAINING_LOOKBACK)
        train_start = local_midnight(date(first.year, first.month, 1))
        entrances = sorted(self.registry.entrances)
        chunks = months(train_start, start) + months(start, end)
        # trends are weekly: the last week of the period is completed from the days after it
        last_day = local_date(end - timedelta(seconds=1))
        week_end = local_midnight(last_day + timedelta(days=7 - last_day.weekday()))
        extra = [(end, week_end)] if week_end > end else []
        if extra and self._months_ahead:  # the next month is read anyway: read all of it now
            extra = months(end, local_midnight(next_month(local_date(end))))
        parts = chunks + extra
        total = len(contracts) * len(entrances) * len(parts)
        done = 0
        missing = [
            (contract, entrance_id, lo, hi)
            for contract in contracts
            for entrance_id in entrances
            for lo, hi in parts
            if not self.months.has(entrance_id, lo, hi, contract)
        ]
        progress = self.progress
        if self.workers > 1 and len(missing) > 1 and self.worker_store is not None:
            self.months.prepare_in_workers(  # reports progress
                missing, self.workers, self.worker_store, progress, total - len(missing), total
            )
            missing, progress = [], None
        # The store is read a chunk ahead in a thread while this one computes (SQLite and HTTP
        # both release the GIL while they work), in the order of the loop below.
        to_read = [(entrance_id, lo, hi) for _, entrance_id, lo, hi in missing]
        with ReadAhead(self.months.readings, to_read) as readahead:
            for contract in contracts:
                per_entrance: dict[str, list[EntranceChunk]] = {}
                after: dict[str, list[EntranceChunk]] = {}
                for entrance_id in entrances:
                    for lo, hi in parts:
                        part = self.months.chunk(entrance_id, lo, hi, contract, readahead)
                        target = after if lo >= end else per_entrance
                        target.setdefault(entrance_id, []).append(part)
                        done += 1
                        if progress:
                            label = f"{entrance_id} {lo.astimezone(LOCAL_TZ):%Y-%m-%d}"
                            progress(label, done, total)
                self._score_contract(result, contract, per_entrance, train_start, start, end)
                self._trends(result, per_entrance, after, start, end)
        return result

    def score_many(self, periods: Iterable[str]) -> Iterator[PeriodResult]:
        """Score months one after another ("2026-08", "2026-09", ...), reading each entrance's
        month once for all of them (a school year: `school_year_periods`)."""
        self._months_ahead = True
        try:
            for period in periods:
                yield self.score(period)
        finally:
            self._months_ahead = False

    def _trends(
        self,
        result: PeriodResult,
        per_entrance: dict[str, list[EntranceChunk]],
        after: dict[str, list[EntranceChunk]],
        start: datetime,
        end: datetime,
    ) -> None:
        """Weekly trends of the weeks starting in the period (completed from the days after)."""
        first, last = local_date(start), local_date(end - timedelta(seconds=1))
        for entrance_id, parts in per_entrance.items():
            every = parts + after.get(entrance_id, [])
            trend_daily = pd.concat([p.trend_daily for p in every]).sort_index()
            trend_daily = trend_daily[~trend_daily.index.duplicated(keep="last")]
            weekly = weekly_trends(trend_daily)
            in_period = [first <= w <= last for w in weekly["week"]]
            result.trends[entrance_id] = weekly[in_period].reset_index(drop=True)

    def _features(
        self,
        entrance_id: str,
        daily: pd.DataFrame,
        exposure: pd.DataFrame,
        lo: datetime,
        hi: datetime,
    ) -> pd.DataFrame:
        """Model inputs per day: the school's weather, outside wetness, footfall and the water
        brought to the door."""
        _, school = self.registry.entrance(entrance_id)
        weather = self.months.weather(school.weather_station, lo, hi)
        days = pd.DatetimeIndex(daily.index)
        features = weather.reindex(days).copy()
        features["outside_moisture"] = exposure.reindex(days)["outside_moisture"].to_numpy()
        features.index = daily.index
        features["passages"] = daily["passages"].to_numpy()
        features["door_wet_load"] = daily["door_wet_load"].to_numpy()
        return features

    def _score_contract(
        self,
        result: PeriodResult,
        contract: Contract,
        per_entrance: dict[str, list[EntranceChunk]],
        train_start: datetime,
        start: datetime,
        end: datetime,
    ) -> None:
        registry = self.registry
        period_days = local_days_between(start, end)

        # everything per entrance over the training window and the period
        daily_all: dict[str, pd.DataFrame] = {}
        episodes_all: dict[str, pd.DataFrame] = {}
        features_all: dict[str, pd.DataFrame] = {}
        for entrance_id, parts in per_entrance.items():
            daily = pd.concat([p.daily for p in parts]).sort_index()
            daily = daily[~daily.index.duplicated(keep="last")]
            daily_all[entrance_id] = daily
            episodes_all[entrance_id] = pd.concat([p.episodes for p in parts], ignore_index=True)
            exposure = pd.concat([p.exposure for p in parts]).sort_index()
            exposure = exposure[~exposure.index.duplicated(keep="last")]
            exposure.index = pd.DatetimeIndex(exposure.index)
            features_all[entrance_id] = self._features(
                entrance_id, daily, exposure, train_start, end
            )
        model_features = {e: feature_frame(f) for e, f in features_all.items()}

        health_by_sensor = health_in_period(per_entrance, start, end)
        result.sensor_health.update(health_by_sensor)
        for school in registry.schools.values():
            result.weather.setdefault(
                school.weather_station, self.months.weather(school.weather_station, start, end)
            )

        compared: list[Compared] = []
        for inst in sorted(registry.document.installations, key=lambda i: i.id):
            if inst.contract != contract.id or inst.entrance not in daily_all:
                continue
            daily = daily_all[inst.entrance]
            inst_days = [pd.Timestamp(d).date() for d in daily.index]
            active = np.array(
                [
                    d in period_days
                    and active_on(inst.start, inst.end, d)
                    and active_on(contract.start, contract.end, d)
                    for d in inst_days
                ],
                dtype=bool,
            )
            if not active.any():
                continue
            own = daily[active]
            episodes = episodes_all[inst.entrance]
            own_episodes = episodes[episodes["day"].isin(set(own.index))]
            own_features = model_features[inst.entrance][active]
            school_days = own["occupied_minutes"].to_numpy() > 0  # weekends weigh nothing
            reporting = own_features[school_days]
            sources = self._sources(inst)
            baselines = self._baselines(inst, sources, daily_all, model_features, reporting, end)
            relief = _relief_days(contract, features_all[inst.entrance][active], own)
            seed = stable_seed(inst.id, result.period, base=self.seed)
            inner = role_sensors(registry.entrance(inst.entrance)[0]).get("inner_moisture")
            resolution = inner.report_interval / 60.0 if inner is not None else 0.0
            estimates = estimate(
                own, own_episodes, own_features, baselines, relief, seed, self.resamples, resolution
            )
            intervals = [
                i
                for part in per_entrance[inst.entrance]
                for i in part.intervals
                if i.end_ms > _ms(start) and i.start_ms < _ms(end)
            ]
            document = scorecard_document(
                registry,
                contract,
                inst,
                result.period,
                own,
                estimates,
                baselines,
                relief,
                health_by_sensor,
                intervals,
                start,
                end,
                {
                    "seed": self.seed,
                    "bootstrap_resamples": self.resamples,
                    "health_rules": self.rules.__dict__,
                },
            )
            weekly = _weekly_expected(own, own_features, baselines)
            result.scorecards.append(InstallationResult(document, own, own_episodes, weekly))
            # the comparison (not payment) may learn the weather slopes from every untreated
            # entrance-day: at a drizzly school a month has too few wet days to learn them
            pooled = [inst.entrance, *sorted(e for e in daily_all if e != inst.entrance)]
            comparison_models = self._baselines(
                inst, pooled, daily_all, model_features, reporting, end, COMPARED_OUTCOMES
            )
            compared.append(
                Compared(
                    inst.supplier,
                    inst.id,
                    estimate(
                        own,
                        own_episodes,
                        own_features,
                        comparison_models,
                        {},
                        seed,
                        self.resamples,
                        resolution,
                    ),
                    {k: comparison_models[AVOIDED_OUTCOME[k]] for k in CONTRACT_KPIS},
                    document["score"],
                )
            )
        result.comparisons[contract.id] = compare(
            contract, result.period, compared, self.resamples, self.registry.content_hash
        )

    def _sources(self, inst: Any) -> list[str]:
        """The installation's entrance and its school's reference entrances; never another
        installation's entrance (so that no installation moves another's payment)."""
        _, school = self.registry.entrance(inst.entrance)
        references = (e.id for e in school.entrances if e.reference and e.id != inst.entrance)
        return [inst.entrance, *sorted(references)]

    def _baselines(
        self,
        inst: Any,
        sources: list[str],
        daily_all: dict[str, pd.DataFrame],
        features: dict[str, pd.DataFrame],
        reporting: pd.DataFrame,
        end: datetime,
        outcomes: Iterable[Outcome] = OUTCOMES,
    ) -> dict[str, Baseline]:
        """The installation's baselines, per outcome, from the untreated school days of
        `sources` (up to TRAINING_LOOKBACK before it starts)."""
        first = inst.start - TRAINING_LOOKBACK
        last = local_date(end - timedelta(seconds=1))
        frames = []
        for entrance_id in sources:
            daily = daily_all.get(entrance_id)
            if daily is None:
                continue
            days = [pd.Timestamp(d).date() for d in daily.index]
            keep = np.array(
                [
                    first <= d <= last and self.registry.installation_on(entrance_id, d) is None
                    for d in days
                ],
                dtype=bool,
            )
            keep &= daily["occupied_minutes"].to_numpy() > 0
            if not keep.any():
                continue
            frame = features[entrance_id][keep].copy()
            frame["entrance"] = entrance_id
            frame["day"] = np.asarray(daily.index[keep], dtype="datetime64[D]")
            for name, (count, exposure) in daily_outcomes(daily[keep]).items():
                frame[f"{name}__count"] = count
                frame[f"{name}__exposure"] = exposure
                per = OUTCOME_NAMED[name].per
                frame[f"{name}__per"] = daily[keep][per].to_numpy() if per else exposure
            frames.append(frame)
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        out: dict[str, Baseline] = {}
        for outcome in outcomes:
            if rows.empty:
                part = pd.DataFrame(columns=["entrance", "day", "count", "exposure", *FEATURES])
            else:
                part = rows[["entrance", "day", *FEATURES]].assign(
                    count=rows[f"{outcome.name}__count"].to_numpy(),
                    exposure=rows[f"{outcome.name}__exposure"].to_numpy(),
                    per=rows[f"{outcome.name}__per"].to_numpy(),
                )
            out[outcome.name] = fit_baseline(outcome, inst.entrance, part, reporting)
        return out


def school_year_periods(autumn_year: int) -> list[str]:
    """The months of a school year: August of `autumn_year` to June of the next year."""
    return [f"{autumn_year}-{m:02d}" for m in range(8, 13)] + [
        f"{autumn_year + 1}-{m:02d}" for m in range(1, 7)
    ]


def _relief_days(
    contract: Contract, weather: pd.DataFrame, own: pd.DataFrame
) -> dict[Kpi, np.ndarray]:
    """Per KPI with weather relief in the contract: the school days it excuses."""
    out: dict[Kpi, np.ndarray] = {}
    school_day = own["occupied_minutes"].to_numpy() > 0
    for kpi, terms in contract.kpis.items():
        rule = terms.relief
        if rule is None:
            continue
        excused = np.zeros(len(own), dtype=bool)
        with np.errstate(invalid="ignore"):
            if rule.rain_open_mm is not None:
                excused |= weather["precip_open_mm"].to_numpy(dtype=float) >= rule.rain_open_mm
            if rule.snow_depth_m is not None:
                excused |= weather["snow_depth_m"].to_numpy(dtype=float) >= rule.snow_depth_m
            if rule.frost_below_c is not None:
                excused |= weather["air_temp_c"].to_numpy(dtype=float) < rule.frost_below_c
        out[kpi] = excused & school_day
    return out


def _weekly_expected(
    own: pd.DataFrame, features: pd.DataFrame, baselines: dict[str, Baseline]
) -> pd.DataFrame:
    """Per week (Monday) and outcome: measured and expected untreated totals (for the report)."""
    outcomes = daily_outcomes(own)
    week = pd.DatetimeIndex(own.index).to_period("W-SUN").start_time
    columns: dict[str, np.ndarray] = {}
    for outcome in OUTCOMES:
        count, exposure = outcomes[outcome.name]
        columns[f"{outcome.name}_measured"] = np.clip(count, 0, None)
        baseline = baselines.get(outcome.name)
        if baseline is not None and baseline.beta is not None:
            columns[f"{outcome.name}_expected"] = baseline.predict(
                features, exposure, baseline.beta[None, :]
            )[0]
        else:
            columns[f"{outcome.name}_expected"] = np.full(len(own), np.nan)
    frame = pd.DataFrame(columns, index=week)
    return frame.groupby(level=0).sum(min_count=1)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- store points -----------------------------------------------------------------------------
def _fields(values: dict[str, Any]) -> dict[str, float | str]:
    """Numbers as floats (InfluxDB type trap), strings kept, unknown numbers left out."""
    out: dict[str, float | str] = {}
    for key, value in values.items():
        if isinstance(value, str):
            out[key] = value
        elif value is not None and isinstance(value, int | float) and math.isfinite(float(value)):
            out[key] = float(value)
    return out


def results_to_points(result: PeriodResult, registry: Registry) -> list[Point]:
    """kpi, scorecard, comparison, sensor_health and trend points of a period."""
    ts = _ms(result.start)
    points: list[Point] = []
    for card in result.scorecards:
        doc = card.document
        tags = installation_tags(doc)
        for name, kpi in doc["kpis"].items():
            stored = canonical_value(kpi)
            kpi_record = KpiRecord.from_fields({k: stored.get(k) for k in KPI_FIELDS})
            points.append(kpi_point(tags, name, ts, kpi_record))
        counts = doc["status_counts"]
        record = ScorecardRecord(
            document=card.json,
            score=canonical_value(doc["score"]),
            bonus_malus_sek=doc["payment"]["bonus_malus_sek"],
            payment_sek=doc["payment"]["payment_sek"],
            passed=counts["pass"],
            failed=counts["fail"],
            insufficient=counts["insufficient"],
            not_judged=counts["not_judged"],
        )
        points.append(scorecard_point(tags, ts, record))
    for contract_id, comparison in sorted(result.comparisons.items()):
        points.append(comparison_point(contract_id, result.period, ts, canonical_json(comparison)))
    for sensor_id, health in sorted(result.sensor_health.items()):
        place = registry.sensors.get(sensor_id)
        if place is None:
            continue
        points.append(
            Point(
                "sensor_health",
                {
                    "sensor_id": sensor_id,
                    "entrance": place.entrance.id,
                    "school": place.school.id,
                    "municipality": place.school.municipality,
                    "zone": str(place.sensor.zone),
                    "period": result.period,
                },
                ts,
                _fields(
                    {
                        "availability": canonical_value(health.availability),
                        "suspect_minutes": float(health.suspect_minutes),
                        "status": health.status,
                        "reasons": ",".join(health.reasons),
                    }
                ),
            )
        )
    for entrance_id, weekly in sorted(result.trends.items()):
        entrance, school = registry.entrance(entrance_id)
        for row in weekly.itertuples(index=False):
            for metric in TREND_METRICS:
                value = float(getattr(row, metric))
                if not math.isfinite(value):
                    continue
                points.append(
                    Point(
                        "trend",
                        {
                            "entrance": entrance.id,
                            "school": school.id,
                            "municipality": school.municipality,
                            "metric": metric,
                        },
                        int(str(row.week_ms)),
                        {"value": round(value, 6)},
                    )
                )
    return points


def write_results(store: Store, result: PeriodResult, registry: Registry) -> int:
    """Write a period's results to the store; returns how many points."""
    points = results_to_points(result, registry)
    store.write_points(points)
    return len(points)


def score_documents(result: PeriodResult) -> Iterable[str]:
    """The canonical JSON of each scorecard, in a stable order."""
    for card in sorted(
        result.scorecards, key=lambda c: (c.document["contract"], c.document["installation"])
    ):
        yield card.json
