"""Scorecards: per contract, supplier, installation and period, what procurement pays by.

`Scorer(store, registry).score(period)` reads the readings month by month and entrance by
entrance, checks sensor health, computes the KPIs raw and weather/footfall-adjusted with bootstrap
intervals (`analytics.fairness`), judges them against the contract's targets, and computes the
weighted score and the bonus/malus. `PeriodResult.points()` gives what is written back to the
store (measurements `kpi`, `scorecard`, `comparison`, `sensor_health`, `trend`).

Reproducible: the scorecard document is canonical JSON (sorted keys, floats rounded to 6
decimals, no wall-clock time) and records the registry's content hash and the code version.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import multiprocessing
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.entrance import LEAD_IN, EntranceMinutes, prepare_entrance
from analytics.fairness import (
    CONTRACT_KPIS,
    FEATURES,
    RESAMPLES,
    Estimate,
    OutcomeModel,
    daily_targets,
    estimate,
    fit_outcome_model,
    stable_seed,
    weighted_expected,
)
from analytics.health import HealthRules, SensorHealth, SuspectInterval, sensor_health
from analytics.kpis import COMPONENTS, KPI_INPUTS, Kpi
from analytics.occupancy import (
    LOCAL_TZ,
    daily_sums,
    local_dates,
    local_midnight,
    minute_index,
    occupied_mask,
    period_bounds,
)
from analytics.trends import (
    DAILY_TREND_COLUMNS,
    TREND_METRICS,
    daily_trend_components,
    weekly_trends,
)
from analytics.weather import daily_weather, station_sensor
from floorwatch import __version__
from floorwatch.errors import WorkerDied
from floorwatch.readings import WEATHER_KINDS, Point
from floorwatch.registry import Registry
from floorwatch.registry.schema import KPI_HIGHER_IS_BETTER, BonusMalus, Contract, KpiName
from floorwatch.store import Store

# The baseline before installations (and reference entrances) this far back train the model.
TRAINING_LOOKBACK = timedelta(days=92)
MAX_LISTED_INTERVALS = 500
Progress = Callable[[str, int, int], None]


# --- canonical JSON ---------------------------------------------------------------------------
def _clean(value: Any, digits: int = 6) -> Any:
    if isinstance(value, float | np.floating):
        number = float(value)
        return round(number, digits) + 0.0 if math.isfinite(number) else None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _clean(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, digits) for v in value]
    return value


def canonical_json(document: dict[str, Any]) -> str:
    """Sorted keys, compact separators, floats rounded to 6 decimals, NaN as null."""
    return json.dumps(_clean(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


# --- payment ----------------------------------------------------------------------------------
def weighted_score(statuses: dict[str, str], weights: dict[str, float]) -> float:
    """Share of weight on passing KPIs, weights renormalised over the KPIs with sufficient data
    (pass or fail). NaN if none has sufficient data."""
    judged = {k: w for k, w in weights.items() if statuses.get(k) in ("pass", "fail")}
    total = sum(judged.values())
    if total <= 0:
        return float("nan")
    return sum(w for k, w in judged.items() if statuses[k] == "pass") / total


def bonus_malus(score: float, rule: BonusMalus, base_payment_sek: float) -> float:
    """Bonus (+) or malus (-) in SEK for a score 0..1 (`BonusMalus`): above bonus_from growing
    linearly to max_bonus_share of the base at 1; below malus_below growing linearly to
    max_malus_share at 0; nothing in between, and nothing without a score."""
    if not math.isfinite(score):
        return 0.0
    if score > rule.bonus_from and rule.bonus_from < 1:
        return (
            (score - rule.bonus_from)
            / (1 - rule.bonus_from)
            * rule.max_bonus_share
            * base_payment_sek
        )
    if score < rule.malus_below and rule.malus_below > 0:
        return (
            -(rule.malus_below - score) / rule.malus_below * rule.max_malus_share * base_payment_sek
        )
    return 0.0


def kpi_status(
    value: float, target: float, higher_is_better: bool, availability: float, minimum: float
) -> str:
    """pass/fail against the target; "insufficient" when data availability is below the
    contract's minimum or the KPI could not be computed (never a fail)."""
    if not math.isfinite(value) or not math.isfinite(availability) or availability < minimum:
        return "insufficient"
    ok = value >= target if higher_is_better else value <= target
    return "pass" if ok else "fail"


