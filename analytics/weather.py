"""Weather: SMHI open-data files into the store, and daily weather features per school.

SMHI meteorological observations (SMHI Open Data's metobs API, opendata.smhi.se), per station
and parameter, in either of SMHI's formats:
- `data.json`: `value[]` of `{date: ms UTC (end of the period), value: string, quality}`, or
  for daily parameters `{from, to, ref: "YYYY-MM-DD", value, quality}`;
- `data.csv` of the corrected archive: semicolon separated, header blocks (station, parameter,
  period) separated by blank lines, then `Datum;Tid (UTC);<parameter>;Kvalitet;;Tidsutsnitt:`
  rows (daily parameters: `Från Datum Tid (UTC);Till Datum Tid (UTC);Representativt dygn;
  <parameter>;Kvalitet;;...`), with notes in the last column.
Parameters read here: 7 precipitation (hourly sum, mm), 5 precipitation (daily sum, mm: for
stations without hourly data), 1 air temperature (hourly, degC), 8 snow depth (m). They are
stored as readings of sensor `smhi-<station>` with kinds precipitation (mm per hour),
precipitation_day (mm per day, at 12:00 UTC of its day), air_temperature (degC) and
snow_depth (m). Quality `G` is checked and approved; other values (`Y`: suspect or aggregated)
are stored apart, as sensor `smhi-<station>-suspect`, which the baselines do not read.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from floorwatch.errors import InvalidRequest
from floorwatch.localtime import LOCAL_TZ_NAME
from floorwatch.readings import VALID_RANGE, Kind, Reading
from floorwatch.registry.schema import OpeningHours
from floorwatch.store import Store

SMHI_PARAMETERS: dict[int, Kind] = {
    7: Kind.PRECIPITATION,
    5: Kind.PRECIPITATION_DAY,
    1: Kind.AIR_TEMPERATURE,
    8: Kind.SNOW_DEPTH,
}
FILE_NAME = re.compile(r"^smhi-(\d+)-(\d+)\.(?:json|csv)$")
# SMHI's own download name: smhi-opendata_<parameter>_<station>_<date>_<time>.csv
DOWNLOAD_NAME = re.compile(r"^smhi-opendata_(\d+)_(\d+)_.*\.csv$")
GOOD_QUALITY = "G"
# The parameter of a data.csv, by its header block's name and description (SMHI's wording).
CSV_PARAMETERS = (
    ("nederbördsmängd", "1 timme", 7),
    ("nederbördsmängd", "1 dygn", 5),
    ("lufttemperatur", "1 gång/tim", 1),
    ("snödjup", "", 8),
)

# Daily features the baselines use (besides footfall): see `daily_weather`.
WEATHER_FEATURES = [
    "precip_open_mm",
    "precip_day_mm",
    "precip_prev_day_mm",
    "air_temp_c",
    "snow_depth_m",
]


def station_sensor(station: int | str, suspect: bool = False) -> str:
    """The sensor id of an SMHI station's readings (of quality G; `suspect`: the others)."""
    return f"smhi-{station}-suspect" if suspect else f"smhi-{station}"


@dataclass
class FileImport:
    """What one file gave: its station and kind, readings parsed (`suspect` of them not of
    quality G, stored apart) and values skipped. `error`: why the file could not be used (then
    nothing of it is read)."""

    path: str
    station: int | None
    kind: str
    readings: list[Reading]
    skipped: int
    suspect: int = 0
    error: str | None = None


def _key(document: dict[str, object], section: str) -> int | None:
    part = document.get(section)
    if isinstance(part, dict) and part.get("key") is not None:
        try:
            return int(str(part["key"]))
        except ValueError:
            return None
    return None


def _from_name(path: Path) -> tuple[int | None, int | None]:
    """(station, parameter) from `smhi-<station>-<parameter>.json|csv` or SMHI's download name."""
    named = FILE_NAME.match(path.name)
    if named:
        return int(named.group(1)), int(named.group(2))
    download = DOWNLOAD_NAME.match(path.name)
    if download:
        return int(download.group(2)), int(download.group(1))
    return None, None


