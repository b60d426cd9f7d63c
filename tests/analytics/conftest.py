"""Fixtures of the analytics tests: a simulated pilot world with known supplier profiles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from analytics.scorecard import PeriodResult, Scorer
from floorwatch.localtime import day_bounds
from floorwatch.registry import Registry
from floorwatch.store import Store, open_store
from simulators import load_scenario, simulate
from simulators.scenario import Profile, Station
from tests.analytics.simulated import load_readings, store_weather
from tests.analytics.validity import Worlds
from tests.analytics.variants import fair_test_registry

FAIR_FROM, FAIR_TO = date(2026, 10, 1), date(2026, 10, 16)


@pytest.fixture(scope="session")
def fair(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Registry, Store, PeriodResult]]:
    """Suppliers that differ only in capture efficiency (entre-ren 0.9 > torrgolv 0.75 >
    skrapzon 0.55); the best works where it rains most (Trelleborg), the worst where it hardly
    rains (Ystad). Simulated from 24 August (baseline: 28 school days before the installations)
    and scored 1-16 October 2026."""
    placed = fair_test_registry(registry)
    common: dict[str, Any] = {
        "saturation_l": 3.0,
        "dirt_capacity_kg": 3.0,
        "drying_half_life_min": 25,
        "maintenance_interval_days": 7,
    }
    profiles = {
        "baseline": Profile(capture_efficiency=0.3, **common),
        "entre-ren": Profile(capture_efficiency=0.9, **common),
        "torrgolv": Profile(capture_efficiency=0.75, **common),
        "skrapzon": Profile(capture_efficiency=0.55, **common),
    }
    stations = {
        52230: Station(wetness=3.0),
        53300: Station(wetness=1.5),
        54290: Station(wetness=0.4),
    }
    scenario = (
        load_scenario()
        .without_faults()
        .model_copy(update={"profiles": profiles, "stations": stations})
    )
    sim = simulate(placed, scenario, date(2026, 8, 24), 54, seed=3)
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fair') / 'fair.db'}")
    load_readings(sim, store)
    store_weather(sim, store)
    start, end = day_bounds(FAIR_FROM, FAIR_TO)
    result = Scorer(store, placed, resamples=200).score("2026-10-01..2026-10-16", start, end)
    yield placed, store, result
    store.close()


@pytest.fixture(scope="session")
def validity_worlds(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worlds]:
    """The validation worlds of tests/analytics/validity.py, each built once when first used."""
    worlds = Worlds(registry, tmp_path_factory.mktemp("validity"))
    yield worlds
    worlds.close()
