"""Weather: SMHI open-data files into the store, and daily weather features per school.

SMHI meteorological observations (SMHI Open Data's metobs API, opendata.smhi.se): per station
and parameter a JSON document with `value[]` of `{date: ms UTC (end of the period), value:
string, quality: "G"|"Y"}`. Parameters read here: 7 precipitation (hourly sum, mm), 1 air
temperature (hourly, degC), 8 snow depth (m). They are stored as readings of sensor
`smhi-<station>` with kinds precipitation (mm per hour), air_temperature (degC) and snow_depth (m).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from floorwatch.errors import InvalidRequest
from floorwatch.localtime import LOCAL_TZ_NAME
from floorwatch.readings import VALID_RANGE, Kind, Reading
from floorwatch.registry.schema import OpeningHours
from floorwatch.store import Store

SMHI_PARAMETERS: dict[int, Kind] = {
    7: Kind.PRECIPITATION,
    1: Kind.AIR_TEMPERATURE,
    8: Kind.SNOW_DEPTH,
}
FILE_NAME = re.compile(r"^smhi-(\d+)-(\d+)\.json$")

# Daily features the fairness model uses (besides footfall): see `daily_weather`.
WEATHER_FEATURES = [
    "precip_open_mm",
    "precip_day_mm",
    "precip_prev_day_mm",
    "air_temp_c",
    "snow_depth_m",
]


def station_sensor(station: int | str) -> str:
    """The sensor id of an SMHI station's readings."""
    return f"smhi-{station}"


@dataclass
class FileImport:
    """What one file gave: its station and kind, readings parsed and values skipped."""

    path: str
    station: int
    kind: str
    readings: list[Reading]
    skipped: int


def _key(document: dict[str, object], section: str) -> int | None:
    part = document.get(section)
    if isinstance(part, dict) and part.get("key") is not None:
        try:
            return int(str(part["key"]))
        except ValueError:
            return None
    return None


