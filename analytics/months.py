"""Reading and preparing entrance months for scoring.

`EntranceMonths(store, registry, rules)` reads an entrance's readings over a month-sized chunk
(with the lead-in the minute states need), prepares them (`analytics.entrance`: sensor health,
trusted minute series) and keeps what scoring needs of it (`EntranceChunk`: daily KPI
components, wet episodes, daily trend components, outside wetness, sensor health). A chunk is
kept per contract thresholds, so scoring several months (and the training window they share)
reads each month once. The store is read a chunk ahead in a thread (`ReadAhead`), or chunks are
prepared in worker processes (`EntranceMonths.prepare_in_workers`). Daily weather per station
comes from here too.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from analytics.entrance import LEAD_IN, EntranceMinutes, prepare_entrance
from analytics.health import HealthRules, SensorHealth, SuspectInterval, sensor_health
from analytics.kpis import COMPONENTS
from analytics.occupancy import daily_sums, local_dates, minute_index, occupied_mask
from analytics.trends import DAILY_TREND_COLUMNS, daily_trend_components
from analytics.weather import daily_weather, station_sensor
from floorwatch.errors import WorkerDied
from floorwatch.localtime import LOCAL_TZ, local_midnight, next_month
from floorwatch.readings import WEATHER_KINDS
from floorwatch.registry import Registry
from floorwatch.registry.schema import Contract
from floorwatch.store import Store

Progress = Callable[[str, int, int], None]
ChunkKey = tuple[str, datetime, datetime, float, float, float, float]
ReadKey = tuple[str, datetime, datetime]


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


def months(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at local month starts."""
    chunks = []
    cursor = start
    while cursor < end:
        local = cursor.astimezone(LOCAL_TZ)
        nxt = min(local_midnight(next_month(local.date())), end)
        chunks.append((cursor, nxt))
        cursor = nxt
    return chunks


def chunk_key(entrance_id: str, start: datetime, end: datetime, contract: Contract) -> ChunkKey:
    """A chunk depends on the contract only through its thresholds."""
    return (
        entrance_id,
        start,
        end,
        contract.wet_threshold,
        contract.dirt_threshold,
        contract.dry_reading,
        contract.min_data_availability,
    )


def health_in_period(
    per_entrance: dict[str, list[EntranceChunk]], start: datetime, end: datetime
) -> dict[str, SensorHealth]:
    """Each sensor's health over the chunks inside [start, end), combined."""
    merged: dict[str, list[SensorHealth]] = {}
    for parts in per_entrance.values():
        for part in parts:
            if part.start < start or part.end > end:
                continue
            for sid, health in part.health.items():
                merged.setdefault(sid, []).append(health)
    return {sid: _combine_health(parts) for sid, parts in sorted(merged.items())}


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


class EntranceMonths:
    """Entrance chunks and daily station weather read from a store, each kept once."""

    def __init__(self, store: Store, registry: Registry, rules: HealthRules):
        self.store = store
        self.registry = registry
        self.rules = rules
        self._chunks: dict[ChunkKey, EntranceChunk] = {}
        self._weather: dict[tuple[int, datetime, datetime], pd.DataFrame] = {}

    def has(self, entrance_id: str, start: datetime, end: datetime, contract: Contract) -> bool:
        return chunk_key(entrance_id, start, end, contract) in self._chunks

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
        """The entrance's chunk [start, end) under the contract's thresholds (read from
        `readahead` where it was planned there)."""
        key = chunk_key(entrance_id, start, end, contract)
        found = self._chunks.get(key)
        if found is not None:
            return found
        if readahead is not None:
            readings = readahead.take((entrance_id, start, end))
        else:
            readings = self.readings(entrance_id, start, end)
        if readings.empty:  # common before an installation's data begins: skip the work
            chunk = _silent_chunk(self.registry, entrance_id, start, end, contract)
            self._chunks[key] = chunk
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
        daily, episodes = prepared.components(
            contract.wet_threshold, contract.dirt_threshold, contract.dry_reading
        )
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
        self._chunks[key] = chunk
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

    def prepare_in_workers(
        self,
        missing: list[tuple[Contract, str, datetime, datetime]],
        workers: int,
        worker_store: Callable[[], Store],
        progress: Progress | None,
        done: int,
        total: int,
    ) -> None:
        """Read and prepare entrance chunks in `workers` processes (each opens the store again
        with `worker_store`), biggest entrances first so that the last ones do not run alone."""
        size = {e: len(entrance.sensors) for e, (entrance, _) in self.registry.entrances.items()}
        ordered = sorted(missing, key=lambda m: (-size[m[1]], m[1], m[2]))
        # fork: the workers start at once with everything imported. Forking while other
        # threads run can deadlock a child on a lock they held, so then a fork server is used
        # (3 s more: it imports the analytics first). The CLI's progress bar has no thread.
        context: multiprocessing.context.BaseContext
        if threading.active_count() == 1:
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            multiprocessing.set_forkserver_preload(["analytics.months"])
        try:
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(worker_store, self.registry, self.rules),
            ) as pool:
                futures = {
                    pool.submit(_worker_chunk, entrance_id, lo, hi, contract): chunk_key(
                        entrance_id, lo, hi, contract
                    )
                    for contract, entrance_id, lo, hi in ordered
                }
                for future in as_completed(futures):
                    key = futures[future]
                    self._chunks[key] = future.result()
                    done += 1
                    if progress:
                        entrance_id, lo = key[0], key[1]
                        progress(f"{entrance_id} {lo.astimezone(LOCAL_TZ):%Y-%m-%d}", done, total)
        except BrokenProcessPool as exc:  # a worker killed (out of memory, a signal), at any time
            died = f"a scoring worker process died ({exc}); try --workers 1"
            raise WorkerDied(died) from exc


# --- worker processes (EntranceMonths.prepare_in_workers) ----------------------------------------
_worker_months: EntranceMonths | None = None


def _start_worker(open_store: Callable[[], Store], registry: Registry, rules: HealthRules) -> None:
    global _worker_months
    _worker_months = EntranceMonths(open_store(), registry, rules)


def _worker_chunk(
    entrance_id: str, start: datetime, end: datetime, contract: Contract
) -> EntranceChunk:
    assert _worker_months is not None, "worker not started"
    return _worker_months.chunk(entrance_id, start, end, contract)