# --- data per entrance and month --------------------------------------------------------------
@dataclass
class EntranceChunk:
    """What scoring needs from one entrance over one month-sized chunk."""

    entrance_id: str
    start: datetime
    end: datetime
    daily: pd.DataFrame
    episodes: pd.DataFrame
    trend_daily: pd.DataFrame
    exposure: pd.DataFrame
    health: dict[str, SensorHealth]
    intervals: list[SuspectInterval]


def _next_first(day: date) -> date:
    """The first of the month after `day`."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _months(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at local month starts."""
    chunks = []
    cursor = start
    while cursor < end:
        local = cursor.astimezone(LOCAL_TZ)
        nxt_first = date(local.year + local.month // 12, local.month % 12 + 1, 1)
        nxt = min(local_midnight(nxt_first), end)
        chunks.append((cursor, nxt))
        cursor = nxt
    return chunks


def _silent_chunk(
    registry: Registry, entrance_id: str, start: datetime, end: datetime, contract: Contract
) -> EntranceChunk:
    """What an entrance without a single reading gives: its occupied minutes, nothing else."""
    entrance, school = registry.entrance(entrance_id)
    days = registry.school_days[school.id]
    index = minute_index(start, end)
    occupied = occupied_mask(index, days, days.calendar.opening_hours)
    local = local_dates(index)
    zero = np.zeros(len(index))
    daily = daily_sums(
        local, {c: occupied.astype(float) if c == "occupied_minutes" else zero for c in COMPONENTS}
    )
    trend_daily = daily_sums(local, {c: zero for c in DAILY_TREND_COLUMNS})
    exposure = pd.DataFrame({"outside_moisture": np.full(len(daily), np.nan)}, index=daily.index)
    occupied_ms = index[occupied].as_unit("ns").asi8 // 1_000_000
    nothing = np.zeros(0, dtype=np.int64)
    health = {
        s.id: sensor_health(
            s, nothing, np.zeros(0, dtype=bool), [], occupied_ms, contract.min_data_availability
        )
        for s in entrance.sensors
    }
    episodes = pd.DataFrame({"day": np.array([], dtype="datetime64[D]"), "minutes": np.zeros(0)})
    return EntranceChunk(
        entrance_id, start, end, daily, episodes, trend_daily, exposure, health, []
    )


def _combine_health(parts: list[SensorHealth]) -> SensorHealth:
    received = sum(p.received for p in parts)
    expected = sum(p.expected for p in parts)
    statuses = {p.status for p in parts}
    status = "ok"
    if statuses == {"silent"}:
        status = "silent"
    elif statuses - {"ok"}:
        status = "suspect"
    return SensorHealth(
        sensor_id=parts[0].sensor_id,
        received=received,
        expected=expected,
        availability=min(1.0, received / expected) if expected > 0 else float("nan"),
        suspect_minutes=sum(p.suspect_minutes for p in parts),
        status=status,
        reasons=tuple(sorted({r for p in parts for r in p.reasons})),
    )


# --- results ----------------------------------------------------------------------------------
@dataclass
class InstallationResult:
    """One scorecard and what the report draws from."""

    document: dict[str, Any]
    daily: pd.DataFrame
    episodes: pd.DataFrame

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


ChunkKey = tuple[str, datetime, datetime, float, float, float]
ReadKey = tuple[str, datetime, datetime]


def _chunk_key(entrance_id: str, start: datetime, end: datetime, contract: Contract) -> ChunkKey:
    """A chunk depends on the contract only through its thresholds."""
    return (
        entrance_id,
        start,
        end,
        contract.wet_threshold,
        contract.dirt_threshold,
        contract.min_data_availability,
    )


class ReadAhead:
    """Reads `keys` in order in one background thread, `depth` ahead of the consumer; `take`
    returns a key's readings (reading it now if it was not planned). Errors surface in `take`."""

    def __init__(
        self,
        read: Callable[[str, datetime, datetime], pd.DataFrame],
        keys: list[ReadKey],
        depth: int = 2,
    ):
        self._read = read
        self._pending = deque(keys)
        self._depth = depth
        self._futures: dict[ReadKey, Future[pd.DataFrame]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        self._fill()

    def _fill(self) -> None:
        while self._pending and len(self._futures) < self._depth:
            key = self._pending.popleft()
            self._futures[key] = self._pool.submit(self._read, *key)

    def take(self, key: ReadKey) -> pd.DataFrame:
        future = self._futures.pop(key, None)
        self._fill()
        return future.result() if future is not None else self._read(*key)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self._futures.values():
            future.cancel()
        self._pool.shutdown(wait=True)


# --- worker processes (Scorer.workers > 1) ------------------------------------------------------
_worker_scorer: Scorer | None = None


def _start_worker(open_store: Callable[[], Store], registry: Registry, rules: HealthRules) -> None:
    global _worker_scorer
    _worker_scorer = Scorer(open_store(), registry, rules=rules)


def _worker_chunk(
    entrance_id: str, start: datetime, end: datetime, contract: Contract
) -> EntranceChunk:
    assert _worker_scorer is not None, "worker not started"
    return _worker_scorer.chunk(entrance_id, start, end, contract)


class Scorer:
    """Scores periods from a store. Keeps per-entrance month results so that scoring several
    periods (or the training window shared by them) reads each month once."""

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
        self._chunks: dict[ChunkKey, EntranceChunk] = {}
        self._weather: dict[tuple[int, datetime, datetime], pd.DataFrame] = {}
        self._months_ahead = False

    # --- reading -------------------------------------------------------------------------------
    def readings(self, entrance_id: str, start: datetime, end: datetime) -> pd.DataFrame:
        """The entrance's sensors' own kinds (not battery, link quality...) for [start, end),
        with the lead-in the minute states need."""
        entrance, _ = self.registry.entrance(entrance_id)
        sensor_ids = sorted(s.id for s in entrance.sensors)
        kinds = sorted({str(s.kind) for s in entrance.sensors})
        return self.store.read_readings(start - LEAD_IN, end, sensor_ids=sensor_ids, kinds=kinds)

    def chunk(
        self,
        entrance_id: str,
        start: datetime,
        end: datetime,
        contract: Contract,
        readahead: ReadAhead | None = None,
    ) -> EntranceChunk:
        found = self._chunks.get(_chunk_key(entrance_id, start, end, contract))
        if found is not None:
            return found
        if readahead is not None:
            readings = readahead.take((entrance_id, start, end))
        else:
            readings = self.readings(entrance_id, start, end)
        if readings.empty:  # common before an installation's data begins: skip the work
            chunk = _silent_chunk(self.registry, entrance_id, start, end, contract)
            self._chunks[_chunk_key(entrance_id, start, end, contract)] = chunk
            return chunk
        prepared = prepare_entrance(
            self.registry,
            entrance_id,
            readings,
            start,
            end,
            contract.wet_threshold,
            contract.min_data_availability,
            self.rules,
        )
        daily, episodes = prepared.components(contract.wet_threshold, contract.dirt_threshold)
        chunk = EntranceChunk(
            entrance_id,
            start,
            end,
            daily,
            episodes,
            _trend_daily(prepared, contract.wet_threshold),
            prepared.exposure(),
            prepared.health,
            prepared.intervals,
        )
        self._chunks[_chunk_key(entrance_id, start, end, contract)] = chunk
        return chunk

    def weather(self, station: int, start: datetime, end: datetime) -> pd.DataFrame:
        """Daily weather features of a station for the local days of [start, end)."""
        key = (station, start, end)
        if key not in self._weather:
            readings = self.store.read_readings(
                start - timedelta(days=1),
                end,
                sensor_ids=[station_sensor(station)],
                kinds=[str(k) for k in WEATHER_KINDS],
            )
            first = start.astimezone(LOCAL_TZ).date()
            last = (end - timedelta(seconds=1)).astimezone(LOCAL_TZ).date()
            days = np.arange(np.datetime64(first), np.datetime64(last) + 1)
            hours = next(
                self.registry.school_days[s.id].calendar.opening_hours
                for s in self.registry.schools.values()
                if s.weather_station == station
            )
            self._weather[key] = daily_weather(readings, hours, days)
        return self._weather[key]

    # --- scoring -------------------------------------------------------------------------------
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
        train_start = earliest - TRAINING_LOOKBACK
        entrances = sorted(self.registry.entrances)
        chunks = _months(train_start, start) + _months(start, end)
        # trends are weekly: the last week of the period is completed from the days after it
        last_day = _local_day(end - timedelta(seconds=1))
        week_end = local_midnight(last_day + timedelta(days=7 - last_day.weekday()))
        extra = [(end, week_end)] if week_end > end else []
        if extra and self._months_ahead:  # the next month is read anyway: read all of it now
            extra = _months(end, local_midnight(_next_first(_local_day(end))))
        parts = chunks + extra
        total = len(contracts) * len(entrances) * len(parts)
        done = 0
        missing = [
            (contract, entrance_id, lo, hi)
            for contract in contracts
            for entrance_id in entrances
            for lo, hi in parts
            if _chunk_key(entrance_id, lo, hi, contract) not in self._chunks
        ]
        progress = self.progress
        if self.workers > 1 and len(missing) > 1:
            self._prepare_in_workers(missing, total - len(missing), total)  # reports progress
            missing, progress = [], None
        # The store is read a chunk ahead in a thread while this one computes (SQLite and HTTP
        # both release the GIL while they work), in the order of the loop below.
        to_read = [(entrance_id, lo, hi) for _, entrance_id, lo, hi in missing]
        with ReadAhead(self.readings, to_read) as readahead:
            for contract in contracts:
                per_entrance: dict[str, list[EntranceChunk]] = {}
                after: dict[str, list[EntranceChunk]] = {}
                for entrance_id in entrances:
                    for lo, hi in parts:
                        part = self.chunk(entrance_id, lo, hi, contract, readahead)
                        target = after if lo >= end else per_entrance
                        target.setdefault(entrance_id, []).append(part)
                        done += 1
                        if progress:
                            label = f"{entrance_id} {lo.astimezone(LOCAL_TZ):%Y-%m-%d}"
                            progress(label, done, total)
                self._score_contract(result, contract, per_entrance, train_start, start, end)
                self._trends(result, per_entrance, after, start, end)
        return result

    def _prepare_in_workers(
        self, missing: list[tuple[Contract, str, datetime, datetime]], done: int, total: int
    ) -> None:
        """Read and prepare entrance months in `workers` processes (each with its own store
        connection), biggest entrances first so that the last ones do not run alone."""
        size = {e: len(entrance.sensors) for e, (entrance, _) in self.registry.entrances.items()}
        ordered = sorted(missing, key=lambda m: (-size[m[1]], m[1], m[2]))
        assert self.worker_store is not None
        # fork: the workers start at once with everything imported. Forking while other
        # threads run can deadlock a child on a lock they held, so then a fork server is used
        # (3 s more: it imports the analytics first). The CLI's progress bar has no thread.
        context: multiprocessing.context.BaseContext
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            multiprocessing.set_forkserver_preload(["analytics.scorecard"])
        try:
            with ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.worker_store, self.registry, self.rules),
            ) as pool:
                futures = {
                    pool.submit(_worker_chunk, entrance_id, lo, hi, contract): _chunk_key(
                        entrance_id, lo, hi, contract
                    )
                    for contract, entrance_id, lo, hi in ordered
                }
                for future in as_completed(futures):
                    key = futures[future]
                    self._chunks[key] = future.result()
                    done += 1
                    if self.progress:
                        entrance_id, lo = key[0], key[1]
                        label = f"{entrance_id} {lo.astimezone(LOCAL_TZ):%Y-%m-%d}"
                        self.progress(label, done, total)
        except BrokenProcessPool as exc:  # a worker killed (out of memory, a signal), at any time
            died = f"a scoring worker process died ({exc}); try --workers 1"
            raise WorkerDied(died) from exc

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
        first, last = _local_day(start), _local_day(end - timedelta(seconds=1))
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
        """Model inputs per day: the school's weather, outside wetness and footfall."""
        _, school = self.registry.entrance(entrance_id)
        weather = self.weather(school.weather_station, lo, hi)
        days = pd.DatetimeIndex(daily.index)
        features = weather.reindex(days).copy()
        features["outside_moisture"] = exposure.reindex(days)["outside_moisture"].to_numpy()
        features.index = daily.index
        features["passages"] = daily["passages"].to_numpy()
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
        period_days = _days_between(start, end)
        municipalities = set(contract.municipalities)

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

        # training rows: untreated school days (baselines, reference entrances)
        training_parts = []
        for entrance_id, daily in daily_all.items():
            _, school = registry.entrance(entrance_id)
            if school.municipality not in municipalities:
                continue
            days = [pd.Timestamp(d).date() for d in daily.index]
            untreated = np.array(
                [registry.installation_on(entrance_id, d) is None for d in days], dtype=bool
            )
            untreated &= daily["occupied_minutes"].to_numpy() > 0
            if not untreated.any():
                continue
            targets = daily_targets(daily[untreated], episodes_all[entrance_id])
            training_parts.append(
                pd.concat([features_all[entrance_id][untreated], targets], axis=1)
            )
        training = pd.concat(training_parts) if training_parts else pd.DataFrame(columns=FEATURES)
        model = fit_outcome_model(training, seed=self.seed)

        # the installations of this contract scored in the period, with their days
        scored: list[tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]] = []
        for inst in sorted(registry.document.installations, key=lambda i: i.id):
            if inst.contract != contract.id or inst.entrance not in daily_all:
                continue
            daily = daily_all[inst.entrance]
            inst_days = [pd.Timestamp(d).date() for d in daily.index]
            active = np.array(
                [
                    d in period_days
                    and inst.start <= d
                    and (inst.end is None or d < inst.end)
                    and contract.start <= d < contract.end
                    for d in inst_days
                ],
                dtype=bool,
            )
            if not active.any():
                continue
            own = daily[active]
            own_days = set(own.index)
            episodes = episodes_all[inst.entrance]
            own_episodes = episodes[episodes["day"].isin(own_days)]
            predicted = model.predict(features_all[inst.entrance][active])
            scored.append((inst, own, own_episodes, predicted))

        pooled = _pooled_expected(scored, model)
        health_by_sensor = _health_in_period(per_entrance, start, end)
        result.sensor_health.update(health_by_sensor)
        for school in registry.schools.values():
            result.weather.setdefault(
                school.weather_station, self.weather(school.weather_station, start, end)
            )

        documents = []
        for inst, own, own_episodes, predicted in scored:
            seed = stable_seed(inst.id, result.period, base=self.seed)
            estimates = estimate(
                own, own_episodes, predicted if model.models else None, pooled, seed, self.resamples
            )
            intervals = [
                i
                for part in per_entrance[inst.entrance]
                for i in part.intervals
                if i.end_ms > _ms(start) and i.start_ms < _ms(end)
            ]
            document = self._document(
                contract,
                inst,
                result,
                own,
                estimates,
                health_by_sensor,
                intervals,
                model,
                start,
                end,
            )
            documents.append(document)
            result.scorecards.append(InstallationResult(document, own, own_episodes))
        result.comparisons[contract.id] = self._comparison(
            contract, result, scored, documents, model, pooled
        )

    def _document(
        self,
        contract: Contract,
        inst: Any,
        result: PeriodResult,
        own: pd.DataFrame,
        estimates: dict[Kpi, Estimate],
        health: dict[str, SensorHealth],
        intervals: list[SuspectInterval],
        model: OutcomeModel,
        start: datetime,
        end: datetime,
    ) -> dict[str, Any]:
        entrance, school = self.registry.entrance(inst.entrance)
        roles = _roles(entrance)
        sensors = {s.id: health[s.id] for s in entrance.sensors if s.id in health}
        kpis: dict[str, Any] = {}
        statuses: dict[str, str] = {}
        weights: dict[str, float] = {}
        for kpi in CONTRACT_KPIS:
            target = contract.kpis.get(KpiName(kpi))
            touched = [roles[r] for r in _touched_roles(kpi) if r in roles]
            availability = min(
                (sensors[s].availability for s in touched if s in sensors), default=float("nan")
            )
            if not touched:
                availability = float("nan")
            est = estimates[kpi]
            judged = est.adjusted if est.adjusted_by_model else est.raw
            higher = KPI_HIGHER_IS_BETTER[KpiName(kpi)]
            entry: dict[str, Any] = {
                "raw": est.raw,
                "raw_low": est.raw_low,
                "raw_high": est.raw_high,
                "adjusted": est.adjusted,
                "adjusted_low": est.adjusted_low,
                "adjusted_high": est.adjusted_high,
                "adjusted_by_model": est.adjusted_by_model,
                "judged_on": "adjusted" if est.adjusted_by_model else "raw",
                "higher_is_better": higher,
                "availability": availability,
                "sensors": sorted(touched),
            }
            if target is None:
                entry.update({"target": None, "weight": 0.0, "status": "not_in_contract"})
            else:
                status = kpi_status(
                    judged, target.target, higher, availability, contract.min_data_availability
                )
                entry.update({"target": target.target, "weight": target.weight, "status": status})
                statuses[kpi] = status
                weights[kpi] = target.weight
            kpis[str(kpi)] = entry
        received = sum(h.received for h in sensors.values())
        expected = sum(h.expected for h in sensors.values())
        overall = min(1.0, received / expected) if expected > 0 else float("nan")
        kpis[str(Kpi.DATA_AVAILABILITY)] = {
            "raw": overall,
            "adjusted": overall,
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
        days_total = len(_days_between(start, end))
        active_days = _active_calendar_days(inst, contract, start, end)
        base = (
            contract.bonus_malus.base_payment_sek * active_days / days_total if days_total else 0.0
        )
        amount = bonus_malus(score, contract.bonus_malus, base)
        counts = {
            s: sum(1 for v in statuses.values() if v == s) for s in ("pass", "fail", "insufficient")
        }
        listed = sorted(intervals, key=lambda i: (i.start_ms, i.sensor_id, i.reason))
        return {
            "contract": contract.id,
            "supplier": inst.supplier,
            "installation": inst.id,
            "entrance": entrance.id,
            "school": school.id,
            "municipality": school.municipality,
            "period": result.period,
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
            "adjustment": model.describe(),
            "registry_hash": self.registry.content_hash,
            "reproducibility": {
                "registry_hash": self.registry.content_hash,
                "registry_files": sorted(Path(f).name for f in self.registry.files),
                "code_version": code_version(),
                "seed": self.seed,
                "bootstrap_resamples": self.resamples,
                "health_rules": self.rules.__dict__,
            },
        }

    def _comparison(
        self,
        contract: Contract,
        result: PeriodResult,
        scored: list[tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]],
        documents: list[dict[str, Any]],
        model: OutcomeModel,
        pooled: dict[Kpi, float],
    ) -> dict[str, Any]:
        """Suppliers ranked by adjusted values (their installations' days pooled), with
        intervals and where they overlap."""
        by_supplier: dict[str, list[tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]]] = {}
        for item in scored:
            by_supplier.setdefault(item[0].supplier, []).append(item)
        per_supplier: dict[str, dict[Kpi, Estimate]] = {}
        for supplier, items in sorted(by_supplier.items()):
            daily = pd.concat([_keyed(i.id, own) for i, own, _, _ in items])
            episodes = pd.concat(
                [ep.assign(day=[f"{i.id}|{d}" for d in ep["day"]]) for i, _, ep, _ in items],
                ignore_index=True,
            )
            predicted = pd.concat([_keyed(i.id, pred) for i, _, _, pred in items])
            per_supplier[supplier] = estimate(
                daily,
                episodes,
                predicted if model.models else None,
                pooled,
                stable_seed(supplier, result.period, base=self.seed),
                self.resamples,
            )
        scores: dict[str, list[float]] = {}
        for doc in documents:
            scores.setdefault(doc["supplier"], []).append(doc["score"])
        rankings: dict[str, Any] = {}
        for kpi in CONTRACT_KPIS:
            higher = KPI_HIGHER_IS_BETTER[KpiName(kpi)]
            rows = [
                {
                    "supplier": s,
                    "raw": e[kpi].raw,
                    "raw_low": e[kpi].raw_low,
                    "raw_high": e[kpi].raw_high,
                    "adjusted": e[kpi].adjusted,
                    "adjusted_low": e[kpi].adjusted_low,
                    "adjusted_high": e[kpi].adjusted_high,
                }
                for s, e in per_supplier.items()
            ]
            rankings[str(kpi)] = _rank(rows, higher)
        overall = _overall(per_supplier, contract)
        return {
            "contract": contract.id,
            "period": result.period,
            "ranking": overall["ranking"],
            "overlap": overall["overlap"],
            "by_kpi": rankings,
            "mean_score": {
                s: (float(np.nanmean(v)) if any(math.isfinite(x) for x in v) else None)
                for s, v in sorted(scores.items())
            },
            "pooled_expected": {str(k): v for k, v in pooled.items()},
            "method": (
                "Ranked by weather- and footfall-adjusted values (raw - expected under own "
                "conditions + expected under everyone's conditions), 95 % bootstrap intervals "
                "over days; overall rank by the weighted mean of adjusted value relative to "
                "target, its interval from each KPI's interval at its worse and better end."
            ),
            "registry_hash": self.registry.content_hash,
        }