def parse_smhi(path: Path) -> FileImport:
    """Parse one SMHI JSON file. Station and parameter come from the JSON (`station.key`,
    `parameter.key`) or else the file name `smhi-<station>-<parameter>.json`. Values that are
    not numbers or outside the kind's physical range are skipped and counted."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("value"), list):
        raise InvalidRequest(f"{path}: expected an SMHI document with a 'value' list")
    named = FILE_NAME.match(path.name)
    station = _key(document, "station") or (int(named.group(1)) if named else None)
    parameter = _key(document, "parameter") or (int(named.group(2)) if named else None)
    if station is None or parameter is None:
        raise InvalidRequest(
            f"{path}: no station/parameter (name it smhi-<station>-<parameter>.json "
            "or give station.key and parameter.key)"
        )
    kind = SMHI_PARAMETERS.get(parameter)
    if kind is None:
        known = ", ".join(f"{p} ({k})" for p, k in SMHI_PARAMETERS.items())
        raise InvalidRequest(f"{path}: SMHI parameter {parameter} not supported (use {known})")
    low, high = VALID_RANGE[kind]
    readings: list[Reading] = []
    skipped = 0
    sensor = station_sensor(station)
    for entry in document["value"]:
        try:
            ts_ms = int(entry["date"])
            value = float(entry["value"])
        except (KeyError, TypeError, ValueError):
            skipped += 1
            continue
        if not math.isfinite(value) or not low <= value <= high:
            skipped += 1
            continue
        readings.append(Reading(sensor, str(kind), ts_ms, value))
    return FileImport(str(path), station, str(kind), readings, skipped)


def smhi_files(directory: Path) -> list[Path]:
    """The JSON files of a directory, sorted by name."""
    if not directory.is_dir():
        raise InvalidRequest(f"{directory}: not a directory")
    files = sorted(directory.glob("*.json"))
    if not files:
        raise InvalidRequest(f"{directory}: no .json files")
    return files


# --- daily features ---------------------------------------------------------------------------
def daily_weather(
    weather: pd.DataFrame, hours: OpeningHours, days: Sequence[np.datetime64] | np.ndarray
) -> pd.DataFrame:
    """Daily weather features of one station for local days `days` (datetime64[D]).

    weather: readings (time UTC, kind, value) of the station. Columns (NaN where unknown):
    precip_open_mm: precipitation (mm) in the hours ending from three hours before opening to
    closing (local time): water tracked in during the school day; precip_day_mm and
    precip_prev_day_mm: the local day's and the day before's sums (mm); air_temp_c: mean air
    temperature (degC) from opening to closing, else of the day; snow_depth_m: the day's
    largest snow depth (m)."""
    day_index = pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]")).rename("day")
    out = pd.DataFrame(index=day_index, columns=WEATHER_FEATURES, dtype=float)
    if weather.empty or len(day_index) == 0:
        return out
    local = pd.DatetimeIndex(weather["time"]).tz_convert(LOCAL_TZ_NAME).tz_localize(None)
    day = local.normalize()
    minute = (local - day) / pd.Timedelta(minutes=1)
    open_m = hours.open.hour * 60 + hours.open.minute
    close_m = hours.close.hour * 60 + hours.close.minute
    frame = pd.DataFrame(
        {
            "day": day,
            "minute": np.asarray(minute),
            "kind": weather["kind"].to_numpy(),
            "value": weather["value"].to_numpy(dtype=float),
        }
    )
    rain = frame[frame["kind"] == str(Kind.PRECIPITATION)]
    if not rain.empty:
        by_day = rain.groupby("day")["value"].sum()
        in_school = rain[(rain["minute"] > open_m - 180) & (rain["minute"] <= close_m)]
        out["precip_day_mm"] = by_day.reindex(day_index).fillna(0.0).to_numpy()
        out["precip_open_mm"] = (
            in_school.groupby("day")["value"].sum().reindex(day_index).fillna(0.0).to_numpy()
        )
        prev = by_day.copy()
        prev.index = prev.index + pd.Timedelta(days=1)
        out["precip_prev_day_mm"] = prev.reindex(day_index).fillna(0.0).to_numpy()
        # days the station has no precipitation record at all stay unknown
        known = by_day.index
        unknown = ~day_index.isin(known)
        hourly_span = rain["day"].min(), rain["day"].max()
        outside = (day_index < hourly_span[0]) | (day_index > hourly_span[1])
        out.loc[unknown & outside, ["precip_day_mm", "precip_open_mm"]] = np.nan
    temp = frame[frame["kind"] == str(Kind.AIR_TEMPERATURE)]
    if not temp.empty:
        school_temp = temp[(temp["minute"] >= open_m) & (temp["minute"] <= close_m)]
        mean_school = school_temp.groupby("day")["value"].mean()
        mean_day = temp.groupby("day")["value"].mean()
        out["air_temp_c"] = mean_school.combine_first(mean_day).reindex(day_index).to_numpy()
    snow = frame[frame["kind"] == str(Kind.SNOW_DEPTH)]
    if not snow.empty:
        out["snow_depth_m"] = snow.groupby("day")["value"].max().reindex(day_index).to_numpy()
    return out


def import_weather(
    store: Store, directory: Path, progress: Callable[[str, int, int], None] | None = None
) -> list[FileImport]:
    """Parse every SMHI JSON file of a directory and write its readings to the store (a reading
    already stored is kept once). Returns what each file gave; readings are not kept."""
    files = smhi_files(directory)
    parsed = [parse_smhi(path) for path in files]  # all files valid before anything is written
    for number, item in enumerate(parsed, start=1):
        for first in range(0, len(item.readings), 10_000):
            store.write_readings(item.readings[first : first + 10_000])
        if progress:
            progress(Path(item.path).name, number, len(parsed))
    return parsed
