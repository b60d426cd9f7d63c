"""Simulated pilot data (simulators) decoded by ingest's decoders into a real store, and the
ground truth's KPIs computed with the same pure functions as the measured ones."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from analytics.kpis import Kpi, daily_components, kpis_from_components
from analytics.occupancy import minute_index, occupied_mask
from floorwatch.readings import Reading
from floorwatch.registry import Registry
from floorwatch.store import Store
from simulators.simulation import Simulation


def load_readings(sim: Simulation, store: Store) -> int:
    """Store every simulated sensor report (after the simulator's reading faults: dropouts,
    stuck values, spikes, drift, clock skew) as the collector would have stored it. The wire
    formats and message faults are ingest's concern and tested there; going around them keeps
    these tests fast."""
    readings: list[Reading] = []
    for series in sim.series:
        ms = (np.asarray(series.ts_s, dtype=np.int64) * 1000 + series.tag_ms).tolist()
        for kind, values in series.values.items():
            readings.extend(
                map(
                    Reading,
                    [series.sensor_id] * len(ms),
                    [kind] * len(ms),
                    ms,
                    np.asarray(values, dtype=float).tolist(),
                )
            )
    return store.write_readings(readings) or 0


def store_weather(sim: Simulation, store: Store) -> None:
    """The simulated hourly weather as SMHI-imported readings (sensor smhi-<station>)."""
    readings: list[Reading] = []
    for station, frame in sim.weather.items():
        ms = (pd.DatetimeIndex(frame["time"]).as_unit("ns").asi8 // 1_000_000).tolist()
        for kind in ("precipitation", "air_temperature", "snow_depth"):
            values = frame[kind].astype(float).tolist()
            readings.extend(
                Reading(f"smhi-{station}", kind, t, v)
                for t, v in zip(ms, values, strict=True)
                if np.isfinite(v)
            )
    store.write_readings(readings)


def truth_kpis(
    sim: Simulation,
    registry: Registry,
    entrance_id: str,
    start: datetime,
    end: datetime,
    wet_threshold: float,
    dirt_threshold: float,
) -> dict[Kpi, float]:
    """The KPIs of the noise-free truth of one entrance over [start, end)."""
    _, school = registry.entrance(entrance_id)
    days = registry.school_days[school.id]
    index = minute_index(start, end)
    occupied = occupied_mask(index, days, days.calendar.opening_hours)
    truth = sim.truth
    mine = truth[truth["entrance"] == entrance_id]

    def series(zone: str, column: str) -> np.ndarray:
        part = mine[mine["zone"] == zone].set_index("time")[column]
        return part.reindex(index).to_numpy(dtype=float)

    daily, episodes = daily_components(
        index,
        occupied,
        series("inner", "moisture"),
        series("inner", "dirt"),
        series("entry", "dirt"),
        series("inner", "passages"),
        wet_threshold,
        dirt_threshold,
    )
    return kpis_from_components(daily, episodes)


__all__ = ["date", "load_readings", "store_weather", "truth_kpis"]
