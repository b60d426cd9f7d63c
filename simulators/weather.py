"""Hourly weather per SMHI station: generated for southern Skåne, or read from SMHI JSON files.

Generation (seeded per station): precipitation from a two-state (wet/dry hour) Markov chain whose
chance of rain follows the season and a multi-day weather regime, so that wet and dry spells last
hours to days; amounts are gamma distributed with monthly means for southern Skåne. Temperature
is a seasonal mean plus a daily cycle plus a slowly varying anomaly. Precipitation below +0.5 degC
falls as snow (1 mm water = 1 cm snow), which melts by degree-hours and in rain.
A station's `wetness` (scenario) scales how often it rains and, by its square root, how hard.

Values are rounded to SMHI's resolution (0.1 mm, 0.1 degC, 0.01 m) before the entrance model
uses them, so that files written with `--weather-out` hold exactly what the entrances saw.

Time convention (as SMHI): hour h of a span covers [start + h h, start + (h+1) h). The
precipitation of hour h is dated at its end; the temperature of hour h is the observation at its
start; snow depth is observed daily at 06:00 UTC and held until the next observation.

SMHI files (`write_smhi` / `read_smhi`): one file per station and parameter,
`smhi-<station>-<parameter>.json`, with `value[]` of `{"date": ms UTC, "value": "1.2",
"quality": "G"}` plus `station.key` and `parameter.key`/`unit` as SMHI's own downloads have.
Parameters: 7 precipitation (mm per hour), 1 air temperature (degC), 8 snow depth (m, daily).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from floorwatch.errors import ConfigError
from simulators.recursion import decay_series
from simulators.scenario import Station, rng_for

PRECIPITATION = 7
AIR_TEMPERATURE = 1
SNOW_DEPTH = 8
PARAMETERS = {
    PRECIPITATION: ("Nederbördsmängd", "summa 1 timme, 1 gång/tim", "millimeter"),
    AIR_TEMPERATURE: ("Lufttemperatur", "momentanvärde, 1 gång/tim", "degree celsius"),
    SNOW_DEPTH: ("Snödjup", "momentanvärde, 1 gång/dygn, kl 06", "meter"),
}

# Southern Skåne climate (approximate 1991-2020 normals for the coast around Ystad/Trelleborg).
MONTHLY_TEMPERATURE = [0.8, 0.6, 2.6, 6.6, 11.2, 14.9, 17.5, 17.3, 14.1, 9.7, 5.6, 2.4]
MONTHLY_PRECIPITATION_MM = [52, 37, 40, 36, 45, 58, 66, 70, 57, 62, 66, 60]
MONTHLY_WET_HOUR_SHARE = [0.12, 0.10, 0.09, 0.07, 0.07, 0.07, 0.07, 0.08, 0.09, 0.11, 0.13, 0.13]
STAY_WET = 0.8  # chance a wet hour is followed by another: spells of about 5 hours
SPIN_UP_DAYS = 30  # snow and anomaly need a history before the span starts
SNOW_BELOW = 0.5  # degC
SNOW_OBSERVED_AT_UTC_HOUR = 6


@dataclass(frozen=True)
class StationWeather:
    """Hourly weather of one station. `start_s`: epoch seconds (UTC) when hour 0 starts."""

    station: int
    start_s: int
    precipitation: np.ndarray  # mm in hour h
    temperature: np.ndarray  # degC at the start of hour h
    snow_depth: np.ndarray  # m, held from the latest daily observation

    @property
    def hours(self) -> int:
        return len(self.precipitation)

    def frame(self) -> pd.DataFrame:
        """Columns time (UTC, start of hour), precipitation, air_temperature, snow_depth."""
        return pd.DataFrame(
            {
                "time": pd.to_datetime(
                    self.start_s + 3600 * np.arange(self.hours), unit="s", utc=True
                ),
                "precipitation": self.precipitation,
                "air_temperature": self.temperature,
                "snow_depth": self.snow_depth,
            }
        )


def _climate(hour_s: np.ndarray, values: list[float] | list[int]) -> np.ndarray:
    """Monthly normals interpolated smoothly to each hour (values at mid-month, circular)."""
    doy = (
        hour_s.astype("datetime64[s]") - hour_s.astype("datetime64[s]").astype("datetime64[Y]")
    ).astype("timedelta64[s]").astype(np.float64) / 86400.0
    mids = np.array([15.2 + 30.44 * m for m in range(12)])
    xs = np.concatenate([mids - 365.25, mids, mids + 365.25])
    ys = np.tile(np.asarray(values, dtype=np.float64), 3)
    return np.asarray(np.interp(doy, xs, ys))


def generate_weather(
    station: int, conditions: Station, start_s: int, hours: int, seed: int
) -> StationWeather:
    """Seeded hourly weather for `hours` hours from `start_s` (module docstring for the model)."""
    rng = rng_for(seed, "weather", station, start_s)
    spin = SPIN_UP_DAYS * 24
    total = spin + hours
    hour_s = start_s - spin * 3600 + 3600 * np.arange(total, dtype=np.int64)

    t_clim = _climate(hour_s, MONTHLY_TEMPERATURE) + conditions.temperature_offset
    wet_share = _climate(hour_s, MONTHLY_WET_HOUR_SHARE) * conditions.wetness
    month_mm = _climate(hour_s, MONTHLY_PRECIPITATION_MM)
    mean_amount = month_mm / (_climate(hour_s, MONTHLY_WET_HOUR_SHARE) * 730.0)
    mean_amount *= math.sqrt(conditions.wetness)

    # Multi-day regime: an AR(1) per day (persistence 0.7) shifts the chance of rain.
    days = total // 24 + 2
    regime = _ar1(rng.standard_normal(days), 0.7, 1.0)
    regime_h = np.repeat(regime, 24)[:total]
    share = np.clip(wet_share * np.exp(0.9 * regime_h - 0.405), 0.0, 0.6)
    p_start = share * (1 - STAY_WET) / (1 - share)

    uniform = rng.random(total)
    amounts = rng.gamma(0.8, 1.0, total) / 0.8 * mean_amount
    wet = np.zeros(total, dtype=bool)
    state = False
    for h in range(total):  # a Markov chain is sequential; 9,000 hours a year is cheap
        state = bool(uniform[h] < (STAY_WET if state else p_start[h]))
        wet[h] = state
    precipitation = np.round(np.where(wet, amounts, 0.0), 1)

    utc_hour = (hour_s // 3600) % 24
    summer = (t_clim - 0.5) / 17.0
    amplitude = (2.0 + 2.5 * summer) * np.where(wet, 0.4, 1.0)
    cycle = amplitude * np.cos(2 * np.pi * (utc_hour - 13) / 24)
    anomaly = _ar1(rng.standard_normal(total), 0.985, 3.0)
    temperature = np.round(t_clim + cycle + anomaly - np.where(wet, 0.7, 0.0), 1)

    snow = np.zeros(total)
    depth = 0.0
    for h in range(total):
        t, p = temperature[h], precipitation[h]
        if p > 0 and t < SNOW_BELOW:
            depth += p * 0.01
        elif t > 0 or p > 0:
            depth = max(0.0, depth - 0.0008 * max(t, 0.0) - 0.002 * p)
        snow[h] = depth
    snow_held = _hold_daily(hour_s, np.round(snow, 2))

    keep = slice(spin, total)
    return StationWeather(
        station=station,
        start_s=start_s,
        precipitation=precipitation[keep].copy(),
        temperature=temperature[keep].copy(),
        snow_depth=snow_held[keep].copy(),
    )


def _ar1(noise: np.ndarray, persistence: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series with that persistence and standard deviation."""
    a = np.full(len(noise), persistence)
    return decay_series(a, noise * sd * math.sqrt(1 - persistence**2))