def school_year_periods(autumn_year: int) -> list[str]:
    """The months of a school year: August of `autumn_year` to June of the next year."""
    return [f"{autumn_year}-{m:02d}" for m in range(8, 13)] + [
        f"{autumn_year + 1}-{m:02d}" for m in range(1, 7)
    ]


def _keyed(installation_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.index = pd.Index([f"{installation_id}|{d}" for d in frame.index], name="day")
    return out


def _rank(rows: list[dict[str, Any]], higher_is_better: bool) -> dict[str, Any]:
    """Order rows by adjusted value (best first; unknown last) and note overlapping intervals."""

    def key(row: dict[str, Any]) -> tuple[int, float, str]:
        value = row["adjusted"]
        if not math.isfinite(value):
            return (1, 0.0, row["supplier"])
        return (0, -value if higher_is_better else value, row["supplier"])

    ordered = sorted(rows, key=key)
    notes = []
    for rank, row in enumerate(ordered, start=1):
        row["rank"] = rank
    for a, b in itertools.pairwise(ordered):
        if intervals_overlap(a, b):
            notes.append(
                f"the intervals of {a['supplier']} and {b['supplier']} overlap: "
                "their order is not certain"
            )
    return {"ranking": ordered, "overlap": notes}


def intervals_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two ranking rows' adjusted 95 % intervals overlap (their order is uncertain)."""
    lows = (a["adjusted_low"], b["adjusted_low"])
    highs = (a["adjusted_high"], b["adjusted_high"])
    if not all(math.isfinite(x) for x in (*lows, *highs)):
        return True  # without intervals, an order cannot be claimed certain
    return max(lows) <= min(highs)


def _achievement(value: float, target: float, higher_is_better: bool) -> float:
    """Adjusted value relative to target, capped at 2 (1 = exactly on target)."""
    if not math.isfinite(value):
        return float("nan")
    if higher_is_better:
        return min(2.0, value / target) if target > 0 else float("nan")
    return min(2.0, target / value) if value > 0 else 2.0


def _overall(per_supplier: dict[str, dict[Kpi, Estimate]], contract: Contract) -> dict[str, Any]:
    rows = []
    for supplier, estimates in per_supplier.items():
        parts = []
        for name, target in contract.kpis.items():
            kpi = Kpi(str(name))
            higher = KPI_HIGHER_IS_BETTER[name]
            e = estimates[kpi]
            # an interval end is a worse or better achievement depending on the KPI's direction
            ends = [
                _achievement(v, target.target, higher) for v in (e.adjusted_low, e.adjusted_high)
            ]
            ends = sorted(ends) if all(map(math.isfinite, ends)) else [math.nan, math.nan]
            values = [_achievement(e.adjusted, target.target, higher), *ends]
            parts.append((target.weight, values))
        usable = [(w, v) for w, v in parts if math.isfinite(v[0])]
        total = sum(w for w, _ in usable)

        def mean(
            i: int, usable: list[tuple[float, list[float]]] = usable, total: float = total
        ) -> float:
            if total <= 0:
                return float("nan")
            return sum(w * (v[i] if math.isfinite(v[i]) else v[0]) for w, v in usable) / total

        # each KPI at its interval's worse (better) end: a conservative overall interval
        rows.append(
            {
                "supplier": supplier,
                "adjusted": mean(0),
                "adjusted_low": mean(1),
                "adjusted_high": mean(2),
            }
        )
    return _rank(rows, higher_is_better=True)


def _pooled_expected(
    scored: list[tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]], model: OutcomeModel
) -> dict[Kpi, float]:
    if not scored or not model.models:
        return {}
    targets = pd.concat(
        [
            daily_targets(_keyed(i.id, own), ep.assign(day=[f"{i.id}|{d}" for d in ep["day"]]))
            for i, own, ep, _ in scored
        ]
    )
    predicted = pd.concat([_keyed(i.id, pred) for i, _, _, pred in scored])
    return {
        kpi: weighted_expected(targets, predicted, kpi)
        for kpi in CONTRACT_KPIS
        if model.fitted(kpi)
    }


