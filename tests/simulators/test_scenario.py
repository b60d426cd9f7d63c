"""Scenario files: the shipped default is valid and complete; bad files fail with their place."""

from __future__ import annotations

from pathlib import Path

import pytest

from floorwatch.errors import ConfigError
from floorwatch.registry import Registry
from simulators import load_scenario
from simulators.scenario import BASELINE


def test_shipped_scenario_covers_the_pilot(registry: Registry) -> None:
    scenario = load_scenario()
    assert BASELINE in scenario.profiles
    assert set(registry.suppliers) <= set(scenario.profiles)
    stations = {school.weather_station for school in registry.schools.values()}
    assert stations <= set(scenario.stations)
    assert set(scenario.faults.enabled()) >= {"dropouts", "duplicates", "malformed"}
    assert scenario.without_faults().faults.enabled() == []


def test_bad_scenario_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("profiles:\n  torrgolv:\n    capture_efficiency: 1.7\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: profiles\.torrgolv\.capture_efficiency"):
        load_scenario(path)
    path.write_text("faults: {sparks: {enabled: true}}\n")
    with pytest.raises(ConfigError, match=r"faults\.sparks"):
        load_scenario(path)
    path.write_text("seed: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_scenario(path)


def test_relative_weather_dir_is_next_to_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("weather_dir: weather\n")
    assert load_scenario(path).weather_dir == tmp_path / "weather"
