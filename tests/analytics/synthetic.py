"""Small hand-made readings for one pilot entrance: known values, no randomness."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd

from floorwatch.readings import Reading
from floorwatch.registry import Registry

# value(sensor zone, kind, UTC times) -> values
ValueFn = Callable[[str, str, pd.DatetimeIndex], np.ndarray]


def quiet(zone: str, kind: str, times: pd.DatetimeIndex) -> np.ndarray:
    """Dry, clean-ish floors with a slow dirt drift, 5 passages per report while open."""
    local = times.tz_convert("Europe/Stockholm")
    open_ = (local.hour >= 8) & (local.hour < 16) & (local.day_of_week < 5)
    if kind == "footfall":
        return np.where(open_, 4.0 + np.asarray(local.minute) % 3, 0.0)
    if kind == "dirt":
        base = 10.0 if zone == "inner" else 20.0
        return base + (np.asarray(local.minute) % 10) / 10.0  # varies a little: never stuck
    return 2.0 + (np.asarray(local.minute) % 15) / 10.0


def entrance_readings(
    registry: Registry,
    entrance_id: str,
    start: datetime,
    end: datetime,
    value: ValueFn = quiet,
    interval_s: int = 300,
) -> pd.DataFrame:
    """Readings of every installed sensor of the entrance at a fixed interval, [start, end)."""
    entrance, _ = registry.entrance(entrance_id)
    times = pd.date_range(start, end, freq=f"{interval_s}s", inclusive="left")
    frames = []
    for sensor in entrance.sensors:
        frames.append(
            pd.DataFrame(
                {
                    "time": times,
                    "sensor_id": sensor.id,
                    "kind": str(sensor.kind),
                    "value": value(str(sensor.zone), str(sensor.kind), times),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("time", kind="stable")


# --- a whole pilot with weather and known capture efficiencies --------------------------------
def rain_mm_per_hour(station: int, hours: pd.DatetimeIndex, intensity: float) -> np.ndarray:
    """Deterministic showers: on two days in three, 06:00-10:00 local, 0.4 to 1.6 times
    `intensity` mm/h, the pattern shifted by station so schools differ in when it rains."""
    local = hours.tz_convert("Europe/Stockholm")
    day_number = np.asarray((local.normalize().tz_localize(None) - pd.Timestamp("2026-01-01")).days)
    rainy_day = ((day_number + station) % 3) != 0
    strength = (1 + (day_number // 3 + station) % 4) * 0.4  # 0.4, 0.8, 1.2 or 1.6 x intensity
    morning = (local.hour >= 6) & (local.hour < 10)
    return np.where(rainy_day & morning, intensity * strength, 0.0)


def pilot_readings(
    registry: Registry,
    start: datetime,
    end: datetime,
    intensity_by_station: dict[int, float],
    capture_by_supplier: dict[str, float],
    baseline_capture: float = 0.2,
    interval_s: int = 300,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readings of every pilot sensor, and hourly SMHI-like weather per station.

    The inner floor gets wet while it rains and for an hour after, in proportion to the rain and
    to (1 - capture) of the solution installed that day (or the baseline's capture); dirt in
    the inner zone builds up with passages times (1 - capture). Returns (readings, weather), both
    with columns time, sensor_id, kind, value."""
    times = pd.date_range(start, end, freq=f"{interval_s}s", inclusive="left")
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    local = times.tz_convert("Europe/Stockholm")
    minute_of_day = np.asarray(local.hour * 60 + local.minute)
    weekday = np.asarray(local.day_of_week) < 5
    open_ = weekday & (minute_of_day >= 450) & (minute_of_day < 960)
    local_days = np.asarray(local.tz_localize(None).normalize().date)
    frames, weather = [], []
    for school in registry.schools.values():
        station = school.weather_station
        intensity = intensity_by_station.get(station, 0.0)
        rain_hourly = rain_mm_per_hour(station, hours, intensity)
        weather.append(
            pd.DataFrame(
                {
                    "time": hours + pd.Timedelta(hours=1),
                    "sensor_id": f"smhi-{station}",
                    "kind": "precipitation",
                    "value": rain_hourly,
                }
            )
        )
        temp = 8.0 + 3.0 * np.sin(np.arange(len(hours)) / 24 * 2 * np.pi)
        weather.append(
            pd.DataFrame(
                {
                    "time": hours + pd.Timedelta(hours=1),
                    "sensor_id": f"smhi-{station}",
                    "kind": "air_temperature",
                    "value": temp,
                }
            )
        )
        # rain at each report time, and "recently rained" (the last hour)
        hour_pos = np.clip(np.searchsorted(hours, times, side="right") - 1, 0, len(hours) - 1)
        rain_now = rain_hourly[hour_pos]
        rain_recent = np.maximum(rain_now, rain_hourly[np.clip(hour_pos - 1, 0, None)])
        for entrance in school.entrances:
            capture = np.array(
                [
                    capture_by_supplier[inst.supplier]
                    if (inst := registry.installation_on(entrance.id, d)) is not None
                    else baseline_capture
                    for d in local_days
                ]
            )
            passages = np.where(open_, 4.0 + (minute_of_day % 15) / 5, 0.0)
            wiggle = (minute_of_day % 7) / 10.0
            # dirt since the evening cleaning (at 18:00 local every day)
            day_key = local_days
            cum = pd.Series(passages).groupby(day_key).cumsum().to_numpy()
            entry_dirt = np.minimum(100.0, 5.0 + 0.15 * cum)
            inner_dirt = np.minimum(100.0, 3.0 + 0.15 * cum * (1 - capture))
            values = {
                ("outside", "moisture"): np.where(rain_recent > 0, 60.0 + 5 * rain_recent, 4.0)
                + wiggle,
                ("entry", "moisture"): np.where(rain_recent > 0, 40.0 + 5 * rain_recent, 3.0)
                + wiggle,
                ("inner", "moisture"): np.where(
                    open_, 2.0 + 25.0 * rain_recent * (1 - capture), 2.0
                )
                + wiggle,
                ("entry", "dirt"): entry_dirt,
                ("inner", "dirt"): inner_dirt,
                ("entry", "footfall"): passages,
                ("entry", "temperature"): 18.0 + wiggle,  # a climate sensor: in no KPI
            }
            for sensor in entrance.sensors:
                frames.append(
                    pd.DataFrame(
                        {
                            "time": times,
                            "sensor_id": sensor.id,
                            "kind": str(sensor.kind),
                            "value": np.clip(values[(str(sensor.zone), str(sensor.kind))], 0, 100),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True), pd.concat(weather, ignore_index=True)


def to_readings(frame: pd.DataFrame) -> list[Reading]:
    ms = (pd.DatetimeIndex(frame["time"]).as_unit("ns").asi8 // 1_000_000).tolist()
    return list(
        map(
            Reading,
            frame["sensor_id"].tolist(),
            frame["kind"].tolist(),
            ms,
            frame["value"].astype(float).tolist(),
        )
    )