def _health_in_period(
    per_entrance: dict[str, list[EntranceChunk]], start: datetime, end: datetime
) -> dict[str, SensorHealth]:
    merged: dict[str, list[SensorHealth]] = {}
    for parts in per_entrance.values():
        for part in parts:
            if part.start < start or part.end > end:
                continue
            for sid, health in part.health.items():
                merged.setdefault(sid, []).append(health)
    return {sid: _combine_health(parts) for sid, parts in sorted(merged.items())}


def _trend_daily(prepared: EntranceMinutes, wet_threshold: float) -> pd.DataFrame:
    upstream = np.fmax(prepared.role("entry_moisture"), prepared.role("outside_moisture"))
    return daily_trend_components(
        prepared.index,
        prepared.occupied,
        prepared.role("inner_moisture"),
        prepared.role("inner_dirt"),
        prepared.role("upstream_dirt"),
        upstream,
        prepared.role("passages"),
        wet_threshold,
        prepared.days,
    )


def _roles(entrance: Any) -> dict[str, str]:
    from analytics.entrance import role_sensors

    return {role: sensor.id for role, sensor in role_sensors(entrance).items()}


def _touched_roles(kpi: Kpi) -> list[str]:
    names = {
        ("inner", "moisture"): "inner_moisture",
        ("inner", "dirt"): "inner_dirt",
        ("upstream", "dirt"): "upstream_dirt",
        ("entry", "footfall"): "passages",
    }
    return [names[pair] for pair in KPI_INPUTS[kpi]]