def _hold_daily(hour_s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values observed at 06 UTC held until the next observation (the first one held backwards)."""
    observed = (hour_s // 3600) % 24 == SNOW_OBSERVED_AT_UTC_HOUR
    index = np.where(observed, np.arange(len(values)), -1)
    index = np.maximum.accumulate(index)
    first = int(np.argmax(observed)) if observed.any() else 0
    index[index < 0] = first
    return np.asarray(values[index])


# --- SMHI open-data JSON --------------------------------------------------------------------------
def smhi_path(directory: Path, station: int, parameter: int) -> Path:
    return directory / f"smhi-{station}-{parameter}.json"


def _document(
    station: int, parameter: int, dates_ms: np.ndarray, values: list[str]
) -> dict[str, object]:
    name, summary, unit = PARAMETERS[parameter]
    return {
        "updated": int(dates_ms[-1]) if len(dates_ms) else 0,
        "parameter": {"key": str(parameter), "name": name, "summary": summary, "unit": unit},
        "station": {"key": str(station), "name": f"Station {station}", "owner": "SMHI"},
        "period": {"key": "corrected-archive", "summary": "simulated by Floorwatch"},
        "value": [
            {"date": int(d), "value": v, "quality": "G"}
            for d, v in zip(dates_ms.tolist(), values, strict=True)
        ],
    }


def write_smhi(weather: StationWeather, directory: Path) -> list[Path]:
    """Write the station's weather as three SMHI JSON files (module docstring); return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    hour_s = weather.start_s + 3600 * np.arange(weather.hours, dtype=np.int64)
    observed = (hour_s // 3600) % 24 == SNOW_OBSERVED_AT_UTC_HOUR
    series = {
        PRECIPITATION: (
            (hour_s + 3600) * 1000,
            [f"{v:.1f}" for v in weather.precipitation.tolist()],
        ),
        AIR_TEMPERATURE: (hour_s * 1000, [f"{v:.1f}" for v in weather.temperature.tolist()]),
        SNOW_DEPTH: (
            hour_s[observed] * 1000,
            [f"{v:.2f}" for v in weather.snow_depth[observed].tolist()],
        ),
    }
    paths = []
    for parameter, (dates_ms, values) in series.items():
        path = smhi_path(directory, weather.station, parameter)
        document = _document(weather.station, parameter, dates_ms, values)
        path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        paths.append(path)
    return paths


def _read_series(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(dates in ms, values) of one SMHI file, sorted by date; unreadable values are skipped."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rows = document["value"]
        pairs = []
        for row in rows:
            try:
                pairs.append((int(row["date"]), float(row["value"])))
            except (KeyError, TypeError, ValueError):
                continue
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"weather file {path}: not SMHI open-data JSON ({exc})") from exc
    pairs.sort()
    dates = np.array([p[0] for p in pairs], dtype=np.int64)
    values = np.array([p[1] for p in pairs], dtype=np.float64)
    return dates, values


def read_smhi(directory: Path, station: int, start_s: int, hours: int) -> StationWeather:
    """Hourly weather of a station from SMHI files in `directory`, on the span's hour grid.

    Missing precipitation hours count as dry; missing temperatures are interpolated; snow depth
    is held from the latest observation (zero without a snow file). A missing precipitation or
    temperature file is a ConfigError.
    """
    hour_s = start_s + 3600 * np.arange(hours, dtype=np.int64)
    for parameter in (PRECIPITATION, AIR_TEMPERATURE):
        if not smhi_path(directory, station, parameter).exists():
            raise ConfigError(
                f"no weather file {smhi_path(directory, station, parameter)} for station {station}"
            )
    dates, values = _read_series(smhi_path(directory, station, PRECIPITATION))
    precipitation = np.zeros(hours)
    slot = (dates // 1000 - 3600 - start_s) // 3600
    inside = (slot >= 0) & (slot < hours) & ((dates // 1000 - start_s) % 3600 == 0)
    precipitation[slot[inside]] = values[inside]

    dates, values = _read_series(smhi_path(directory, station, AIR_TEMPERATURE))
    if len(dates) == 0:
        raise ConfigError(f"weather file for station {station} parameter 1 has no values")
    temperature = np.round(np.interp(hour_s * 1000, dates, values), 1)

    snow_file = smhi_path(directory, station, SNOW_DEPTH)
    snow = np.zeros(hours)
    if snow_file.exists():
        dates, values = _read_series(snow_file)
        if len(dates):
            index = np.searchsorted(dates, hour_s * 1000, side="right") - 1
            snow = values[np.maximum(index, 0)]
    return StationWeather(station, start_s, precipitation, temperature, snow)


def describe(weather: StationWeather) -> str:
    """One line for the summary: total rain, wet hours, temperature range."""
    first = datetime.fromtimestamp(weather.start_s, UTC).date()
    return (
        f"station {weather.station} from {first}: {weather.precipitation.sum():.1f} mm in "
        f"{int((weather.precipitation > 0).sum())} wet hours, "
        f"{weather.temperature.min():.1f}..{weather.temperature.max():.1f} degC, "
        f"max snow {weather.snow_depth.max():.2f} m"
    )