def _kind_of(path: Path, station: int | None, parameter: int | None) -> Kind:
    if station is None or parameter is None:
        raise InvalidRequest(
            f"{path}: no station/parameter (name it smhi-<station>-<parameter>.json "
            "or give station.key and parameter.key)"
        )
    kind = SMHI_PARAMETERS.get(parameter)
    if kind is None:
        known = ", ".join(f"{p} ({k})" for p, k in SMHI_PARAMETERS.items())
        raise InvalidRequest(f"{path}: SMHI parameter {parameter} not supported (use {known})")
    return kind


def _day_ms(ref: str) -> int:
    """12:00 UTC of a daily value's representative day (`ref`, YYYY-MM-DD)."""
    day = date.fromisoformat(ref[:10])
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)


class _Collect:
    """Readings of one file: values checked against the kind's range, quality kept apart."""

    def __init__(self, station: int, kind: Kind):
        self.kind = kind
        self.low, self.high = VALID_RANGE[kind]
        self.sensors = (station_sensor(station), station_sensor(station, suspect=True))
        self.readings: list[Reading] = []
        self.skipped = 0
        self.suspect = 0

    def add(self, ts_ms: Any, value: Any, quality: Any) -> None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.skipped += 1
            return
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.skipped += 1
            return
        suspect = quality != GOOD_QUALITY
        self.suspect += suspect
        self.readings.append(Reading(self.sensors[suspect], str(self.kind), int(ts_ms), number))


def parse_smhi(path: Path) -> FileImport:
    """Parse one SMHI file, JSON or CSV (module docstring). Station and parameter come from the
    file (JSON `station.key`/`parameter.key`, the CSV's header blocks) or else its name
    (`smhi-<station>-<parameter>.json`). Values that are not numbers or outside the kind's
    physical range are skipped and counted. Raises InvalidRequest for a file it cannot use."""
    if path.suffix.lower() == ".csv":
        return _parse_csv(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("value"), list):
        raise InvalidRequest(f"{path}: expected an SMHI document with a 'value' list")
    named_station, named_parameter = _from_name(path)
    station = _key(document, "station") or named_station
    parameter = _key(document, "parameter") or named_parameter
    kind = _kind_of(path, station, parameter)
    assert station is not None
    out = _Collect(station, kind)
    for entry in document["value"]:
        if not isinstance(entry, dict):
            out.skipped += 1
            continue
        try:
            if kind == Kind.PRECIPITATION_DAY:  # {from, to, ref}: the day it stands for
                ts_ms = _day_ms(str(entry["ref"]))
            else:
                ts_ms = int(entry["date"])
        except (KeyError, TypeError, ValueError):
            out.skipped += 1
            continue
        out.add(ts_ms, entry.get("value"), entry.get("quality"))
    return FileImport(str(path), station, str(kind), out.readings, out.skipped, out.suspect)


def _csv_blocks(text: str) -> Iterator[list[list[str]]]:
    """The blank-line separated blocks of an SMHI data.csv, as rows of fields."""
    block: list[list[str]] = []
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        if not any(field.strip() for field in row):
            if block:
                yield block
            block = []
        else:
            block.append(row)
    if block:
        yield block