def _local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def _days_between(start: datetime, end: datetime) -> set[date]:
    first, last = _local_day(start), _local_day(end - timedelta(seconds=1))
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _active_calendar_days(inst: Any, contract: Contract, start: datetime, end: datetime) -> int:
    return sum(
        1
        for d in _days_between(start, end)
        if inst.start <= d
        and (inst.end is None or d < inst.end)
        and contract.start <= d < contract.end
    )


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
        tags = {
            k: doc[k]
            for k in (
                "contract",
                "supplier",
                "installation",
                "entrance",
                "school",
                "municipality",
                "period",
            )
        }
        for name, kpi in doc["kpis"].items():
            fields = {
                k: kpi.get(k)
                for k in (
                    "raw",
                    "raw_low",
                    "raw_high",
                    "adjusted",
                    "adjusted_low",
                    "adjusted_high",
                    "target",
                    "weight",
                    "availability",
                    "status",
                )
            }
            points.append(Point("kpi", {**tags, "kpi": name}, ts, _fields(_clean(fields))))
        counts = doc["status_counts"]
        points.append(
            Point(
                "scorecard",
                tags,
                ts,
                _fields(
                    {
                        "score": _clean(doc["score"]),
                        "bonus_malus_sek": doc["payment"]["bonus_malus_sek"],
                        "payment_sek": doc["payment"]["payment_sek"],
                        "pass": counts["pass"],
                        "fail": counts["fail"],
                        "insufficient": counts["insufficient"],
                        "document": card.json,
                    }
                ),
            )
        )
    for contract_id, comparison in sorted(result.comparisons.items()):
        points.append(
            Point(
                "comparison",
                {"contract": contract_id, "period": result.period},
                ts,
                {"document": canonical_json(comparison)},
            )
        )
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
                        "availability": _clean(health.availability),
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
