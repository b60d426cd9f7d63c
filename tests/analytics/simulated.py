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
from ingest.decoders import DecodeContext, SensorCatalog, decode
from simulators.simulation import Simulation


def load_messages(sim: Simulation, registry: Registry, store: Store) -> int:
    """Decode every simulated message as the collector would and store the readings."""
    catalog = SensorCatalog(registry)
    now_ms = (sim.span.start_s + 86_400 * (sim.span.days + 1)) * 1000
    totals: dict[str, tuple[int, float]] = {}
    batch: list[Reading] = []
    stored = 0
    for topic, payload in sim.messages():
        decoded = decode(topic, payload, DecodeContext(catalog, now_ms, counter_totals=totals))
        totals.update(decoded.counter_totals)
        batch.extend(decoded.readings)
        if len(batch) >= 20_000:
            stored += store.write_readings(batch) or 0
            batch = []
    stored += store.write_readings(batch) or 0
    return stored


def store_weather(sim: Simulation, store: Store) -> None:
    """The simulated hourly weather as SMHI-imported readings (sensor smhi-<station>)."""
    readings = []
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


__all__ = ["date", "load_messages", "store_weather", "truth_kpis"]
