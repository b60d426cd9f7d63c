"""Small hand-made readings for one pilot entrance: known values, no randomness."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pandas as pd

from floorwatch.registry import Registry

# value(sensor zone, kind, UTC times) -> values
ValueFn = Callable[[str, str, pd.DatetimeIndex], np.ndarray]


def quiet(zone: str, kind: str, times: pd.DatetimeIndex) -> np.ndarray:
    """Dry, clean-ish floors with a slow dirt drift, 5 passages per report while open."""
    local = times.tz_convert("Europe/Stockholm")
    open_ = (local.hour >= 8) & (local.hour < 16) & (local.day_of_week < 5)
    if kind == "footfall":
        return np.where(open_, 4.0 + local.minute % 3, 0.0)
    if kind == "dirt":
        base = 10.0 if zone == "inner" else 20.0
        return base + (local.minute % 10) / 10.0  # varies a little: never looks stuck
    return 2.0 + (local.minute % 15) / 10.0


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