def _parse_csv(path: Path) -> FileImport:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"{path}: not readable ({exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # older SMHI downloads are Windows-1252
    station, parameter = _from_name(path)
    data: list[list[str]] | None = None
    for block in _csv_blocks(text):
        header = [field.strip().lower() for field in block[0]]
        if "stationsnummer" in header and len(block) > 1:
            with contextlib.suppress(ValueError, IndexError):  # else: from the file name
                station = int(block[1][header.index("stationsnummer")])
        elif "parameternamn" in header and len(block) > 1:
            name = block[1][0].strip().lower()
            description = block[1][1].strip().lower() if len(block[1]) > 1 else ""
            for wanted, period, number in CSV_PARAMETERS:
                if name.startswith(wanted) and period in description:
                    parameter = number
                    break
            else:
                parameter = -1  # named, but not one of ours
        elif "kvalitet" in header:
            data = block
    if parameter == -1:
        raise InvalidRequest(f"{path}: SMHI parameter not supported (use 7, 5, 1 or 8)")
    kind = _kind_of(path, station, parameter)
    if data is None:
        raise InvalidRequest(f"{path}: no data rows (a block with a 'Kvalitet' column)")
    assert station is not None
    header = [field.strip().lower() for field in data[0]]
    quality_at = header.index("kvalitet")
    value_at = quality_at - 1
    out = _Collect(station, kind)
    for row in data[1:]:
        try:
            if "representativt dygn" in header:
                ts_ms = _day_ms(row[header.index("representativt dygn")])
            else:
                moment = datetime.fromisoformat(f"{row[0].strip()}T{row[1].strip()}+00:00")
                ts_ms = int(moment.timestamp() * 1000)
            value, quality = row[value_at], row[quality_at].strip()
        except (ValueError, IndexError):
            out.skipped += 1
            continue
        out.add(ts_ms, value, quality)
    return FileImport(str(path), station, str(kind), out.readings, out.skipped, out.suspect)


def smhi_files(directory: Path) -> list[Path]:
    """The JSON and CSV files of a directory, sorted by name."""
    if not directory.is_dir():
        raise InvalidRequest(f"{directory}: not a directory")
    files = sorted([*directory.glob("*.json"), *directory.glob("*.csv")])
    if not files:
        raise InvalidRequest(f"{directory}: no .json or .csv files")
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
    largest snow depth (m). Days without hourly precipitation take SMHI's daily sum
    (precipitation_day), spread evenly over the day for precip_open_mm."""
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
    daily = frame[frame["kind"] == str(Kind.PRECIPITATION_DAY)]
    if not daily.empty:
        _fill_from_daily_sums(out, daily, set(rain["day"]), (close_m - open_m + 180) / 1440)
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


def _fill_from_daily_sums(
    out: pd.DataFrame, daily: pd.DataFrame, hourly_days: set[pd.Timestamp], open_share: float
) -> None:
    """Precipitation features from daily sums (mm) for the days without hourly sums."""
    sums = daily.groupby("day")["value"].sum()
    sums = sums[~sums.index.isin(hourly_days)]
    day = sums.reindex(out.index).to_numpy(dtype=float)
    known = np.isfinite(day)
    out.loc[known, "precip_day_mm"] = day[known]
    out.loc[known, "precip_open_mm"] = day[known] * min(open_share, 1.0)
    before = sums.copy()
    before.index = before.index + pd.Timedelta(days=1)
    prev = before.reindex(out.index).to_numpy(dtype=float)
    known = np.isfinite(prev)
    out.loc[known, "precip_prev_day_mm"] = prev[known]


def import_weather(
    store: Store, directory: Path, progress: Callable[[str, int, int], None] | None = None
) -> list[FileImport]:
    """Parse every SMHI file of a directory and write its readings to the store (a reading
    already stored is kept once). A file that cannot be used is returned with its `error` and
    nothing of it written; the others are imported. Returns what each file gave; readings are
    not kept."""
    files = smhi_files(directory)
    results: list[FileImport] = []
    for number, path in enumerate(files, start=1):
        try:
            item = parse_smhi(path)
        except InvalidRequest as exc:
            item = FileImport(str(path), None, "", [], 0, error=str(exc))
        for first in range(0, len(item.readings), 10_000):
            store.write_readings(item.readings[first : first + 10_000])
        results.append(item)
        if progress:
            progress(path.name, number, len(files))
    return results
