"""Weather: seasons, spells, snow, station wetness, and the SMHI JSON round trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from floorwatch.errors import ConfigError
from simulators.scenario import Station
from simulators.timegrid import Span
from simulators.weather import (
    AIR_TEMPERATURE,
    PRECIPITATION,
    SNOW_DEPTH,
    generate_weather,
    read_smhi,
    smhi_path,
    write_smhi,
)

STATION = 53300


def _year(station: Station, seed: int = 3):
    span = Span(date(2026, 8, 15), 300)
    return span, generate_weather(STATION, station, span.start_s, span.hours, seed)


def test_seasons_spells_and_snow() -> None:
    _span, weather = _year(Station())
    frame = weather.frame()
    month = frame["time"].dt.month
    summer = frame.loc[month == 8, "air_temperature"].mean()
    winter = frame.loc[month.isin([1, 2]), "air_temperature"].mean()
    assert summer > 13 > 3 > winter > -4
    wet = weather.precipitation > 0
    assert 0.04 < wet.mean() < 0.2
    # Wet hours come in spells: a wet hour is far more likely after a wet hour.
    after_wet = wet[1:][wet[:-1]].mean()
    assert after_wet > 3 * wet.mean()
    # Yearly totals of a plausible order for southern Skåne (per 300 days, mm).
    assert 300 < weather.precipitation.sum() < 900
    # Snow lies at times in winter and never in August.
    assert weather.snow_depth[month.to_numpy() == 8].max() == 0
    assert weather.snow_depth.max() > 0
    # SMHI resolution.
    assert np.allclose(weather.precipitation, np.round(weather.precipitation, 1))


def test_wetness_factor_makes_a_wetter_station() -> None:
    _, normal = _year(Station(wetness=1.0))
    _, wet = _year(Station(wetness=2.0))
    assert wet.precipitation.sum() > 2 * normal.precipitation.sum()
    assert (wet.precipitation > 0).sum() > 1.5 * (normal.precipitation > 0).sum()


def test_seeded() -> None:
    _, a = _year(Station(), seed=11)
    _, b = _year(Station(), seed=11)
    _, c = _year(Station(), seed=12)
    assert np.array_equal(a.precipitation, b.precipitation)
    assert np.array_equal(a.temperature, b.temperature)
    assert not np.array_equal(a.precipitation, c.precipitation)


def test_smhi_round_trip(tmp_path: Path) -> None:
    span = Span(date(2027, 1, 10), 20)
    weather = generate_weather(STATION, Station(), span.start_s, span.hours, 5)
    paths = write_smhi(weather, tmp_path)
    assert {p.name for p in paths} == {
        f"smhi-{STATION}-{p}.json" for p in (PRECIPITATION, AIR_TEMPERATURE, SNOW_DEPTH)
    }
    rain = json.loads(smhi_path(tmp_path, STATION, PRECIPITATION).read_text())
    first = rain["value"][0]
    assert set(first) == {"date", "value", "quality"}
    assert isinstance(first["value"], str) and first["quality"] == "G"
    # The date marks the end of the hour's sum; temperatures are observed on the hour.
    assert first["date"] == (span.start_s + 3600) * 1000
    temperature = json.loads(smhi_path(tmp_path, STATION, AIR_TEMPERATURE).read_text())
    assert temperature["value"][0]["date"] == span.start_s * 1000
    assert rain["station"]["key"] == str(STATION) and rain["parameter"]["key"] == "7"
    # Snow depth is a daily observation at 06 UTC.
    snow = json.loads(smhi_path(tmp_path, STATION, SNOW_DEPTH).read_text())
    assert len(snow["value"]) == 20
    assert all((row["date"] // 1000) % 86400 == 6 * 3600 for row in snow["value"])

    back = read_smhi(tmp_path, STATION, span.start_s, span.hours)
    assert np.array_equal(back.precipitation, weather.precipitation)
    assert np.array_equal(back.temperature, weather.temperature)
    assert np.array_equal(back.snow_depth, weather.snow_depth)


def test_missing_weather_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no weather file"):
        read_smhi(tmp_path, STATION, 0, 24)


def test_weather_files_replay_exactly_what_the_entrances_saw(tmp_path: Path) -> None:
    from floorwatch.registry import load_registry
    from simulators import load_scenario, simulate

    registry = load_registry()
    scenario = load_scenario().without_faults()
    first = simulate(registry, scenario, date(2026, 11, 2), 2, seed=4)
    first.write_weather(tmp_path)
    replay = simulate(
        registry, scenario.model_copy(update={"weather_dir": tmp_path}), date(2026, 11, 2), 2, 4
    )
    for station, frame in first.weather.items():
        assert frame.equals(replay.weather[station])
    assert first.truth.equals(replay.truth)
